"""The context backfills' raw objects (producers/backfill/context.py, customers.py): one ndjson
object per partition, read back to number revisions against what was written before."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from gridtape import contract, landing
from producers.backfill.run import DayResult


def previous(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    """The records of the object written before at `key` (none there: [])."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return []
        raise
    return [json.loads(line) for line in landing.decode(body)]


def put(s3: Any, bucket: str, key: str, stamped: list[dict[str, Any]], changed: int, r: DayResult) -> None:
    """Write (or replace) the object at `key`; count it, its records and the changed ones in `r`."""
    body = landing.encode(contract.dumps(x) for x in stamped)
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson")
    r.objects.append(key)
    r.rows += len(stamped)
    r.changed += changed


def revise(
    records: Iterable[dict[str, Any]],
    before: Mapping[tuple[Any, ...], Mapping[str, Any]],
    key: Callable[[dict[str, Any]], tuple[Any, ...]],
    value: Callable[[Mapping[str, Any]], Any],
) -> tuple[list[dict[str, Any]], int]:
    """Copies stamped with their revision against `before` (key -> the record written before):
    0 when new, the same when value() is unchanged, +1 when it changed; and how many are new or
    changed (a redo that changes nothing changes nothing downstream)."""
    out, changed = [], 0
    for rec in records:
        prior = before.get(key(rec))
        differs = prior is not None and value(prior) != value(rec)
        out.append(dict(rec, revision=0 if prior is None else (prior.get("revision") or 0) + differs))
        changed += prior is None or differs
    return out, changed

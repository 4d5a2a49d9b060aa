"""Where a backfill keeps its work: the day cursors (the poller state table, under their own key
prefix) and the raw bucket (records in the landing layout, marks for the nightly run).

Cursor items (never expire; one per day done):
    pk = "backfill#<ISO>#<feed>"   sk = "<operating day>"   rows, objects, done_at
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

from gridtape import aws, contract, landing

CURSOR_PREFIX: Final = "backfill#"


def cursor_pk(iso: str, feed: str) -> str:
    return f"{CURSOR_PREFIX}{iso}#{feed}"


class Cursors:
    """Which operating days of an ISO's feed a backfill has finished."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self.client = client or aws.client("dynamodb")

    def done(self, iso: str, feed: str, days: Sequence[date]) -> set[date]:
        if not days:
            return set()
        found: set[date] = set()
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": {"S": cursor_pk(iso, feed)},
                ":lo": {"S": min(days).isoformat()},
                ":hi": {"S": max(days).isoformat()},
            },
            ProjectionExpression="sk",
            ConsistentRead=True,
        )
        for page in pages:
            found |= {date.fromisoformat(item["sk"]["S"]) for item in page.get("Items", [])}
        return found & set(days)

    def advance(self, iso: str, feed: str, day: date, rows: int, objects: Sequence[str]) -> None:
        """The day is done: its raw objects and mark are written (call only after they are)."""
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": cursor_pk(iso, feed)},
                "sk": {"S": day.isoformat()},
                "rows": {"N": str(rows)},
                "objects": {"L": [{"S": k} for k in objects]},
                "done_at": {"S": contract.format_ts(datetime.now(UTC))},
            },
        )


class RawStore:
    """The raw bucket as a backfill reads and writes it (gridtape/landing.py's layout)."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self.client = client or aws.client("s3")

    def records(self, iso: str, utc_dates: Iterable[date]) -> list[dict[str, Any]]:
        """Every record already landed in these partitions (polled or backfilled)."""
        out: list[dict[str, Any]] = []
        for d in utc_dates:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=landing.partition(iso, d)
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    body = self.client.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                    for line in _lines(body):
                        try:
                            record = json.loads(line)
                        except ValueError:
                            continue  # compaction rejects it with its reason
                        if isinstance(record, dict):
                            out.append(record)
        return out

    def write(
        self, iso: str, feed: str, day: date, parts: dict[str, list[dict[str, Any]]], stale: Sequence[date]
    ) -> list[str]:
        """One object per UTC partition at the day's deterministic key (a re-write replaces it);
        the day's object in a partition it no longer fills is removed."""
        keys = []
        for utc_date, ticks in sorted(parts.items()):
            key = landing.backfill_key(iso, feed, day, utc_date)
            body = landing.encode(contract.dumps(t) for t in ticks)
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson")
            keys.append(key)
        for d in stale:
            if d.isoformat() not in parts:
                self.client.delete_object(Bucket=self.bucket, Key=landing.backfill_key(iso, feed, day, d))
        return keys

    def mark(self, iso: str, feed: str, day: date, rows: int, objects: Sequence[str]) -> str:
        """Mark the day for the next nightly compaction and load (batch/catchup.py)."""
        key = landing.mark_key(day, iso, feed)
        doc = {"iso": iso, "feed": feed, "day": day.isoformat(), "rows": rows, "objects": list(objects)}
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=json.dumps(doc).encode(), ContentType="application/json"
        )
        return key


def _lines(body: bytes) -> list[bytes]:
    try:
        return landing.decode(body)
    except (OSError, EOFError):  # not gzip: an object someone put by hand
        return [line for line in body.split(b"\n") if line.strip()]

"""What has been published: the poller-state DynamoDB table (deployed by infra/).

One item per published natural key, holding a hash of the tick's value fields:
    pk = "tick#<ISO>#<dataset>"   sk = "<market>#<location>#<interval_start>"   h = content hash
A tick whose key is absent is new; same key and same hash is already published (skip); same
key and another hash is a revision (publish again). Items expire (TTL `expires_at`) a while
after they were last written: pollers only ever re-read the newest hours or days, so an
interval old enough to have expired is never fetched again.

A lease item per ISO and dataset (conditional write) keeps two pollers of the same feed (a
slow Lambda overlapping the next scheduled one, or a laptop poll beside the deployed one)
from both publishing the same new version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from gridtape import aws, contract
from gridtape.errors import TransientError

VALUE_FIELDS: Final = ("lmp", "energy", "congestion", "loss", "load_mw")
RETENTION_S: Final = 14 * 24 * 3600
LEASE_S: Final = 90  # longer than a poll may run (the Lambda timeout is 55 s); short, so a crash stalls little
_GET_CHUNK: Final = 100  # BatchGetItem limit
_PUT_CHUNK: Final = 25  # BatchWriteItem limit
_MAX_ATTEMPTS: Final = 8

Key = tuple[str, ...]


class StateError(TransientError):
    """The state table could not be read or written (after retries)."""


def content_hash(tick: Mapping[str, Any]) -> str:
    """Hash of what a trader reads in a tick: its values. Fetch and publication times, the
    source URL and the representation of a number (25 vs 25.0) do not make a new version."""
    values = [None if tick.get(f) is None else float(tick[f]) for f in VALUE_FIELDS]
    return hashlib.sha256(json.dumps(values, separators=(",", ":")).encode()).hexdigest()[:24]


def item_key(tick: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    return {
        "pk": {"S": f"tick#{tick['iso']}#{tick['dataset']}"},
        "sk": {"S": f"{tick['market']}#{tick['location']}#{tick['interval_start']}"},
    }


class StateStore:
    def __init__(
        self,
        table: str,
        client: Any = None,
        *,
        retention_s: int = RETENTION_S,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table
        self.client = client or aws.client("dynamodb")
        self.retention_s = retention_s
        self.wall_clock = wall_clock  # TTL and leases run on real time, even in a replay of 2025
        self.sleep = sleep

    def published_hashes(self, ticks: Sequence[Mapping[str, Any]]) -> dict[Key, str]:
        """natural key -> hash of the version last published, for those of `ticks` seen before."""
        by_item: dict[tuple[str, str], Key] = {}
        for t in ticks:
            k = item_key(t)
            by_item[(k["pk"]["S"], k["sk"]["S"])] = contract.natural_key(dict(t))
        found: dict[Key, str] = {}
        pending = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in by_item]
        for chunk in _chunks(pending, _GET_CHUNK):
            request: dict[str, Any] = {
                self.table: {"Keys": chunk, "ConsistentRead": True, "ProjectionExpression": "pk, sk, h"}
            }
            for attempt in range(_MAX_ATTEMPTS):
                resp = self._call("batch_get_item", RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    found[by_item[(item["pk"]["S"], item["sk"]["S"])]] = item["h"]["S"]
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._backoff(attempt)
            else:
                raise StateError(f"{self.table}: keys still unprocessed after {_MAX_ATTEMPTS} BatchGetItem attempts")
        return found

    def mark_published(self, ticks: Iterable[Mapping[str, Any]]) -> int:
        """Remember these ticks as published (after Kinesis accepted them). Idempotent."""
        expires = int(self.wall_clock()) + self.retention_s
        now = contract.format_ts(datetime.fromtimestamp(self.wall_clock(), UTC))
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        **item_key(t),
                        "h": {"S": content_hash(t)},
                        "published_at": {"S": now},
                        "expires_at": {"N": str(expires)},
                    }
                }
            }
            for t in ticks
        ]
        for chunk in _chunks(puts, _PUT_CHUNK):
            request: dict[str, Any] = {self.table: chunk}
            for attempt in range(_MAX_ATTEMPTS):
                resp = self._call("batch_write_item", RequestItems=request)
                request = resp.get("UnprocessedItems") or {}
                if not request:
                    break
                self._backoff(attempt)
            else:
                raise StateError(f"{self.table}: items still unprocessed after {_MAX_ATTEMPTS} BatchWriteItem attempts")
        return len(puts)

    # -- lease ---------------------------------------------------------------------------

    def acquire_lease(self, iso: str, dataset: str, seconds: int = LEASE_S) -> str | None:
        """A token when this poller may publish iso/dataset now, None when another holds it."""
        token = uuid.uuid4().hex
        now = int(self.wall_clock())
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item={
                    "pk": {"S": f"lease#{iso}#{dataset}"},
                    "sk": {"S": "lease"},
                    "owner": {"S": token},
                    "lease_until": {"N": str(now + seconds)},
                    "expires_at": {"N": str(now + seconds + 3600)},
                },
                ConditionExpression="attribute_not_exists(pk) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return token

    def release_lease(self, iso: str, dataset: str, token: str) -> None:
        # If it expired and someone else holds it now, it is theirs to release.
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self._call(
                "delete_item",
                TableName=self.table,
                Key={"pk": {"S": f"lease#{iso}#{dataset}"}, "sk": {"S": "lease"}},
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": token}},
            )

    # -- plumbing ------------------------------------------------------------------------

    def _call(self, op: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, op)(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise
            raise StateError(f"{self.table}: {op} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StateError(f"{self.table}: {op} failed: {exc}") from exc

    def _backoff(self, attempt: int) -> None:
        self.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]

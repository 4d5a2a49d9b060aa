"""What has been published, per key and per feed: the poller-state DynamoDB table (infra/).

One item per published natural key, holding a hash of the tick's values and its revision:
    pk = "tick#<ISO>#<dataset>"   sk = "<market>#<location>#<interval_start>"   h, rev
A tick whose key is absent is new (revision 0); same key and same hash is already published
(skip); same key and another hash is a revision (rev + 1). The revision number, not any clock,
says which version wins downstream. Tick items expire (TTL `expires_at`) a while after they were
last written: pollers only re-read the newest hours or days.

One feed item per ISO and dataset (pk = "feed#<ISO>#<dataset>", sk = "feed", never expires):
- the lease with its fencing token `fence`, incremented on every acquire. Every write a poller
  makes is conditional on `fence` still being its own (the cursor and status directly; the
  marks through a fenced renewal of the lease just before them), so a poller whose lease ran
  out and was taken over cannot write any more (LeaseLost) and stops publishing;
- the cursor: the end of the newest complete interval published (only moves forward);
- what `gridtape status` shows: the last status and error, quarantine counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from gridtape import aws, contract
from gridtape.errors import TransientError

VALUE_FIELDS: Final = contract.VALUE_FIELDS
RETENTION_S: Final = 14 * 24 * 3600
LEASE_S: Final = 90  # longer than a poll may run (the Lambda timeout is 55 s); short, so a crash stalls little
_GET_CHUNK: Final = 100  # BatchGetItem limit
_PUT_CHUNK: Final = 25  # BatchWriteItem limit
_MAX_ATTEMPTS: Final = 8

Key = tuple[str, ...]


class StateError(TransientError):
    """The state table could not be read or written (after retries)."""


class LeaseLost(StateError):
    """This poller's lease was taken over (its fencing token is no longer current): it must
    stop publishing; the new holder carries on."""


class _Again(Exception):
    """Unprocessed items or a transaction conflict: worth another attempt."""


@dataclass(frozen=True, slots=True)
class Published:
    hash: str
    revision: int


@dataclass(frozen=True, slots=True)
class FeedState:
    iso: str
    dataset: str
    cursor: str | None = None  # wire timestamp: end of the newest complete interval published
    last_status: str | None = None
    last_poll_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    rows_quarantined: int = 0  # since the feed item was created
    responses_quarantined: int = 0
    validators: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)  # producers.conditional


@dataclass(frozen=True, slots=True)
class Lease:
    iso: str
    dataset: str
    fence: int
    feed: FeedState  # as it was when the lease was taken


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one poll leaves in the feed item."""

    status: str
    error: str | None = None
    rows_quarantined: int = 0
    responses_quarantined: int = 0
    cursor: str | None = None  # only after a successful publish; never moves backwards
    validators: Mapping[str, tuple[str | None, str | None]] | None = None  # only after a successful poll


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


def feed_key(iso: str, dataset: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"feed#{iso}#{dataset}"}, "sk": {"S": "feed"}}


def create_table(table: str, client: Any = None) -> None:
    """The state table as infra/gridtape.yaml declares it (keys pk and sk, TTL on expires_at),
    for runs on the emulator that deploy no stack (benchmarks, tests)."""
    ddb = client or aws.client("dynamodb")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})


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

    def published(self, ticks: Sequence[Mapping[str, Any]]) -> dict[Key, Published]:
        """natural key -> the version last published, for those of `ticks` seen before."""
        by_item = {tuple(v["S"] for v in item_key(t).values()): contract.natural_key(dict(t)) for t in ticks}
        keys = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in by_item]
        return {
            by_item[(item["pk"]["S"], item["sk"]["S"])]: Published(item["h"]["S"], int(item.get("rev", {"N": 0})["N"]))
            for item in self._batch_get(keys, "pk, sk, h, rev")
        }

    def mark_published(self, ticks: Iterable[Mapping[str, Any]], lease: Lease) -> int:
        """Remember these ticks (with their revision) as published, after Kinesis accepted
        them. Fenced: a conditional write on the feed item (fence still ours) renews the lease
        before each stretch of batch writes, so they land while no one else can hold it;
        LeaseLost when it was taken over. (Not one transaction per batch: TransactWriteItems
        costs twice the writes, and the emulator copies the whole table for every action.)"""
        expires = int(self.wall_clock()) + self.retention_s
        now = contract.format_ts(datetime.fromtimestamp(self.wall_clock(), UTC))
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        **item_key(t),
                        "h": {"S": content_hash(t)},
                        "rev": {"N": str(int(t.get("revision") or 0))},
                        "published_at": {"S": now},
                        "expires_at": {"N": str(expires)},
                    }
                }
            }
            for t in ticks
        ]
        renewed = None
        for chunk in _chunks(puts, _PUT_CHUNK):
            if renewed is None or self.wall_clock() - renewed > LEASE_S / 3:
                self.renew_lease(lease)
                renewed = self.wall_clock()
            request: dict[str, Any] = {self.table: chunk}

            def write() -> None:
                nonlocal request
                request = self._call("batch_write_item", RequestItems=request).get("UnprocessedItems") or {}
                if request:
                    raise _Again("items still unprocessed")

            self._retry(write, "BatchWriteItem")
        return len(puts)

    def renew_lease(self, lease: Lease, seconds: int = LEASE_S) -> None:
        """Extend the lease from now, if its fence is still current (else LeaseLost)."""
        until = int(self.wall_clock()) + seconds
        try:
            self._call(
                "update_item",
                TableName=self.table,
                UpdateExpression="SET lease_until = :until",
                **self._fenced(lease, {":until": {"N": str(until)}}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise LeaseLost(f"{lease.iso} {lease.dataset}: lease {lease.fence} was taken over") from None

    # -- the feed item: lease, cursor, status ---------------------------------------------

    def acquire_lease(self, iso: str, dataset: str, seconds: int = LEASE_S) -> Lease | None:
        """The lease (with a new fencing token) when nobody holds it, else None."""
        now = int(self.wall_clock())
        try:
            resp = self._call(
                "update_item",
                TableName=self.table,
                Key=feed_key(iso, dataset),
                UpdateExpression="SET lease_until = :until, holder = :holder ADD fence :one",
                ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now",
                ExpressionAttributeValues={
                    ":until": {"N": str(now + seconds)},
                    ":holder": {"S": uuid.uuid4().hex},
                    ":one": {"N": "1"},
                    ":now": {"N": str(now)},
                },
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        item = resp["Attributes"]
        return Lease(iso, dataset, int(item["fence"]["N"]), _feed_state(iso, dataset, item))

    def release_lease(self, lease: Lease) -> None:
        """Free the lease at once (keeping the item: the fence counter must never restart).
        If it was taken over meanwhile, it is the new holder's to release."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self._call(
                "update_item",
                TableName=self.table,
                UpdateExpression="SET lease_until = :zero",
                **self._fenced(lease, {":zero": {"N": "0"}}),
            )

    def record(self, lease: Lease, outcome: Outcome) -> None:
        """Leave a poll's outcome (and, after a successful publish, its cursor) in the feed item
        and free the lease: a poll's last write."""
        sets = ["last_status = :status", "last_poll_at = :at", "lease_until = :zero"]
        values: dict[str, Any] = {
            ":zero": {"N": "0"},
            ":status": {"S": outcome.status},
            ":at": {"S": contract.format_ts(datetime.fromtimestamp(self.wall_clock(), UTC))},  # when it ran
            ":rows": {"N": str(outcome.rows_quarantined)},
            ":responses": {"N": str(outcome.responses_quarantined)},
        }
        if outcome.error:
            sets += ["last_error = :error", "last_error_at = :at"]
            values[":error"] = {"S": outcome.error[:2000]}
        if outcome.validators is not None:  # this poll's conditional-request validators, for a cold poller
            sets.append("validators = :validators")
            values[":validators"] = {"S": json.dumps(outcome.validators, separators=(",", ":"))}
        before = lease.feed.cursor
        if outcome.cursor and (before is None or contract.parse_ts(outcome.cursor) > contract.parse_ts(before)):
            sets.append("#cursor = :cursor")
            values[":cursor"] = {"S": outcome.cursor}
        try:
            self._call(
                "update_item",
                TableName=self.table,
                UpdateExpression=f"SET {', '.join(sets)} ADD rows_quarantined :rows, responses_quarantined :responses",
                **self._fenced(lease, values, names={"#cursor": "cursor"} if ":cursor" in values else None),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise LeaseLost(f"{lease.iso} {lease.dataset}: lease {lease.fence} was taken over") from None

    def feeds(self, pairs: Sequence[tuple[str, str]]) -> list[FeedState]:
        """The feed items of these (iso, dataset) pairs, in that order (empty state if none)."""
        by_pk = {item["pk"]["S"]: item for item in self._batch_get([feed_key(i, d) for i, d in pairs])}
        return [_feed_state(i, d, by_pk.get(f"feed#{i}#{d}", {})) for i, d in pairs]

    # -- plumbing ------------------------------------------------------------------------

    def _fenced(
        self, lease: Lease, values: Mapping[str, Any] | None = None, names: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Key": feed_key(lease.iso, lease.dataset),
            "ConditionExpression": "fence = :fence",
            "ExpressionAttributeValues": {":fence": {"N": str(lease.fence)}, **(values or {})},
        }
        if names:
            out["ExpressionAttributeNames"] = dict(names)
        return out

    def _batch_get(self, keys: list[dict[str, Any]], projection: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for chunk in _chunks(keys, _GET_CHUNK):
            spec: dict[str, Any] = {"Keys": chunk, "ConsistentRead": True}
            if projection:
                spec["ProjectionExpression"] = projection
            request: dict[str, Any] = {self.table: spec}

            def get() -> None:
                nonlocal request
                resp = self._call("batch_get_item", RequestItems=request)
                found.extend(resp.get("Responses", {}).get(self.table, []))
                request = resp.get("UnprocessedKeys") or {}
                if request:
                    raise _Again("keys still unprocessed")

            self._retry(get, "BatchGetItem")
        return found

    def _retry(self, attempt: Callable[[], None], op: str) -> None:
        """Retry what botocore's retry mode does not: unprocessed batch items, conflicts."""
        retrying = Retrying(
            stop=stop_after_attempt(_MAX_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.05, max=2.0),
            retry=retry_if_exception_type(_Again),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            retrying(attempt)
        except _Again as exc:
            raise StateError(f"{self.table}: {op}: {exc} after {_MAX_ATTEMPTS} attempts") from None

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


def _feed_state(iso: str, dataset: str, item: Mapping[str, Any]) -> FeedState:
    def s(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    def n(name: str) -> int:
        return int(item[name]["N"]) if name in item else 0

    return FeedState(
        iso=iso,
        dataset=dataset,
        cursor=s("cursor"),
        last_status=s("last_status"),
        last_poll_at=s("last_poll_at"),
        last_error=s("last_error"),
        last_error_at=s("last_error_at"),
        rows_quarantined=n("rows_quarantined"),
        responses_quarantined=n("responses_quarantined"),
        validators={k: (v[0], v[1]) for k, v in json.loads(s("validators") or "{}").items()},
    )


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]

"""Kinesis PutRecords (limits from the Kinesis API reference): at most 500 records and 5 MiB
(data + partition keys) per request, 1 MiB per record (data + partition key), partition keys of
1-256 characters. A record over a limit is refused before anything is sent, naming it. A request
can succeed and still fail some entries (ErrorCode per entry, in request order): only those are
re-sent, under one tenacity policy (exponential backoff with full jitter, bounded attempts, an
optional deadline). Throttling and 5xx of the call itself are retried first by botocore's
standard retry mode (gridtape.aws). Results come back per record, in input order.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, wait_random_exponential
from tenacity.stop import stop_base

from gridtape import aws
from gridtape.errors import TerminalError, TransientError

MAX_RECORDS: Final = 500
MAX_REQUEST_BYTES: Final = 5 * 1024 * 1024
MAX_RECORD_BYTES: Final = 1024 * 1024
MAX_PARTITION_KEY_CHARS: Final = 256


class Payload(Protocol):
    @property
    def data(self) -> bytes: ...

    @property
    def partition_key(self) -> str: ...


P = TypeVar("P", bound=Payload)


@dataclass(frozen=True, slots=True)
class Entry:
    data: bytes
    partition_key: str
    label: str = ""  # names the record in errors (e.g. its natural key)

    @property
    def size(self) -> int:
        return size(self)


def size(entry: Payload) -> int:
    return len(entry.data) + len(entry.partition_key.encode())


class RecordTooLarge(TerminalError):
    """A record Kinesis would refuse whatever the retries: over 1 MiB, or a bad partition key."""


def check(entry: Payload, label: str = "") -> None:
    name = label or getattr(entry, "label", "") or f"record with partition key {entry.partition_key[:64]!r}"
    if not 1 <= len(entry.partition_key) <= MAX_PARTITION_KEY_CHARS:
        raise RecordTooLarge(f"{name}: partition key must be 1-{MAX_PARTITION_KEY_CHARS} characters")
    if size(entry) > MAX_RECORD_BYTES:
        raise RecordTooLarge(f"{name} is {size(entry)} bytes, over Kinesis' 1 MiB per record")


def batches(entries: Sequence[P]) -> Iterator[list[P]]:
    """Split into PutRecords requests within the count and byte limits, keeping order."""
    batch: list[P] = []
    total = 0
    for e in entries:
        if batch and (len(batch) == MAX_RECORDS or total + size(e) > MAX_REQUEST_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(e)
        total += size(e)
    if batch:
        yield batch


@dataclass(frozen=True, slots=True)
class Placed:
    shard_id: str
    sequence_number: str


@dataclass(frozen=True, slots=True)
class PutResult:
    placed: list[Placed]  # one per input record, in input order
    requests: int
    retried: int  # records that needed more than one attempt


class PutError(TransientError):
    """Records still unsent after every retry (or past the deadline); `placed` holds what was
    delivered (None for the rest), in input order."""

    def __init__(
        self,
        stream: str,
        delivered: int,
        undelivered: int,
        errors: Mapping[str, int],
        placed: Sequence[Placed | None] = (),
        hint: str = "",
    ) -> None:
        self.stream = stream
        self.delivered = delivered
        self.undelivered = undelivered
        self.errors = dict(errors)
        self.placed = list(placed)
        detail = ", ".join(f"{code} x{n}" for code, n in sorted(self.errors.items())) or "no error code"
        super().__init__(
            f"Kinesis {stream}: {undelivered} record(s) unsent after retries ({detail}); {delivered} delivered"
            + (f"; {hint}" if hint else "")
        )


class _StopAt(stop_base):
    """Stop when the next backoff would end past `deadline` (a time.monotonic()-style value)."""

    def __init__(self, deadline: float | None, clock: Callable[[], float]) -> None:
        self.deadline = deadline
        self.clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.deadline is not None and self.clock() + retry_state.upcoming_sleep >= self.deadline


@dataclass
class _Batch:
    pending: list[int]
    errors: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    retried: int = 0  # entries that failed their first attempt


class Writer:
    def __init__(
        self,
        stream: str,
        client: Any = None,
        *,
        max_attempts: int = 6,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.stream = stream
        self.client = client or aws.client("kinesis")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic

    def put(
        self,
        entries: Sequence[P],
        on_delivered: Callable[[list[P]], None] | None = None,
        *,
        deadline: float | None = None,
    ) -> PutResult:
        """Send every entry, request by request; on_delivered(entries) is called with each
        request's confirmed successes, so a caller can record progress before a later failure."""
        for e in entries:
            check(e)
        placed: list[Placed | None] = [None] * len(entries)
        requests = retried = start = 0
        for batch in batches(entries):
            state = _Batch(list(range(start, start + len(batch))))
            start += len(batch)
            if deadline is not None and self.clock() >= deadline:
                state.errors["DeadlineExceeded"] = len(state.pending)
            else:
                retrying = Retrying(
                    stop=stop_after_attempt(self.max_attempts) | _StopAt(deadline, self.clock),
                    wait=wait_random_exponential(multiplier=self.base_delay, max=self.max_delay),
                    retry=retry_if_result(bool),
                    sleep=self.sleep,
                    retry_error_callback=lambda rs: rs.outcome.result() if rs.outcome else None,
                )
                retrying(self._attempt, entries, state, placed, on_delivered)
                requests += state.attempts
                retried += state.retried
            if state.pending:
                unsent = len(entries) - sum(p is not None for p in placed)
                raise PutError(self.stream, len(entries) - unsent, unsent, state.errors, placed)
        return PutResult([p for p in placed if p is not None], requests, retried)

    def _attempt(
        self,
        entries: Sequence[P],
        state: _Batch,
        placed: list[Placed | None],
        on_delivered: Callable[[list[P]], None] | None,
    ) -> list[int]:
        """One PutRecords of the batch's pending entries; returns those still pending."""
        state.attempts += 1
        results, state.errors = self._put_records([entries[i] for i in state.pending])
        failed: list[int] = []
        for i, result in zip(state.pending, results, strict=True):
            if result is None:
                failed.append(i)
            else:
                placed[i] = result
        ok = [entries[i] for i in state.pending if placed[i] is not None]
        if state.attempts == 1:
            state.retried = len(failed)
        state.pending = failed
        if ok and on_delivered:
            on_delivered(ok)
        return failed

    def _put_records(self, entries: Sequence[Payload]) -> tuple[list[Placed | None], Counter[str]]:
        """One call -> (Placed or None per entry, error codes of the failed ones)."""
        try:
            resp = self.client.put_records(
                StreamName=self.stream,
                Records=[{"Data": e.data, "PartitionKey": e.partition_key} for e in entries],
            )
        except ClientError as exc:  # botocore already retried throttling / 5xx at the call level
            return [None] * len(entries), Counter(
                {exc.response.get("Error", {}).get("Code", "ClientError"): len(entries)}
            )
        except BotoCoreError as exc:  # endpoint unreachable, read timeout
            return [None] * len(entries), Counter({type(exc).__name__: len(entries)})
        results = resp.get("Records", [])
        if len(results) != len(entries):  # a short answer confirms nothing
            return [None] * len(entries), Counter({"MalformedResponse": len(entries)})
        errors: Counter[str] = Counter(r["ErrorCode"] for r in results if r.get("ErrorCode"))
        return [
            None if r.get("ErrorCode") else Placed(str(r.get("ShardId", "")), str(r.get("SequenceNumber", "")))
            for r in results
        ], errors

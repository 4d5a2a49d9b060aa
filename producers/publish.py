"""Ticks -> the Kinesis `ticks` stream, through the kernel's writer (gridtape.kinesis).

The writer keeps PutRecords within its limits (500 records and 5 MiB per request, 1 MiB per
record counting the partition key; a tick over it is refused with RecordTooLarge naming it) and
re-sends only the entries a request reports as failed, with backoff. Whatever is still unsent
after the last attempt raises PublishError; the caller marks as published only what
on_delivered reported, so the next poll sends the rest again. Nothing is ever dropped silently.

Each record is the tick's canonical JSON plus a newline, so Firehose's concatenated S3
objects are valid JSON lines without a delimiter processor (JSON readers ignore the newline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gridtape import contract, kinesis

MAX_RECORDS: Final = kinesis.MAX_RECORDS
MAX_REQUEST_BYTES: Final = kinesis.MAX_REQUEST_BYTES
MAX_RECORD_BYTES: Final = kinesis.MAX_RECORD_BYTES
MAX_PARTITION_KEY_CHARS: Final = kinesis.MAX_PARTITION_KEY_CHARS

Delivered = Callable[[list[Mapping[str, Any]]], None]
RecordTooLarge = kinesis.RecordTooLarge


class PublishError(kinesis.PutError):
    """Records are still unsent after every retry. They were NOT marked published."""

    def __init__(self, stream: str, delivered: int, undelivered: int, errors: Mapping[str, int]) -> None:
        super().__init__(stream, delivered, undelivered, errors, hint="the unsent ones will be sent by the next poll")


@dataclass(frozen=True, slots=True)
class Entry:
    record: Mapping[str, Any]
    data: bytes
    partition_key: str

    @property
    def size(self) -> int:
        return kinesis.size(self)


@dataclass(frozen=True, slots=True)
class PublishResult:
    delivered: int
    requests: int
    retried_entries: int  # entries that needed more than one attempt


def partition_key(record: Mapping[str, Any]) -> str:
    """iso:location: one location's ticks stay in order on one shard (the volatility job reads
    them as a series); truncated to Kinesis' 256 characters."""
    return f"{record['iso']}:{record['location']}"[:MAX_PARTITION_KEY_CHARS]


def to_entry(record: Mapping[str, Any]) -> Entry:
    entry = Entry(record, (contract.dumps(dict(record)) + "\n").encode(), partition_key(record))
    kinesis.check(entry, f"tick {contract.natural_key(dict(record))}")
    return entry


def batches(entries: Sequence[Entry]) -> Iterator[list[Entry]]:
    """Split into PutRecords requests within the count and byte limits, keeping order."""
    return kinesis.batches(entries)


class KinesisPublisher:
    def __init__(self, stream: str, client: Any = None, **retry: Any) -> None:
        """`retry`: the kernel writer's max_attempts, base_delay, max_delay, sleep, clock."""
        self.writer = kinesis.Writer(stream, client, **retry)
        self.stream = stream
        self.client = self.writer.client

    def publish(
        self,
        records: Sequence[Mapping[str, Any]],
        on_delivered: Delivered | None = None,
        *,
        deadline: float | None = None,
    ) -> PublishResult:
        """Send every record; on_delivered(records) is called as each request's successes are
        confirmed, so the caller can record progress even if a later request fails. `deadline`
        (a time.monotonic() value, e.g. from a Lambda's remaining time) stops the retries in time."""
        entries = [to_entry(r) for r in records]

        def delivered(ok: list[Entry]) -> None:
            if on_delivered:
                on_delivered([e.record for e in ok])

        try:
            result = self.writer.put(entries, delivered, deadline=deadline)
        except kinesis.PutError as exc:
            raise PublishError(exc.stream, exc.delivered, exc.undelivered, exc.errors) from exc
        return PublishResult(len(result.placed), result.requests, result.retried)

"""Ticks -> the Kinesis `ticks` stream, with PutRecords.

Limits (Kinesis Data Streams API reference, PutRecords): at most 500 records per request, 5 MiB
per request counting partition keys, 1 MiB per record (data blob + partition key), partition
keys of 1-256 Unicode characters. A request can succeed as a whole and still fail some entries:
the response lists one result per entry, in request order, failed ones carrying ErrorCode
(ProvisionedThroughputExceededException, InternalFailure, KMS...) and FailedRecordCount > 0.
Only those entries are re-sent, with backoff. Whatever is still unsent after the last attempt
raises PublishError; the caller marks as published only what on_delivered reported, so the next
poll sends the rest again. Nothing is ever dropped silently.

Each record is the tick's canonical JSON plus a newline, so Firehose's concatenated S3
objects are valid JSON lines without a delimiter processor (JSON readers ignore the newline).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gridtape import aws, contract
from gridtape.errors import TerminalError, TransientError

MAX_RECORDS: Final = 500
MAX_REQUEST_BYTES: Final = 5 * 1024 * 1024
MAX_RECORD_BYTES: Final = 1024 * 1024
MAX_PARTITION_KEY_CHARS: Final = 256

Delivered = Callable[[list[Mapping[str, Any]]], None]


class PublishError(TransientError):
    """Records are still unsent after every retry. They were NOT marked published."""

    def __init__(self, stream: str, delivered: int, undelivered: int, errors: Mapping[str, int]) -> None:
        self.stream = stream
        self.delivered = delivered
        self.undelivered = undelivered
        self.errors = dict(errors)
        detail = ", ".join(f"{code} x{n}" for code, n in sorted(self.errors.items())) or "no error code"
        super().__init__(
            f"Kinesis {stream}: {undelivered} record(s) unsent after retries ({detail}); "
            f"{delivered} delivered; the unsent ones will be sent by the next poll"
        )


class RecordTooLarge(TerminalError):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    record: Mapping[str, Any]
    data: bytes
    partition_key: str

    @property
    def size(self) -> int:
        return len(self.data) + len(self.partition_key.encode())


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
    if entry.size > MAX_RECORD_BYTES:
        raise RecordTooLarge(f"tick {contract.natural_key(dict(record))} is {entry.size} bytes, over Kinesis' 1 MiB")
    return entry


def batches(entries: Sequence[Entry]) -> Iterator[list[Entry]]:
    """Split into PutRecords requests within the count and byte limits, keeping order."""
    batch: list[Entry] = []
    size = 0
    for e in entries:
        if batch and (len(batch) == MAX_RECORDS or size + e.size > MAX_REQUEST_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(e)
        size += e.size
    if batch:
        yield batch


class KinesisPublisher:
    def __init__(
        self,
        stream: str,
        client: Any = None,
        *,
        max_attempts: int = 6,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.stream = stream
        self.client = client or aws.client("kinesis")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep

    def publish(self, records: Sequence[Mapping[str, Any]], on_delivered: Delivered | None = None) -> PublishResult:
        """Send every record; on_delivered(records) is called as each request's successes are
        confirmed, so the caller can record progress even if a later request fails."""
        entries = [to_entry(r) for r in records]
        delivered = requests = retried = 0
        all_batches = list(batches(entries))
        for i, batch in enumerate(all_batches):
            pending = batch
            errors: Counter[str] = Counter()
            for attempt in range(self.max_attempts):
                if attempt:
                    if attempt == 1:  # count each entry that needed a retry once
                        retried += len(pending)
                    self.sleep(min(self.max_delay, self.base_delay * 2**attempt) * random.uniform(0.5, 1.0))
                requests += 1
                ok, pending, errors = self._put(pending)
                if ok:
                    delivered += len(ok)
                    if on_delivered:
                        on_delivered([e.record for e in ok])
                if not pending:
                    break
            if pending:
                unsent = len(pending) + sum(len(b) for b in all_batches[i + 1 :])
                raise PublishError(self.stream, delivered, unsent, errors)
        return PublishResult(delivered, requests, retried)

    def _put(self, entries: list[Entry]) -> tuple[list[Entry], list[Entry], Counter[str]]:
        """One PutRecords call -> (delivered, failed, error codes of the failed)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = self.client.put_records(
                StreamName=self.stream,
                Records=[{"Data": e.data, "PartitionKey": e.partition_key} for e in entries],
            )
        except ClientError as exc:  # botocore already retried throttling / 5xx at the call level
            return [], entries, Counter({exc.response.get("Error", {}).get("Code", "ClientError"): len(entries)})
        except BotoCoreError as exc:  # endpoint unreachable, read timeout
            return [], entries, Counter({type(exc).__name__: len(entries)})
        results = resp.get("Records", [])
        if len(results) != len(entries):  # never assume: a short answer means nothing is confirmed
            return [], entries, Counter({"MalformedResponse": len(entries)})
        ok: list[Entry] = []
        failed: list[Entry] = []
        errors: Counter[str] = Counter()
        for entry, result in zip(entries, results, strict=True):
            if result.get("ErrorCode"):
                failed.append(entry)
                errors[result["ErrorCode"]] += 1
            else:
                ok.append(entry)
        return ok, failed, errors

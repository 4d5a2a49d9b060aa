"""The feed's Kinesis record processor, written to the Kinesis Client Library's interface.

The methods and their input objects are those of amazon-kclpy's v3 RecordProcessorBase
(amazon_kclpy/v3/processor.py) and amazon_kclpy.messages: initialize(InitializeInput),
process_records(ProcessRecordsInput), lease_lost(LeaseLostInput),
shard_ended(ShardEndedInput), shutdown_requested(ShutdownRequestedInput); a checkpointer's
checkpoint(sequence_number=None, sub_sequence_number=None) raises an error whose `.value`
names the KCL exception (ShutdownException, ThrottlingException, InvalidStateException).

On AWS, amazon-kclpy's MultiLangDaemon runs one `python -m feed.container processor` per shard lease and
this class answers it (feed/README.md). Locally, app/local/feed_driver.py plays the
MultiLangDaemon on the project's Kinesis reader with the input objects defined here, which
carry the same attributes as amazon-kclpy's.

Per batch: decode and validate every record against its stream's contract (a bad record is
logged, counted and skipped: one poison record must not stall the shard), hand the good ones
to the sink in one call (it returns once the batch is in the live state: locally on the app's
loop, on AWS when the app answered the POST), then checkpoint at the batch's last sequence
number. A crash between the sink and the checkpoint replays that one batch (at least once;
LiveFeed is idempotent), never the stream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from feed.records import Kind, decode
from gridtape.errors import ContractError

log = logging.getLogger(__name__)

Sink = Callable[[Kind, list[dict[str, Any]]], None]


class Checkpointer(Protocol):
    def checkpoint(self, sequence_number: str | None = None, sub_sequence_number: int | None = None) -> None: ...


class CheckpointError(Exception):
    """As amazon_kclpy.checkpoint_error.CheckpointError: `value` names the KCL exception."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


# ---------------------------------------------------------------- the KCL's input objects
@dataclass(frozen=True, slots=True)
class Record:
    """amazon_kclpy.messages.Record's attributes (binary_data already decoded from base64)."""

    sequence_number: str
    partition_key: str
    binary_data: bytes
    approximate_arrival_timestamp: datetime | None = None
    sub_sequence_number: int = 0


@dataclass(frozen=True, slots=True)
class InitializeInput:
    shard_id: str
    sequence_number: str | None  # the lease's checkpoint (None or TRIM_HORIZON/LATEST on a fresh lease)
    sub_sequence_number: int = 0


@dataclass(frozen=True, slots=True)
class ProcessRecordsInput:
    records: Sequence[Record]
    checkpointer: Checkpointer
    millis_behind_latest: int = 0


@dataclass(frozen=True, slots=True)
class LeaseLostInput:
    pass


@dataclass(frozen=True, slots=True)
class ShardEndedInput:
    checkpointer: Checkpointer


@dataclass(frozen=True, slots=True)
class ShutdownRequestedInput:
    checkpointer: Checkpointer


def _throttled(exc: BaseException) -> bool:
    return getattr(exc, "value", None) == "ThrottlingException"


# ---------------------------------------------------------------- the processor
@dataclass
class FeedProcessor:
    """One shard's processor (the KCL makes one per lease). kind: the stream's record kind."""

    kind: Kind
    sink: Sink
    version: int = 3  # amazon-kclpy dispatches on this: the v3 method set
    shard_id: str = ""
    last_sequence: str | None = None  # last record handed to the sink
    checkpointed: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"records": 0, "rejected": 0, "batches": 0})

    def initialize(self, initialize_input: Any) -> None:
        self.shard_id = initialize_input.shard_id
        self.checkpointed = initialize_input.sequence_number
        log.info("feed %s %s: starting after %s", self.kind, self.shard_id, self.checkpointed or "the start")

    def process_records(self, process_records_input: Any) -> None:
        good: list[dict[str, Any]] = []
        last: str | None = None
        for record in process_records_input.records:
            last = record.sequence_number
            try:
                good.append(decode(record.binary_data, self.kind))
            except ContractError as exc:
                self.counts["rejected"] += 1
                log.warning("feed %s %s: record %s skipped: %s", self.kind, self.shard_id, last, exc)
        if good:
            self.sink(self.kind, good)
        self.counts["records"] += len(good)
        self.counts["batches"] += 1
        if last is not None:
            self.last_sequence = last
            self._checkpoint(process_records_input.checkpointer, last)

    def lease_lost(self, lease_lost_input: Any) -> None:
        # Another worker holds the shard now; checkpointing is no longer possible.
        log.info("feed %s %s: lease lost after %s", self.kind, self.shard_id, self.last_sequence)

    def shard_ended(self, shard_ended_input: Any) -> None:
        # Resharding: checkpointing the end lets the KCL start the child shards.
        self._checkpoint(shard_ended_input.checkpointer, None)

    def shutdown_requested(self, shutdown_requested_input: Any) -> None:
        if self.last_sequence is not None:
            self._checkpoint(shutdown_requested_input.checkpointer, self.last_sequence)

    @retry(
        retry=retry_if_exception(_throttled),
        stop=stop_after_attempt(5),
        wait=wait_exponential(multiplier=0.2, max=5),
        reraise=True,
    )
    def _checkpoint(self, checkpointer: Checkpointer, sequence: str | None) -> None:
        try:
            checkpointer.checkpoint(sequence)
        except Exception as exc:
            if getattr(exc, "value", None) == "ShutdownException":  # lease gone: the next owner replays
                log.info("feed %s %s: checkpoint refused, lease lost", self.kind, self.shard_id)
                return
            raise
        self.checkpointed = sequence or "SHARD_END"

"""The KCL-shaped record processor: its interface matches amazon-kclpy v3, a bad record is
skipped without stalling the shard, and every batch is checkpointed after the sink has it."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from feed.processor import (
    CheckpointError,
    FeedProcessor,
    InitializeInput,
    LeaseLostInput,
    ProcessRecordsInput,
    Record,
    ShardEndedInput,
    ShutdownRequestedInput,
)
from gridtape import contract
from tests.feed.helpers import tick

# amazon_kclpy/v3/processor.py RecordProcessorBase: method -> its one input argument's name
KCL_V3 = {
    "initialize": "initialize_input",
    "process_records": "process_records_input",
    "lease_lost": "lease_lost_input",
    "shard_ended": "shard_ended_input",
    "shutdown_requested": "shutdown_requested_input",
}


class Checkpoints:
    def __init__(self, fail: list[str] | None = None) -> None:
        self.fail = list(fail or [])
        self.calls: list[str | None] = []

    def checkpoint(self, sequence_number: str | None = None, sub_sequence_number: int | None = None) -> None:
        self.calls.append(sequence_number)
        if self.fail:
            raise CheckpointError(self.fail.pop(0))


def records(payloads: list[bytes], first: int = 100) -> list[Record]:
    return [Record(str(first + i), "k", data) for i, data in enumerate(payloads)]


def test_the_interface_is_amazon_kclpy_v3() -> None:
    assert FeedProcessor.version == 3
    for method, arg in KCL_V3.items():
        params = list(inspect.signature(getattr(FeedProcessor, method)).parameters)
        assert params == ["self", arg], method


def test_bad_records_are_skipped_and_the_batch_is_checkpointed_after_the_sink() -> None:
    got: list[tuple[str, list[dict[str, Any]]]] = []
    cp = Checkpoints()

    def sink(kind: str, recs: list[dict[str, Any]]) -> None:
        got.append((kind, [r["lmp"] for r in recs]))
        cp.calls.append("sink")

    p = FeedProcessor("tick", sink)
    p.initialize(InitializeInput("shardId-000000000001", "TRIM_HORIZON"))
    good = [contract.dumps(tick("PJM", "WESTERN HUB", float(i), i)).encode() for i in range(3)]
    bad_bounds = dict(tick("PJM", "WESTERN HUB", 1.0), lmp=1e9)
    batch = [good[0], b"{not json", good[1], json.dumps(bad_bounds).encode(), b"\xff\xfe", good[2]]
    p.process_records(ProcessRecordsInput(records(batch), cp))
    assert got == [("tick", [0.0, 1.0, 2.0])]
    assert cp.calls == ["sink", "105"]  # the sink first, then the batch's last sequence number
    assert p.counts == {"records": 3, "rejected": 3, "batches": 1}
    assert p.checkpointed == "105"


def test_a_batch_of_only_bad_records_is_still_checkpointed() -> None:
    cp = Checkpoints()
    p = FeedProcessor("volatility", lambda *a: pytest.fail("nothing to sink"))
    p.process_records(ProcessRecordsInput(records([b"[]", b"null"], 7), cp))
    assert cp.calls == ["8"]


def test_a_failing_sink_leaves_the_batch_unchecked() -> None:
    def sink(kind: str, recs: list) -> None:
        raise RuntimeError("app away")

    cp = Checkpoints()
    p = FeedProcessor("tick", sink)
    with pytest.raises(RuntimeError):
        p.process_records(ProcessRecordsInput(records([contract.dumps(tick("PJM", "WESTERN HUB", 1.0)).encode()]), cp))
    assert cp.calls == []


def test_throttled_checkpoints_are_retried_and_a_lost_lease_is_not_an_error() -> None:
    data = [contract.dumps(tick("PJM", "WESTERN HUB", 1.0)).encode()]
    cp = Checkpoints(["ThrottlingException", "ThrottlingException"])
    p = FeedProcessor("tick", lambda *a: None)
    p.process_records(ProcessRecordsInput(records(data), cp))
    assert cp.calls == ["100", "100", "100"] and p.checkpointed == "100"
    lost = Checkpoints(["ShutdownException"])
    p.process_records(ProcessRecordsInput(records(data, 200), lost))
    assert p.checkpointed == "100"  # not moved: the next owner resumes after 100
    with pytest.raises(CheckpointError):
        p.process_records(ProcessRecordsInput(records(data, 300), Checkpoints(["InvalidStateException"])))


def test_end_of_shard_and_shutdown_checkpoint_lease_lost_does_not() -> None:
    p = FeedProcessor("tick", lambda *a: None)
    end, bye = Checkpoints(), Checkpoints()
    p.shutdown_requested(ShutdownRequestedInput(bye))
    assert bye.calls == []  # nothing processed yet: nothing to checkpoint
    p.process_records(ProcessRecordsInput(records([b"x"], 41), Checkpoints()))
    p.shutdown_requested(ShutdownRequestedInput(bye))
    p.lease_lost(LeaseLostInput())
    p.shard_ended(ShardEndedInput(end))
    assert bye.calls == ["41"]
    assert end.calls == [None]  # "checkpoint at the end of the shard", as the KCL expects

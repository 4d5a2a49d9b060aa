"""PutRecords batching and partial-failure handling, against the emulator's Kinesis.

Partial failures are injected into a real boto3 client with botocore event hooks: the chosen
entries are taken out of the request before it is sent (so the emulator really does not get
them) and put back into the response as failed entries, exactly as Kinesis reports them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridtape import contract
from producers import publish
from producers.publish import KinesisPublisher, PublishError
from tests.producers.conftest import Resources, clients
from tests.test_kinesis_io import PutSpy

T0 = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)


def ticks(n: int, iso: str = "CAISO") -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        start = T0 + timedelta(minutes=5 * (i % 12))
        out.append(
            contract.tick(
                iso=iso,
                market="RT5",
                dataset="lmp",
                location=f"NODE_{i // 12:04d}",
                location_type="node",
                interval_start=start,
                interval_end=start + timedelta(minutes=5),
                published_at=start,
                ingested_at=start,
                source="https://iso.example/lmp",
                lmp=20.0 + i,
            )
        )
    return out


def test_batches_respect_count_and_byte_limits() -> None:
    entries = [publish.to_entry(t) for t in ticks(1234)]
    sizes = [len(b) for b in publish.batches(entries)]
    assert sizes == [500, 500, 234]
    big = [publish.Entry({}, b"x" * (1024 * 1024 - 20), "k") for _ in range(6)]
    groups = list(publish.batches(big))
    assert [len(g) for g in groups] == [5, 1]  # 5 x ~1 MiB fills a 5 MiB request
    assert all(sum(e.size for e in g) <= publish.MAX_REQUEST_BYTES for g in groups)


def test_record_over_one_mib_is_refused_loudly() -> None:
    t = ticks(1)[0]
    t["source"] = "x" * (1024 * 1024)
    with pytest.raises(publish.RecordTooLarge):
        publish.to_entry(t)


def test_entry_is_a_json_line_keyed_by_iso_and_location() -> None:
    t = ticks(1)[0]
    e = publish.to_entry(t)
    assert e.partition_key == "CAISO:NODE_0000"
    assert e.data == (contract.dumps(t) + "\n").encode()


def test_publishes_every_record_once(resources: Resources) -> None:
    records = ticks(1100)
    delivered: list[Mapping[str, Any]] = []
    result = KinesisPublisher(resources.stream, resources.kinesis).publish(records, delivered.extend)
    assert result.delivered == 1100 and result.requests == 3 and result.retried_entries == 0
    on_stream = resources.stream_records()
    assert Counter(contract.natural_key(r) for r in on_stream) == Counter(contract.natural_key(t) for t in records)
    assert all(r["pk"] == f"{r['iso']}:{r['location']}" for r in on_stream)


def test_partial_failure_retries_only_failed_entries_and_delivers_each_once(resources: Resources) -> None:
    client = clients(resources.url)["kinesis"]
    # first call of each batch: every 3rd entry fails; the retry of those: the first one fails again
    injector = PutSpy(
        client, lambda call, rs: set(range(0, len(rs), 3)) if call in (0, 3) else ({0} if call == 1 else set())
    )
    records = ticks(700)
    delivered: list[Mapping[str, Any]] = []
    sleeps: list[float] = []
    pub = KinesisPublisher(resources.stream, client, sleep=sleeps.append)
    result = pub.publish(records, delivered.extend)

    assert result.delivered == 700
    # batch 1 (500): 500 -> 167 failed -> 1 failed -> done; batch 2 (200): 200 -> 67 failed -> done
    assert [len(s) for s in injector.sent] == [500 - 167, 167 - 1, 1, 200 - 67, 67]
    assert len(sleeps) == 3  # backoff before each retry, none before first sends
    on_stream = resources.stream_records()
    keys = Counter(contract.natural_key(r) for r in on_stream)
    assert len(on_stream) == 700 and set(keys.values()) == {1}
    assert Counter(contract.natural_key(dict(r)) for r in delivered) == keys


def test_exhausted_retries_raise_and_report_only_delivered(resources: Resources) -> None:
    client = clients(resources.url)["kinesis"]
    PutSpy(client, lambda call, rs: {0, 1}, code="InternalFailure")  # the same 2 fail forever
    records = ticks(10)
    delivered: list[Mapping[str, Any]] = []
    with pytest.raises(PublishError) as err:
        KinesisPublisher(resources.stream, client, max_attempts=3, sleep=lambda _s: None).publish(
            records, delivered.extend
        )
    assert err.value.delivered == 8 and err.value.undelivered == 2
    assert err.value.errors == {"InternalFailure": 2}
    assert "2 record(s) unsent" in str(err.value)
    assert {contract.natural_key(dict(r)) for r in delivered} == {contract.natural_key(t) for t in records[2:]}
    assert len(resources.stream_records()) == 8


def test_whole_call_failure_is_retried_then_raised_with_later_batches_counted(resources: Resources) -> None:
    pub = KinesisPublisher("no-such-stream", resources.kinesis, max_attempts=2, sleep=lambda _s: None)
    with pytest.raises(PublishError) as err:
        pub.publish(ticks(600))
    assert err.value.delivered == 0 and err.value.undelivered == 600
    assert "ResourceNotFoundException" in str(err.value)

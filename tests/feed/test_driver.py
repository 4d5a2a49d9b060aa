"""The local KCL stand-in on emulator Kinesis + DynamoDB: a killed and restarted consumer
resumes from its checkpoints (no replay, no gap), a dead owner's leases fail over, a worker
that lost its lease cannot checkpoint over the new owner."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from app.local.feed_driver import FeedDriver
from app.local.feed_leases import LeaseTable
from gridtape import aws, contract, kinesis
from tests.feed.helpers import tick

pytestmark = pytest.mark.emulator
_n = itertools.count()


@pytest.fixture
def stream(stack: Any) -> str:
    name = f"feed-test-{next(_n)}-{time.monotonic_ns()}"
    client = aws.client("kinesis")
    client.create_stream(StreamName=name, ShardCount=2)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    return name


def publish(stream: str, first: int, count: int) -> set[str]:
    """Ticks with lmp = first .. first + count - 1; returns the shards they landed on."""
    ticks = [tick("PJM", "WESTERN HUB", float(i), i) for i in range(first, first + count)]
    entries = [kinesis.Entry(contract.dumps(t).encode(), f"PJM:{t['lmp']}") for t in ticks]
    return {p.shard_id for p in kinesis.Writer(stream).put(entries).placed}


class Sink:
    def __init__(self) -> None:
        self.values: list[float] = []

    def __call__(self, kind: str, records: list[dict[str, Any]]) -> None:
        self.values += [r["lmp"] for r in records]


def driver(stream: str, sink: Sink, worker: str = "w1", failover_s: float = 30.0) -> FeedDriver:
    d = FeedDriver({stream: ("tick", f"{stream}-leases")}, sink, worker_id=worker, failover_s=failover_s)
    d.ensure_tables()
    return d


def drain(d: FeedDriver) -> None:
    idle = 0
    while idle < 2:  # one quiet round per shard after catching up
        idle = idle + 1 if d.poll() == 0 else 0


def test_the_lease_table_has_the_kcl_shape(stream: str) -> None:
    d = driver(stream, Sink())
    table = aws.client("dynamodb").describe_table(TableName=f"{stream}-leases")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "leaseKey", "KeyType": "HASH"}]
    publish(stream, 0, 5)
    drain(d)
    items = [LeaseTable(f"{stream}-leases").get(s.shard_id) for s in kinesis.list_shards(stream)]
    assert all(i is not None and i["leaseOwner"] == "w1" and int(i["leaseCounter"]) >= 1 for i in items)
    assert {i["checkpoint"] for i in items if i} - {"TRIM_HORIZON"}  # at least one shard has a sequence number


def test_a_killed_consumer_resumes_from_its_checkpoints(stream: str) -> None:
    first = Sink()
    publish(stream, 0, 40)
    drain(driver(stream, first))
    assert sorted(first.values) == [float(i) for i in range(40)]
    # Killed: no shutdown, no release. More ticks arrive while it is down.
    publish(stream, 40, 25)
    second = Sink()
    drain(driver(stream, second))  # the same worker id, as a restart on the same machine
    assert sorted(second.values) == [float(i) for i in range(40, 65)]  # no replay, no gap


def test_a_dead_owners_leases_fail_over_to_another_worker(stream: str) -> None:
    publish(stream, 0, 10)
    drain(driver(stream, Sink(), "dead"))
    publish(stream, 10, 10)
    other = Sink()
    d = driver(stream, other, "alive", failover_s=0.5)
    assert d.poll() == 0  # the leases look held: their counters are first seen now
    time.sleep(0.7)  # ...and have not moved for the failover time
    drain(d)
    assert sorted(other.values) == [float(i) for i in range(10, 20)]


def test_a_worker_that_lost_its_lease_cannot_checkpoint_over_the_new_owner(stream: str) -> None:
    publish(stream, 0, 6)
    zombie = driver(stream, Sink(), "zombie")
    drain(zombie)
    thief = driver(stream, Sink(), "thief", failover_s=0.3)
    thief.poll()
    time.sleep(0.5)
    publish(stream, 6, 6)
    drain(thief)
    table = LeaseTable(f"{stream}-leases")
    before = {s.shard_id: table.get(s.shard_id) for s in kinesis.list_shards(stream)}
    landed = publish(stream, 12, 6)
    zombie.poll()  # it reads and processes, but its checkpoint is refused: lease lost
    assert landed and not landed & {shard for _, shard in zombie.workers}
    after = {s.shard_id: table.get(s.shard_id) for s in kinesis.list_shards(stream)}
    assert {k: (v or {}).get("checkpoint") for k, v in after.items()} == {
        k: (v or {}).get("checkpoint") for k, v in before.items()
    }
    assert all((v or {}).get("leaseOwner") == "thief" for v in after.values())


def test_a_graceful_stop_checkpoints_and_hands_the_leases_over_at_once(stream: str) -> None:
    publish(stream, 0, 8)
    d = driver(stream, Sink(), "leaving")
    drain(d)
    d.shutdown()
    publish(stream, 8, 4)
    nxt = Sink()
    drain(driver(stream, nxt, "next", failover_s=3600))  # no failover wait: the leases are free
    assert sorted(nxt.values) == [8.0, 9.0, 10.0, 11.0]


def test_a_poison_record_does_not_stall_the_shard(stream: str) -> None:
    kinesis.Writer(stream).put([kinesis.Entry(b"<html>oops</html>", "PJM:0")])
    publish(stream, 0, 3)
    got = Sink()
    drain(driver(stream, got))
    assert sorted(got.values) == [0.0, 1.0, 2.0]

"""The demo's complete day (producers/recordings/day/, written by tools/recordings/demo_day.py):
every ISO's recorded polls, replayed through the live code path on a fresh state table, give
every feed of the ISO table every interval of DAY's local day, so the nightly run for DAY
passes every check; replaying them first leaves the other recordings' polls as they were."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from batch import checks
from gridtape import aws, config, contract, isos
from producers import registry
from producers.http import Recordings, ReplayTransport, replay
from producers.poller import MemoryMetrics, Sinks, poll_replay, steps
from producers.publish import KinesisPublisher
from producers.quarantine import Quarantine
from producers.state import StateStore, create_table
from tools.recordings.demo_day import DAY, FOLDER

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "producers" / "recordings"
DAY_DIR = RECORDINGS / FOLDER
FRESH = "-fresh"  # the suffix of the stream and table of the replay on a fresh table
SHARDS = 16  # ~5,000 of the test's ~80,000 records each: moto's puts cost O(records in the shard)


def test_generator_writes_the_committed_day(tmp_path: Path) -> None:
    env = {**os.environ, "GRIDTAPE_RECORDINGS_OUT": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "tools.recordings.demo_day"], cwd=ROOT, env=env, check=True)
    for iso in isos.CODES:
        written, committed = tmp_path / FOLDER / iso.lower(), DAY_DIR / iso.lower()
        names = sorted(p.name for p in committed.iterdir())
        assert sorted(p.name for p in written.iterdir()) == names, iso
        _, mismatch, errors = filecmp.cmpfiles(written, committed, names, shallow=False)
        assert not mismatch and not errors, (iso, mismatch[:5])


def replayed_ticks(iso: str) -> list[dict[str, Any]]:
    """Every recorded poll of the ISO's day through its module, each with the cursor the polls
    before it left (as the poller's state table would hold it); no request goes unanswered."""
    rec = Recordings.load(DAY_DIR / iso.lower())
    source = registry.create(iso, replay=True)
    clock = [rec.polls[0].now]
    http = replay(rec, clock=lambda: clock[0])
    cursors: dict[str, str | None] = {}
    out: list[dict[str, Any]] = []
    for p in rec.polls:
        clock[0] = p.now
        http.begin_poll()
        since = cursors.get(p.dataset)
        parsed = source.parse_rows(p.dataset, source.fetch(p.dataset, http, p.now, since=_ts(since)))
        assert not parsed.refused, (p.label, parsed.refused[:2])
        cursors[p.dataset] = steps.later(since, steps.newest_complete(parsed.ticks, p.now))
        out += parsed.ticks
    transport = http.transport
    assert isinstance(transport, ReplayTransport)
    assert not transport.unmatched, transport.unmatched[:5]
    return out


def _ts(text: str | None) -> Any:
    return contract.parse_ts(text) if text else None


@pytest.mark.parametrize("iso", isos.CODES)
def test_every_feed_of_the_iso_table_covers_the_day(iso: str) -> None:
    ticks = replayed_ticks(iso)
    for target in checks.targets([iso]):
        present = {
            contract.parse_ts(t["interval_start"])
            for t in ticks
            if (t["dataset"], t["market"]) == (target.dataset, target.market)
            and target.location in (None, t["location"])
        }
        grid = checks.expected_grid(iso, DAY, target.minutes)
        missing = [ts for ts in grid if ts not in present]
        assert not missing, f"{target}: {checks.describe_ranges(iso, missing, target.minutes)}"


# --- the demo's path on the emulator: poll -> land -> nightly ------------------------------


@pytest.fixture
def own(batch_stack: config.Names) -> Iterator[config.Names]:
    """A ticks stream, state table and buckets of this test's own, and a stream and table for
    the replay on a fresh table (its records are not the demo's: they are never landed)."""
    names = config.Names(env=f"{batch_stack.env}-day", account=batch_stack.account)
    kinesis, ddb, s3 = aws.client("kinesis"), aws.client("dynamodb"), aws.client("s3")
    for suffix in ("", FRESH):
        stream = names.ticks_stream + suffix
        kinesis.create_stream(StreamName=stream, ShardCount=SHARDS)
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
        create_table(names.poller_state_table + suffix, ddb)
    for bucket in (names.raw_bucket, names.curated_bucket):
        s3.create_bucket(Bucket=bucket)
    yield names
    for suffix in ("", FRESH):
        kinesis.delete_stream(StreamName=names.ticks_stream + suffix)


def sinks(names: config.Names, suffix: str = "") -> Sinks:
    return Sinks(
        state=StateStore(names.poller_state_table + suffix, sleep=lambda _s: None),
        publisher=KinesisPublisher(names.ticks_stream + suffix, sleep=lambda _s: None),
        quarantine=Quarantine(names.raw_bucket),
        metrics=MemoryMetrics(),
    )


def outcomes(summaries: list[Any]) -> list[tuple[str, str, str, str, int, int]]:
    return [(s.iso, s.dataset, s.label, s.status, s.parsed, s.published) for s in summaries]


@pytest.mark.emulator
@pytest.mark.spark
def test_demo_order_day_then_recordings_and_the_nightly_of_the_day_passes(
    own: config.Names, spark: Any, tmp_path: Path
) -> None:
    from app.local import landing
    from batch import nightly

    day = poll_replay(DAY_DIR, list(isos.CODES), sinks(own))
    assert all(s.ok for s in day), [s.as_dict() for s in day if not s.ok]
    # The other recordings, replayed after the day (as the demo should): each poll as on a
    # fresh table, or better: a poll of an earlier date no longer reaches back to the cursor
    # another recorded date left (a 404 for a range nobody recorded).
    after = outcomes(poll_replay(RECORDINGS, list(isos.CODES), sinks(own)))
    fresh = outcomes(poll_replay(RECORDINGS, list(isos.CODES), sinks(own, FRESH)))
    assert [o[:3] for o in after] == [o[:3] for o in fresh]
    changed = [(a, f) for a, f in zip(after, fresh, strict=True) if a != f]

    def explained(a: tuple[str, str, str, str, int, int], f: tuple[str, str, str, str, int, int]) -> bool:
        if f[3] == "failed" and a[3] == "published":
            return True  # on a fresh table the poll reaches back to a range nobody recorded
        # The recordings overlap the day (a day-ahead file of 06-11 polled on 06-10): versions
        # the day's replay already published are not published twice.
        return a[3] in ("published", "nothing_new") and f[3] == "published" and a[4] == f[4] and a[5] < f[5]

    assert all(explained(a, f) for a, f in changed), [c for c in changed if not explained(*c)]

    landed = landing.land_once(own, home=tmp_path / "home")
    assert landed["read"] > 0
    summary = nightly.run(
        DAY, names=own, spark=spark, warehouse_path=tmp_path / "warehouse.duckdb", notify=False, horizon=timedelta(0)
    )
    assert summary["days"] == [DAY.isoformat()]
    assert summary["status"] == "SUCCEEDED", summary["checks"]["message"][:2000]
    assert summary["checks"]["checked"] == len(checks.targets()) + 3 * len(
        {(t.iso, t.dataset, t.market) for t in checks.targets()}
    )

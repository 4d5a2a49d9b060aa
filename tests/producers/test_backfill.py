"""The backfill loop on a fake ISO archive and the emulator: days on the market clock, one
deterministic object per day and partition, cursors that make a killed run resume without
duplicates, failures quarantined and reported, revisions that never lose the newer value."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract, landing
from producers.backfill import backfill, plan, summary
from producers.backfill.run import DayResult, Sinks
from producers.backfill.store import Cursors, RawStore
from producers.quarantine import Quarantine
from producers.state import Published, StateStore, content_hash
from tests.producers.conftest import Resources
from tests.producers.test_backfill_fake import (
    HUBS,
    FakeArchive,
    day_csv,
    days,
    intervals,
    replay_http,
    value,
    write_archive,
)

SPRING = date(2024, 3, 10)  # SPP's market clock (Central) springs forward: 23 hours
FALL = date(2024, 11, 3)  # 25 hours


def sinks(res: Resources, raw: RawStore | None = None) -> Sinks:
    return Sinks(
        cursors=Cursors(res.table, res.dynamodb),
        raw=raw or RawStore(res.bucket, res.s3),
        state=StateStore(res.table, res.dynamodb, sleep=lambda _s: None),
        quarantine=Quarantine(res.bucket, res.s3),
    )


def run(res: Resources, root: Path, wanted: list[date], **kw: Any) -> tuple[list[DayResult], FakeArchive]:
    source = FakeArchive()
    http, clock = replay_http(root)
    raw = kw.pop("raw", None)
    results = backfill(source, "lmp", wanted, http, sinks(res, raw), at_day=clock.at, sleep=lambda _s: None, **kw)
    return results, source


def raw_objects(res: Resources) -> dict[str, bytes]:
    out = {}
    for page in res.s3.get_paginator("list_objects_v2").paginate(Bucket=res.bucket, Prefix=landing.RAW_PREFIX):
        for o in page.get("Contents", []):
            out[o["Key"]] = res.s3.get_object(Bucket=res.bucket, Key=o["Key"])["Body"].read()
    return out


def raw_records(res: Resources) -> list[dict[str, Any]]:
    return [json.loads(line) for body in raw_objects(res).values() for line in landing.decode(body)]


def marks(res: Resources) -> list[str]:
    resp = res.s3.list_objects_v2(Bucket=res.bucket, Prefix=landing.MARKS_PREFIX)
    return sorted(o["Key"] for o in resp.get("Contents", []))


# ------------------------------------------------------------------ pure


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (FALL, 25), (date(2024, 6, 1), 24)])
def test_an_operating_day_is_the_market_clocks_day(day: date, hours: int) -> None:
    lo, hi = plan.day_bounds("SPP", day)
    assert hi - lo == timedelta(hours=hours)
    assert lo.astimezone(plan.isos.get("SPP").tz).hour == 0
    assert plan.utc_dates("SPP", day) == [day, day + timedelta(days=1)]  # Central: into the next UTC date


def test_operating_days_are_inclusive_and_refuse_a_reversed_range() -> None:
    assert plan.operating_days(date(2024, 2, 28), date(2024, 3, 1)) == [
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]
    with pytest.raises(ValueError, match="before"):
        plan.operating_days(date(2024, 3, 2), date(2024, 3, 1))


def _tick(
    location: str, start: str, lmp: float, revision: int | None = None, published: str = "2024-06-02T00:00:00Z"
) -> dict[str, Any]:
    s = contract.parse_ts(start)
    return contract.tick(
        iso="SPP", market="RT5", dataset="lmp", location=location, location_type="hub",
        interval_start=s, interval_end=s + timedelta(minutes=5), lmp=lmp,
        published_at=contract.parse_ts(published), ingested_at=contract.parse_ts(published),
        source="https://x.invalid", revision=revision,
    )  # fmt: skip


def test_the_raw_winner_is_compactions_latest() -> None:
    start = "2024-06-01T12:00:00Z"
    records = [
        _tick("A", start, 10.0, revision=None, published="2024-06-09T00:00:00Z"),
        _tick("A", start, 11.0, revision=1),
        _tick("A", start, 12.0, revision=0, published="2024-06-10T00:00:00Z"),
    ]
    won = plan.winners(records)
    assert list(won.values()) == [Published(content_hash(records[1]), 1)]
    assert plan.winners(records, keys=set()) == {}


def test_a_backfilled_version_keeps_an_equal_winners_revision_and_outranks_a_different_one() -> None:
    start = "2024-06-01T12:00:00Z"
    same, other, fresh, unnumbered = (_tick(loc, start, 20.0) for loc in ("SAME", "OTHER", "NEW", "NULL"))
    before = {
        contract.natural_key(same): Published(content_hash(same), 2),
        contract.natural_key(other): Published(content_hash(_tick("OTHER", start, 19.0)), 2),
        contract.natural_key(unnumbered): Published(content_hash(_tick("NULL", start, 19.0)), -1),
    }
    stamped, changed = plan.revise([same, other, fresh, unnumbered], before)
    by_loc = {t["location"]: t["revision"] for t in stamped}
    assert by_loc == {"SAME": 2, "OTHER": 3, "NEW": 0, "NULL": 0}
    assert changed == 3


def test_the_highest_known_revision_wins_across_raw_and_the_state_table() -> None:
    key = ("SPP", "RT5", "lmp", "A", "2024-06-01T12:00:00Z")
    assert plan.known({key: Published("a", 1)}, {key: Published("b", 3)}) == {key: Published("b", 3)}
    assert plan.known({key: Published("a", 4)}, {key: Published("b", 3)}) == {key: Published("a", 4)}


# ------------------------------------------------------------------ the loop on the emulator


def test_each_day_lands_once_per_partition_with_its_own_intervals_marked_and_cursored(
    resources: Resources, tmp_path: Path
) -> None:
    wanted = [date(2024, 3, 9), SPRING, date(2024, 11, 2), FALL]
    root = write_archive(tmp_path, {d: day_csv(d) for d in wanted})
    results, _ = run(resources, root, wanted)
    assert [r.status for r in results] == ["done"] * 4
    assert [r.rows for r in results] == [intervals(d) * len(HUBS) for d in wanted]
    assert intervals(SPRING) == 276 and intervals(FALL) == 300
    assert all(r.outside == len(HUBS) for r in results)  # the next day's first interval, left to it
    objects = raw_objects(resources)
    assert sorted(objects) == sorted(
        landing.backfill_key("SPP", "lmp", d, u) for d in wanted for u in plan.utc_dates("SPP", d)
    )
    records = raw_records(resources)
    keys = Counter(contract.natural_key(r) for r in records)
    assert len(keys) == sum(r.rows for r in results) and set(keys.values()) == {1}
    for key, body in objects.items():  # every record in the partition the layout puts it in
        assert all(landing.partition_keys(line)[1] in key for line in landing.decode(body))
    assert all(r["revision"] == 0 for r in records)
    assert marks(resources) == sorted(landing.mark_key(d, "SPP", "lmp") for d in wanted)
    assert Cursors(resources.table, resources.dynamodb).done("SPP", "lmp", wanted) == set(wanted)


class Killed(Exception):
    pass


class CrashingRaw(RawStore):
    """Dies after writing the Nth day's objects, before its mark and cursor: a kill mid-day."""

    def __init__(self, bucket: str, client: Any, after: int) -> None:
        super().__init__(bucket, client)
        self.after = after

    def mark(self, iso: str, feed: str, day: date, rows: int, objects: Any) -> str:
        self.after -= 1
        if self.after < 0:
            raise Killed(f"killed while backfilling {day}")
        return super().mark(iso, feed, day, rows, objects)


@pytest.mark.parametrize("killed_after", [0, 2, 4])
def test_a_killed_backfill_resumes_where_it_stopped_and_duplicates_nothing(
    resources: Resources, tmp_path: Path, killed_after: int
) -> None:
    wanted = list(days(date(2024, 3, 8), 5))
    root = write_archive(tmp_path, {d: day_csv(d) for d in wanted})
    with pytest.raises(Killed):
        run(resources, root, wanted, raw=CrashingRaw(resources.bucket, resources.s3, killed_after))
    done = Cursors(resources.table, resources.dynamodb).done("SPP", "lmp", wanted)
    assert done == set(wanted[:killed_after])
    results, source = run(resources, root, wanted)
    assert source.fetched == wanted[killed_after:]  # the finished days are not fetched again
    assert sorted(r.status for r in results) == sorted(["already_done"] * killed_after + ["done"] * (5 - killed_after))
    keys = Counter(contract.natural_key(r) for r in raw_records(resources))
    assert len(keys) == sum(intervals(d) for d in wanted) * len(HUBS) and set(keys.values()) == {1}
    assert len(raw_objects(resources)) == 2 * len(wanted)
    assert marks(resources) == sorted(landing.mark_key(d, "SPP", "lmp") for d in wanted)


def test_a_redo_of_the_same_archive_rewrites_the_same_bytes(resources: Resources, tmp_path: Path) -> None:
    wanted = list(days(date(2024, 6, 1), 2))
    root = write_archive(tmp_path, {d: day_csv(d) for d in wanted})
    run(resources, root, wanted)
    before = raw_objects(resources)
    again, _ = run(resources, root, wanted)
    assert [r.status for r in again] == ["already_done"] * 2
    redone, _ = run(resources, root, wanted, redo=True)
    assert [(r.status, r.changed) for r in redone] == [("done", 0)] * 2
    assert raw_objects(resources) == before


def backfilled(res: Resources) -> dict[Any, dict[str, Any]]:
    return {
        contract.natural_key(r): r
        for key, body in raw_objects(res).items()
        if "/backfill-" in key
        for r in map(json.loads, landing.decode(body))
    }


def test_a_revised_archive_outranks_the_versions_already_landed(resources: Resources, tmp_path: Path) -> None:
    day = date(2024, 6, 1)
    lo, _ = plan.day_bounds("SPP", day)
    second = lo + timedelta(minutes=5)
    polled = [
        _tick(HUBS[0], contract.format_ts(lo), value(HUBS[0], lo), revision=0),  # what the archive says
        _tick(HUBS[0], contract.format_ts(second), 99.0, revision=4),  # not what the archive says
    ]
    key = landing.object_key(landing.partition("SPP", lo.date()), "firehose", lo, "x")
    resources.s3.put_object(Bucket=resources.bucket, Key=key, Body=landing.encode(contract.dumps(t) for t in polled))
    root = write_archive(tmp_path, {day: day_csv(day)})
    results, _ = run(resources, root, [day])
    mine = backfilled(resources)
    same, other = (contract.natural_key(t) for t in polled)
    assert (mine[same]["revision"], mine[other]["revision"]) == (0, 5)
    assert results[0].changed == results[0].rows - 1
    # the archive revised again: a redo numbers after every version landed, its own included
    write_archive(tmp_path, {day: day_csv(day, shift=1.0)})
    results, _ = run(resources, root, [day], redo=True)
    assert results[0].changed == results[0].rows
    mine = backfilled(resources)
    assert (mine[same]["revision"], mine[other]["revision"]) == (1, 6)
    latest: dict[Any, dict[str, Any]] = {}
    for r in raw_records(resources):
        k = contract.natural_key(r)
        if k not in latest or plan.latest_order(r) > plan.latest_order(latest[k]):
            latest[k] = r
    assert latest == mine  # the newest archive wins every interval


def test_recent_days_number_revisions_with_the_poller_and_tell_it(resources: Resources, tmp_path: Path) -> None:
    """Within the state table's retention the poller's published versions count, under its
    lease, and the backfill's versions are recorded there for its next poll."""
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    lo, _ = plan.day_bounds("SPP", day)
    state = StateStore(resources.table, resources.dynamodb, sleep=lambda _s: None)
    polled = _tick(HUBS[1], contract.format_ts(lo), -999.0, revision=2)
    lease = state.acquire_lease("SPP", "lmp")
    assert lease is not None
    state.mark_published([polled], lease)
    state.release_lease(lease)
    root = write_archive(tmp_path, {day: day_csv(day)})
    results, _ = run(resources, root, [day])
    assert results[0].status == "done"
    mine = {contract.natural_key(r): r for r in raw_records(resources)}
    assert mine[contract.natural_key(polled)]["revision"] == 3
    assert state.published([polled])[contract.natural_key(polled)].revision == 3
    assert state.acquire_lease("SPP", "lmp") is not None  # released


def test_a_lease_the_poller_never_frees_fails_the_day_not_the_run(resources: Resources, tmp_path: Path) -> None:
    recent = (datetime.now(UTC) - timedelta(days=1)).date()
    state = StateStore(resources.table, resources.dynamodb)
    assert state.acquire_lease("SPP", "lmp", seconds=3600) is not None
    root = write_archive(tmp_path, {d: day_csv(d) for d in (date(2024, 6, 1), recent)})
    results, _ = run(resources, root, [date(2024, 6, 1), recent])
    assert [r.status for r in results] == ["done", "failed"]
    assert "lease" in (results[1].error or "")


def test_missing_and_unreadable_days_are_reported_quarantined_and_retried(resources: Resources, tmp_path: Path) -> None:
    wanted = list(days(date(2024, 6, 1), 4))
    bodies: dict[date, Any] = {
        wanted[0]: day_csv(wanted[0]),
        wanted[1]: b"<html><body>Service unavailable</body></html>",
        wanted[3]: day_csv(wanted[3], bad_rows=3),
    }  # wanted[2]: no file (404)
    root = write_archive(tmp_path, bodies)
    results, _ = run(resources, root, wanted)
    assert [r.status for r in results] == ["done", "failed", "missing", "done"]
    assert results[1].quarantined and results[1].quarantined.endswith(".html")
    assert "HTML" in (results[1].error or "")
    assert results[2].url and results[2].url.endswith(f"{wanted[2]:%Y%m%d}.csv")
    assert results[3].refused == 3 and results[3].quarantined and results[3].quarantined.endswith("-rows.json")
    s = summary(results)
    assert (s["done"], s["failed"]) == (2, 2) and len(s["failed_days"]) == 2
    assert Cursors(resources.table, resources.dynamodb).done("SPP", "lmp", wanted) == {wanted[0], wanted[3]}
    assert marks(resources) == sorted(landing.mark_key(d, "SPP", "lmp") for d in (wanted[0], wanted[3]))
    # the archive is fixed: the next run takes exactly the failed days
    write_archive(tmp_path, {d: day_csv(d) for d in wanted})
    results, source = run(resources, root, wanted)
    assert source.fetched == [wanted[1], wanted[2]] and all(r.status in ("done", "already_done") for r in results)


def test_a_feed_without_an_archive_reader_is_reported_for_every_day(resources: Resources, tmp_path: Path) -> None:
    root = write_archive(tmp_path, {})
    http, _ = replay_http(root)
    results = backfill(FakeArchive(), "load", [date(2024, 6, 1)], http, sinks(resources))
    assert [r.status for r in results] == ["unsupported"] and "no archive" in (results[0].error or "")


def test_the_landing_layout_is_deterministic_and_reads_back() -> None:
    ticks = [_tick(loc, "2024-06-01T23:55:00Z", 1.5) for loc in ("A", "B")]
    lines = [contract.dumps(t) for t in ticks]
    assert landing.encode(lines) == landing.encode(iter(lines))  # no timestamp in the gzip header
    assert [json.loads(x) for x in landing.decode(landing.encode(lines))] == [json.loads(x) for x in lines]
    key = landing.backfill_key("SPP", "dam", date(2024, 6, 1), date(2024, 6, 2))
    assert key.startswith(landing.partition("SPP", "2024-06-02")) and key.endswith(".gz")
    assert landing.partition_keys(lines[0].encode()) == ("SPP", "2024-06-01")
    assert plan.by_partition(ticks) == {"2024-06-01": ticks}

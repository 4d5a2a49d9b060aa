"""Backfill marks: a marked day of any age is compacted and loaded by every nightly run until a
run that started after the mark loaded it; writing the day again marks it again."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch import catchup, manifests, warehouse
from gridtape import landing

TARGET = date(2024, 11, 10)
RUN = datetime(2024, 11, 10, 9, 30, tzinfo=UTC)
OLD = date(2023, 3, 12)  # far beyond the horizon


def mark(day: date, written: datetime, iso: str = "SPP", feed: str = "lmp") -> dict[str, Any]:
    return {"Key": landing.mark_key(day, iso, feed), "LastModified": written}


def test_mark_keys_name_their_day_and_nothing_else_does() -> None:
    assert landing.mark_day(landing.mark_key(OLD, "ISONE", "dam")) == OLD
    assert landing.parse_mark(landing.mark_key(OLD, "ISONE", "dam")) == (OLD, "ISONE", "dam")
    for key in ("raw/iso=SPP/date=2023-03-12/x.gz", f"{landing.MARKS_PREFIX}day=2023-03-12/", "marks/other"):
        assert landing.mark_day(key) is None


@pytest.mark.parametrize("day", [OLD, TARGET - timedelta(days=30), TARGET - timedelta(days=1), TARGET])
def test_a_pending_mark_brings_its_day_whatever_its_age(day: date) -> None:
    """Horizon, watermark and overlap bound raw objects, never marks."""
    marks = [mark(day, RUN - timedelta(days=400))]
    assert catchup.candidate_days(marks, RUN, TARGET, horizon=timedelta(days=1)) == sorted({day, TARGET})


def test_a_mark_of_a_day_after_the_target_waits_for_its_own_run() -> None:
    later = TARGET + timedelta(days=1)
    assert catchup.candidate_days([mark(later, RUN - timedelta(hours=1))], RUN, TARGET) == [TARGET]
    assert catchup.marked_days([mark(later, RUN - timedelta(hours=1))], [(RUN, {TARGET})]) == [later]


def test_a_mark_clears_only_when_a_run_started_after_it_loaded_its_day() -> None:
    written = RUN - timedelta(hours=2)
    m = [mark(OLD, written)]
    assert catchup.marked_days(m, []) == [OLD]
    assert catchup.marked_days(m, [(RUN, {TARGET})]) == [OLD]  # loaded other days only
    assert catchup.marked_days(m, [(written - timedelta(hours=1), {OLD})]) == [OLD]  # started before the mark
    # started just after, within the overlap (clock skew): loaded again, never skipped
    assert catchup.marked_days(m, [(written + timedelta(minutes=1), {OLD})]) == [OLD]
    assert catchup.marked_days(m, [(RUN, {OLD, TARGET})]) == []
    # written again after that run (a second backfill of the day): pending again
    assert catchup.marked_days([mark(OLD, RUN + timedelta(hours=1))], [(RUN, {OLD})]) == [OLD]


def test_marks_of_several_feeds_clear_together_and_separately() -> None:
    a, b = mark(OLD, RUN - timedelta(hours=3), feed="lmp"), mark(OLD, RUN + timedelta(hours=3), feed="dam")
    assert catchup.marked_days([a, b], [(RUN, {OLD})]) == [OLD]  # dam came after the run
    assert catchup.marked_days([a], [(RUN, {OLD})]) == []


def test_plan_reads_the_loaded_days_from_the_warehouse(tmp_path: Path) -> None:
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    try:
        warehouse.ensure_schema(ex)
        marks = [mark(OLD, RUN - timedelta(hours=2)), mark(OLD + timedelta(days=1), RUN - timedelta(hours=2))]
        assert catchup.plan(ex, marks, TARGET) == [OLD, OLD + timedelta(days=1), TARGET]
        catchup.record_run(ex, RUN, TARGET, [OLD, TARGET])  # the second day's load did not happen
        assert catchup.plan(ex, marks, TARGET) == [OLD + timedelta(days=1), TARGET]
        catchup.record_run(ex, RUN + timedelta(days=1), TARGET, [OLD + timedelta(days=1), TARGET])
        assert catchup.plan(ex, marks, TARGET) == [TARGET]
    finally:
        ex.close()


def test_on_the_emulator_marks_are_listed_for_the_plan_and_never_compacted(stack: Any, tmp_path: Path) -> None:
    from gridtape import aws

    names = stack.names
    s3 = aws.client("s3")
    day = date(2021, 6, 1)  # a day no other test writes
    key = landing.mark_key(day, "SPP", "lmp")
    s3.put_object(Bucket=names.raw_bucket, Key=key, Body=b"{}")
    store = manifests.Store(names.raw_bucket, names.curated_bucket)
    listed = store.raw_objects([date(2021, 6, 1)])
    assert key in [o["Key"] for o in listed]
    assert key not in store.raw_keys([date(2021, 6, 1)])
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    try:
        warehouse.ensure_schema(ex)
        target = date(2024, 11, 10)
        assert day in catchup.plan(ex, listed, target)
        written = next(o for o in listed if o["Key"] == key)["LastModified"]
        started = written + catchup.OVERLAP + timedelta(seconds=1)  # a run that started after the mark
        catchup.record_run(ex, started, target, catchup.plan(ex, listed, target))
        assert day not in catchup.plan(ex, store.raw_objects([]), target)
        time.sleep(2.1)  # LastModified has one-second resolution: the next write is visibly later
        s3.put_object(Bucket=names.raw_bucket, Key=key, Body=b"{}")  # the day backfilled again
        assert day in catchup.plan(ex, store.raw_objects([]), target)
    finally:
        ex.close()
        s3.delete_object(Bucket=names.raw_bucket, Key=key)


def test_a_backfilled_day_is_checked_on_the_backfilled_feeds_only() -> None:
    """A backfill of SPP prices on an old day checks SPP's price feed there, not the ISOs and
    feeds nobody collected that day; the run's own day is always checked in full."""
    from batch import checks

    objects = [mark(OLD, RUN, "SPP", "lmp"), mark(OLD, RUN, "SPP", "dam"), mark(OLD - timedelta(days=1), RUN, "PJM")]
    scope = catchup.check_scope(objects, OLD, TARGET)
    assert scope == {("SPP", "lmp"), ("SPP", "dam")}
    assert catchup.check_scope(objects, TARGET, TARGET) is None
    assert catchup.check_scope(objects, TARGET - timedelta(days=2), TARGET) is None  # late live data: all
    covered = {(t.iso, t.dataset, t.market) for t in checks.targets(feeds=scope)}
    assert covered == {("SPP", "lmp", "RT5"), ("SPP", "lmp", "DAM")}
    assert {t.location for t in checks.targets(feeds=scope)} == {"SPPNORTH_HUB", "SPPSOUTH_HUB"}

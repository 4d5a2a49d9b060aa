"""Which days a nightly run takes: its own, plus the days whose raw objects arrived since the
last complete run, within the horizon; the watermark lives in the warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch import catchup, warehouse

TARGET = date(2024, 11, 10)
LAST_RUN = datetime(2024, 11, 10, 9, 30, tzinfo=UTC)


def obj(raw_date: str, modified: datetime, iso: str = "PJM") -> dict[str, Any]:
    return {"Key": f"raw/iso={iso}/date={raw_date}/gridtape-1-{raw_date}-x.gz", "LastModified": modified}


def test_only_the_runs_day_without_new_objects() -> None:
    old = [obj("2024-11-05", LAST_RUN - timedelta(hours=3)), obj("2024-11-10", LAST_RUN - timedelta(days=1))]
    assert catchup.candidate_days(old, LAST_RUN, TARGET, overlap=timedelta(0)) == [TARGET]


def test_a_late_object_brings_back_both_local_days_its_utc_date_can_hold() -> None:
    late = [obj("2024-11-05", LAST_RUN + timedelta(hours=20))]
    assert catchup.candidate_days(late, LAST_RUN, TARGET) == [date(2024, 11, 4), date(2024, 11, 5), TARGET]


def test_the_horizon_and_the_runs_day_bound_the_days() -> None:
    late = [
        obj("2024-10-20", LAST_RUN + timedelta(hours=1)),  # older than the horizon: a manual run's job
        obj("2024-11-03", LAST_RUN + timedelta(hours=1)),  # 11-02 is outside the 7 days, 11-03 inside
        obj("2024-11-11", LAST_RUN + timedelta(hours=1)),  # today's raw: its local day is not over
    ]
    assert catchup.candidate_days(late, LAST_RUN, TARGET) == [date(2024, 11, 3), TARGET]
    assert catchup.candidate_days(late, LAST_RUN, TARGET, horizon=timedelta(days=30)) == [
        date(2024, 10, 19),
        date(2024, 10, 20),
        date(2024, 11, 2),
        date(2024, 11, 3),
        TARGET,
    ]


def test_the_overlap_rereads_objects_just_before_the_watermark() -> None:
    """A multipart upload is stamped with its start: an object finishing after the last run
    listed can carry a LastModified a little before that run started."""
    edge = [obj("2024-11-08", LAST_RUN - timedelta(minutes=5))]
    assert catchup.candidate_days(edge, LAST_RUN, TARGET) == [date(2024, 11, 7), date(2024, 11, 8), TARGET]
    assert catchup.candidate_days(edge, LAST_RUN, TARGET, overlap=timedelta(0)) == [TARGET]


def test_a_first_run_takes_every_object_within_the_horizon() -> None:
    objects = [obj("2024-11-08", LAST_RUN - timedelta(days=30)), obj("not-a-partition", LAST_RUN)]
    objects[1]["Key"] = "raw/README"
    assert catchup.candidate_days(objects, None, TARGET) == [date(2024, 11, 7), date(2024, 11, 8), TARGET]


def test_the_watermark_is_the_start_of_the_last_recorded_run(tmp_path: Path) -> None:
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    try:
        warehouse.ensure_schema(ex)
        assert catchup.watermark(ex) is None
        catchup.record_run(ex, LAST_RUN, TARGET, [date(2024, 11, 9), TARGET])
        catchup.record_run(ex, LAST_RUN - timedelta(days=1), TARGET - timedelta(days=1), [])
        assert catchup.watermark(ex) == LAST_RUN
        late = [obj("2024-11-06", LAST_RUN + timedelta(seconds=1)), obj("2024-11-02", LAST_RUN - timedelta(hours=1))]
        assert catchup.plan(ex, late, TARGET) == [date(2024, 11, 5), date(2024, 11, 6), TARGET]
    finally:
        ex.close()


@pytest.mark.parametrize("text", ["2024-11-10T09:30:00.123Z", "2024-11-10T09:30:00Z", "2024-11-10T09:30:00+00:00"])
def test_started_at_from_step_functions(text: str) -> None:
    assert catchup.parse_started_at(text).replace(microsecond=0) == LAST_RUN


def test_the_listed_raw_dates_cover_the_horizon_and_the_day_after() -> None:
    dates = catchup.raw_dates(TARGET)
    assert dates[0] == TARGET - catchup.HORIZON and dates[-1] == TARGET + timedelta(days=1)
    assert len(dates) == catchup.HORIZON.days + 2

"""`gridtape backfill` end to end on the emulator: a replayed range (the spring DST day
included) lands in raw/, the next nightly run compacts and loads the marked days although they
lie far beyond its horizon, the warehouse holds every interval, and backfilling again (resumed
or redone) changes nothing."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from app import cli
from batch import nightly
from gridtape import aws, config, landing
from producers import registry
from producers.backfill import plan
from tests.producers.test_backfill_fake import HUBS, FakeArchive, day_csv, intervals, value, write_archive

DAYS = [date(2024, 3, 9), date(2024, 3, 10), date(2024, 3, 11)]  # SPP's spring DST day in the middle
TARGET = date(2024, 3, 25)  # the nightly run's own day: the backfilled days are beyond its horizon


@pytest.fixture
def names(own_names: config.Names) -> config.Names:
    return own_names


@pytest.fixture
def fake_spp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "source_class", lambda iso: FakeArchive)


def backfill(names: config.Names, root: Path, start: date, end: date, *extra: str) -> int:
    args = ["backfill", "--env", names.env, "--iso", "SPP", "--dataset", "lmp", "--replay", str(root)]
    return cli.main([*args, "--start", start.isoformat(), "--end", end.isoformat(), *extra])


def raw(names: config.Names) -> dict[str, bytes]:
    s3 = aws.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names.raw_bucket, Prefix=landing.RAW_PREFIX):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=names.raw_bucket, Key=o["Key"])["Body"].read()
    return out


def prices(path: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT trade_date, location, interval_start, lmp, revision, source FROM prices WHERE iso = 'SPP' "
            "ORDER BY interval_start, location"
        ).fetchall()
    finally:
        con.close()


def test_a_missing_day_is_reported_and_fails_the_command(
    names: config.Names, fake_spp: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = date(2022, 1, 5)
    root = write_archive(tmp_path, {day: day_csv(day)})
    assert backfill(names, root, day, day + timedelta(days=1)) == 1
    out = capsys.readouterr()
    assert "1 day(s) written" in out.out and "1 failed" in out.out
    assert f"SPP lmp {day + timedelta(days=1)}: missing" in out.err
    assert backfill(names, root, day, day) == 0  # done already: nothing to do, nothing failed
    assert backfill(names, root, day + timedelta(days=2), day) == 1  # a reversed range
    assert "before" in capsys.readouterr().err


def test_backfilled_days_reach_the_warehouse_and_a_rerun_changes_nothing(
    names: config.Names, fake_spp: None, spark: Any, tmp_path: Path
) -> None:
    root = write_archive(tmp_path / "archive", {d: day_csv(d) for d in DAYS})
    warehouse = tmp_path / "warehouse.duckdb"
    assert backfill(names, root, DAYS[0], DAYS[-1]) == 0
    landed = raw(names)
    assert len(landed) == 2 * len(DAYS)

    def nightly_run() -> dict[str, Any]:
        return nightly.run(
            TARGET, names=names, spark=spark, warehouse_path=warehouse, expected=["SPP"], notify=False,
            overlap=timedelta(0),
        )  # fmt: skip

    first = nightly_run()
    assert first["planned"] == [d.isoformat() for d in [*DAYS, TARGET]]
    rows = prices(warehouse)
    expected = set()
    for d in DAYS:
        lo, hi = plan.day_bounds("SPP", d)
        expected |= {(d, hub, lo + timedelta(minutes=5 * i)) for hub in HUBS for i in range(intervals(d))}
        assert (hi - lo) // timedelta(minutes=5) == intervals(d)
    got = {(r[0], r[1], r[2].replace(tzinfo=UTC)) for r in rows}
    assert got == expected  # every interval of every day, the 23-hour day's 276 included, nothing else
    assert all(r[3] == value(r[1], r[2].replace(tzinfo=UTC)) and r[4] == 0 for r in rows)

    assert nightly_run()["planned"] == [TARGET.isoformat()]  # the marks cleared once loaded

    assert backfill(names, root, DAYS[0], DAYS[-1]) == 0  # resumed: every day already done
    assert raw(names) == landed
    assert backfill(names, root, DAYS[0], DAYS[-1], "--redo") == 0  # redone: same objects, marked again
    assert raw(names) == landed
    again = nightly_run()
    assert again["planned"] == [d.isoformat() for d in [*DAYS, TARGET]]
    assert prices(warehouse) == rows


def test_a_live_backfill_fetches_through_the_isos_rate_limited_layer() -> None:
    from app.commands import backfill as command
    from gridtape import isos

    http, at_day = command._http("SPP", FakeArchive(), None)
    try:
        assert http.limiter.interval == 1 / isos.get("SPP").requests_per_second
        assert http.https_only and at_day is None
    finally:
        http.close()

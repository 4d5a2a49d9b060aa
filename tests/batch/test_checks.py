"""Pure check verdicts: DST-aware grids, missing ranges named in the ISO's clock, duplicates,
stale feeds and out-of-range values; the handler's actions keep the shapes the ASL selects."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from batch import checks, handler
from batch import days as _days
from gridtape import isos
from gridtape.contract import ISOS
from tests.batch.conftest import ASL


@pytest.mark.parametrize(
    ("iso", "day", "n"),
    [
        ("PJM", date(2024, 3, 10), 276),
        ("PJM", date(2024, 11, 3), 300),
        ("CAISO", date(2024, 3, 10), 276),
        ("CAISO", date(2024, 11, 3), 300),
        ("ERCOT", date(2024, 11, 3), 300),
        ("MISO", date(2024, 3, 10), 288),  # fixed EST: no DST
        ("MISO", date(2024, 11, 3), 288),
        ("NYISO", date(2024, 7, 1), 288),
    ],
)
def test_expected_grid_is_dst_aware(iso: str, day: date, n: int) -> None:
    grid = checks.expected_grid(iso, day)
    assert len(grid) == n == _days.expected_intervals(iso, day)
    assert len(set(grid)) == n


def _probes(iso: str, dataset: str, grid: list[Any], **extra: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    end = grid[-1] + timedelta(minutes=5)
    return {
        "intervals": [{"iso": iso, "dataset": dataset, "interval_start": t} for t in grid],
        "duplicates": extra.get("duplicates", []),
        "freshness": extra.get(
            "freshness",
            [{"iso": iso, "dataset": dataset, "n": len(grid), "last_interval_end": end, "last_ingested": end}],
        ),
        "out_of_range": extra.get("out_of_range", []),
    }


def test_missing_hour_is_named_with_iso_dataset_and_both_clocks() -> None:
    day = date(2024, 3, 10)  # spring forward: ERCOT (Central) has 276 intervals
    grid = checks.expected_grid("ERCOT", day)
    present = grid[:100] + grid[112:]
    results = checks.evaluate(day, _probes("ERCOT", "load", present), [("ERCOT", "load")])
    report = checks.CheckReport(day.isoformat(), results)
    assert not report.passed
    (failure,) = report.failures
    assert (failure.iso, failure.dataset, failure.check) == ("ERCOT", "load", "missing_intervals")
    assert (failure.observed, failure.expected) == (264, 276)
    start = grid[100]
    local = start.astimezone(isos.get("ERCOT").tz)
    assert f"{start:%Y-%m-%dT%H:%M}Z-{grid[112]:%H:%M}Z ({local:%H:%M}-" in failure.detail
    assert "CDT, 12 intervals" in failure.detail
    assert report.message.startswith(
        "gridtape data-quality checks FAILED for 2024-03-10:\n- ERCOT load missing_intervals: 12 of 276"
    )


def test_an_iso_with_no_rows_fails_loudly() -> None:
    day = date(2024, 7, 1)
    results = checks.evaluate(
        day, {"intervals": [], "duplicates": [], "freshness": [], "out_of_range": []}, [("SPP", "lmp")]
    )
    failed = {r.check for r in results if not r.passed}
    assert failed == {"missing_intervals", "stale_feed"}
    assert any("288 of 288 5-minute intervals missing" in r.detail for r in results)


def test_duplicates_stale_and_out_of_range() -> None:
    day = date(2024, 7, 1)
    grid = checks.expected_grid("PJM", day)
    stale_end = grid[200]
    probes = _probes(
        "PJM",
        "lmp",
        grid,
        duplicates=[{"iso": "PJM", "dataset": "lmp", "extra_rows": 2}],
        freshness=[
            {"iso": "PJM", "dataset": "lmp", "n": 288, "last_interval_end": stale_end, "last_ingested": stale_end}
        ],
        out_of_range=[{"iso": "PJM", "dataset": "lmp", "n": 1, "lowest": -2500.0, "highest": -2500.0}],
    )
    verdict = {r.check: r for r in checks.evaluate(day, probes, [("PJM", "lmp")])}
    assert verdict["missing_intervals"].passed
    assert not verdict["duplicates"].passed and verdict["duplicates"].observed == 2
    assert not verdict["stale_feed"].passed
    assert not verdict["out_of_range"].passed and "-2500.0" in verdict["out_of_range"].detail


def test_all_pairs_pass_on_complete_data() -> None:
    day = date(2024, 11, 3)
    probes: dict[str, list[dict[str, Any]]] = {"intervals": [], "duplicates": [], "freshness": [], "out_of_range": []}
    pairs = [(iso, ds) for iso in ISOS for ds in ("lmp", "load")]
    for iso, ds in pairs:
        p = _probes(iso, ds, checks.expected_grid(iso, day))
        for key in probes:
            probes[key] += p[key]
    report = checks.CheckReport(day.isoformat(), checks.evaluate(day, probes, pairs))
    assert report.passed and len(report.results) == 4 * len(pairs)


def test_handler_previous_day_and_report_shape() -> None:
    assert handler.handler({"action": "previous_day", "scheduled_at": "2024-03-11T09:30:00Z"}, None) == {
        "date": "2024-03-10"
    }
    shape = checks.CheckReport("2024-03-10", []).as_dict()
    # The Checks state's ResultSelector reads exactly these keys.
    asl = json.loads(ASL.read_text())
    selected = {v.split(".")[-1] for v in asl["States"]["Checks"]["ResultSelector"].values()}
    assert selected <= set(shape)

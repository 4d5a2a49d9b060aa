"""Pure check verdicts: DST-aware grids, missing ranges named in the ISO's clock, duplicates,
stale feeds and out-of-range values; the handler's actions keep the shapes the ASL selects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from batch import checks, handler, manifests, nightly
from batch import days as _days
from gridtape import bounds, isos
from gridtape.contract import ISOS
from gridtape.errors import TerminalError, TransientError
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
    hourly = checks.expected_grid(iso, day, 60)
    assert len(hourly) == n // 12 == _days.expected_intervals(iso, day, 60)
    assert len(set(grid)) == n


def _probes(
    iso: str, dataset: str, market: str, grid: list[Any], location: str | None = None, **extra: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Probe rows of a feed that holds `grid` (at `location`, else pooled)."""
    end = grid[-1] + timedelta(minutes=isos.get(iso).feed(dataset, market).minutes)
    rows = [{"iso": iso, "dataset": dataset, "market": market, "interval_start": t} for t in grid]
    return {
        "intervals": rows,
        "hub_intervals": [{**r, "location": location} for r in rows] if location else [],
        "duplicates": extra.get("duplicates", []),
        "freshness": extra.get(
            "freshness",
            [
                {
                    "iso": iso,
                    "dataset": dataset,
                    "market": market,
                    "n": len(grid),
                    "last_interval_end": end,
                    "last_ingested": end,
                }
            ],
        ),
        "out_of_range": extra.get("out_of_range", []),
    }


def _merge(*parts: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for p in parts:
        for key, rows in p.items():
            out.setdefault(key, []).extend(rows)
    return out


def complete_day(
    iso: str, day: date, skip: dict[tuple[str, str, str | None], slice] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Probes of a day where every feed of the ISO (every tracked hub of its price feeds) is
    complete, except the grid positions `skip` drops for (dataset, market, hub)."""
    parts = []
    for t in checks.targets([iso]):
        grid = checks.expected_grid(iso, day, t.minutes)
        cut = (skip or {}).get((t.dataset, t.market, t.location))
        if cut:
            grid = grid[: cut.start] + grid[cut.stop :]
        parts.append(_probes(iso, t.dataset, t.market, grid, t.location))
    probes = _merge(*parts)
    # One freshness row per feed (the pooled probe), whatever the number of hubs.
    probes["freshness"] = list({(r["dataset"], r["market"]): r for r in probes["freshness"]}.values())
    return probes


def test_missing_hour_is_named_with_iso_dataset_and_both_clocks() -> None:
    day = date(2024, 3, 10)  # spring forward: ERCOT (Central) has 276 five-minute intervals
    grid = checks.expected_grid("ERCOT", day)
    present = grid[:100] + grid[112:]
    target = checks.Target("ERCOT", "lmp", "RT5", 5, "HB_NORTH")
    results = checks.evaluate(day, _probes("ERCOT", "lmp", "RT5", present, "HB_NORTH"), [target])
    report = checks.CheckReport(day.isoformat(), results)
    assert not report.passed
    (failure,) = report.failures
    assert (failure.iso, failure.dataset, failure.market, failure.location, failure.check) == (
        "ERCOT", "lmp", "RT5", "HB_NORTH", "missing_intervals"
    )  # fmt: skip
    assert (failure.observed, failure.expected) == (264, 276)
    start = grid[100]
    local = start.astimezone(isos.get("ERCOT").tz)
    assert f"{start:%Y-%m-%dT%H:%M}Z-{grid[112]:%H:%M}Z ({local:%H:%M}-" in failure.detail
    assert "CDT, 12 intervals" in failure.detail
    assert report.message.startswith(
        "gridtape data-quality checks FAILED for 2024-03-10:\n- ERCOT lmp RT5 [HB_NORTH] missing_intervals: 12 of 276"
    )


@pytest.mark.parametrize("day", [date(2024, 7, 1), date(2024, 3, 10), date(2024, 11, 3)])
@pytest.mark.parametrize("iso", ISOS)
def test_a_complete_day_passes_every_feed_on_its_own_grid(iso: str, day: date) -> None:
    """ERCOT's load is hourly (RTH) and its settlement prices 15-minute: a complete day of
    each passes, counted on its own grid (23 / 25 hours on the DST days)."""
    results = checks.evaluate(day, complete_day(iso, day), checks.targets([iso]))
    assert all(r.passed for r in results), [r.detail for r in results if not r.passed]
    grids = {(r.dataset, r.market): r.expected for r in results if r.check == "missing_intervals"}
    for feed in isos.get(iso).feeds:
        assert grids[(feed.dataset, feed.market)] == _days.expected_intervals(iso, day, feed.minutes)


def test_ercot_feeds_are_hourly_load_and_15_minute_settlement_prices() -> None:
    day = date(2024, 11, 3)
    results = checks.evaluate(day, complete_day("ERCOT", day), checks.targets(["ERCOT"]))
    expected = {(r.dataset, r.market): r.expected for r in results if r.check == "missing_intervals"}
    assert expected == {
        ("load", "RTH"): 25,
        ("load", "RT5"): 300,
        ("lmp", "RT15"): 100,
        ("lmp", "RT5"): 300,
        ("lmp", "DAM"): 25,
    }


@pytest.mark.parametrize("iso", [i.code for i in isos.TABLE if len(i.hubs) > 1])
def test_one_hub_with_an_18_hour_hole_fails_by_name(iso: str) -> None:
    """The pooled count (any location has the interval) would pass: the other hubs cover it."""
    day = date(2024, 7, 1)
    hub = isos.get(iso).hubs[-1]
    probes = complete_day(iso, day, skip={("lmp", "RT5", hub): slice(36, 36 + 18 * 12)})
    report = checks.CheckReport(day.isoformat(), checks.evaluate(day, probes, checks.targets([iso])))
    assert [(f.location, f.check) for f in report.failures] == [(hub, "missing_intervals")]
    assert f"{iso} lmp RT5 [{hub}] missing_intervals: 216 of 288" in report.message
    pooled = checks.evaluate(day, probes, [checks.Target(iso, "lmp", "RT5", 5)])
    assert all(r.passed for r in pooled)


def test_an_iso_with_no_rows_fails_loudly() -> None:
    day = date(2024, 7, 1)
    empty: dict[str, list[dict[str, Any]]] = {"intervals": [], "duplicates": [], "freshness": [], "out_of_range": []}
    results = checks.evaluate(day, empty, checks.targets(["SPP"]))
    failed = {(r.check, r.location) for r in results if not r.passed}
    assert failed >= {("missing_intervals", h) for h in isos.get("SPP").hubs} | {("stale_feed", None)}
    assert any("288 of 288 5-minute intervals missing" in r.detail for r in results)


def test_duplicates_stale_and_out_of_range() -> None:
    day = date(2024, 7, 1)
    grid = checks.expected_grid("PJM", day)
    stale_end = grid[200]
    key = {"iso": "PJM", "dataset": "lmp", "market": "RT5"}
    probes = _probes(
        "PJM",
        "lmp",
        "RT5",
        grid,
        duplicates=[{**key, "extra_rows": 2}],
        freshness=[{**key, "n": 288, "last_interval_end": stale_end, "last_ingested": stale_end}],
        out_of_range=[{**key, "n": 1, "lowest": -20500.0, "highest": -20500.0}],
    )
    verdict = {r.check: r for r in checks.evaluate(day, probes, [checks.Target("PJM", "lmp", "RT5", 5)])}
    assert verdict["missing_intervals"].passed
    assert not verdict["duplicates"].passed and verdict["duplicates"].observed == 2
    assert not verdict["stale_feed"].passed
    assert not verdict["out_of_range"].passed and "-20500.0" in verdict["out_of_range"].detail
    assert f"{bounds.PRICE_MIN:,.0f}..{bounds.PRICE_MAX:,.0f}" in verdict["out_of_range"].detail


def test_all_feeds_pass_on_complete_data() -> None:
    day = date(2024, 11, 3)
    probes = _merge(*(complete_day(iso, day) for iso in ISOS))
    report = checks.CheckReport(day.isoformat(), checks.evaluate(day, probes, checks.targets()))
    n_targets = len(checks.targets())
    n_feeds = sum(len(i.feeds) for i in isos.TABLE)
    assert report.passed and len(report.results) == n_targets + 3 * n_feeds


def test_handler_previous_day_and_report_shapes() -> None:
    assert handler.handler({"action": "previous_day", "scheduled_at": "2024-03-11T09:30:00Z"}, None) == {
        "date": "2024-03-10"
    }
    asl = json.loads(ASL.read_text())
    # The CheckDay state's ResultSelector reads keys of a day's report, Finish's of the combined one.
    report = checks.CheckReport("2024-03-10", []).as_dict()
    check_day = asl["States"]["LoadDays"]["ItemProcessor"]["States"]["CheckDay"]
    assert {v.split(".")[-1] for v in check_day["ResultSelector"].values()} <= set(report)
    combined = nightly.combine([report], "2024-03-10")
    assert {v.split(".")[-1] for v in asl["States"]["Finish"]["ResultSelector"].values()} <= set(combined)


def _lambda_tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Task" and state["Resource"].startswith("arn:aws:states:::lambda:"):
            yield name, state
        if state["Type"] == "Map":
            yield from _lambda_tasks(state["ItemProcessor"]["States"])


def _transient_subclasses() -> list[type[TransientError]]:
    import batch.warehouse  # noqa: F401 - every module of the function, so their subclasses exist

    out, todo = [], list(TransientError.__subclasses__())
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo += cls.__subclasses__()
    return out


def test_every_transient_error_reaches_the_state_machine_under_a_name_it_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Step Functions matches error names exactly: a subclass would not be retried."""
    subclasses = _transient_subclasses()
    assert manifests.DayLocked in subclasses
    for cls in [TransientError, *subclasses]:

        def fail(event: dict[str, Any], cls: type[TransientError] = cls) -> dict[str, Any]:
            raise cls.__new__(cls)

        monkeypatch.setattr(handler, "lambda_step", fail)
        with pytest.raises(TransientError) as caught:
            handler.handler({"action": "load"}, None)
        assert type(caught.value).__name__ == handler.RETRIED_AS, cls
    tasks = dict(_lambda_tasks(json.loads(ASL.read_text())["States"]))
    assert {"PreviousDay", "Plan", "LoadDay", "CheckDay", "Finish"} <= set(tasks)
    for name, state in tasks.items():
        retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        assert handler.RETRIED_AS in retried, name


def test_terminal_errors_are_not_renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(event: dict[str, Any]) -> dict[str, Any]:
        raise TerminalError("no compacted data")

    monkeypatch.setattr(handler, "lambda_step", fail)
    with pytest.raises(TerminalError):
        handler.handler({}, None)

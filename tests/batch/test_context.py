"""The nightly context step on known values: one ERCOT day (2026-06-11, CDT: 05:00Z to 05:00Z)
with hand-computed hourly averages, weights, fallbacks, NULLs (never 0) and idempotence."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from batch import context, warehouse
from tests.batch.context_fakes import FakeS3, customers, outage, weather

DAY = date(2026, 6, 11)
BUCKET = "raw"
COAST_A, COAST_B = "48015", "48039"  # WZ_COAST counties in gridtape/data/county_zones_v1.csv


@pytest.fixture
def ex(tmp_path: Path) -> Any:
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    warehouse.ensure_schema(ex)
    ticks = [  # (market, dataset, location, interval_start, value)
        ("RT15", "lmp", "HB_HOUSTON", "2026-06-11 05:00:00", 20.0),
        ("RT15", "lmp", "HB_HOUSTON", "2026-06-11 05:15:00", 40.0),
        ("DAM", "lmp", "HB_HOUSTON", "2026-06-11 05:00:00", 999.0),  # not the settlement market
        ("RT5", "lmp", "HB_HOUSTON", "2026-06-11 05:00:00", 999.0),  # nor this one
        ("RT5", "load", "WZ_COAST", "2026-06-11 05:00:00", 100.0),
        ("RT5", "load", "WZ_COAST", "2026-06-11 05:05:00", 200.0),
        ("RT5", "load", "ERCOT", "2026-06-11 06:00:00", 50000.0),
    ]
    for market, dataset, loc, start, value in ticks:
        table, col = ("prices", "lmp") if dataset == "lmp" else ("load_mw", "load_mw")
        ex.run([sqlglot.parse_one(
            f"INSERT INTO {table} (iso, market, location, location_type, interval_start, interval_end, trade_date, "
            f"{col}, published_at, ingested_at, source, revision) VALUES ('ERCOT', '{market}', '{loc}', 'hub', "
            f"CAST('{start}' AS TIMESTAMP), CAST('{start}' AS TIMESTAMP), CAST('2026-06-11' AS DATE), {value}, "
            "CAST('2026-06-12' AS TIMESTAMP), CAST('2026-06-12' AS TIMESTAMP), 't', 0)", read="redshift")])  # fmt: skip
    yield ex
    ex.close()


def landed() -> FakeS3:
    s3 = FakeS3()
    s3.land(BUCKET, "outage", "ERCOT", [
        outage("ERCOT", "ERCOT", "2026-06-11T05:00:00Z", 1000.0, fuel="resource"),
        outage("ERCOT", "ERCOT", "2026-06-11T05:00:00Z", 500.0, fuel="irr"),
        outage("ERCOT", "ERCOT", "2026-06-11T06:00:00Z", 700.0),
        outage("ERCOT", "ERCOT", "2026-06-11T06:00:00Z", 900.0, revision=1),  # a later version wins
        outage("ERCOT", "WZ_COAST", "2026-06-11T07:00:00Z", 100.0, kind="planned"),
        outage("ERCOT", "WZ_COAST", "2026-06-11T07:00:00Z", 50.0, kind="forced"),
        outage("ERCOT", "ERCOT", "2026-06-11T07:00:00Z", 4000.0),  # the zone's rows come first
        # 08:00: no report at all
    ])  # fmt: skip
    s3.land(BUCKET, "weather", "ERCOT", [
        weather("KIAH", "2026-06-11T05:53:00Z", 30.0, None, 4.0),
        weather("KHOU", "2026-06-11T05:53:00Z", 20.0, 10.0, None),
        weather("KIAH", "2026-06-11T07:10:00Z", 31.0),
        weather("KIAH", "2026-06-11T07:50:00Z", 33.0),  # station hour = mean 32; KHOU missing: 32
        weather("KIAH", "2026-06-11T09:53:00Z", 999.0),  # outside the contract's bounds: refused
    ])  # fmt: skip
    s3.land(BUCKET, "customers", "ERCOT", [
        customers(COAST_A, "ERCOT", "WZ_COAST", "2026-06-11T05:00:00Z", 10),
        customers(COAST_A, "ERCOT", "WZ_COAST", "2026-06-11T05:15:00Z", 30),
        customers(COAST_B, "ERCOT", "WZ_COAST", "2026-06-11T05:45:00Z", 5),
        customers("48001", "ERCOT", "WZ_EAST", "2026-06-11T05:00:00Z", 1000),  # another zone
    ])  # fmt: skip
    return s3


def rows(ex: Any, hub: str = "HB_HOUSTON") -> dict[str, dict[str, Any]]:
    q = sqlglot.parse_one(
        f"SELECT * FROM enriched_prices WHERE location = '{hub}' ORDER BY interval_start", read="redshift"
    )
    return {f"{r['interval_start']:%H}": r for r in ex.query(q)}


def test_join_on_known_values(ex: Any) -> None:
    load = context.load_context(ex, BUCKET, DAY, ["ERCOT"], s3=landed())
    assert load.refused["weather"] == 1 and load.records["outage"] == 6
    assert load.enriched == 7 * 24  # every tracked ERCOT hub, every hour of the day
    r = rows(ex)
    assert len(r) == 24
    h5, h6, h7, h8 = r["05"], r["06"], r["07"], r["08"]
    assert h5["zone"] == "WZ_COAST" and h5["lmp"] == pytest.approx(30.0)
    assert h5["load_mw"] == pytest.approx(150.0)  # the zone's load
    assert h6["load_mw"] == pytest.approx(50000.0)  # no zone load: the ISO's
    assert (h5["outage_mw"], h5["outage_scope"]) == (pytest.approx(1500.0), "system")  # fuels summed
    assert h6["outage_mw"] == pytest.approx(900.0)  # the highest revision
    assert (h7["outage_mw"], h7["outage_scope"]) == (pytest.approx(150.0), "zone")  # planned + forced
    assert h8["outage_mw"] is None and h8["outage_scope"] is None  # no report: unknown, not 0
    assert h5["customers_out"] == 35  # county peak in the hour, summed over the zone's counties
    assert h6["customers_out"] is None
    assert h5["temperature_c"] == pytest.approx(0.6 * 30 + 0.4 * 20)
    assert h5["dew_point_c"] == pytest.approx(10.0)  # KIAH has none: drops out of the weight
    assert h5["wind_mps"] == pytest.approx(4.0)
    assert h7["temperature_c"] == pytest.approx(32.0)
    assert h6["temperature_c"] is None and r["09"]["temperature_c"] is None
    assert h6["lmp"] is None and r["08"]["load_mw"] is None


def test_system_hub_reads_the_iso(ex: Any) -> None:
    context.load_context(ex, BUCKET, DAY, ["ERCOT"], s3=landed())
    r = rows(ex, "HB_BUSAVG")["05"]
    assert r["zone"] == "ERCOT" and r["customers_out"] == 1035  # every county of the ISO
    assert r["outage_scope"] == "system"
    # the ISO's weather: zone weight x station weight over the stations that reported
    assert r["temperature_c"] == pytest.approx(0.6 * 30 + 0.4 * 20)


def test_idempotent_and_latest_wins_across_runs(ex: Any) -> None:
    s3 = landed()
    context.load_context(ex, BUCKET, DAY, ["ERCOT"], s3=s3)
    first = rows(ex)
    context.load_context(ex, BUCKET, DAY, ["ERCOT"], s3=s3)
    assert rows(ex) == first
    n = sqlglot.parse_one("SELECT COUNT(*) AS n FROM outages", read="redshift")
    assert ex.query(n)[0]["n"] == 6
    # an older version landing later does not replace what won
    s3.land(BUCKET, "outage", "ERCOT", [outage("ERCOT", "ERCOT", "2026-06-11T06:00:00Z", 1.0)], name="late")
    context.load_context(ex, BUCKET, DAY, ["ERCOT"], s3=s3)
    assert rows(ex)["06"]["outage_mw"] == pytest.approx(900.0)


def test_day_hours_follow_the_market_clock() -> None:
    assert len(context.day_hours("ERCOT", date(2026, 3, 8))) == 23
    assert len(context.day_hours("ERCOT", date(2026, 11, 1))) == 25
    assert context.day_hours("ERCOT", DAY)[0][0].hour == 5


def test_coverage_checks_name_the_hours_without_context(ex: Any) -> None:
    from batch import checks

    context.load_context(ex, BUCKET, DAY, ["ERCOT"], s3=landed())
    report = checks.context_checks(ex, DAY, checks.CheckReport(DAY.isoformat()))
    got = {(r.iso, r.dataset): (r.passed, r.observed, r.expected) for r in report.results}
    assert got == {("ERCOT", "outage"): (False, 3, 24), ("ERCOT", "weather"): (False, 2, 24)}
    assert "ERCOT outage context_coverage: 3 of 24 hours" in report.message
    # a day with no context anywhere near it (before any source ran) is not held to it
    context.load_context(ex, BUCKET, date(2026, 1, 5), ["ERCOT"], s3=FakeS3())
    assert checks.context_checks(ex, date(2026, 1, 5), checks.CheckReport("2026-01-05")).results == []


def test_evaluate_context_holds_only_isos_with_context() -> None:
    from batch import checks

    rows = [
        {"iso": "PJM", "hours": 24, "outage": 24, "weather": 23, "has_outage": 1, "has_weather": 1},
        {"iso": "SPP", "hours": 24, "outage": 0, "weather": 0, "has_outage": 0, "has_weather": 0},
    ]
    got = {(r.iso, r.dataset): r.passed for r in checks.evaluate_context(DAY, rows)}
    assert got == {("PJM", "outage"): True, ("PJM", "weather"): False}
    assert checks.evaluate_context(DAY, rows, ["SPP"]) == []

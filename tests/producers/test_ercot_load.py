"""ERCOT load beyond the hourly dashboard: hourly load by weather and forecast zone (MIS 13101 /
14836) as "zone" ticks beside the system total, and the five-minute system load readings of
the supply-demand dashboard (market RT5 of the load feed); and the malformed input of both load
dashboards, the hourly one's too."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from gridtape import contract, isos
from producers.base import Response
from producers.ercot import ErcotSource, demand5, load_format, zones
from tests.producers.iso_contract import assert_contiguous, fetch_recorded, malformed_tests_of, recorded

SRC = ErcotSource()
ZONE_NAMES = {f"WZ_{z}" for z in zones.ZONES[zones.WEATHER]} | {f"FZ_{z}" for z in zones.ZONES[zones.FORECAST]}
# (poll, the zone reports' operating day, its hours, its first hour)
POLLS = (
    ("2025-06-10T18:42:00Z", 24, "2025-06-09T05:00:00Z"),
    ("2025-03-10T12:10:00Z", 23, "2025-03-09T06:00:00Z"),
    ("2025-11-03T12:10:00Z", 25, "2025-11-02T05:00:00Z"),
)


def starts(ticks: list[dict[str, Any]], location: str, market: str = "RTH") -> list[str]:
    return sorted(t["interval_start"] for t in ticks if t["location"] == location and t["market"] == market)


def zone_poll(now: str) -> list[Response]:
    """A load poll at `now` without the hourly dashboard (recorded three times: see the manifest)."""
    return [r for r in fetch_recorded(SRC, "load", now) if load_format(r) == "zones"]


@pytest.mark.parametrize(("now", "hours", "first"), POLLS, ids=[p[0] for p in POLLS])
def test_poll_reads_the_newest_zone_reports(now: str, hours: int, first: str) -> None:
    ticks = SRC.parse("load", zone_poll(now))
    assert {t["location"] for t in ticks} == ZONE_NAMES | {"ERCOT"}
    assert {t["location_type"] for t in ticks if t["location"] != "ERCOT"} == {"zone"}
    assert {(t["dataset"], t["market"]) for t in ticks} == {("load", "RTH")}
    for name in ("WZ_FAR_WEST", "FZ_HOUSTON", "ERCOT"):
        assert_contiguous(starts(ticks, name), first, hours, minutes=60)


def test_zone_total_is_the_dashboards_system_hour() -> None:
    """The weather-zone report's TOTAL and the system-wide-demand dashboard give one hour the
    same system load (the recordings are built so), and the later-published one is kept."""
    dashboard = SRC.parse("load", [recorded("ERCOT", "system_wide_demand_20251103T1210.json", "2025-11-03T12:10:01Z")])
    report = SRC.parse("load", zone_poll("2025-11-03T12:10:00Z"))
    hourly = {t["interval_start"]: t["load_mw"] for t in dashboard}
    totals = {t["interval_start"]: t["load_mw"] for t in report if t["location"] == "ERCOT"}
    assert len(totals) == 25 and all(hourly[k] == v for k, v in totals.items())


def test_the_iso_table_has_the_five_minute_feed() -> None:
    assert demand5.enabled(SRC) and isos.get("ERCOT").feed("load", "RT5").minutes == 5


FIVE = recorded("ERCOT", "supply_demand_20250610T1842.json", "2025-06-10T18:42:01Z")
FIVE_FALL = recorded("ERCOT", "supply_demand_20251103T1210.json", "2025-11-03T12:10:01Z")


def test_five_minute_readings_end_their_interval() -> None:
    ticks = SRC.parse("load", [FIVE])
    assert {(t["market"], t["location"], t["location_type"]) for t in ticks} == {("RT5", "ERCOT", "system")}
    doc = json.loads(FIVE.body)
    actual = [r for r in doc["data"] if r["forecast"] == 0]
    assert len(ticks) == len(actual) == 13 * 12 + 8 + 1  # 00:00 .. 13:40 CDT, forecasts left out
    by_end = {t["interval_end"]: t["load_mw"] for t in ticks}
    for r in actual:  # a reading at T is the five minutes ENDING at T
        end = contract.format_ts(datetime.fromtimestamp(r["epoch"] / 1000, UTC))
        assert by_end[end] == r["demand"]
    assert ticks[0]["published_at"] == "2025-06-10T18:41:00Z"  # lastUpdated, not the fetch


def test_five_minute_poll_fetches_the_dashboard() -> None:
    responses = fetch_recorded(SRC, "load", "2025-06-10T18:42:00Z")
    assert [load_format(r) for r in responses].count("five") == 1
    markets = {t["market"] for t in SRC.parse("load", responses)}
    assert markets == {"RT5", "RTH"}


def test_reading_off_the_grid_ends_the_interval_it_falls_in() -> None:
    doc = json.loads(FIVE.body)
    first = next(r for r in doc["data"] if r["forecast"] == 0)
    mark = first["epoch"]
    late = [dict(first, epoch=mark + 11_000)]  # taken 11 s after the mark
    body = json.dumps({"lastUpdated": doc["lastUpdated"], "data": late}).encode()
    (tick,) = SRC.parse("load", [replace(FIVE, body=body)])
    end = contract.parse_ts(tick["interval_end"])
    assert end == datetime.fromtimestamp(mark / 1000 + 300, UTC)  # the interval it was taken in


def test_five_minute_readings_through_a_dst_morning() -> None:
    ends = sorted(t["interval_end"] for t in SRC.parse("load", [FIVE_FALL]))
    assert_contiguous(ends, "2025-11-03T06:00:00Z", len(ends))  # 00:00 CST onwards, no gap


# -- malformed input of both load dashboards ----------------------------------------------------
HOURLY = recorded("ERCOT", "system_wide_demand_20250610T1842.json", "2025-06-10T18:42:01Z")
GOOD = {"hourly": ("load", HOURLY), "five-minute": ("load", FIVE)}
HOURLY_TEXT, FIVE_TEXT = HOURLY.body.decode(), FIVE.body.decode()


def _edit_first(edit: Any) -> bytes:
    doc = json.loads(FIVE.body)
    edit(doc["data"][0])
    return json.dumps(doc).encode()


BAD = {  # (GOOD name, what is broken): a body in place of the good one
    ("hourly", "html page"): b"<!doctype html><html></html>",
    ("hourly", "empty body"): b"",
    ("hourly", "truncated json"): HOURLY.body[: len(HOURLY.body) // 2],
    ("hourly", "missing day"): HOURLY_TEXT.replace('"previousDay"', '"yesterday"').encode(),
    ("hourly", "no load at all"): HOURLY_TEXT.replace('"systemLoad"', '"load"').encode(),
    ("five-minute", "html page"): b"<!doctype html><html></html>",
    ("five-minute", "empty body"): b"",
    ("five-minute", "truncated json"): FIVE.body[: len(FIVE.body) // 2],
    ("five-minute", "renamed key"): FIVE_TEXT.replace('"data"', '"rows"').encode(),
    ("five-minute", "bad lastUpdated"): FIVE_TEXT.replace('"lastUpdated":"2025', '"lastUpdated":"June 2025').encode(),
}
BAD_ROW = {  # (GOOD name, what is broken): the good body with one row unreadable
    ("hourly", "non-numeric load"): HOURLY_TEXT.replace('"systemLoad": ', '"systemLoad": "n/a", "x": ', 1).encode(),
    ("hourly", "bad timestamp"): HOURLY_TEXT.replace(
        '"timestamp": "2025-06-09 01:00:00-0500"', '"timestamp": "1 AM"'
    ).encode(),
    ("five-minute", "non-numeric demand"): FIVE_TEXT.replace('"demand":', '"demand":"n/a","x":', 1).encode(),
    ("five-minute", "epoch not a number"): _edit_first(lambda r: r.update(epoch=str(r["epoch"]))),
}
test_one_bad_dashboard_row_is_refused_alone, test_bad_dashboard_body_raises = malformed_tests_of(
    SRC, GOOD, BAD_ROW, BAD
)


def test_formats_told_apart_by_address_then_bytes() -> None:
    body = FIVE.body
    assert load_format(FIVE) == "five"
    saved = Response("/tmp/x.json", 200, body, {}, FIVE.fetched_at)
    assert load_format(saved) == "five"
    assert load_format(HOURLY) == "hourly" and load_format(replace(HOURLY, url="/tmp/d.json")) == "hourly"
    zone = zone_poll("2025-06-10T18:42:00Z")[1]
    assert load_format(zone) == "zones" and load_format(replace(zone, url="/tmp/z.zip")) == "zones"

"""MISO's hourly load by local resource zone (df_al.xls, market RTH): hour ENDING n of Market Day
is [n-1, n) EST (24 hours on both DST days), both layouts (before and since 2026-04-27) read, the
live load poll adds the report dated today (a 404 before it is posted is no error), history()
reads the report dated the day after, live and history agree, malformed reports are refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import xlrd

from gridtape import contract
from producers import http
from producers.base import Request, Response
from producers.http import FetchError
from producers.miso import LOAD_URL, MisoSource, dfal
from tests.producers.iso_contract import RECORDINGS, assert_contiguous, assert_row_refused, recorded, source_error
from tools.recordings import miso_dfal

SRC = MisoSource()
HISTORY = RECORDINGS / "history" / "miso"
AREAS = ("LRZ1", "LRZ2_7", "LRZ3_5", "LRZ4", "LRZ6", "LRZ8_9_10", "MISO")
DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11))  # both DST days; the new layout


def report(day: date, fetched: datetime | None = None) -> Response:
    """The committed report holding `day`'s actuals (dated the day after), fetched when it was new."""
    url = dfal.holding(day)
    body = (HISTORY / url.rsplit("/", 1)[1]).read_bytes()
    return Response(
        url, 200, body, {}, fetched or datetime(day.year, day.month, day.day, 6, tzinfo=UTC) + timedelta(days=1)
    )


def hourly(ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in ticks if t["market"] == "RTH"]


# -- the clock and the layout ----------------------------------------------------------------------
@pytest.mark.parametrize("day", DAYS)
def test_hour_ending_is_the_hour_before_on_the_est_clock(day: date) -> None:
    ticks = SRC.parse("load", [report(day)])
    assert {(t["dataset"], t["market"]) for t in ticks} == {("load", "RTH")}
    kinds = {t["location"]: t["location_type"] for t in ticks}
    assert kinds == {**{a: "zone" for a in AREAS[:-1]}, "MISO": "system"}
    for area in AREAS:
        starts = sorted(t["interval_start"] for t in ticks if t["location"] == area)
        assert_contiguous(starts, f"{day}T05:00:00Z", 24, minutes=60)  # HE 1 = [00:00, 01:00) EST, even on DST days
    # forecast-only rows (the six days after) give no tick
    assert {t["interval_start"][:10] for t in ticks} == {f"{day}", f"{day + timedelta(days=1)}"}


@pytest.mark.parametrize("day", DAYS)
def test_every_cell_is_read_at_its_hour(day: date) -> None:
    resp = report(day)
    sheet = xlrd.open_workbook(file_contents=resp.body).sheet_by_name("Sheet1")
    header_row = next(n for n in range(sheet.nrows) if sheet.cell_value(n, 0) == "Market Day")
    assert header_row == (6 if day >= date(2026, 4, 26) else 4)  # the layout of the file dated day + 1
    header = [str(v) for v in sheet.row_values(header_row)]
    ticks = {(t["location"], t["interval_start"]): t["load_mw"] for t in SRC.parse("load", [resp])}
    cells = 0
    for n in range(header_row + 1, sheet.nrows):
        he = sheet.cell_value(n, 1)
        for area in AREAS:
            value = sheet.cell_value(n, header.index(f"{area} ActualLoad (MWh)"))
            if value == "" or he == "":
                continue
            on = xlrd.xldate_as_datetime(sheet.cell_value(n, 0), 0)
            start = on.replace(tzinfo=UTC) + timedelta(hours=5 + int(he) - 1)  # EST = UTC-5
            assert ticks[(area, f"{start:%Y-%m-%dT%H:%M:%SZ}")] == value
            cells += 1
    assert cells == len(ticks) == 24 * len(AREAS)


def test_the_hourly_total_is_the_mean_of_its_five_minute_loads() -> None:
    # Hour alignment across feeds: read as hour BEGINNING, every hour would be off by one.
    for day in (date(2025, 3, 9), date(2025, 11, 2)):
        five = SRC.parse(
            "load", [recorded("MISO", f"realtimetotalload_{day:%Y%m%d}.json", f"{day + timedelta(days=1)}T05:00:40Z")]
        )
        hours = {t["interval_start"]: t["load_mw"] for t in SRC.parse("load", [report(day)]) if t["location"] == "MISO"}
        for start, mw in hours.items():
            t0 = contract.parse_ts(start)
            inside = [
                t["load_mw"] for t in five if t0 <= contract.parse_ts(t["interval_start"]) < t0 + timedelta(hours=1)
            ]
            assert len(inside) == 12 and mw == round(sum(inside) / 12, 2), start


def test_repeated_header_rows_and_blank_lines_are_not_data() -> None:
    good = report(date(2026, 6, 11))
    body = miso_dfal.report(date(2026, 6, 12), {(9, 1): "HourEnding", (10, 1): ""})  # HE 2, HE 3 of the day
    parsed = SRC.parse_rows("load", [replace(good, body=body)])
    assert not parsed.refused
    assert len(parsed.ticks) == len(SRC.parse("load", [good])) - 2 * len(AREAS)


# -- live ------------------------------------------------------------------------------------------
class FakeHttp:
    def __init__(self, status: dict[str, int] | None = None, down: set[str] | None = None) -> None:
        self.asked: list[str] = []
        self.status, self.down = status or {}, down or set()

    def get(self, request: Request) -> Response:
        self.asked.append(request.url)
        if request.url in self.down:
            raise FetchError("MISO", request.url, "HTTP 503 (3 attempt(s))", 503)
        return Response(request.url, self.status.get(request.url, 200), b"x", {}, datetime(2026, 6, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    ("now", "file_day"),
    [
        (datetime(2026, 6, 12, 5, 0, 40, tzinfo=UTC), date(2026, 6, 12)),  # 00:00:40 EST: yesterday's report
        (datetime(2026, 6, 12, 4, 59, tzinfo=UTC), date(2026, 6, 11)),  # 23:59 EST (00:59 EDT): still 06-11
        (datetime(2025, 11, 2, 6, 30, tzinfo=UTC), date(2025, 11, 2)),  # 01:30 EST on the fall-back day
    ],
)
def test_the_load_poll_asks_for_the_report_dated_today_est(now: datetime, file_day: date) -> None:
    posted = FakeHttp()
    assert [r.url for r in SRC.fetch("load", posted, now)] == [LOAD_URL, dfal.url(file_day)]
    missing = FakeHttp(status={dfal.url(file_day): 404})
    assert [r.url for r in SRC.fetch("load", missing, now)] == [LOAD_URL]  # not posted yet: no error
    down = FakeHttp(down={dfal.url(file_day)})
    assert [r.url for r in SRC.fetch("load", down, now)] == [LOAD_URL]  # the five-minute load still goes out
    assert missing.asked == down.asked == posted.asked


def test_recorded_load_polls_give_the_day_before_by_zone() -> None:
    from tests.producers.iso_contract import replay_polls

    polls = {k: v for k, v in replay_polls(SRC).items() if k.startswith("load:")}
    for label, day in (("spring DST day", "2025-03-09"), ("fall DST day", "2025-11-02"), ("normal day", "2025-06-09")):
        ticks = hourly(next(v for k, v in polls.items() if label in k))
        assert {t["location"] for t in ticks} == set(AREAS), label
        for area in AREAS:
            starts = sorted(t["interval_start"] for t in ticks if t["location"] == area)
            assert_contiguous(starts, f"{day}T05:00:00Z", 24, minutes=60)


# -- history ---------------------------------------------------------------------------------------
def history_layer(root: Path = HISTORY) -> Any:
    return http.replay(http.Recordings.load(root), clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))


@pytest.mark.parametrize("day", DAYS)
def test_history_reads_the_report_dated_the_day_after(day: date) -> None:
    assert "load" in SRC.archives
    layer = history_layer()
    responses = SRC.history("load", day, layer)
    assert [r.url for r in responses] == [dfal.url(day + timedelta(days=1))] and not layer.transport.unmatched
    ticks = SRC.parse_rows("load", responses, live=False).ticks
    for area in AREAS:
        assert_contiguous(
            sorted(t["interval_start"] for t in ticks if t["location"] == area), f"{day}T05:00:00Z", 24, 60
        )


def test_live_and_history_agree_on_the_complete_day() -> None:
    rec = http.Recordings.load(RECORDINGS / "day" / "miso")
    clock = [rec.polls[0].now]
    layer = http.replay(rec, clock=lambda: clock[0])
    live: dict[tuple[str, ...], dict[str, Any]] = {}
    for poll in (p for p in rec.polls if p.dataset == "load"):
        clock[0] = poll.now
        live |= {contract.natural_key(t): t for t in hourly(SRC.parse("load", SRC.fetch("load", layer, poll.now)))}
    assert not layer.transport.unmatched
    old = {
        contract.natural_key(t): t
        for t in SRC.parse_rows("load", SRC.history("load", date(2026, 6, 11), history_layer()), live=False).ticks
    }
    shared = live.keys() & old.keys()
    assert len(shared) == 24 * len(AREAS)
    for key in shared:
        for field in ("interval_start", "interval_end", "location_type", "load_mw"):
            assert live[key][field] == old[key][field], (key, field)


def test_history_tree_holds_the_load_reports(tmp_path: Path) -> None:
    from tools.recordings.generate_miso import history_tree

    history_tree(tmp_path, date(2025, 2, 27), date(2025, 3, 2))  # across a month's end
    layer = history_layer(tmp_path)
    for n in range(4):
        day = date(2025, 2, 27) + timedelta(days=n)
        ticks = SRC.parse_rows("load", SRC.history("load", day, layer), live=False).ticks
        assert_contiguous(
            sorted(t["interval_start"] for t in ticks if t["location"] == "LRZ4"), f"{day}T05:00:00Z", 24, 60
        )
    assert not layer.transport.unmatched


def test_gridtape_parse_url_reads_a_saved_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app import cli

    f = tmp_path / "saved.xls"
    f.write_bytes(report(date(2026, 6, 11)).body)
    url = dfal.url(date(2026, 6, 12))
    assert cli.main(["parse", "--iso", "MISO", "--dataset", "load", "--url", url, str(f)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len(lines) == 24 * len(AREAS) and {t["market"] for t in lines} == {"RTH"}
    assert cli.main(["parse", "--iso", "MISO", "--dataset", "load", str(f)]) == 1  # read as the JSON feed: refused


# -- bad input -------------------------------------------------------------------------------------
GOOD = report(date(2026, 6, 11))  # the new layout: header row 6, data from row 8, LRZ1 ActualLoad in column 3
LEGACY = report(date(2025, 11, 2))  # header row 4, data from row 6
NEW_DAY = date(2026, 6, 12)


def _edited(edits: dict[tuple[int, int], object], sheet: str = "Sheet1") -> bytes:
    return miso_dfal.report(NEW_DAY, edits, sheet)


BAD_BODIES = {
    "html page": b"<!DOCTYPE html><html><body>Not Found</body></html>",
    "empty body": b"",
    "truncated": GOOD.body[: len(GOOD.body) // 2],
    "a csv, not a workbook": b"Market Day,HourEnding,LRZ1 MTLF (MWh)\r\n6/11/2026,1,100\r\n",
    "renamed Market Day": _edited({(6, 0): "MarketDay"}),
    "renamed HourEnding": _edited({(6, 1): "Hour Ending"}),
    "renamed ActualLoad": _edited({(6, 3): "LRZ1 Actual Load"}),
    "renamed total": _edited({(6, 20): "Total MTLF (MWh)", (6, 21): "Total ActualLoad (MWh)"}),
    "other sheet": _edited({}, "Report"),
}


@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_a_bad_report_is_a_source_error_naming_its_url(body: bytes) -> None:
    error = source_error(SRC, "load", GOOD, body)
    assert dfal.url(NEW_DAY) in str(error)


BAD_CELLS = {  # (edits, items refused)
    "non-numeric load": ({(8, 3): "n/a"}, 1),
    "negative load": ({(12, 3): -5.0}, 1),
    "absurd load": ({(12, 21): 9e9}, 1),
    "hour 25": ({(9, 1): 25}, len(AREAS)),
    "not a date": ({(10, 0): "yesterday"}, len(AREAS)),
}


@pytest.mark.parametrize("case", list(BAD_CELLS.values()), ids=list(BAD_CELLS))
def test_a_bad_cell_is_refused_alone(case: tuple[dict[tuple[int, int], object], int]) -> None:
    edits, n = case
    assert_row_refused(SRC, "load", GOOD, _edited(edits), n)


def test_the_legacy_layout_refuses_a_bad_cell_alone_too() -> None:
    body = miso_dfal.report(date(2025, 11, 3), {(6, 3): "n/a"})
    assert_row_refused(SRC, "load", LEGACY, body)

"""CAISO generation outages (producers/context/outages_caiso.py) on the recorded Curtailed and
Non-Operational Generator reports (.xlsx): curtailments spread over the hours of the Pacific
trade day (23 / 25 on DST days) by planned / forced, hours with none known as 0, bad rows
refused alone, unreadable workbooks named by URL. (`gridtape parse` does not read context
feeds yet.)"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest

from gridtape import context, contract
from gridtape.errors import SourceError
from producers.base import Request, Response
from producers.context import outages_caiso as caiso
from tests.producers.helpers import replay_outages
from tools.recordings import context_outages_caiso as gen

AT = datetime(2026, 6, 12, 18, 5, tzinfo=UTC)
DAY = date(2026, 6, 11)
SOURCE = caiso.CaisoOutages()


def report(rows: list[tuple[Any, ...]], day: date = DAY) -> Response:
    """A workbook in the report's layout holding `rows` (columns B.. as gen.HEADER)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = caiso.SHEET
    sheet["B1"] = "Curtailed and Non-Operational Generator Report"
    for col, name in enumerate(gen.HEADER, start=2):
        sheet.cell(row=3, column=col, value=name)
    for i, row in enumerate(rows, start=4):
        for col, value in enumerate(row, start=2):
            sheet.cell(row=i, column=col, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(caiso.url(day), 200, buffer.getvalue(), {}, AT)


def row(kind: str, start: Any, end: Any, mw: Any, n: int = 1) -> tuple[Any, ...]:
    return (n, f"R{n}", f"R{n}_1", kind, "Plant Trouble", start, end, mw, 500.0, 450.0, "APPROVED")


@pytest.mark.parametrize(("day", "hours"), [(date(2025, 3, 9), 23), (date(2025, 11, 2), 25), (DAY, 24)])
def test_history_day_has_every_hour_of_the_pacific_day_for_both_kinds(day: date, hours: int) -> None:
    records = SOURCE.parse_rows("outage", SOURCE.history("outage", day, replay_outages("CAISO", AT)), live=False).ticks
    assert Counter(r["kind"] for r in records) == {"planned": hours, "forced": hours}
    assert {contract.parse_ts(r["interval_start"]).astimezone(SOURCE.facts.tz).date() for r in records} == {day}
    for r in records:
        contract.validate(r, context.OUTAGE)
        assert (r["area"], r["area_type"], r["fuel"]) == ("CAISO", "system", "all")


def test_live_poll_reads_yesterdays_report() -> None:
    responses = SOURCE.fetch("outage", replay_outages("CAISO", AT), AT)
    assert [r.url for r in responses] == [caiso.url(DAY)]
    assert len(SOURCE.parse("outage", responses)) == 48


def test_hourly_mw_is_the_average_over_the_hour_and_an_empty_hour_is_zero() -> None:
    rows = [
        row("PLANNED", datetime(2026, 6, 1, 8, 0), None, 100.0, 1),  # all day
        row("FORCED", datetime(2026, 6, 11, 10, 30), datetime(2026, 6, 11, 12, 0), 60.0, 2),
        row("FORCED", datetime(2026, 6, 11, 23, 0), datetime(2026, 6, 20, 0, 0), 40, 3),
        row("PLANNED", datetime(2026, 6, 11, 5, 0), datetime(2026, 6, 11, 5, 0), 999.0, 4),  # zero-length
    ]
    records = SOURCE.parse("outage", [report(rows)])
    got = {(r["kind"], r["interval_start"]): r["outage_mw"] for r in records}
    assert len(got) == 48
    assert {v for (k, _), v in got.items() if k == "planned"} == {100.0}
    assert got[("forced", "2026-06-11T17:00:00Z")] == 30.0  # 10:30-11:00 PDT of 60 MW
    assert got[("forced", "2026-06-11T18:00:00Z")] == 60.0
    assert got[("forced", "2026-06-12T06:00:00Z")] == 40.0  # 23:00 PDT, clipped at the day's end
    assert got[("forced", "2026-06-11T07:00:00Z")] == 0.0  # reported: nothing forced out


@pytest.mark.parametrize(
    "bad",
    [
        row("UNKNOWN", datetime(2026, 6, 11, 1), None, 5.0, 9),
        row("FORCED", "not a time", None, 5.0, 9),
        row("FORCED", datetime(2026, 6, 11, 1), None, "lots", 9),
        row("FORCED", datetime(2026, 6, 11, 9), datetime(2026, 6, 11, 8), 5.0, 9),
        row("FORCED", datetime(2026, 6, 11, 1), None, -5.0, 9),
    ],
)
def test_a_bad_row_is_refused_alone(bad: tuple[Any, ...]) -> None:
    good = [row("PLANNED", datetime(2026, 6, 11, h), datetime(2026, 6, 11, h + 1), 10.0, h) for h in range(8)]
    parsed = SOURCE.parse_rows("outage", [report([*good, bad])], live=False)
    assert len(parsed.refused) == 1 and parsed.refused[0].url == caiso.url(DAY)
    assert sum(r["outage_mw"] for r in parsed.ticks) == 80.0


@pytest.mark.parametrize("body", [b"<html>Not Found</html>", b"PK\x03\x04garbage", b""])
def test_an_unreadable_report_names_its_url(body: bytes) -> None:
    bad = Response(caiso.url(DAY), 200, body, {}, AT)
    with pytest.raises(SourceError) as caught:
        SOURCE.parse("outage", [bad])
    assert caught.value.url == bad.url


def test_a_workbook_without_the_header_row_is_refused() -> None:
    book = openpyxl.Workbook()
    book.active.title = caiso.SHEET
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SourceError, match="OUTAGE MRID"):
        SOURCE.parse("outage", [Response(caiso.url(DAY), 200, buffer.getvalue(), {}, AT)])


def test_file_names_follow_caisos_date_formats() -> None:
    assert caiso.url(date(2026, 6, 11)).endswith("-prior-trade-date-report-20260611.xlsx")
    assert caiso.url(date(2024, 7, 4)).endswith("-prior-trade-date-report-jul-04-2024.xlsx")
    assert caiso.url(date(2024, 5, 31)).endswith("-report-2024-05-31.xlsx")
    assert "curtailed-and-non-operational" in caiso.url(date(2024, 6, 1))
    for day in (date(2026, 6, 11), date(2024, 7, 4), date(2024, 5, 31), date(2024, 6, 1)):
        assert caiso.trade_date(caiso.url(day)) == day


def test_a_missing_newest_report_falls_back_to_the_day_before() -> None:
    asked: list[str] = []

    class Http:
        def get(self, request: Request) -> Response:
            asked.append(request.url)
            status = 404 if request.url == caiso.url(DAY) else 200
            return Response(request.url, status, b"", {}, AT)

    responses = SOURCE.fetch("outage", Http(), AT)
    assert asked == [caiso.url(DAY), caiso.url(DAY - timedelta(days=1))]
    assert [r.url for r in responses] == [caiso.url(DAY - timedelta(days=1))]

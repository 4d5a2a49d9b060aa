"""MISO generation outages (producers/context/outages_miso.py): the recorded mom.xlsx reports
replay into hourly OUTAGE records per region and kind on MISO's EST clock (24 hours on the US
DST days too), a file that is not the documented workbook names its URL, and a bad cell is
refused alone."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from gridtape import context, contract
from gridtape.errors import SourceError
from producers.base import Request, Response
from producers.context import outages
from producers.context.outages_miso import AREAS, KINDS, MisoOutages, url
from tests.producers.helpers import outage_hours, replay_outages
from tools.recordings import context_outages_miso as gen

AT = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)
DEMO = date(2026, 6, 11)


def workbook(report: date = DEMO, edit: dict[str, object] | None = None, sheet: str = "OUTAGE") -> Response:
    body = gen.workbook(report)
    if edit or sheet != "OUTAGE":
        book = openpyxl.load_workbook(io.BytesIO(body))
        book["OUTAGE"].title = sheet
        for ref, value in (edit or {}).items():
            book[sheet][ref] = value
        out = io.BytesIO()
        book.save(out)
        body = out.getvalue()
    return Response(url(report), 200, body, {}, AT)


@pytest.mark.parametrize("day", [date(2025, 3, 9), date(2025, 11, 2), DEMO])
def test_history_holds_every_hour_of_the_day_for_every_region_and_kind(day: date) -> None:
    source = MisoOutages()
    parsed = source.parse_rows("outage", source.history("outage", day, replay_outages("MISO", AT)), live=False)
    assert not parsed.refused
    lo, hi = outages.day_bounds("MISO", day)
    mine = [r for r in parsed.ticks if lo <= contract.parse_ts(r["interval_start"]) < hi]
    assert len(outage_hours("MISO", day)) == 24  # EST all year: no 23 / 25-hour day
    assert outage_hours("MISO", day)[0] == f"{day}T05:00:00Z"
    assert sorted({r["interval_start"] for r in mine}) == outage_hours("MISO", day)
    assert {(r["area"], r["kind"]) for r in mine} == {(a, k) for a in AREAS for k in KINDS.values()}
    assert len(mine) == 24 * len(AREAS) * len(KINDS)
    for r in mine:
        contract.validate(r, context.OUTAGE)


def test_known_values_come_from_the_reports_own_day_and_the_forecast() -> None:
    records = MisoOutages().parse("outage", [workbook()])
    got = {(r["area"], r["kind"], r["interval_start"]): r["outage_mw"] for r in records}
    assert got[("South", "planned", "2026-06-11T17:00:00Z")] == gen.values(DEMO, DEMO, "Planned")["South"]
    ahead = DEMO + timedelta(days=7)
    assert got[("MISO", "forced", f"{ahead}T05:00:00Z")] == gen.values(DEMO, ahead, "Forced")["MISO"]
    days = {r["interval_start"][:10] for r in records}
    assert min(days) == str(DEMO) and max(days) == "2026-06-19"  # 05:00Z of D+7 .. 04:00Z of D+8
    assert {r["area_type"] for r in records if r["area"] == "MISO"} == {"system"}


def test_live_poll_covers_the_demo_day() -> None:
    source = MisoOutages()
    records = source.parse("outage", source.fetch("outage", replay_outages("MISO", AT), AT))
    assert set(outage_hours("MISO", DEMO)) <= {r["interval_start"] for r in records}


@pytest.mark.parametrize("value", ["n/a", -50, 2_000_000])
def test_a_bad_cell_is_refused_alone(value: object) -> None:
    # AF34 = estimated table (header row 27), North/Planned row, the report's own day (column 32)
    parsed = MisoOutages().parse_rows("outage", [workbook(edit={"AF34": value})], live=False)
    assert len(parsed.refused) == 1 and parsed.refused[0].url == url(DEMO)
    assert not any(
        r["area"] == "North" and r["kind"] == "planned" and r["interval_start"][:10] == str(DEMO) for r in parsed.ticks
    )
    assert len(parsed.ticks) == (8 * 12 - 1) * 24


@pytest.mark.parametrize(
    "response",
    [
        Response(url(DEMO), 200, b"<html>Report not found</html>", {}, AT),
        Response(url(DEMO), 404, b"", {}, AT),
        "renamed sheet",
        "shifted table",
    ],
)
def test_an_unreadable_report_names_its_url(response: object) -> None:
    if response == "renamed sheet":
        response = workbook(sheet="Outages")
    elif response == "shifted table":
        response = workbook(edit={"C7": "Region", "C27": None, **{f"{c}27": None for c in "DEFGHIJKLMNOPQRSTUVWXYZ"}})
    with pytest.raises(SourceError) as err:
        MisoOutages().parse("outage", [response])  # type: ignore[list-item]
    assert url(DEMO) in str(err.value)


def test_a_region_written_once_per_group_is_carried_down() -> None:
    # merged-cell style: the region only on its group's first row (A32 North/Derated keeps it)
    records = MisoOutages().parse("outage", [workbook(edit={"A33": None, "A34": None, "A35": None})])
    north = {r["kind"] for r in records if r["area"] == "North" and r["interval_start"] == "2026-06-11T05:00:00Z"}
    assert north == set(KINDS.values())


class Posted:
    """An HttpClient whose server has the reports of `days` only (others answer 404)."""

    def __init__(self, *days: date) -> None:
        self.days, self.asked = days, []  # type: ignore[var-annotated]

    def get(self, request: Request) -> Response:
        self.asked.append(request.url)
        posted = request.url in {url(d) for d in self.days}
        return Response(request.url, 200 if posted else 404, b"xlsx" if posted else b"Not Found", {}, AT)


def test_live_poll_falls_back_to_yesterday_until_todays_report_is_posted() -> None:
    at = datetime(2026, 6, 11, 4, 30, tzinfo=UTC)  # 23:30 EST on the 10th: the market day is the 10th
    server = Posted(date(2026, 6, 9))
    (resp,) = MisoOutages().fetch("outage", server, at)
    assert server.asked == [url(date(2026, 6, 10)), url(date(2026, 6, 9))] and resp.status == 200

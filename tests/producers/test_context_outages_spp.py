"""SPP generation outages (producers/context/outages_spp.py): the recorded reports replay into
hourly OUTAGE records per fuel, every hour of the demo day and of both DST days is held, a
report that is not the documented CSV names its URL, and a bad row is refused alone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gridtape import context, contract
from gridtape.errors import SourceError
from producers.base import Request, Response
from producers.context import outages
from producers.context.outages_spp import FUELS, URL, SppOutages, report_path
from producers.transport import full_url
from tests.producers.helpers import outage_hours, replay_outages
from tools.recordings import context_outages_spp as gen

AT = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)
HEADER = "Market Hour, Outaged MW, " + ", ".join(f"{f} MW" for f in FUELS)


def csv_response(*rows: str, header: str = HEADER) -> Response:
    body = "\r\n".join((header, *rows)).encode()
    return Response(f"{URL}?path={report_path(date(2026, 6, 11))}", 200, body, {}, AT)


def row(end: str, fuels: list[float], total: float | None = None) -> str:
    total = sum(fuels) if total is None else total
    return ",".join([end, f"{total:g}", *(f"{v:g}" for v in fuels)])


@pytest.mark.parametrize(("day", "n"), [(date(2025, 3, 9), 23), (date(2025, 11, 2), 25), (gen.DAYS[-1], 24)])
def test_history_holds_every_hour_of_the_day_per_fuel(day: date, n: int) -> None:
    source = SppOutages()
    parsed = source.parse_rows("outage", source.history("outage", day, replay_outages("SPP", AT)), live=False)
    assert not parsed.refused
    lo, hi = outages.day_bounds("SPP", day)
    mine = [r for r in parsed.ticks if lo <= contract.parse_ts(r["interval_start"]) < hi]
    assert len(outage_hours("SPP", day)) == n
    assert sorted({r["interval_start"] for r in mine}) == outage_hours("SPP", day)
    assert len(mine) == n * len(FUELS)
    for r in mine:
        contract.validate(r, context.OUTAGE)
        assert (r["area"], r["area_type"], r["kind"]) == ("SPP", "system", "total")


def test_live_poll_of_the_demo_day_covers_it() -> None:
    source = SppOutages()
    records = source.parse("outage", source.fetch("outage", replay_outages("SPP", AT), AT))
    assert set(outage_hours("SPP", gen.DAYS[-1])) <= {r["interval_start"] for r in records}


def test_known_values_market_hour_is_the_utc_hour_end() -> None:
    fuels = [100.0, 0, 0, 250.5, 0, 0, 0, 40, 0, 1.5]
    records = SppOutages().parse("outage", [csv_response(row("6/11/2026 6:00", fuels))])
    gas = next(r for r in records if r["fuel"] == "Natural Gas")
    assert (gas["interval_start"], gas["interval_end"], gas["outage_mw"]) == (
        "2026-06-11T05:00:00Z",
        "2026-06-11T06:00:00Z",
        250.5,
    )
    assert {r["fuel"]: r["outage_mw"] for r in records} == dict(zip(FUELS, fuels, strict=True))


@pytest.mark.parametrize(
    "bad",
    [
        row("6/11/2026 7:00", [1.0] * 10, total=99.0),  # fuels do not add up
        row("2026-06-11 07:00", [1.0] * 10),  # another clock format
        row("6/11/2026 7:30", [1.0] * 10),  # not on the hour
        row("6/11/2026 7:00", [1.0] * 9 + [-5.0]),  # out of bounds
    ],
)
def test_a_bad_row_is_refused_alone(bad: str) -> None:
    good = [row(f"6/11/2026 {h}:00", [float(h)] * 10) for h in range(8, 20)]
    parsed = SppOutages().parse_rows("outage", [csv_response(*good[:6], bad, *good[6:])], live=False)
    assert len(parsed.ticks) == 12 * len(FUELS)
    assert parsed.refused and all(x.url.startswith(URL) for x in parsed.refused)


@pytest.mark.parametrize(
    "body",
    [b"<html><body>Maintenance</body></html>", HEADER.replace("Coal MW", "Coal").encode() + b"\r\n", b""],
)
def test_an_unreadable_report_names_its_url(body: bytes) -> None:
    resp = Response(f"{URL}?path=/2026/06/Capacity-Gen-Outage-20260611.csv", 200, body, {}, AT)
    with pytest.raises(SourceError) as err:
        SppOutages().parse("outage", [resp])
    assert "Capacity-Gen-Outage-20260611.csv" in str(err.value)


def test_http_error_names_its_url() -> None:
    resp = Response(f"{URL}?path=/x.csv", 500, b"oops", {}, AT)
    with pytest.raises(SourceError, match=r"x\.csv"):
        SppOutages().parse("outage", [resp])


class Posted:
    """An HttpClient whose server has the reports of `days` only (others answer 404)."""

    def __init__(self, *days: date) -> None:
        self.days, self.asked = days, []  # type: ignore[var-annotated]

    def get(self, request: Request) -> Response:
        self.asked.append(request.params["path"])
        posted = any(request.params["path"] == report_path(d) for d in self.days)
        body = gen.report(self.days[0]) if posted else b"Not Found"
        return Response(full_url(request.url, request.params), 200 if posted else 404, body, {}, AT)


def test_live_poll_falls_back_to_yesterday_until_todays_report_is_posted() -> None:
    early = datetime(2026, 6, 11, 11, 0, tzinfo=UTC)  # 06:00 CDT: not posted yet
    server = Posted(date(2026, 6, 10))
    (resp,) = SppOutages().fetch("outage", server, early)
    assert server.asked == [report_path(date(2026, 6, 11)), report_path(date(2026, 6, 10))]
    assert resp.status == 200 and "20260610" in resp.url
    server = Posted(date(2026, 6, 11))
    SppOutages().fetch("outage", server, early)
    assert server.asked == [report_path(date(2026, 6, 11))]


def test_history_keeps_the_report_that_exists() -> None:
    day = date(2026, 6, 11)
    (resp,) = SppOutages().history("outage", day, Posted(day))
    assert resp.status == 200 and "20260611" in resp.url
    (resp,) = SppOutages().history("outage", day, Posted(date(2026, 1, 1)))
    assert resp.status == 404 and "20260611" in resp.url  # neither posted: the day is missing

"""ISO-NE generation outages (producers/context/outages_isone.py): the recorded Morning Reports
replay into hourly system OUTAGE records (planned / forced where split, total before the
mid-2025 format), every Eastern hour of the demo day and the DST days is held, and a report that
is not the documented CSV, or whose numbers do not add up, names its URL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gridtape import context, contract
from gridtape.errors import SourceError
from producers.base import Request, Response
from producers.context.outages_isone import URL, IsoneOutages, request
from producers.isone.files import COOKIE_PAGE
from producers.transport import full_url
from tests.producers.helpers import outage_hours, replay_outages
from tools.recordings import context_outages_isone as gen

AT = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)
DEMO = date(2026, 6, 11)


def report(body: bytes, day: date = DEMO) -> Response:
    return Response(request(day).url + f"?start={day:%Y%m%d}", 200, body, {}, AT)


@pytest.mark.parametrize(
    ("day", "n", "kinds"),
    [
        (date(2025, 3, 9), 23, {"total"}),
        (date(2025, 11, 2), 25, {"planned", "forced"}),
        (DEMO, 24, {"planned", "forced"}),
    ],
)
def test_history_holds_every_hour_of_the_day(day: date, n: int, kinds: set[str]) -> None:
    source = IsoneOutages()
    parsed = source.parse_rows("outage", source.history("outage", day, replay_outages("ISONE", AT)), live=False)
    assert not parsed.refused
    assert len(outage_hours("ISONE", day)) == n and len(parsed.ticks) == n * len(kinds)
    assert sorted({r["interval_start"] for r in parsed.ticks}) == outage_hours("ISONE", day)
    assert {r["kind"] for r in parsed.ticks} == kinds
    planned, forced = gen.outages(day)
    want = {"total": planned + forced, "planned": planned, "forced": forced}
    for r in parsed.ticks:
        contract.validate(r, context.OUTAGE)
        assert (r["area"], r["area_type"], r["fuel"]) == ("ISONE", "system", "all")
        assert r["outage_mw"] == want[r["kind"]]


def test_live_poll_covers_the_demo_day() -> None:
    source = IsoneOutages()
    records = source.parse("outage", source.fetch("outage", replay_outages("ISONE", AT), AT))
    assert sorted({r["interval_start"] for r in records}) == outage_hours("ISONE", DEMO)
    assert records[0]["published_at"] == "2026-06-11T11:30:00Z"  # Last-Modified, 07:30 EDT


def test_known_values_blank_split_reads_line_c_as_total() -> None:
    body = gen.report(date(2025, 3, 9))
    records = IsoneOutages().parse("outage", [report(body, date(2025, 3, 9))])
    assert {(r["kind"], r["outage_mw"]) for r in records} == {("total", float(sum(gen.outages(date(2025, 3, 9)))))}
    assert (records[0]["interval_start"], records[-1]["interval_end"]) == (
        "2025-03-09T05:00:00Z",
        "2025-03-10T04:00:00Z",
    )


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda b: b.replace(b'Forced Outages and Reductions",', b'Forced Outages and Reductions",9'), "add up"),
        (lambda b: b.replace(b'(Planned + Forced)",', b'(Planned + Forced)",n/a,'), "number"),
        (lambda b: b.replace(b"Report for 06/11/2026", b"Report for 06/12/2026"), "06/12/2026"),
        (lambda b: b.rsplit(b'"C","End of Report"', 1)[0], "truncated"),
        (lambda b: b.replace(b"C. Generation Outages", b"C. Gen Outages"), "no 'C. Generation"),
        (lambda b: b"<html><body>Access denied</body></html>", "HTML"),
    ],
)
def test_a_bad_report_names_its_url(edit: object, why: str) -> None:
    body = edit(gen.report(DEMO))  # type: ignore[operator]
    with pytest.raises(SourceError, match=why) as err:
        IsoneOutages().parse("outage", [report(body)])
    assert "morningreport?start=20260611" in str(err.value)


def test_one_bad_report_does_not_hide_a_good_one_in_a_backfill() -> None:
    """parse_rows over two days: the broken one raises, naming its own URL, not the good one's."""
    good = report(gen.report(date(2026, 6, 10)), date(2026, 6, 10))
    bad = report(b'"C","x"\r\n"H","Description","MW"\r\n"D","A. Capacity",1\r\n"C","End"\r\n')
    with pytest.raises(SourceError, match="start=20260611"):
        IsoneOutages().parse_rows("outage", [good, bad], live=False)


def test_every_request_follows_the_cookie_page_and_falls_back_a_day_on_404() -> None:
    asked: list[str] = []

    class Server:
        def get(self, req: Request) -> Response:
            asked.append(full_url(req.url, req.params))
            posted = req.params.get("start") == "20260610"
            return Response(
                full_url(req.url, req.params), 200 if posted else 404, gen.report(date(2026, 6, 10)), {}, AT
            )

    early = datetime(2026, 6, 11, 10, 0, tzinfo=UTC)  # 06:00 EDT
    (resp,) = IsoneOutages().fetch("outage", Server(), early)
    assert asked == [COOKIE_PAGE, f"{URL}?start=20260611", f"{URL}?start=20260610"] and resp.status == 200
    asked.clear()
    IsoneOutages().history("outage", date(2026, 6, 10), Server())
    assert asked == [COOKIE_PAGE, f"{URL}?start=20260610"]

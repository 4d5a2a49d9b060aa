"""NYISO generation outages (producers/context/outages_nyiso.py): the recorded snapshots of the
Generation Maintenance Report replay into hourly system OUTAGE records covering the demo day and
the DST days (23 / 25 Eastern hours), a file that is not the documented CSV names its URL, a bad
row is refused alone, and there is no archive to backfill from."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gridtape import context, contract
from gridtape.errors import SourceError
from producers import http
from producers.base import Response
from producers.context import outages
from producers.context.outages_nyiso import URL, NyisoOutages
from tests.producers.helpers import outage_hours
from tools.recordings import context_outages_nyiso as gen

TREE = gen.synth.RECORDINGS / "context" / "outages_nyiso"
AT = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)


def csv(*rows: str) -> Response:
    body = "\r\n".join(('"Date","Forecasted Generation Outage (MW)"', *rows)).encode()
    return Response(URL, 200, body, {}, AT)


def polled(tree: Path) -> list[list[dict[str, object]]]:
    """Every recorded poll of a replay tree, run through fetch + parse as the poller does."""
    recordings = http.Recordings.load(tree)
    layer = http.replay(recordings, clock=lambda: AT)
    source = NyisoOutages()
    return [source.parse("outage", source.fetch("outage", layer, p.now)) for p in recordings.polls]


def test_the_demo_day_snapshot_covers_every_hour_of_the_day() -> None:
    (records,) = polled(TREE)
    demo = [r for r in records if r["interval_start"] in set(outage_hours("NYISO", gen.DEMO))]
    assert sorted(r["interval_start"] for r in demo) == outage_hours("NYISO", gen.DEMO)
    assert {r["outage_mw"] for r in demo} == {float(gen.level(gen.DEMO))}
    assert len(records) == 24 * 31  # 31 days from the 11th (06-11 .. 07-11), none a DST day
    for r in records:
        contract.validate(r, context.OUTAGE)
        assert (r["area"], r["area_type"], r["fuel"], r["kind"]) == ("NYISO", "system", "all", "total")
    assert records[0]["published_at"] == "2026-06-11T10:00:00Z"  # Last-Modified


@pytest.mark.parametrize(("n", "hours"), [(0, 23), (1, 25), (2, 23), (3, 25)])
def test_dst_day_snapshots_hold_23_or_25_eastern_hours(n: int, hours: int) -> None:
    day = gen.DST_DAYS[n]
    records = polled(TREE / "dst")[n]
    mine = sorted(r["interval_start"] for r in records if r["interval_start"] in set(outage_hours("NYISO", day)))
    assert len(outage_hours("NYISO", day)) == hours and mine == outage_hours("NYISO", day)
    assert outage_hours("NYISO", day)[0] == contract.format_ts(outages.day_bounds("NYISO", day)[0])


def test_known_values() -> None:
    records = NyisoOutages().parse("outage", [csv('"03/09/2025","4321.5"')])
    assert len(records) == 23
    assert (records[0]["interval_start"], records[-1]["interval_end"]) == (
        "2025-03-09T05:00:00Z",
        "2025-03-10T04:00:00Z",
    )
    assert {r["outage_mw"] for r in records} == {4321.5}


@pytest.mark.parametrize("bad", ['"06/20/2026",""', '"06/20/2026","-10"', '"2026-06-20","100"', '"06/31/2026","100"'])
def test_a_bad_row_is_refused_alone(bad: str) -> None:
    good = [f'"06/{d:02d}/2026","{1000 + d}"' for d in range(11, 19)]
    parsed = NyisoOutages().parse_rows("outage", [csv(*good[:4], bad, *good[4:])], live=False)
    assert len(parsed.ticks) == 8 * 24
    assert len(parsed.refused) == 1 and parsed.refused[0].url == URL


@pytest.mark.parametrize(
    "body", [b"<html>MIS is down</html>", b'"Date","Generation Outage"\r\n"06/11/2026","1"\r\n', b""]
)
def test_an_unreadable_report_names_its_url(body: bytes) -> None:
    with pytest.raises(SourceError) as err:
        NyisoOutages().parse("outage", [Response(URL, 200, body, {}, AT)])
    assert URL in str(err.value)


def test_history_serves_a_day_the_snapshot_holds_and_refuses_a_past_one() -> None:
    source = NyisoOutages()
    layer = http.replay(http.Recordings.load(TREE), clock=lambda: AT)
    parsed = source.parse_rows("outage", source.history("outage", gen.DEMO, layer), live=False)
    lo, hi = outages.day_bounds("NYISO", gen.DEMO)
    assert sorted(
        r["interval_start"] for r in parsed.ticks if lo <= contract.parse_ts(r["interval_start"]) < hi
    ) == outage_hours("NYISO", gen.DEMO)
    with pytest.raises(SourceError, match="no row for 2026-06-10: NYISO keeps no archive"):
        source.history("outage", date(2026, 6, 10), layer)

"""ERCOT generation outages (producers/context/outages_ercot.py) on the recorded MIS report
13103: hour-ending rows of the publication day, zones and the system sum, later documents
winning, DST days as the report writes them, bad rows refused alone, unreadable documents named
by URL. (`gridtape parse` does not read context feeds yet.)"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from gridtape import context, contract
from gridtape.errors import SourceError
from producers.base import Response
from producers.context import outages_ercot as ercot
from producers.ercot.lmp import DOWNLOAD_URL
from tests.producers.helpers import replay_outages
from tools.recordings import context_outages_ercot as gen
from tools.recordings import synth

AT = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)
PUBLISHED = datetime(2026, 6, 11, 12, 15, tzinfo=ercot.ZONE)
SOURCE = ercot.ErcotOutages()


def live() -> list[Response]:
    return SOURCE.fetch("outage", replay_outages("ERCOT", AT), AT)


def with_document(responses: list[Response], body: bytes) -> list[Response]:
    """The live poll's responses with the document's body replaced."""
    listing, doc = responses
    return [listing, Response(doc.url, 200, body, doc.headers, doc.fetched_at)]


def rows(published: datetime = PUBLISHED) -> list[list[str]]:
    return list(csv.reader(io.StringIO(gen.csv_bytes(published).decode())))


def zipped(table: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    return synth.zip_bytes({"report.csv": buffer.getvalue().encode()})


@pytest.mark.parametrize(("day", "hours"), [(date(2025, 3, 9), 23), (date(2025, 11, 2), 24), (date(2026, 6, 11), 24)])
def test_history_day_holds_the_hours_of_that_day(day: date, hours: int) -> None:
    responses = SOURCE.history("outage", day, replay_outages("ERCOT", AT))
    assert len(responses) == 4  # the list and the day's three documents
    records = SOURCE.parse_rows("outage", responses, live=False).ticks
    per_key = Counter((r["area"], r["fuel"]) for r in records)
    assert set(per_key.values()) == {hours}
    assert len(per_key) == 5 * 2  # four zones and the system, two fuels
    assert {contract.parse_ts(r["interval_start"]).astimezone(ercot.ZONE).date() for r in records} == {day}
    for r in records:
        contract.validate(r, context.OUTAGE)
        assert r["kind"] == "total"


def test_spring_day_drops_the_hour_that_does_not_exist_and_fall_day_reads_the_first_pass() -> None:
    spring = SOURCE.parse("outage", SOURCE.history("outage", date(2025, 3, 9), replay_outages("ERCOT", AT)))
    assert "2025-03-09T08:00:00Z" in {r["interval_start"] for r in spring}  # HE 2 = 01:00-02:00 CST
    assert len({r["interval_start"] for r in spring}) == 23
    fall = {
        r["interval_start"]
        for r in SOURCE.parse("outage", SOURCE.history("outage", date(2025, 11, 2), replay_outages("ERCOT", AT)))
    }
    assert "2025-11-02T06:00:00Z" in fall and "2025-11-02T07:00:00Z" not in fall  # second 01:00 stays unknown


def test_live_poll_values_are_the_newest_documents_and_the_system_is_the_zone_sum() -> None:
    records = SOURCE.parse_rows("outage", live(), live=True).ticks
    assert len({r["interval_start"] for r in records}) == 24  # every hour of the demo day
    table = rows()
    header = table[0]
    he5 = next(r for r in table[1:] if r[0] == "06/11/2026" and r[1] == "5")
    start = "2026-06-11T09:00:00Z"  # HE 5 CDT = 04:00-05:00 CDT
    got = {(r["area"], r["fuel"]): r["outage_mw"] for r in records if r["interval_start"] == start}
    assert got[("FZ_HOUSTON", "resource")] == float(he5[header.index("TotalResourceMWZoneHouston")])
    assert got[("FZ_WEST", "irr")] == float(he5[header.index("TotalIRRMWZoneWest")])
    for fuel in ("resource", "irr"):
        zones = sum(v for (area, f), v in got.items() if f == fuel and area != "ERCOT")
        assert got[("ERCOT", fuel)] == zones
    assert {r["published_at"] for r in records} == {"2026-06-11T17:15:00Z"}


def test_the_later_document_of_a_day_wins() -> None:
    responses = SOURCE.history("outage", date(2026, 6, 11), replay_outages("ERCOT", AT))
    records = SOURCE.parse("outage", responses)
    assert {r["published_at"] for r in records} == {"2026-06-11T17:15:00Z"}


def test_a_bad_row_is_refused_alone() -> None:
    table = rows()
    victim = next(i for i, r in enumerate(table) if r[:2] == ["06/11/2026", "7"])
    table[victim][2] = "n/a"
    parsed = SOURCE.parse_rows("outage", with_document(live(), zipped(table)), live=False)
    assert len(parsed.refused) == 1 and "n/a" in parsed.refused[0].row
    hour = "2026-06-11T11:00:00Z"
    assert ("FZ_SOUTH", "resource") not in {(r["area"], r["fuel"]) for r in parsed.ticks if r["interval_start"] == hour}
    assert ("ERCOT", "resource") not in {(r["area"], r["fuel"]) for r in parsed.ticks if r["interval_start"] == hour}
    assert len(parsed.ticks) == 24 * 10 - 2  # the zone and the system sum it would have made


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Service unavailable</html>",
        synth.zip_bytes({"a.csv": b"Date,Hour,Whatever\r\n06/11/2026,1,3\r\n"}),
        synth.zip_bytes({"a.txt": b"nothing"}),
    ],
)
def test_an_unreadable_document_names_its_url(body: bytes) -> None:
    responses = with_document(live(), body)
    with pytest.raises(SourceError) as caught:
        SOURCE.parse("outage", responses)
    assert caught.value.url == responses[1].url and responses[1].url.startswith(DOWNLOAD_URL)


def test_the_older_system_only_layout_is_read_as_the_system_area() -> None:
    table = [["Date", "HourEnding", "TotalResourceMW", "TotalIRRMW", "TotalNewEquipResourceMW"]]
    table += [["06/11/2026", str(he), str(10000 + he), "2000", "50"] for he in range(1, 25)]
    records = SOURCE.parse("outage", with_document(live(), zipped(table)))
    assert {r["area"] for r in records} == {"ERCOT"} and len(records) == 48
    assert (
        next(r for r in records if r["interval_start"] == "2026-06-11T05:00:00Z" and r["fuel"] == "resource")[
            "outage_mw"
        ]
        == 10001
    )

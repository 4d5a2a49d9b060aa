"""ISO-NE: ISO Express record-typed CSVs (five-minute LMP, five-minute system load)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from producers.base import Request, Response
from producers.isone import COOKIE_PAGE, LMP_URL, LOAD_URL, LOCATION_TYPES, ZONAL_URL, IsoneSource
from tests.producers import iso_contract as ic

SRC = IsoneSource()
HUB_ZONES = {
    ".H.INTERNAL_HUB",
    ".Z.MAINE",
    ".Z.NEWHAMPSHIRE",
    ".Z.VERMONT",
    ".Z.CONNECTICUT",
    ".Z.RHODEISLAND",
    ".Z.SEMASS",
    ".Z.WCMASS",
    ".Z.NEMASSBOST",
}


def lmp_poll(now: str) -> Response:
    """The current five-minute LMP file the poll at `now` saved (the file is named by that minute)."""
    return ic.recorded("ISONE", f"fiveminlmp_current_{datetime.fromisoformat(now):%Y%m%dT%H%M}.csv", now)


LMP_NORMAL = lmp_poll("2025-06-10T18:42:00Z")
LMP_SPRING = lmp_poll("2025-03-09T07:12:00Z")
LMP_FALL = lmp_poll("2025-11-02T06:12:00Z")
LOAD_NORMAL = ic.recorded("ISONE", "fiveminutesystemload_20250610.csv", "2025-06-10T18:42:00Z")
LOAD_SPRING = ic.recorded("ISONE", "fiveminutesystemload_20250309.csv", "2025-03-10T04:07:00Z")
LOAD_FALL = ic.recorded("ISONE", "fiveminutesystemload_20251102.csv", "2025-11-03T05:07:00Z")


class TestIsoneContract(ic.IsoContract):
    source = SRC
    cases = (
        ic.Case("lmp normal", "lmp", [LMP_NORMAL], 12, HUB_ZONES),
        ic.Case("lmp spring hour", "lmp", [LMP_SPRING], 12, HUB_ZONES),
        ic.Case("lmp fall hour", "lmp", [LMP_FALL], 12, HUB_ZONES),
        ic.Case("load normal so far", "load", [LOAD_NORMAL], 176, {"ISONE"}),
        ic.Case("load spring day", "load", [LOAD_SPRING], 276, {"ISONE"}),
        ic.Case("load fall day", "load", [LOAD_FALL], 300, {"ISONE"}),
    )


def starts(ticks: list[dict], location: str) -> list[str]:
    return sorted(t["interval_start"] for t in ticks if t["location"] == location)


def test_known_lmp_row_components_sum() -> None:
    ticks = SRC.parse("lmp", [LMP_FALL])
    hub = next(t for t in ticks if t["location"] == ".H.INTERNAL_HUB" and t["interval_start"] == "2025-11-02T05:10:00Z")
    # "2025-11-02 01:10:00" (EDT, first pass) = 05:10Z, interval beginning.
    assert (hub["interval_end"], hub["lmp"], hub["energy"], hub["congestion"], hub["loss"]) == (
        "2025-11-02T05:15:00Z",
        258.28,
        258.66,
        1.13,
        -1.51,
    )
    assert hub["location_type"] == "hub" and hub["source"] == LMP_URL + "?type=prelim"
    for t in ticks:
        assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"], abs=0.0051)
    assert {t["location_type"] for t in ticks} == {"hub", "zone"}


def test_fall_hour_read_in_file_order() -> None:
    # 01:10..01:55 EDT, then the wall clock falls back: 01:00 and 01:05 are EST (06:00Z, 06:05Z).
    got = starts(SRC.parse("lmp", [LMP_FALL]), ".Z.MAINE")
    ic.assert_contiguous(got, "2025-11-02T05:10:00Z", 12)
    assert got[-2:] == ["2025-11-02T06:00:00Z", "2025-11-02T06:05:00Z"]
    load = starts(SRC.parse("load", [LOAD_FALL]), "ISONE")
    ic.assert_contiguous(load, "2025-11-02T04:00:00Z", 300)
    assert "2025-11-02T05:00:00Z" in load and "2025-11-02T06:00:00Z" in load  # both 01:00s


def test_spring_gap() -> None:
    got = starts(SRC.parse("lmp", [LMP_SPRING]), ".Z.CONNECTICUT")
    ic.assert_contiguous(got, "2025-03-09T06:10:00Z", 12)  # 01:10 EST .. 01:55 EST, 03:00 EDT, 03:05 EDT
    ic.assert_contiguous(starts(SRC.parse("load", [LOAD_SPRING]), "ISONE"), "2025-03-09T05:00:00Z", 276)


def test_first_ambiguous_row_uses_fetch_time() -> None:
    # A file that starts inside the repeated hour: its first 01:xx row is the EST one when
    # the EDT reading would put later rows in the future.
    text = LMP_FALL.body.decode().splitlines()
    keep = [
        line
        for line in text
        if not line.startswith('"D"') or '"2025-11-02 01:00:00"' in line or '"2025-11-02 01:05:00"' in line
    ]
    body = ("\r\n".join(keep) + "\r\n").encode()
    ticks = SRC.parse("lmp", [Response(LMP_FALL.url, 200, body, {}, datetime(2025, 11, 2, 6, 12, tzinfo=UTC))])
    assert starts(ticks, ".H.INTERNAL_HUB") == ["2025-11-02T06:00:00Z", "2025-11-02T06:05:00Z"]


def test_nodes_only_with_include_nodes() -> None:
    nodes = IsoneSource(include_nodes=True).parse("lmp", [LMP_NORMAL])
    kinds = {t["location"]: t["location_type"] for t in nodes}
    assert kinds[".I.ROSETON 345 1"] == "node" and kinds["LD.MILLBURY115"] == "node"
    assert len(nodes) == 12 * 12


def test_load_values_and_times() -> None:
    ticks = SRC.parse("load", [LOAD_NORMAL])
    first = ticks[0]
    assert (first["interval_start"], first["interval_end"], first["location_type"]) == (
        "2025-06-10T04:00:00Z",
        "2025-06-10T04:05:00Z",
        "system",
    )
    assert first["load_mw"] == float(LOAD_NORMAL.body.decode().splitlines()[6].split(",")[2])


def test_fetch_gets_the_cookie_page_first() -> None:
    class Http:
        def __init__(self) -> None:
            self.urls: list[str] = []

        def get(self, request: Request) -> Response:
            self.urls.append(request.url + str(sorted(request.params.items())))
            return LMP_NORMAL

    http = Http()
    SRC.fetch("lmp", http, datetime(2025, 6, 10, 18, 42, tzinfo=UTC))
    assert http.urls == [COOKIE_PAGE + "[]", LMP_URL + "[('type', 'prelim')]"]
    http = Http()
    SRC.fetch("load", http, datetime(2025, 11, 3, 5, 7, tzinfo=UTC))  # 00:07 EST: yesterday too
    assert http.urls[1:] == [
        LOAD_URL + "[('end', '20251102'), ('start', '20251102')]",
        LOAD_URL + "[('end', '20251103'), ('start', '20251103')]",
        ZONAL_URL + "[('end', '20251102'), ('start', '20251102')]",  # the zonal file: 1-2 h behind
        ZONAL_URL + "[('end', '20251103'), ('start', '20251103')]",
    ]


def test_recorded_polls_replay() -> None:
    polls = ic.replay_polls(SRC)
    assert all(polls.values())
    fall = polls["load: after the fall DST day: 2025-11-02 whole (300) + new day"]
    assert len([t for t in fall if t["location_type"] == "system"]) == 301
    assert {t["location"] for t in fall if t["location_type"] == "zone"} == HUB_ZONES - {".H.INTERNAL_HUB"}
    assert ic.fetch_recorded(SRC, "lmp", "2025-06-10T18:42:00Z")[0].url == LMP_URL + "?type=prelim"


GOOD_LMP = LMP_NORMAL.body.decode()
BAD_LMP = {
    "html page": b"<!DOCTYPE html><html><body>403 Forbidden</body></html>",
    "empty body": b"",
    "truncated (no trailer)": GOOD_LMP[: GOOD_LMP.rindex('"T"')].encode(),
    "cut mid row": GOOD_LMP[: GOOD_LMP.rindex('"T"') - 9].encode(),
    "renamed column": GOOD_LMP.replace('"Congestion Component"', '"Congestion"', 1).encode(),
    "unknown record type": GOOD_LMP.replace('"C","Prices', '"X","Prices').encode(),
}
BAD_LMP_ROW = {
    "non-numeric price": GOOD_LMP.replace(',"HUB",', ',"HUB",x', 1).encode(),
    "bad time": GOOD_LMP.replace('"2025-06-10 14:35:00"', '"14:35"', 1).encode(),
    "components do not add up": GOOD_LMP.replace(',"HUB",', ',"HUB",1', 1).encode(),
}


test_one_bad_lmp_row_is_refused_alone, test_bad_lmp_raises = ic.malformed_tests(
    SRC, "lmp", LMP_NORMAL, BAD_LMP_ROW, BAD_LMP
)


GOOD_LOAD = LOAD_NORMAL.body.decode()
BAD_LOAD = {
    "html page": b"<html><head></head></html>",
    "renamed column": GOOD_LOAD.replace('"Native Load"', '"Load"').encode(),
    "truncated": GOOD_LOAD[: len(GOOD_LOAD) // 2].encode(),
    "time going backwards": GOOD_LOAD.replace('"2025-06-10 00:05:00"', '"2025-06-09 23:00:00"').encode(),
}


def test_one_bad_load_row_is_refused_alone() -> None:
    ic.assert_row_refused(SRC, "load", LOAD_NORMAL, GOOD_LOAD.replace('00:00",', '00:00",x', 1).encode())


def test_load_after_an_outage_reads_every_day_since_the_cursor() -> None:
    now = datetime(2025, 6, 10, 18, 42, tzinfo=UTC)
    for url in (LOAD_URL, ZONAL_URL):
        requests = IsoneSource.data_requests("load", now, now - timedelta(hours=30))
        assert [r.params["start"] for r in requests if r.url == url] == ["20250609", "20250610"]
        requests = IsoneSource.data_requests("load", now, now - timedelta(hours=1))
        assert [r.params["start"] for r in requests if r.url == url] == ["20250610"]


@pytest.mark.parametrize("body", BAD_LOAD.values(), ids=BAD_LOAD.keys())
def test_bad_load_raises(body: bytes) -> None:
    assert LOAD_URL in ic.source_error(SRC, "load", LOAD_NORMAL, body).url


def test_real_location_list_types_and_names(iso_samples: Path) -> None:
    """ISO-NE's own location list: the hub and the eight load zones carry the names and types
    the parser keys on; every other type is treated as a node."""
    doc = json.loads((iso_samples / "isone" / "isone_ws_locations_00.json").read_text())
    locations = doc["Locations"]["Location"]
    names = {loc["LocationName"] for loc in locations if loc["LocationType"] in LOCATION_TYPES}
    assert names == HUB_ZONES
    assert {loc["LocationType"] for loc in locations} >= set(LOCATION_TYPES)


def test_real_fall_load_sample_has_two_one_oclocks(iso_samples: Path) -> None:
    """ISO-NE's hourly load for 2024-11-03 lists the 01:00 hour twice (-04:00 then -05:00):
    the repeated hour is real and appears in file order, which is what wall_clock_series
    relies on for the offset-less CSVs."""
    doc = json.loads((iso_samples / "isone" / "isone_ws_hourlysysload_day_20241102-03_DSTend_01.json").read_text())
    begins = [row["BeginDate"] for row in doc["HourlySystemLoads"]["HourlySystemLoad"]]
    assert len(begins) == 25
    assert begins[1:3] == ["2024-11-03T01:00:00.000-04:00", "2024-11-03T01:00:00.000-05:00"]
    row = doc["HourlySystemLoads"]["HourlySystemLoad"][0]
    assert row["Load"] == pytest.approx(row["NativeLoad"] + row["ArdDemand"], abs=0.002)  # Load = native + ARD


def test_a_load_day_file_without_data_rows_yet_is_not_an_error() -> None:
    lines = GOOD_LOAD.splitlines(True)
    empty = "".join(line for line in lines if not line.startswith('"D"')).encode()
    assert SRC.parse("load", [Response(LOAD_NORMAL.url, 200, empty, {}, LOAD_NORMAL.fetched_at)]) == []

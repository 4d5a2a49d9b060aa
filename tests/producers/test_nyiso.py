"""NYISO: the contract on every recording, exact rows across both DST days, every malformed
input, the fetch path against the manifest, and the real pyiso files in ../shared."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract
from gridtape.errors import SourceError
from producers.base import Request, Response
from producers.nyiso import LMP_CURRENT_URL, NyisoSource, lmp_day_url, pal_day_url
from tests.producers import iso_contract as ic

REC = ic.RECORDINGS / "nyiso"
FETCHED = datetime(2025, 11, 3, 5, 3, tzinfo=UTC)


def recorded(file: str, url: str, fetched_at: datetime = FETCHED) -> Response:
    return Response(url=url, status=200, body=(REC / file).read_bytes(), headers={}, fetched_at=fetched_at)


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d)


JUNE = datetime(2025, 6, 10, 10, 42, tzinfo=UTC)
LMP_JUNE = [
    recorded("realtime_zone_lbmp_20250610T1040Z.csv", LMP_CURRENT_URL, JUNE),
    recorded("20250610realtime_zone.csv", lmp_day_url(day(2025, 6, 10)), JUNE),
]
LMP_FALL = recorded("20251102realtime_zone.csv", lmp_day_url(day(2025, 11, 2)))
SPRING_FETCHED = datetime(2025, 3, 10, 4, 3, tzinfo=UTC)
LMP_SPRING = recorded("20250309realtime_zone.csv", lmp_day_url(day(2025, 3, 9)), SPRING_FETCHED)
PAL_FALL = recorded("20251102pal.csv", pal_day_url(day(2025, 11, 2)))
PAL_SPRING = recorded("20250309pal.csv", pal_day_url(day(2025, 3, 9)), SPRING_FETCHED)
ZONES = {"CAPITL", "CENTRL", "DUNWOD", "GENESE", "HUD VL", "LONGIL", "MHK VL", "MILLWD", "N.Y.C.", "NORTH", "WEST"}
PROXIES = {"H Q", "NPX", "O H", "PJM"}


class TestNyisoContract(ic.IsoContract):
    source = NyisoSource()
    cases = (
        ic.Case("lmp-normal-day", "lmp", LMP_JUNE, expected_locations=ZONES | PROXIES),
        ic.Case("lmp-fall-back-day", "lmp", [LMP_FALL], 300, ZONES | PROXIES),
        ic.Case(
            "lmp-fall-back-poll",
            "lmp",
            [recorded("realtime_zone_lbmp_20251103T0500Z.csv", LMP_CURRENT_URL), LMP_FALL],
            300,
            ZONES | PROXIES,
        ),
        ic.Case("lmp-spring-forward-day", "lmp", [LMP_SPRING], 276, ZONES | PROXIES),
        ic.Case("load-normal-day", "load", [recorded("20250610pal.csv", pal_day_url(day(2025, 6, 10)), JUNE)]),
        ic.Case("load-fall-back-day", "load", [PAL_FALL], 300, ZONES | {"NYISO"}),
        ic.Case("load-spring-forward-day", "load", [PAL_SPRING], 276, ZONES | {"NYISO"}),
    )


def by_key(ticks: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(t["location"], t["interval_start"]): t for t in ticks}


SOURCE = NyisoSource()


class TestLmpValues:
    def test_fall_back_repeated_stamp_is_two_utc_intervals(self) -> None:
        ticks = by_key(SOURCE.parse("lmp", [LMP_FALL]))
        first = ticks[("N.Y.C.", "2025-11-02T04:55:00Z")]  # "01:00:00" the first time: EDT
        second = ticks[("N.Y.C.", "2025-11-02T05:55:00Z")]  # "01:00:00" again: EST
        assert (first["interval_end"], first["lmp"], first["loss"]) == ("2025-11-02T05:00:00Z", -3.49, -0.55)
        assert (second["interval_end"], second["lmp"], second["loss"]) == ("2025-11-02T06:00:00Z", 2.55, -0.26)
        assert first["energy"] == pytest.approx(-5.37) and first["congestion"] == 2.43

    def test_congestion_sign_is_flipped_so_components_add_up(self) -> None:
        # "11/02/2025 01:05:00","HUD VL",61758,0.07,-0.33,-2.03 (first occurrence: EDT)
        t = by_key(SOURCE.parse("lmp", [LMP_FALL]))[("HUD VL", "2025-11-02T05:00:00Z")]
        assert t["interval_end"] == "2025-11-02T05:05:00Z"
        assert (t["lmp"], t["loss"], t["congestion"]) == (0.07, -0.33, 2.03)
        assert t["energy"] == pytest.approx(-1.63)
        assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"])

    def test_spring_gap(self) -> None:
        ticks = by_key(SOURCE.parse("lmp", [LMP_SPRING]))
        # "01:55:00" EST ends 06:55Z; the next stamp is "03:00:00" EDT, ending 07:00Z
        assert ticks[("WEST", "2025-03-09T06:50:00Z")]["lmp"] == 4.60
        assert ticks[("WEST", "2025-03-09T06:55:00Z")]["lmp"] == 0.64
        assert ticks[("WEST", "2025-03-09T07:00:00Z")]["lmp"] == -7.68
        starts = sorted(s for loc, s in ticks if loc == "WEST")
        steps = {(contract.parse_ts(b) - contract.parse_ts(a)).total_seconds() for a, b in itertools.pairwise(starts)}
        assert steps == {300.0}, "the UTC series has no hole and no overlap across the skipped hour"

    def test_rtc_advisory_rows_after_the_newest_rtd_interval_are_dropped(self) -> None:
        ticks = SOURCE.parse("lmp", LMP_JUNE)
        assert max(t["interval_end"] for t in ticks) == "2025-06-10T10:40:00Z"
        t = by_key(ticks)[("CAPITL", "2025-06-10T10:35:00Z")]
        assert (t["lmp"], t["source"]) == (21.52, LMP_CURRENT_URL)  # the current file wins its interval

    def test_off_cycle_rtd_cam_stamps_are_left_out(self) -> None:
        assert b":37:34" in LMP_FALL.body
        assert all(t["interval_start"].endswith(("0:00Z", "5:00Z")) for t in SOURCE.parse("lmp", [LMP_FALL]))

    def test_current_file_in_the_repeated_hour_uses_the_fetch_time(self) -> None:
        body = (
            b'"Time Stamp","Name","PTID","LBMP ($/MWHr)","Marginal Cost Losses ($/MWHr)",'
            b'"Marginal Cost Congestion ($/MWHr)"\n"11/02/2025 01:10:00","WEST",61752,20.00,0.50,0.00\n'
        )
        edt = Response(LMP_CURRENT_URL, 200, body, {}, datetime(2025, 11, 2, 5, 11, tzinfo=UTC))
        est = Response(LMP_CURRENT_URL, 200, body, {}, datetime(2025, 11, 2, 6, 11, tzinfo=UTC))
        assert SOURCE.parse("lmp", [edt])[0]["interval_end"] == "2025-11-02T05:10:00Z"
        assert SOURCE.parse("lmp", [est])[0]["interval_end"] == "2025-11-02T06:10:00Z"

    def test_published_at_is_last_modified_when_sent(self) -> None:
        body = LMP_JUNE[0].body
        modified = Response(LMP_CURRENT_URL, 200, body, {"Last-Modified": "Tue, 10 Jun 2025 10:41:07 GMT"}, JUNE)
        assert {t["published_at"] for t in SOURCE.parse("lmp", [modified])} == {"2025-06-10T10:41:07Z"}
        future = Response(LMP_CURRENT_URL, 200, body, {"last-modified": "Tue, 10 Jun 2025 11:00:00 GMT"}, JUNE)
        assert {t["published_at"] for t in SOURCE.parse("lmp", [future])} == {"2025-06-10T10:42:00Z"}
        assert {t["ingested_at"] for t in SOURCE.parse("lmp", [modified])} == {"2025-06-10T10:42:00Z"}

    def test_location_types(self) -> None:
        types = {t["location"]: t["location_type"] for t in SOURCE.parse("lmp", [LMP_FALL])}
        assert {types[z] for z in ZONES} == {"zone"} and {types[p] for p in PROXIES} == {"interface"}


class TestLoadValues:
    def test_time_zone_column_names_the_repeated_hour(self) -> None:
        # "01:00:00","EDT" (05:00Z) and "01:00:00","EST" (06:00Z): each reading ENDS its interval
        ticks = by_key(SOURCE.parse("load", [PAL_FALL]))
        edt = ticks[("N.Y.C.", "2025-11-02T04:55:00Z")]
        est = ticks[("N.Y.C.", "2025-11-02T05:55:00Z")]
        assert (edt["load_mw"], edt["interval_end"]) == (3385.5, "2025-11-02T05:00:00Z")
        assert (est["load_mw"], est["interval_end"]) == (3400.7, "2025-11-02T06:00:00Z")

    def test_an_instantaneous_reading_ends_its_interval(self) -> None:
        """A pal reading stamped T is known only at T: every tick's interval ENDS at its stamp,
        so no reading is filed before it was measured (a look-ahead in a backtest)."""
        for resp in (PAL_FALL, PAL_SPRING):
            stamps = set()
            for line in resp.body.decode().splitlines()[1:]:
                text, zone = line.split(",")[:2]
                wall = datetime.strptime(text.strip('"'), "%m/%d/%Y %H:%M:%S")
                if wall.second == 0 and wall.minute % 5 == 0:
                    offset = timedelta(hours=5 if zone.strip('"') == "EST" else 4)
                    stamps.add(contract.format_ts((wall + offset).replace(tzinfo=UTC)))
            ends = {t["interval_end"] for t in SOURCE.parse("load", [resp])}
            assert ends == stamps

    def test_system_total_is_the_sum_of_the_zones(self) -> None:
        ticks = SOURCE.parse("load", [PAL_SPRING])
        at = "2025-03-09T12:00:00Z"
        zones = [t for t in ticks if t["interval_start"] == at and t["location_type"] == "zone"]
        system = [t for t in ticks if t["interval_start"] == at and t["location"] == "NYISO"]
        assert len(zones) == 11 and len(system) == 1
        assert system[0]["load_mw"] == pytest.approx(sum(t["load_mw"] for t in zones))
        assert system[0]["location_type"] == "system"


HEADER = (
    '"Time Stamp","Name","PTID","LBMP ($/MWHr)","Marginal Cost Losses ($/MWHr)","Marginal Cost Congestion ($/MWHr)"\n'
)
ROW = '"06/10/2025 14:40:00","CAPITL",61757,21.53,1.69,0.00\n'
URL = lmp_day_url(day(2025, 6, 10))


@pytest.mark.parametrize(
    ("dataset", "body", "reason"),
    [
        ("lmp", b"", "empty body"),
        ("lmp", b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "HTML"),
        ("lmp", (HEADER + ROW + '"06/10/2025 14:45:00","CAPITL",61757,21.5').encode(), "truncated"),
        ("lmp", (HEADER.replace("LBMP ($/MWHr)", "LMP ($/MWHr)") + ROW).encode(), "missing column"),
        ("lmp", (HEADER + ROW.replace("21.53", "n/a")).encode(), "expected a number"),
        ("lmp", (HEADER + ROW.replace("06/10/2025 14:40:00", "2025-06-10 14:40")).encode(), "bad Time Stamp"),
        ("lmp", (HEADER + ROW.replace("CAPITL", "CAPITAL")).encode(), "unknown zone"),
        ("lmp", (HEADER + ROW.replace("06/10/2025 14:40", "03/09/2025 02:30")).encode(), "does not exist"),
        (
            "load",
            b'"Time Stamp","Time Zone","Name","PTID","Load"\r\n"06/10/2025 14:40:00","CDT","WEST",61752,1.0\r\n',
            "Time Zone",
        ),
        (
            "load",
            b'"Time Stamp","Time Zone","Name","PTID","Load"\r\n"06/10/2025 14:40:00","EDT","WEST",61752,\r\n',
            "expected a number",
        ),
    ],
)
def test_malformed_input_raises_source_error(dataset: str, body: bytes, reason: str) -> None:
    resp = Response(URL, 200, body, {}, JUNE)
    with pytest.raises(SourceError) as err:
        SOURCE.parse(dataset, [resp])
    assert err.value.iso == "NYISO" and err.value.url == URL
    assert reason in str(err.value) and URL in str(err.value)


def test_http_error_status_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="HTTP 404"):
        SOURCE.parse("lmp", [Response(URL, 404, b"Not Found", {}, JUNE)])


def test_every_recorded_poll_fetches_and_parses() -> None:
    polls = ic.replay_polls(NyisoSource())
    assert len(polls) == 9 and all(polls.values())
    fall = polls["lmp: fall-back day 2025-11-02 complete (300 intervals)"]
    assert len({t["interval_start"] for t in fall if t["location"] == "N.Y.C."}) == 300
    for ticks in polls.values():
        for t in ticks:
            contract.validate(t)


class AskedHttp:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def get(self, request: Request) -> Response:
        self.asked.append(request.url)
        return Response(request.url, 404, b"Not Found", {}, JUNE)


def test_fetch_reads_yesterdays_file_just_after_midnight() -> None:
    http = AskedHttp()
    got = SOURCE.fetch("lmp", http, datetime(2025, 11, 3, 5, 3, tzinfo=UTC))  # 00:03 EST
    assert http.asked == [LMP_CURRENT_URL, lmp_day_url(day(2025, 11, 2)), lmp_day_url(day(2025, 11, 3))]
    # today's file not started yet (404) is left out; yesterday's 404 is kept, for parse to report
    assert [r.url for r in got] == [LMP_CURRENT_URL, lmp_day_url(day(2025, 11, 2))]
    http = AskedHttp()
    SOURCE.fetch("load", http, datetime(2025, 6, 10, 18, 42, tzinfo=UTC))
    assert http.asked == [pal_day_url(day(2025, 6, 10))]


# -- the real files (../shared/iso-samples/nyiso) ---------------------------------------------


def test_real_lmp_file(iso_samples: Path) -> None:
    body = (iso_samples / "nyiso" / "pyiso_nyiso_lmp.csv").read_bytes()
    resp = Response(lmp_day_url(day(2016, 2, 18)), 200, body, {}, datetime(2016, 2, 18, 6, tzinfo=UTC))
    ticks = SOURCE.parse("lmp", [resp])
    assert len(ticks) == 45 and {t["location"] for t in ticks} == ZONES | PROXIES
    t = by_key(ticks)[("CAPITL", "2016-02-18T05:10:00Z")]  # "02/18/2016 00:15:00" EST, interval ending
    assert t["interval_end"] == "2016-02-18T05:15:00Z"
    assert (t["lmp"], t["loss"], t["congestion"], t["energy"]) == (21.53, 1.69, 0.0, pytest.approx(19.84))
    h_q = by_key(ticks)[("H Q", "2016-02-18T05:10:00Z")]
    assert (h_q["lmp"], h_q["loss"], h_q["location_type"]) == (19.21, -0.64, "interface")


def test_real_pal_file(iso_samples: Path) -> None:
    body = (iso_samples / "nyiso" / "pyiso_nyiso_20171122pal.csv").read_bytes()
    resp = Response(pal_day_url(day(2017, 11, 22)), 200, body, {}, datetime(2017, 11, 23, 5, tzinfo=UTC))
    ticks = SOURCE.parse("load", [resp])
    per_location: dict[str, int] = {}
    for t in ticks:
        per_location[t["location"]] = per_location.get(t["location"], 0) + 1
    # 291 stamps in the file: the 288 on the 5-minute grid are kept, off-cycle ones (00:07:34...) are not
    assert set(per_location.values()) == {288} and set(per_location) == ZONES | {"NYISO"}
    ticks_by = by_key(ticks)
    first = ticks_by[("CAPITL", "2017-11-22T04:55:00Z")]  # "11/22/2017 00:00:00","EST": ends 05:00Z
    assert (first["load_mw"], first["interval_end"]) == (1140.5, "2017-11-22T05:00:00Z")
    assert ticks_by[("NYISO", "2017-11-22T04:55:00Z")]["load_mw"] == pytest.approx(
        1140.5 + 1581.8 + 557.8 + 951.5 + 977.7 + 1798.3 + 730.3 + 235.6 + 4776.8 + 454.8 + 1635.7
    )


def test_after_an_outage_every_day_file_since_the_cursor_is_read() -> None:
    http = AskedHttp()
    now = datetime(2025, 6, 10, 18, 42, tzinfo=UTC)
    got = SOURCE.fetch("load", http, now, datetime(2025, 6, 8, 23, 0, tzinfo=UTC))  # 19:00 EDT on the 8th
    assert http.asked == [pal_day_url(day(2025, 6, d)) for d in (8, 9, 10)]
    assert got == []  # catch-up days not there are left to backfill; today's not begun yet either
    http = AskedHttp()
    SOURCE.fetch("lmp", http, now, now - timedelta(days=30))
    assert http.asked[1:] == [lmp_day_url(day(2025, 6, d)) for d in (7, 8, 9, 10)]  # at most MAX_CATCHUP_DAYS
    assert all(url.startswith("https://") for url in http.asked)

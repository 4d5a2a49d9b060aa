"""ISO-NE day-ahead LMPs, zonal load and archives: WW_DALMP_ISO hours are hour ENDING (23 and 25
hours on the DST days, "02X" the repeated one), the historical five-minute LMP files carry
their date only in the address, history() reads the files gridstatus reads for past days and
agrees with the live day tree on 2026-06-11, bad files are refused naming their URL."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers import http
from producers.base import Request, Response
from producers.isone import LOAD_URL, ZONAL_URL, IsoneSource, da_url, hist_lmp_url
from tests.producers.iso_contract import RECORDINGS, assert_contiguous, recorded

TZ = isos.get("ISONE").tz
HUB_ZONES = {".H.INTERNAL_HUB", *(f".Z.{z}" for z in ("MAINE", "NEWHAMPSHIRE", "VERMONT", "CONNECTICUT"))}
HUB_ZONES |= {".Z.RHODEISLAND", ".Z.SEMASS", ".Z.WCMASS", ".Z.NEMASSBOST"}
ZONES = HUB_ZONES - {".H.INTERNAL_HUB"}
HISTORY = RECORDINGS / "history" / "isone"
SRC = IsoneSource()
SPRING, FALL, DAY = date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11)
COUNT = {SPRING: 276, FALL: 300, DAY: 288}
LATER = datetime(2026, 12, 1, tzinfo=UTC)


def parse(feed: str, responses: list[Response], source: IsoneSource = SRC) -> list[dict[str, Any]]:
    return source.parse_rows(feed, responses, live=False).ticks


def midnight(day: date) -> str:
    return contract.format_ts(datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(UTC))


def da(day: date) -> Response:
    return recorded("ISONE", f"WW_DALMP_ISO_{day:%Y%m%d}.csv", "2026-12-01T00:00:00Z")


def history(feed: str, day: date, root: Path = HISTORY) -> list[dict[str, Any]]:
    layer = http.replay(http.Recordings.load(root), clock=lambda: LATER)
    responses = IsoneSource().history(feed, day, layer)
    assert isinstance(layer.transport, http.ReplayTransport) and not layer.transport.unmatched
    return parse(feed, responses)


# -- day-ahead: hour ending ------------------------------------------------------------------------
@pytest.mark.parametrize(("day", "hours"), [(date(2025, 6, 10), 24), (SPRING, 23), (FALL, 25)])
def test_dam_hours_per_location_on_normal_and_dst_days(day: date, hours: int) -> None:
    ticks = parse("dam", [da(day)])
    assert (
        set(Counter(t["location"] for t in ticks).values()) == {hours} and {t["location"] for t in ticks} == HUB_ZONES
    )
    hub = sorted(t["interval_start"] for t in ticks if t["location"] == ".H.INTERNAL_HUB")
    assert_contiguous(hub, midnight(day), hours, 60)
    for t in ticks:
        contract.validate(t)
        assert (t["dataset"], t["market"]) == ("lmp", "DAM")
        assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"], abs=0.0051)


def test_hour_ending_labels() -> None:
    lines = da(FALL).body.decode().splitlines()
    labels = [line.split(",")[2].strip('"') for line in lines if line.startswith('"D"') and ".H.INTERNAL_HUB" in line]
    assert labels[:4] == ["01", "02", "02X", "03"] and labels[-1] == "24"
    by = {t["interval_start"]: t for t in parse("dam", [da(FALL)]) if t["location"] == ".H.INTERNAL_HUB"}
    row = next(line for line in lines if '"02X",4000' in line)
    assert by["2025-11-02T06:00:00Z"]["lmp"] == float(row.split(",")[6])  # 02X: 01:00-02:00 EST
    assert by["2025-11-02T04:00:00Z"]["interval_end"] == "2025-11-02T05:00:00Z"  # 01: 00:00-01:00 EDT
    spring = [line.split(",")[2].strip('"') for line in da(SPRING).body.decode().splitlines() if ",4000," in line]
    assert "03" not in spring and spring[:3] == ["01", "02", "04"]


def test_dam_nodes_only_with_include_nodes() -> None:
    nodes = {
        t["location"]: t["location_type"]
        for t in parse("dam", [da(DAY - timedelta(days=366))], IsoneSource(include_nodes=True))
    }
    assert nodes["LD.MILLBURY115"] == "node" and nodes[".Z.MAINE"] == "zone"


class Asked:
    def __init__(self, missing: str = "") -> None:
        self.asked: list[str] = []
        self.missing = missing

    def get(self, request: Request) -> Response:
        self.asked.append(request.url)
        status = 404 if self.missing and self.missing in request.url else 200
        return Response(request.url, status, b"x", {}, LATER)


def test_dam_fetch_follows_posts_at() -> None:
    before, after = datetime(2026, 6, 11, 17, 29, tzinfo=UTC), datetime(2026, 6, 11, 17, 30, tzinfo=UTC)  # 13:30 EDT
    h = Asked()
    SRC.fetch("dam", h, before)
    assert h.asked[1:] == [da_url(DAY)]
    h = Asked()
    SRC.fetch("dam", h, after)
    assert h.asked[1:] == [da_url(DAY), da_url(DAY + timedelta(days=1))]
    assert [r.url for r in SRC.fetch("dam", Asked("20260612"), after)] == [da_url(DAY)]  # late: no error
    assert [r.status for r in SRC.fetch("dam", Asked("20260611"), after)] == [404, 200]  # today's missing: reported


# -- history --------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", [SPRING, FALL, DAY])
def test_history_reads_one_operating_day(day: date) -> None:
    for feed, n, locations in (
        ("lmp", COUNT[day], HUB_ZONES),
        ("load", COUNT[day], ZONES | {"ISONE"}),
        ("dam", COUNT[day] // 12, HUB_ZONES),
    ):
        ticks = history(feed, day)
        per = Counter(t["location"] for t in ticks)
        assert set(per.values()) == {n} and set(per) == locations, (feed, per)
        assert {contract.parse_ts(t["interval_start"]).astimezone(TZ).date() for t in ticks} == {day}
        for location in ("ISONE" if feed == "load" else ".H.INTERNAL_HUB", ".Z.MAINE"):
            starts = sorted(t["interval_start"] for t in ticks if t["location"] == location)
            assert_contiguous(starts, midnight(day), n, 60 if feed == "dam" else 5)


def test_history_asks_the_cookie_page_then_the_files() -> None:
    h = Asked()
    IsoneSource().history("lmp", DAY, h)
    assert h.asked[0].endswith("gen-fuel-mix") and h.asked[1:] == [
        hist_lmp_url(DAY, b) for b in ("00-04", "04-08", "08-12", "12-16", "16-20", "20-24")
    ]
    h = Asked()
    IsoneSource().history("load", DAY, h)
    assert h.asked[1:] == [LOAD_URL, ZONAL_URL]
    assert IsoneSource().archives == {"lmp", "load", "dam"}


def hist_file(day: date, block: str) -> Response:
    url = hist_lmp_url(day, block)
    return Response(url, 200, (HISTORY / url.rsplit("/", 1)[1]).read_bytes(), {}, LATER)


def test_a_historical_lmp_file_takes_its_day_from_the_address() -> None:
    good = hist_file(DAY, "08-12")
    moved = replace(good, url=hist_lmp_url(DAY + timedelta(days=1), "08-12"))
    first = min(t["interval_start"] for t in parse("lmp", [good]))
    assert first == "2026-06-11T12:00:00Z"  # 08:00 EDT
    assert min(t["interval_start"] for t in parse("lmp", [moved])) == "2026-06-12T12:00:00Z"
    with pytest.raises(SourceError, match="not an ISO-NE file"):
        parse("lmp", [replace(good, url="https://www.iso-ne.com/static-transform/csv/histRpts/5min/x.csv")])


def test_history_agrees_with_the_live_day_tree() -> None:
    root = RECORDINGS / "day" / "isone"
    manifest = json.loads((root / "manifest.json").read_text())

    def live(prefix: str) -> list[Response]:
        return [
            Response(r["url"], 200, (root / r["file"]).read_bytes(), {}, datetime(2026, 6, 12, 7, tzinfo=UTC))
            for r in manifest["responses"]
            if r["file"].startswith(prefix)
        ]

    fields = ("interval_start", "interval_end", "lmp", "energy", "congestion", "loss", "load_mw")
    for feed, prefixes in (
        ("lmp", ("fiveminlmp",)),
        ("load", ("fiveminutesystemload", "fiveminuteestimated")),
        ("dam", ("WW_",)),
    ):
        polled: dict[Any, dict[str, Any]] = {}
        for prefix in prefixes:
            for resp in live(prefix):  # each file alone: same-URL files are successive versions
                polled.update({contract.natural_key(t): t for t in parse(feed, [resp])})
        archived = {contract.natural_key(t): t for t in history(feed, DAY)}
        assert len(archived.keys() & polled.keys()) == len(archived), feed  # the live tree holds the whole day
        for key in archived:
            assert {f: polled[key][f] for f in fields} == {f: archived[key][f] for f in fields}, key


def test_gridtape_parse_reads_the_day_from_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app import cli

    saved = tmp_path / "saved.csv"
    saved.write_bytes(hist_file(FALL, "00-04").body)
    url = hist_lmp_url(FALL, "00-04")
    assert cli.main(["parse", "--iso", "ISONE", "--dataset", "lmp", "--url", url, str(saved)]) == 0
    ticks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    hub = sorted(t["interval_start"] for t in ticks if t["location"] == ".H.INTERNAL_HUB")
    assert_contiguous(hub, "2025-11-02T04:00:00Z", 60)  # five hours: 01:00-02:00 twice
    assert cli.main(["parse", "--iso", "ISONE", "--dataset", "lmp", str(saved)]) == 1  # no day without the URL


# -- bad input ------------------------------------------------------------------------------------
GOOD = hist_file(DAY, "12-16")
TEXT = GOOD.body.decode()
ZONAL = recorded("ISONE", "fiveminuteestimatedzonalload_20250610.csv", "2025-06-10T18:42:00Z")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<!DOCTYPE html><html><body>403 Forbidden</body></html>",
        TEXT[: TEXT.rindex('"T"')].encode(),
        TEXT.replace('"Energy Component"', '"Energy"', 1).encode(),
    ],
    ids=["empty", "html", "truncated", "renamed column"],
)
def test_a_bad_historical_file_is_a_source_error_naming_its_url(body: bytes) -> None:
    with pytest.raises(SourceError) as err:
        parse("lmp", [replace(GOOD, body=body)])
    assert err.value.url == GOOD.url and GOOD.url in str(err.value)


def test_a_bad_row_is_refused_alone() -> None:
    n = len(parse("lmp", [GOOD]))
    lines = TEXT.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith('"D"'))
    for bad in (lines[i].replace(",4000,", ",4000,x", 1), lines[i].replace('"12:00:00"', '"noon"')):
        got = SRC.parse_rows(
            "lmp", [replace(GOOD, body=("\r\n".join([*lines[:i], bad, *lines[i + 1 :]]) + "\r\n").encode())], live=False
        )
        assert len(got.refused) == 1 and got.refused[0].url == GOOD.url and len(got.ticks) == n - 1
    dam = da(FALL)
    body = dam.body.decode().replace('"02X",4001', '"2X",4001', 1).encode()
    got = SRC.parse_rows("dam", [replace(dam, body=body)], live=False)
    assert len(got.refused) == 1 and "Hour Ending" in got.refused[0].reason


def test_zonal_load_is_read_by_position_and_checked_against_the_zone_ids() -> None:
    ticks = SRC.parse("load", [ZONAL])
    assert {t["location"] for t in ticks} == ZONES and {t["location_type"] for t in ticks} == {"zone"}
    first = ZONAL.body.decode().splitlines()[5].split(",")  # "D","2025-06-10 00:00:00",4001,".Z.MAINE",mw,btm
    t = next(t for t in ticks if t["location"] == first[3].strip('"') and t["interval_start"] == "2025-06-10T04:00:00Z")
    assert t["load_mw"] == float(first[4])
    swapped = (
        ZONAL.body.decode()
        .replace(',4001,".Z.MAINE",', ',4002,".Z.MAINE",')
        .replace(',4002,".Z.NEWHAMPSHIRE",', ',4001,".Z.NEWHAMPSHIRE",')
    )
    with pytest.raises(SourceError, match="rows refused"):
        SRC.parse("load", [replace(ZONAL, body=swapped.encode())])


def test_history_tree_writes_a_replayable_range(tmp_path: Path) -> None:
    from tools.recordings.generate_isone import history_tree

    start, end = date(2025, 11, 1), date(2025, 11, 3)
    history_tree(tmp_path, start, end)
    for feed, step in (("lmp", 5), ("load", 5), ("dam", 60)):
        days = [start + timedelta(days=n) for n in range(3)]
        starts = sorted(
            t["interval_start"] for d in days for t in history(feed, d, tmp_path) if t["location"] == ".Z.MAINE"
        )
        assert_contiguous(starts, midnight(start), (3 * 24 + 1) * 60 // step, step)


def test_zone_ids_match_iso_nes_location_list(iso_samples: Path) -> None:
    """The historical five-minute files and the zonal load name locations by ID only: the IDs
    gridtape maps are ISO-NE's own (its location list and a real zonal demand answer), and
    the type a name's prefix gives is the type ISO-NE lists for it."""
    from producers.isone.files import HUB_AND_ZONES, LOCATION_TYPES, type_by_name

    doc = json.loads((iso_samples / "isone" / "isone_ws_locations_00.json").read_text())
    locations = doc["Locations"]["Location"]
    real = {str(loc["LocationID"]): loc["LocationName"] for loc in locations}
    assert {k: real[k] for k in HUB_AND_ZONES} == HUB_AND_ZONES
    for loc in locations:
        assert type_by_name(loc["LocationName"]) == LOCATION_TYPES.get(loc["LocationType"], "node"), loc
    demand = json.loads((iso_samples / "isone" / "isone_ws_realtimehourlydemand_current_loc4001_00.json").read_text())
    location = demand["HourlyRtDemand"]["Location"]
    assert HUB_AND_ZONES[location["@LocId"]] == location["$"] and type_by_name(location["$"]) == "zone"

"""ERCOT: MIS document lists + zipped SCED / settlement-price CSVs, and the system-wide demand
dashboard JSON, on committed recordings (and the real dashboard capture in ../shared,
through the iso_samples fixture, which skips when ../shared is absent)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gridtape.errors import SourceError
from producers.base import Response
from producers.ercot import ErcotSource, lmp, load, named_day
from tests.producers import iso_contract as ic
from tools.recordings import synth

SRC = ErcotSource()
HUBS_ZONES = {"HB_HOUSTON", "HB_NORTH", "HB_SOUTH", "HB_WEST", "HB_HUBAVG", "LZ_HOUSTON", "LZ_NORTH", "LZ_WEST"}
DIR = ic.RECORDINGS / "ercot"


def listing(report: str) -> Response:
    return ic.recorded("ERCOT", f"doclist_{report}.json", "2025-11-03T12:00:00Z")


def documents(report: str, day: str) -> list[Response]:
    """The doc list plus every recorded CSV document of `report` that holds `day` (by its name:
    SCED runs by their time, settlement intervals by their end)."""
    doc_list = listing(report)
    fetched = f"{datetime.strptime(day, '%Y%m%d') + timedelta(days=1):%Y-%m-%dT12:00:00Z}"  # the day after
    wanted = datetime.strptime(day, "%Y%m%d").date()
    return [doc_list] + [
        ic.recorded("ERCOT", f"{report}_{d.doc_id}.zip", fetched)
        for d in lmp.documents(doc_list)
        if named_day(d) == wanted
    ]


def demand(now: str) -> Response:
    """The system-wide demand dashboard the poll at `now` saved (the file is named by that minute)."""
    return ic.recorded("ERCOT", f"system_wide_demand_{datetime.fromisoformat(now):%Y%m%dT%H%M}.json", now)


NORMAL = ic.fetch_recorded(SRC, "lmp", "2025-06-10T18:42:00Z")
SCED_SPRING = documents("12300", "20250309")
SCED_FALL = documents("12300", "20251102")
SPP_SPRING = documents("12301", "20250309")
SPP_FALL = documents("12301", "20251102")
LOAD_NORMAL = demand("2025-06-10T18:42:01Z")
LOAD_AFTER_SPRING = demand("2025-03-10T12:10:01Z")
LOAD_AFTER_FALL = demand("2025-11-03T12:10:01Z")


class TestErcotContract(ic.IsoContract):
    source = SRC
    cases = (
        ic.Case("lmp normal poll", "lmp", NORMAL, 5, HUBS_ZONES),
        ic.Case("lmp spring poll", "lmp", ic.fetch_recorded(SRC, "lmp", "2025-03-09T08:07:00Z"), 5, HUBS_ZONES),
        ic.Case("lmp fall poll", "lmp", ic.fetch_recorded(SRC, "lmp", "2025-11-02T07:07:00Z"), 5, HUBS_ZONES),
        ic.Case("sced 00-04 spring day", "lmp", SCED_SPRING, 36, HUBS_ZONES),
        ic.Case("sced 00-04 fall day", "lmp", SCED_FALL, 60, HUBS_ZONES),
        ic.Case("spp spring day", "lmp", SPP_SPRING, 92, HUBS_ZONES),
        ic.Case("spp fall day", "lmp", SPP_FALL, 100, HUBS_ZONES),
        ic.Case("load normal", "load", [LOAD_NORMAL], 24 + 13, {"ERCOT"}),
        ic.Case("load after spring day", "load", [LOAD_AFTER_SPRING], 23 + 7, {"ERCOT"}),
        ic.Case("load after fall day", "load", [LOAD_AFTER_FALL], 25 + 6, {"ERCOT"}),
    )


def starts(ticks: list[dict], location: str, market: str) -> list[str]:
    return sorted(t["interval_start"] for t in ticks if t["location"] == location and t["market"] == market)


def test_normal_poll_fetches_newest_documents_of_both_reports() -> None:
    ticks = SRC.parse("lmp", NORMAL)
    assert {t["market"] for t in ticks} == {"RT5", "RT15"}
    assert starts(ticks, "HB_NORTH", "RT5") == ["2025-06-10T18:30:00Z", "2025-06-10T18:35:00Z", "2025-06-10T18:40:00Z"]
    assert starts(ticks, "HB_NORTH", "RT15") == ["2025-06-10T18:00:00Z", "2025-06-10T18:15:00Z"]
    assert not any(t["location_type"] == "node" for t in ticks), "nodes only with include_nodes"
    nodes = ErcotSource(include_nodes=True).parse("lmp", NORMAL)
    assert {"AMISTAD_ALL", "SOLARA_UNIT1"} <= {t["location"] for t in nodes if t["location_type"] == "node"}
    assert all(t["energy"] is None and t["congestion"] is None and t["loss"] is None for t in ticks)


def test_known_values() -> None:
    ticks = {(t["market"], t["location"], t["interval_start"]): t for t in SRC.parse("lmp", NORMAL)}
    sced = ticks[("RT5", "HB_HOUSTON", "2025-06-10T18:40:00Z")]
    assert (sced["interval_end"], sced["lmp"]) == ("2025-06-10T18:45:00Z", KNOWN["sced"])
    assert sced["published_at"] == KNOWN["sced_published"]  # the document's PublishDate, not the fetch
    assert sced["source"] == lmp.DOWNLOAD_URL + "?doclookupId=" + KNOWN["sced_doc"]
    spp = ticks[("RT15", "LZ_WEST", "2025-06-10T18:15:00Z")]
    assert (spp["interval_end"], spp["lmp"], spp["location_type"]) == ("2025-06-10T18:30:00Z", KNOWN["spp"], "zone")


KNOWN = {"sced": -1.0, "sced_published": "2025-06-10T18:41:22Z", "sced_doc": "1140000041", "spp": -7.2}


def test_second_sced_run_in_an_interval_wins() -> None:
    # SCED ran at 13:30:xx and again at 13:32:31 CDT: both map to 18:30-18:35Z; the later wins.
    day = documents("12300", "20250610")
    ticks = SRC.parse("lmp", day)
    got = [t for t in ticks if t["location"] == "HB_WEST" and t["interval_start"] == "2025-06-10T18:30:00Z"]
    doc = json.loads(listing("12300").body)["ListDocsByRptTypeRes"]["DocumentList"]
    rerun = next(d["Document"]["DocID"] for d in doc if d["Document"]["FriendlyName"].endswith("_20250610_133231_csv"))
    assert len(got) == 1 and got[0]["source"].endswith(f"doclookupId={rerun}")
    assert len(starts(ticks, "HB_WEST", "RT5")) == 21  # 17:00-18:40Z, one tick per interval


def test_sced_fall_repeated_hour_two_utc_hours() -> None:
    got = starts(SRC.parse("lmp", SCED_FALL), "HB_HOUSTON", "RT5")
    assert "2025-11-02T06:00:00Z" in got and "2025-11-02T07:00:00Z" in got  # 01:00 CDT and 01:00 CST
    ic.assert_contiguous(got, "2025-11-02T05:00:00Z", 60)


def test_sced_spring_gap() -> None:
    got = starts(SRC.parse("lmp", SCED_SPRING), "HB_HOUSTON", "RT5")
    assert "2025-03-09T07:55:00Z" in got and "2025-03-09T08:00:00Z" in got  # 01:55 CST then 03:00 CDT
    ic.assert_contiguous(got, "2025-03-09T06:00:00Z", 36)


def test_spp_dst_days_whole() -> None:
    fall = starts(SRC.parse("lmp", SPP_FALL), "HB_NORTH", "RT15")
    ic.assert_contiguous(fall, "2025-11-02T05:00:00Z", 100, minutes=15)
    spring = starts(SRC.parse("lmp", SPP_SPRING), "LZ_HOUSTON", "RT15")
    ic.assert_contiguous(spring, "2025-03-09T06:00:00Z", 92, minutes=15)


def test_lzew_twin_is_not_emitted() -> None:
    ticks = SRC.parse("lmp", SPP_FALL)
    per_key = {(t["location"], t["interval_start"]) for t in ticks}
    assert len(per_key) == len(ticks)


def test_load_previous_day_counts_and_times() -> None:
    for resp, day_start, hours in (
        (LOAD_AFTER_FALL, "2025-11-02T05:00:00Z", 25),
        (LOAD_AFTER_SPRING, "2025-03-09T06:00:00Z", 23),
    ):
        ticks = SRC.parse("load", [resp])
        assert all(t["market"] == "RTH" and t["location_type"] == "system" for t in ticks)
        day = [t["interval_start"] for t in ticks][:hours]
        ic.assert_contiguous(day, day_start, hours, minutes=60)


def test_load_mislabelled_repeated_hour_is_recovered() -> None:
    doc = json.loads(LOAD_AFTER_FALL.body)
    rows = doc["previousDay"]["data"]
    # The known dashboard quirk: the repeated hour (ending 01:00 CST) stamped 02:00 CST, flag N,
    # beside the true 02:00 CST row.
    repeated = next(r for r in rows if r["timestamp"] == "2025-11-02 01:00:00-0600")
    repeated["timestamp"], repeated["dstFlag"] = "2025-11-02 02:00:00-0600", "N"
    next(r for r in rows if r["timestamp"] == "2025-11-02 02:00:00-0600" and r is not repeated)["dstFlag"] = "Y"
    quirky = Response(LOAD_AFTER_FALL.url, 200, json.dumps(doc).encode(), {}, LOAD_AFTER_FALL.fetched_at)
    assert SRC.parse("load", [quirky]) == SRC.parse("load", [LOAD_AFTER_FALL])


def test_fetch_picks_runs_across_the_spring_gap() -> None:
    responses = ic.fetch_recorded(SRC, "lmp", "2025-03-09T08:07:00Z")
    ticks = SRC.parse("lmp", responses)
    assert starts(ticks, "HB_PAN", "RT5") == ["2025-03-09T07:55:00Z", "2025-03-09T08:00:00Z", "2025-03-09T08:05:00Z"]
    urls = [r.url for r in responses]
    assert urls == [r.url for r in ic.fetch_recorded(SRC, "lmp", "2025-03-09T08:07:00Z")]


def test_recorded_polls_replay() -> None:
    polls = ic.replay_polls(SRC)
    assert all(polls.values()), [k for k, v in polls.items() if not v]
    fall = starts(polls["lmp: fall DST: SCED runs at 01:55 CDT, 01:00 and 01:05 CST"], "HB_BUSAVG", "RT5")
    assert fall == ["2025-11-02T06:55:00Z", "2025-11-02T07:00:00Z", "2025-11-02T07:05:00Z"]


# -- malformed input ---------------------------------------------------------------------------
def first_download() -> Response:
    return next(r for r in NORMAL if "mirDownload" in r.url and b"SCEDTimestamp" in _csv(r.body))


def _csv(body: bytes) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return z.read(z.namelist()[0])


def rezip(edit) -> bytes:  # type: ignore[no-untyped-def]
    return synth.zip_bytes({"x.csv": edit(_csv(first_download().body).decode()).encode()})


BAD_DOWNLOAD = {
    "html page": b"<!DOCTYPE html><html><body>Temporarily unavailable</body></html>",
    "empty body": b"",
    "truncated zip": first_download().body[:-40],
    "renamed column": rezip(lambda s: s.replace('"LMP"', '"Price"')),
    "truncated csv": rezip(lambda s: s[: s.rindex(",")]),
    "xml instead of csv": synth.zip_bytes({"x.xml": b"<LMPs/>"}),
    "a settlement point twice": rezip(lambda s: s + s.splitlines(True)[1]),
}
BAD_DOWNLOAD_ROW = {
    "non-numeric price": rezip(lambda s: s.replace('","HB_HOUSTON","', '","HB_HOUSTON","x', 1)),
    "bad repeated-hour flag": rezip(lambda s: s.replace('","N","HB_HOUSTON"', '","?","HB_HOUSTON"', 1)),
}


@pytest.mark.parametrize("body", BAD_DOWNLOAD_ROW.values(), ids=BAD_DOWNLOAD_ROW.keys())
def test_one_bad_download_row_is_refused_alone(body: bytes) -> None:
    good = first_download()
    parsed = SRC.parse_rows("lmp", [NORMAL[0], Response(good.url, 200, body, {}, good.fetched_at)])
    assert len(parsed.refused) == 1 and parsed.refused[0].url == good.url and "HB_HOUSTON" in parsed.refused[0].row
    assert len(parsed.ticks) == len(SRC.parse("lmp", [NORMAL[0], good])) - 1


@pytest.mark.parametrize("body", BAD_DOWNLOAD.values(), ids=BAD_DOWNLOAD.keys())
def test_bad_download_raises(body: bytes) -> None:
    good = first_download()
    bad = Response(good.url, 200, body, {}, good.fetched_at)
    with pytest.raises(SourceError) as err:
        SRC.parse("lmp", [NORMAL[0], bad])
    assert err.value.iso == "ERCOT" and err.value.url == good.url and "mirDownload" in str(err.value)


BAD_LIST = {
    "html page": b"<html><body>Maintenance</body></html>",
    "truncated json": listing("12300").body[:500],
    "renamed key": listing("12300").body.replace(b"DocumentList", b"Documents"),
    "bad publish date": listing("12300").body.replace(b'"PublishDate":"2025', b'"PublishDate":"yesterday 2025', 1),
}


@pytest.mark.parametrize("body", BAD_LIST.values(), ids=BAD_LIST.keys())
def test_bad_document_list_raises(body: bytes) -> None:
    bad = Response(NORMAL[0].url, 200, body, {}, NORMAL[0].fetched_at)
    with pytest.raises(SourceError) as err:
        SRC.parse("lmp", [bad, *NORMAL[1:]])
    assert err.value.iso == "ERCOT" and "IceDocListJsonWS" in err.value.url


# the load dashboard's malformed input: test_ercot_load.py, with the five-minute dashboard's


# -- real sample -------------------------------------------------------------------------------
def test_real_dashboard_capture(iso_samples: Path) -> None:
    """The real system-wide demand JSON: the parser reads it, and its timestamps are hour ENDs
    whose epoch agrees (HE1 on 2024-11-24 ends 01:00 CST = 07:00Z)."""
    body = (iso_samples / "ercot" / "emaps_ercot_supply_demand_2024-11-25.json").read_bytes()
    doc = json.loads(body)
    for day in ("previousDay", "currentDay", "nextDay"):
        for row in doc[day]["data"]:
            end = datetime.strptime(row["timestamp"], "%Y-%m-%d %H:%M:%S%z")
            assert int(end.timestamp() * 1000) == row["epoch"]
            assert end.astimezone(UTC).hour == (row["hourEnding"] + 6) % 24  # CST, hour ENDING
    ticks = SRC.parse("load", [Response(load.URL, 200, body, {}, datetime(2024, 11, 25, 8, 16, tzinfo=UTC))])
    assert len(ticks) == 24 + 2  # the whole previous day, and HE1-HE2 of the current day so far
    first = ticks[0]
    assert (first["interval_start"], first["interval_end"], first["load_mw"]) == (
        "2024-11-24T06:00:00Z",
        "2024-11-24T07:00:00Z",
        42015.44,
    )
    assert first["published_at"] == "2024-11-25T08:15:02Z"  # lastUpdated, 02:15:02 CST

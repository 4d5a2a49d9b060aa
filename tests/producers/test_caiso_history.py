"""CAISO history(): the archives it asks for, the committed replay tree of both DST days and the
demo day, live and historical parses agreeing, outlook history files dated by their address
(`gridtape parse --url`), TAC-area zone load, malformed archives."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers import http
from producers.base import Response
from producers.caiso import TAC_AREAS, CaisoSource, oasis, outlook
from tests.producers.iso_contract import RECORDINGS, assert_contiguous, malformed_tests
from tools.recordings import generate_caiso

HISTORY = RECORDINGS / "history" / "caiso"
DAY_TREE = RECORDINGS / "day" / "caiso"
HUBS = isos.get("CAISO").hubs
SRC = CaisoSource()
DAYS = {date(2025, 3, 9): 276, date(2025, 11, 2): 300, date(2026, 6, 11): 288}  # 5-minute intervals
VALUES = ("interval_end", "lmp", "energy", "congestion", "loss", "load_mw")


@pytest.fixture
def zonal(monkeypatch: pytest.MonkeyPatch) -> CaisoSource:
    """CAISO with the hourly load feed its TAC-area ticks belong to (asked of the lead for the
    ISO table; patched here so the zone path runs whatever the table says today)."""
    iso = isos.get("CAISO")
    if not any(f.market == "RTH" for f in iso.feeds_named("load")):
        feeds = (*iso.feeds[:2], isos.Feed("load", "RTH", 60), *iso.feeds[2:])
        monkeypatch.setitem(isos.BY_CODE, "CAISO", dataclasses.replace(iso, feeds=feeds))
    return CaisoSource()


def backfill(source: CaisoSource, feed: str, day: date, tree: Path = HISTORY) -> list[dict[str, Any]]:
    """history() answered by a replay tree, parsed as a backfill parses (no live window)."""
    layer = http.replay(http.Recordings.load(tree), clock=lambda: datetime(2026, 7, 1, tzinfo=UTC))
    responses = source.history(feed, day, layer)
    assert isinstance(layer.transport, http.ReplayTransport)
    assert not layer.transport.unmatched, layer.transport.unmatched
    parsed = source.parse_rows(feed, responses, live=False)
    assert not parsed.refused, parsed.refused[:3]
    return parsed.ticks


def on_day(ticks: list[dict[str, Any]], day: date, location: str) -> list[str]:
    start, end = oasis.midnight(day), oasis.midnight(day + timedelta(days=1))
    return sorted(
        t["interval_start"]
        for t in ticks
        if t["location"] == location and start <= contract.parse_ts(t["interval_start"]) < end
    )


def first(day: date) -> str:
    return oasis.midnight(day).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_archives_and_requests_per_operating_day() -> None:
    assert CaisoSource.archives == {"lmp", "load", "dam"}
    for day in DAYS:
        span = (oasis.midnight(day).strftime(oasis.TIME), oasis.midnight(day + timedelta(days=1)).strftime(oasis.TIME))
        for feed, query in (("lmp", "PRC_INTVL_LMP"), ("dam", "PRC_LMP")):
            (request,) = SRC.history_requests(feed, day)
            assert request.url == oasis.URL and request.params["queryname"] == query
            assert (request.params["startdatetime"], request.params["enddatetime"]) == span
        urls = [r.url for r in SRC.history_requests("load", day)[:2]]
        assert urls == [
            f"https://www.caiso.com/outlook/history/{d:%Y%m%d}/demand.csv" for d in (day, day + timedelta(1))
        ]
    # every node: OASIS answers an hour per query, so a day is 23, 24 or 25 of them
    assert len(CaisoSource(include_nodes=True).history_requests("lmp", date(2025, 11, 2))) == 25
    with pytest.raises(NotImplementedError):
        SRC.history_requests("prices", date(2025, 1, 1))


@pytest.mark.parametrize("day", list(DAYS), ids=str)
def test_backfilled_day_is_whole_both_dst_days_included(day: date) -> None:
    lmp, dam, load = (backfill(SRC, feed, day) for feed in ("lmp", "dam", "load"))
    for hub in HUBS:
        assert_contiguous(on_day(lmp, day, hub), first(day), DAYS[day])
        assert_contiguous(on_day(dam, day, hub), first(day), DAYS[day] // 12, minutes=60)
    assert_contiguous(on_day(load, day, "CAISO"), first(day), DAYS[day])
    assert all(t["market"] == "DAM" for t in dam) and all(t["market"] == "RT5" for t in lmp)


def live_day_ticks(source: CaisoSource) -> dict[str, list[dict[str, Any]]]:
    """Every poll of the demo day's replay tree, parsed: feed -> ticks."""
    recordings = http.Recordings.load(DAY_TREE)
    clock = [recordings.polls[0].now]
    layer = http.replay(recordings, clock=lambda: clock[0])
    cursors: dict[str, datetime] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for poll in recordings.polls:
        clock[0] = poll.now
        ticks = source.parse(poll.dataset, source.fetch(poll.dataset, layer, poll.now, cursors.get(poll.dataset)))
        cursors[poll.dataset] = max(contract.parse_ts(t["interval_end"]) for t in ticks)
        out.setdefault(poll.dataset, []).extend(ticks)
    return out


def assert_agree(live: list[dict[str, Any]], past: list[dict[str, Any]], at_least: int) -> None:
    live_by = {contract.natural_key(t): t for t in live}
    past_by = {contract.natural_key(t): t for t in past}
    shared = live_by.keys() & past_by.keys()
    assert len(shared) >= at_least, (len(shared), at_least)
    differ = [k for k in shared if any(live_by[k].get(v) != past_by[k].get(v) for v in VALUES)]
    assert not differ, [(live_by[k], past_by[k]) for k in differ[:2]]


def test_live_and_historical_files_agree_on_the_demo_day(zonal: CaisoSource) -> None:
    day = date(2026, 6, 11)
    live = live_day_ticks(zonal)
    locations = len(HUBS) + 4
    assert_agree(live["lmp"], backfill(zonal, "lmp", day), 288 * locations)
    assert_agree(live["dam"], backfill(zonal, "dam", day), 24 * locations)
    past_load = backfill(zonal, "load", day)
    assert_agree(live["load"], past_load, 288 + 24 * len(TAC_AREAS))
    for area in TAC_AREAS:  # the zone ticks of the day, live and backfilled
        assert_contiguous(on_day(past_load, day, area), first(day), 24, minutes=60)
        assert_contiguous(sorted(set(on_day(live["load"], day, area))), first(day), 24, minutes=60)


def test_tac_areas_are_hourly_zone_ticks_of_the_load_feed(zonal: CaisoSource) -> None:
    requests = zonal.load_requests(datetime(2026, 6, 11, 18, 42, tzinfo=UTC))
    assert [r.params.get("queryname") for r in requests] == [None, "SLD_FCST"]
    assert requests[1].params["market_run_id"] == "ACTUAL"
    assert (requests[1].params["startdatetime"], requests[1].params["enddatetime"]) == (
        "20260610T18:00-0000",
        "20260611T18:00-0000",
    )
    zones = [t for t in backfill(zonal, "load", date(2025, 11, 2)) if t["location_type"] == "zone"]
    assert {t["location"] for t in zones} == set(TAC_AREAS)  # CA ISO-TAC (the total) is left out
    assert {t["market"] for t in zones} == {"RTH"} and len(zones) == 25 * len(TAC_AREAS)
    assert all(t["load_mw"] > 0 for t in zones)


def test_recorded_load_polls_replay_with_tac_areas(zonal: CaisoSource) -> None:
    from tests.producers.iso_contract import replay_polls

    loads = {k: v for k, v in replay_polls(zonal).items() if k.startswith("load:")}
    assert loads and all({t["location"] for t in v} == {"CAISO", *TAC_AREAS} for v in loads.values())


def test_without_the_hourly_load_feed_no_tac_request_is_made() -> None:
    zonal = any(f.market == "RTH" for f in isos.get("CAISO").feeds_named("load"))
    assert len(SRC.load_requests(datetime(2026, 6, 11, tzinfo=UTC))) == 1 + zonal
    assert len(SRC.history_requests("load", date(2026, 6, 11))) == 2 + zonal


def test_outlook_history_day_comes_from_the_address_not_the_fetch() -> None:
    body = (HISTORY / "demand_20251102.csv").read_bytes()
    late = datetime(2026, 7, 1, tzinfo=UTC)  # a backfill fetches long after the day
    ticks = SRC.parse_rows(
        "load", [Response(outlook.history_request(date(2025, 11, 2)).url, 200, body, {}, late)], live=False
    ).ticks
    assert_contiguous(sorted(t["interval_end"] for t in ticks), first(date(2025, 11, 2)), 300)
    bad = Response("https://www.caiso.com/outlook/history/20251399/demand.csv", 200, body, {}, late)
    with pytest.raises(SourceError, match="20251399"):
        SRC.parse("load", [bad])


def test_gridtape_parse_url_reads_the_day_from_the_address(capsys: pytest.CaptureFixture[str]) -> None:
    from app import cli

    url = "https://www.caiso.com/outlook/history/20250309/demand.csv"
    saved = str(HISTORY / "demand_20250309.csv")
    assert cli.main(["parse", "--iso", "CAISO", "--dataset", "load", "--url", url, saved]) == 0
    ticks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {t["source"] for t in ticks} == {url}
    # 01:55 PST (09:55Z) is followed by 03:00 PDT (10:00Z): 276 intervals ending 00:00..23:55
    assert_contiguous(sorted(t["interval_end"] for t in ticks), "2025-03-09T08:00:00Z", 276)
    assert cli.main(["parse", "--iso", "CAISO", "--dataset", "dam", str(HISTORY / "dam_20251102.zip")]) == 0
    dam = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(dam) == 25 * 7 and {t["market"] for t in dam} == {"DAM"}


# -- history_tree (the committed tree: test_recordings.py) ---------------------------------------
def test_history_tree_answers_every_day_of_a_range(tmp_path: Path) -> None:
    generate_caiso.history_tree(tmp_path, date(2025, 3, 8), date(2025, 3, 10))
    for day, n in ((date(2025, 3, 8), 288), (date(2025, 3, 9), 276), (date(2025, 3, 10), 288)):
        assert_contiguous(on_day(backfill(SRC, "load", day, tmp_path), day, "CAISO"), first(day), n)
        assert_contiguous(on_day(backfill(SRC, "dam", day, tmp_path), day, HUBS[0]), first(day), n // 12, 60)
    assert os.path.exists(tmp_path / "manifest.json")


# -- malformed archives ------------------------------------------------------------------------
GOOD = Response(
    outlook.history_request(date(2026, 6, 11)).url,
    200,
    (HISTORY / "demand_20260611.csv").read_bytes(),
    {},
    datetime(2026, 6, 13, tzinfo=UTC),  # within the live window malformed_tests parses with
)
TEXT = GOOD.body.decode()
ROW = next(line for line in TEXT.splitlines() if line.startswith("12:00,"))
BAD_BODIES = {
    "html page": b"<html><head><title>404 Not Found</title></head></html>",
    "empty body": b"",
    "renamed column": TEXT.replace("Current demand", "Demand").encode(),
    "truncated": TEXT[: TEXT.index("\n00:10,") + 8].encode(),
    "an OASIS zip at the outlook address": (RECORDINGS / "caiso" / "oasis_invalid_request.zip").read_bytes(),
}
BAD_ROWS = {
    "non-numeric load": TEXT.replace(ROW, ROW.replace(ROW.split(",")[3], "x", 1)).encode(),
    "bad time": TEXT.replace(ROW, ROW.replace("12:00", "noon", 1)).encode(),
}
test_one_bad_archive_row_is_refused_alone, test_bad_archive_raises_source_error = malformed_tests(
    SRC, "load", GOOD, BAD_ROWS, BAD_BODIES
)


def test_bad_tac_rows_are_refused_alone_and_bad_tac_files_are_source_errors(zonal: CaisoSource) -> None:
    from producers.transport import full_url
    from tests.producers.iso_contract import assert_row_refused, source_error
    from tools.recordings import synth

    day = date(2026, 6, 11)
    request = oasis.request("SLD_FCST", oasis.midnight(day), oasis.midnight(day + timedelta(days=1)))
    body = (HISTORY / "tac_20260611.zip").read_bytes()
    good = Response(full_url(request.url, request.params), 200, body, {}, datetime(2026, 6, 12, tzinfo=UTC))
    members = _members(body)
    (name,) = members
    text = members[name].decode()
    row = next(line for line in text.splitlines() if ",SCE-TAC," in line)
    mw = row.split(",")[11]

    def with_text(new: str) -> bytes:
        return synth.zip_bytes({name: new.encode()})

    for bad_row in (
        row.replace(f",{mw},", ",n/a,"),
        row.replace(f",{mw},", ",-5,"),
        row.replace(":00:00-00:00,", ":30:00-00:00,", 1),
    ):
        assert_row_refused(zonal, "load", good, with_text(text.replace(row, bad_row)))
    for bad in (
        b"<html><body>busy</body></html>",
        b"",
        body[: len(body) // 2],
        (RECORDINGS / "caiso" / "oasis_invalid_request.zip").read_bytes(),
        with_text(text.replace(",MW,", ",LOAD,", 1)),
        with_text(text.replace(",ACTUAL,", ",RTM,")),  # a forecast run is not actual load
    ):
        source_error(zonal, "load", good, bad)


def _members(body: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return {n: z.read(n) for n in z.namelist()}

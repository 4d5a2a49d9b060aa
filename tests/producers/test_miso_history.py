"""MISO's clock, day-ahead ex-post LMPs and archives: the INTERVAL label is the interval END,
day-ahead hours are hours ending EST (24 on DST days too), the weekly five-minute archive and
the day-ahead archive parse like the live feeds and agree with them on 2026-06-11."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers import http
from producers.base import Request, Response
from producers.miso import LMP_ROLLING_URL, LMP_URL, MisoSource, da_url, weekly_url
from tests.producers.iso_contract import RECORDINGS, assert_contiguous, malformed_tests, recorded, replay_polls

HUBS = set(isos.get("MISO").hubs)
SRC = MisoSource()
HISTORY = RECORDINGS / "history" / "miso"
FETCHED = datetime(2026, 12, 1, tzinfo=UTC)


def archived(url: str) -> Response:
    manifest = json.loads((HISTORY / "manifest.json").read_text())
    entry = next(r for r in manifest["responses"] if r["url"] == url)
    return Response(url, 200, (HISTORY / entry["file"]).read_bytes(), {}, FETCHED)


def parse(dataset: str, responses: list[Response], source: MisoSource = SRC) -> list[dict[str, Any]]:
    return source.parse_rows(dataset, responses, live=False).ticks


# -- the clock: INTERVAL is the interval end -----------------------------------------------------
@pytest.mark.parametrize("url", [LMP_URL, LMP_ROLLING_URL])
def test_interval_is_the_interval_end(url: str) -> None:
    # An operating day's first interval is labelled 00:05 EST and is [00:00, 00:05) EST; the last
    # is labelled 00:00 of the next date and is [23:55, 24:00). Read as a start, both move 5 min.
    rows = [["2026-06-11T00:05:00", "MINN.HUB", "30", "0.5", "1"], ["2026-06-12T00:00:00", "MINN.HUB", "31", "0", "0"]]
    body = json.dumps({"headers": ["INTERVAL", "CPNODE", "LMP", "MLC", "MCC"], "data": rows}).encode()
    ticks = SRC.parse("lmp", [Response(url, 200, body, {}, datetime(2026, 6, 12, 5, 2, tzinfo=UTC))])
    spans = [(t["interval_start"], t["interval_end"]) for t in ticks]
    assert spans == [
        ("2026-06-11T05:00:00Z", "2026-06-11T05:05:00Z"),
        ("2026-06-12T04:55:00Z", "2026-06-12T05:00:00Z"),
    ]


def test_a_whole_market_day_is_one_est_day_on_both_dst_days() -> None:
    for day in (date(2025, 3, 9), date(2025, 11, 2)):
        url = LMP_ROLLING_URL
        resp = recorded("MISO", f"rolling_{day:%Y%m%d}.json", "2026-12-01T00:00:00Z", url=url)
        labels = [r[0] for r in json.loads(resp.body)["data"]]
        assert labels[0] == f"{day}T00:05:00" and labels[-1] == f"{day + timedelta(days=1)}T00:00:00"
        for hub in HUBS:
            starts = sorted(t["interval_start"] for t in parse("lmp", [resp]) if t["location"] == hub)
            assert_contiguous(starts, f"{day}T05:00:00Z", 288)


# -- day-ahead ---------------------------------------------------------------------------------
def test_day_ahead_hours_ending_est_on_both_dst_days() -> None:
    for day in (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11)):
        ticks = parse("dam", [archived(da_url(day))])
        assert {t["market"] for t in ticks} == {"DAM"} and {t["dataset"] for t in ticks} == {"lmp"}
        assert {t["location"] for t in ticks if t["location_type"] == "hub"} >= HUBS
        assert {t["location_type"] for t in ticks} == {"hub", "zone"}
        for location in {t["location"] for t in ticks}:
            starts = sorted(t["interval_start"] for t in ticks if t["location"] == location)
            assert_contiguous(starts, f"{day}T05:00:00Z", 24, minutes=60)  # HE 1 = [00:00, 01:00) EST
            assert starts[-1] == f"{day + timedelta(days=1)}T04:00:00Z"  # HE 24 = [23:00, 24:00) EST


def test_day_ahead_known_cell_and_components() -> None:
    resp = archived(da_url(date(2025, 11, 2)))
    lines = {tuple(line.split(",")[:3]): line.split(",")[3:] for line in resp.body.decode().splitlines()[5:]}
    hub = "INDIANA.HUB"
    tick = next(
        t for t in parse("dam", [resp]) if t["location"] == hub and t["interval_start"] == "2025-11-02T18:00:00Z"
    )
    # HE 14 is 13:00-14:00 EST = 18:00-19:00Z, even on the fall-back day
    assert tick["lmp"] == float(lines[(hub, "Hub", "LMP")][13])
    assert tick["congestion"] == float(lines[(hub, "Hub", "MCC")][13])
    assert tick["loss"] == float(lines[(hub, "Hub", "MLC")][13])
    assert tick["energy"] == pytest.approx(tick["lmp"] - tick["congestion"] - tick["loss"], abs=1e-6)


def test_day_ahead_nodes_only_with_include_nodes() -> None:
    resp = archived(da_url(date(2026, 6, 11)))
    body = resp.body.replace(b"NSP.NSP,Loadzone,", b"NSP.NSP,Gennode,")
    assert body != resp.body
    resp = replace(resp, body=body)
    assert "NSP.NSP" not in {t["location"] for t in parse("dam", [resp])}
    nodes = {
        t["location"] for t in parse("dam", [resp], MisoSource(include_nodes=True)) if t["location_type"] == "node"
    }
    assert nodes == {"NSP.NSP"}


def test_day_ahead_fetch_adds_tomorrow_once_posted() -> None:
    asked: list[str] = []
    missing: set[str] = set()

    class Http:
        def get(self, request: Request) -> Response:
            asked.append(request.url)
            return Response(request.url, 404 if request.url in missing else 200, b"x", {}, FETCHED)

    before = datetime(2026, 6, 11, 18, 59, tzinfo=UTC)  # 13:59 EST
    assert [r.url for r in SRC.fetch("dam", Http(), before)] == [da_url(date(2026, 6, 11))]
    after = datetime(2026, 6, 11, 19, 0, tzinfo=UTC)  # 14:00 EST
    assert [r.url for r in SRC.fetch("dam", Http(), after)] == [da_url(date(2026, 6, 11)), da_url(date(2026, 6, 12))]
    late = datetime(2026, 6, 12, 4, 59, tzinfo=UTC)  # 23:59 EST, still 06-11
    missing.add(da_url(date(2026, 6, 12)))
    assert [r.url for r in SRC.fetch("dam", Http(), late)] == [da_url(date(2026, 6, 11))]  # not posted: no error


def test_recorded_dam_polls_replay() -> None:
    polls = {k: v for k, v in replay_polls(SRC).items() if k.startswith("dam:")}
    assert len(polls) == 4 and all(polls.values())
    posted = polls["dam: 14:05 EST: tomorrow's are posted"]
    assert {t["interval_start"][:10] for t in posted} == {"2025-06-10", "2025-06-11", "2025-06-12"}


# -- history --------------------------------------------------------------------------------------
def history_layer(root: Path = HISTORY) -> Any:
    return http.replay(http.Recordings.load(root), clock=lambda: FETCHED)


@pytest.mark.parametrize("day", [date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11)])
def test_history_reads_every_interval_of_the_day(day: date) -> None:
    assert SRC.archives >= {"lmp", "dam"}
    layer = history_layer()
    lmp = parse("lmp", SRC.history("lmp", day, layer))
    dam = parse("dam", SRC.history("dam", day, layer))
    assert not layer.transport.unmatched
    midnight = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)  # 00:00 EST
    for hub in HUBS:
        starts = sorted(t["interval_start"] for t in lmp if t["location"] == hub)
        of_day = [s for s in starts if midnight <= contract.parse_ts(s) < midnight + timedelta(days=1)]
        assert_contiguous(of_day, f"{day}T05:00:00Z", 288)  # the EST operating day, whole
        assert sum(1 for t in dam if t["location"] == hub) == 24


def _day_ticks() -> dict[str, list[dict[str, Any]]]:
    polls = replay_polls_of(RECORDINGS / "day" / "miso")
    return {
        name: [t for key, ticks in polls.items() if key.startswith(f"{name}:") for t in ticks]
        for name in ("lmp", "dam")
    }


def replay_polls_of(folder: Path) -> dict[str, list[dict[str, Any]]]:
    recordings = http.Recordings.load(folder)
    clock = [recordings.polls[0].now]
    layer = http.replay(recordings, clock=lambda: clock[0])
    out: dict[str, list[dict[str, Any]]] = {}
    cursor: dict[str, datetime] = {}  # what the poller's state table would hold: the newest end
    for poll in recordings.polls:
        clock[0] = poll.now
        responses = SRC.fetch(poll.dataset, layer, poll.now, cursor.get(poll.dataset))
        ticks = out[f"{poll.dataset}: {poll.label}"] = SRC.parse(poll.dataset, responses)
        cursor[poll.dataset] = max(contract.parse_ts(t["interval_end"]) for t in ticks)
    assert not layer.transport.unmatched
    return out


def test_live_and_historical_agree_on_every_shared_interval() -> None:
    day = date(2026, 6, 11)
    live = _day_ticks()
    layer = history_layer()
    for feed in ("lmp", "dam"):
        old = {contract.natural_key(t): t for t in parse(feed, SRC.history(feed, day, layer))}
        new = {contract.natural_key(t): t for t in live[feed]}
        shared = old.keys() & new.keys()
        expected = 288 if feed == "lmp" else 24
        assert len(shared) >= expected * len(HUBS), feed
        for key in shared:
            for field in ("interval_start", "interval_end", "lmp", "energy", "congestion", "loss"):
                assert old[key][field] == new[key][field], (feed, key, field)


def test_history_tree_answers_every_day_of_a_month(tmp_path: Path) -> None:
    from tools.recordings.generate_miso import history_tree

    history_tree(tmp_path, date(2025, 2, 1), date(2025, 2, 28))
    assert (tmp_path / "manifest.json").is_file()
    layer = history_layer(tmp_path)
    weeks: dict[str, list[dict[str, Any]]] = {}
    for n in range(28):
        day = date(2025, 2, 1) + timedelta(days=n)
        (weekly,) = SRC.history("lmp", day, layer)
        lmp = weeks.get(weekly.url) or weeks.setdefault(weekly.url, parse("lmp", [weekly]))
        midnight = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
        starts = sorted(
            t["interval_start"]
            for t in lmp
            if t["location"] == "TEXAS.HUB"
            and midnight <= contract.parse_ts(t["interval_start"]) < midnight + timedelta(days=1)
        )
        assert_contiguous(starts, f"{day}T05:00:00Z", 288)
        dam = parse("dam", SRC.history("dam", day, layer))
        assert_contiguous(
            sorted(t["interval_start"] for t in dam if t["location"] == "TEXAS.HUB"), f"{day}T05:00:00Z", 24, 60
        )
    assert not layer.transport.unmatched
    assert weekly_url(date(2025, 2, 28)) == "https://docs.misoenergy.org/marketreports/20250310_5MIN_LMP.zip"


def test_gridtape_parse_reads_the_operating_day_from_url(tmp_path: Path) -> None:
    from app import cli

    f = tmp_path / "saved.csv"
    f.write_bytes(archived(da_url(date(2025, 11, 2))).body)
    assert cli.main(["parse", "--iso", "MISO", "--dataset", "dam", "--url", da_url(date(2025, 11, 2)), str(f)]) == 0
    assert cli.main(["parse", "--iso", "MISO", "--dataset", "dam", str(f)]) == 1  # no day in the file name


# -- bad input --------------------------------------------------------------------------------------
# fetched when they were new: the malformed-input checks parse as a live poll does
DA = replace(archived(da_url(date(2026, 6, 11))), fetched_at=datetime(2026, 6, 10, 19, tzinfo=UTC))
WEEKLY = replace(archived(weekly_url(date(2026, 6, 11))), fetched_at=datetime(2026, 6, 13, 12, tzinfo=UTC))


def _swap(body: bytes, old: str, new: str) -> bytes:
    assert old.encode() in body
    return body.replace(old.encode(), new.encode(), 1)


def _csv_of(zipped: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(zipped)) as z:
        return z.read(z.namelist()[0]).decode()


def _rezip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("x.csv", text)
    return buffer.getvalue()


WEEKLY_CSV = _csv_of(WEEKLY.body)
BAD_DA = {
    "html page": b"<!DOCTYPE html><html><body>Not Found</body></html>",
    "empty body": b"",
    "truncated": DA.body[: len(DA.body) // 2],
    "renamed column": _swap(DA.body, "HE 24", "HE24"),
    "no header": DA.body.split(b"\r\n", 5)[5],
}
BAD_DA_ROW = {"non-numeric price": _swap(DA.body, "ARKANSAS.HUB,Hub,LMP,", "ARKANSAS.HUB,Hub,LMP,x")}
BAD_WEEKLY = {
    "html page": b"<html><body>Service Unavailable</body></html>",
    "empty body": b" ",
    "truncated zip": WEEKLY.body[:-100],
    "renamed column": _rezip(WEEKLY_CSV.replace("CON_LMP", "MCC", 1)),
    "truncated csv": _rezip(WEEKLY_CSV[: len(WEEKLY_CSV) // 2]),
}
BAD_WEEKLY_ROW = {
    "bad time": _rezip(WEEKLY_CSV.replace("06/08/2026 00:05,ARKANSAS.HUB", "2026-06-08 00:05,ARKANSAS.HUB", 1)),
    "absurd price": _rezip(
        WEEKLY_CSV.replace("06/08/2026 00:05,ARKANSAS.HUB,", "06/08/2026 00:05,ARKANSAS.HUB,9e9", 1)
    ),
}

test_one_bad_da_row_is_refused_alone, test_bad_da_raises = malformed_tests(SRC, "dam", DA, BAD_DA_ROW, BAD_DA)
test_one_bad_weekly_row_is_refused_alone, test_bad_weekly_raises = malformed_tests(
    SRC, "lmp", WEEKLY, BAD_WEEKLY_ROW, BAD_WEEKLY
)


def test_a_bad_archive_names_its_url() -> None:
    with pytest.raises(SourceError) as caught:
        SRC.parse("lmp", [replace(WEEKLY, body=b"<html></html>")])
    assert weekly_url(date(2026, 6, 11)) in str(caught.value)


@pytest.mark.parametrize(
    ("files", "fetched", "first", "hours"),
    [
        (["da_expost_lmp_20250309_0807.csv"], "2025-03-09T08:07:00Z", "2025-03-09T05:00:00Z", 24),
        (["da_expost_lmp_20251102_0607.csv"], "2025-11-02T06:07:00Z", "2025-11-02T05:00:00Z", 24),
        (["da_expost_lmp_20250610_1905.csv", "da_expost_lmp_20250611_1905.csv"], "2025-06-10T19:05:00Z",
         "2025-06-10T05:00:00Z", 48),
    ],
)  # fmt: skip
def test_live_day_ahead_recordings(files: list[str], fetched: str, first: str, hours: int) -> None:
    ticks = SRC.parse("dam", [recorded("MISO", f, fetched) for f in files])  # within the live window
    assert {t["location"] for t in ticks if t["location_type"] == "hub"} == HUBS
    for location in {t["location"] for t in ticks}:
        starts = sorted(t["interval_start"] for t in ticks if t["location"] == location)
        assert_contiguous(starts, first, hours, 60)
        ends = [t["interval_end"] for t in ticks if t["location"] == location]
        assert all(
            contract.parse_ts(e) - contract.parse_ts(s) == timedelta(hours=1)
            for s, e in zip(starts, sorted(ends), strict=True)
        )

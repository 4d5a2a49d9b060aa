"""ERCOT history: ErcotSource.history(feed, day) reads the MIS archives (the document lists of
the feed's reports and the zipped CSV documents of that operating day) from the committed
replay tree producers/recordings/history/ercot/ (both DST days and 2026-06-11), the same day
polled live (producers/recordings/day/ercot/) and backfilled agrees, and history_tree writes a
replayable tree for any range of days."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract
from gridtape.errors import SourceError
from producers import http
from producers.base import Response
from producers.ercot import ErcotSource, zones
from producers.poller import steps
from tests.producers.iso_contract import RECORDINGS, assert_contiguous, malformed_tests
from tools.recordings import generate_ercot, synth

ROOT = Path(__file__).resolve().parents[2]
HISTORY = RECORDINGS / "history" / "ercot"
SRC = ErcotSource()
SPRING, FALL, DAY = date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11)
HOURS = {SPRING: 23, FALL: 25, DAY: 24}
FIRST_HOUR = {SPRING: "2025-03-09T06:00:00Z", FALL: "2025-11-02T05:00:00Z", DAY: "2026-06-11T05:00:00Z"}
LATER = datetime(2026, 12, 1, tzinfo=UTC)  # a backfill runs long after the day


def history(feed: str, day: date, root: Path = HISTORY) -> tuple[list[Response], list[str]]:
    """What history() fetches from a replay tree, and the requests nobody recorded."""
    layer = http.replay(http.Recordings.load(root), clock=lambda: LATER)
    responses = SRC.history(feed, day, layer)
    assert isinstance(layer.transport, http.ReplayTransport)
    return responses, layer.transport.unmatched


def backfilled(feed: str, day: date, root: Path = HISTORY) -> list[dict[str, Any]]:
    responses, unmatched = history(feed, day, root)
    assert not unmatched, unmatched[:3]
    parsed = SRC.parse_rows(feed, responses, live=False)
    assert not parsed.refused, parsed.refused[:2]
    return parsed.ticks


def starts(ticks: list[dict[str, Any]], location: str, market: str) -> list[str]:
    return sorted(t["interval_start"] for t in ticks if t["location"] == location and t["market"] == market)


def test_archives() -> None:
    assert ErcotSource.archives == {"lmp", "load", "dam"} == set(SRC.datasets)
    with pytest.raises(NotImplementedError):
        SRC.history("fuel", DAY, http.replay(http.Recordings.load(HISTORY), clock=lambda: LATER))


@pytest.mark.parametrize("day", [SPRING, FALL, DAY], ids=str)
def test_dam_day(day: date) -> None:
    ticks = backfilled("dam", day)
    assert {t["market"] for t in ticks} == {"DAM"} and {t["location_type"] for t in ticks} == {"hub", "zone"}
    for hub in SRC.facts.hubs:
        assert_contiguous(starts(ticks, hub, "DAM"), FIRST_HOUR[day], HOURS[day], minutes=60)


@pytest.mark.parametrize("day", [SPRING, FALL, DAY], ids=str)
def test_load_day_system_and_zones(day: date) -> None:
    ticks = backfilled("load", day)
    per = Counter(t["location"] for t in ticks)
    expected = (
        {"ERCOT"} | {f"WZ_{z}" for z in zones.ZONES[zones.WEATHER]} | {f"FZ_{z}" for z in zones.ZONES[zones.FORECAST]}
    )
    assert set(per) == expected and set(per.values()) == {HOURS[day]}
    assert_contiguous(starts(ticks, "ERCOT", "RTH"), FIRST_HOUR[day], HOURS[day], minutes=60)
    by_hour: dict[str, dict[str, float]] = {}
    for t in ticks:
        by_hour.setdefault(t["interval_start"], {})[t["location"]] = t["load_mw"]
    for hour, mw in by_hour.items():  # either zone set adds up to the system total
        for prefix in ("WZ_", "FZ_"):
            assert sum(v for k, v in mw.items() if k.startswith(prefix)) == pytest.approx(mw["ERCOT"], abs=0.02), hour


@pytest.mark.parametrize("day", [SPRING, FALL, DAY], ids=str)
def test_lmp_day(day: date) -> None:
    ticks = backfilled("lmp", day)
    for hub in SRC.facts.hubs:
        assert_contiguous(starts(ticks, hub, "RT15"), FIRST_HOUR[day], HOURS[day] * 4, minutes=15)
    # SCED runs: the whole demo day; the DST days' 00:00-04:00 (the committed tree keeps it small)
    rt5 = {DAY: 288, SPRING: 36, FALL: 60}[day]
    assert_contiguous(starts(ticks, "HB_NORTH", "RT5"), FIRST_HOUR[day], rt5)


def polled_day() -> list[dict[str, Any]]:
    """Every poll of the live complete-day tree, each with the cursor the ones before it left."""
    rec = http.Recordings.load(RECORDINGS / "day" / "ercot")
    clock = [rec.polls[0].now]
    layer = http.replay(rec, clock=lambda: clock[0])
    cursors: dict[str, str | None] = {}
    out: list[dict[str, Any]] = []
    for p in rec.polls:
        clock[0] = p.now
        since = cursors.get(p.dataset)
        got = SRC.parse(
            p.dataset, SRC.fetch(p.dataset, layer, p.now, since=contract.parse_ts(since) if since else None)
        )
        cursors[p.dataset] = steps.later(since, steps.newest_complete(got, p.now))
        out += got
    return out


def test_backfilled_day_agrees_with_the_polled_day() -> None:
    live = {contract.natural_key(t): t for t in polled_day()}
    past = {contract.natural_key(t): t for feed in ("lmp", "dam", "load") for t in backfilled(feed, DAY)}
    shared = live.keys() & past.keys()
    markets = Counter((k[1], k[2]) for k in shared)
    hubs, points = len(SRC.facts.hubs), len(generate_ercot.HUBS + generate_ercot.ZONES)
    assert markets[("RT5", "lmp")] >= 288 * points and markets[("RT15", "lmp")] >= 96 * points
    assert markets[("DAM", "lmp")] >= 24 * points >= 24 * hubs and markets[("RTH", "load")] >= 24 * 13
    fields = ("interval_start", "interval_end", "location_type", "lmp", "load_mw", "energy", "congestion", "loss")
    differ = [k for k in shared if any(live[k][f] != past[k][f] for f in fields)]
    assert not differ, [(live[k], past[k]) for k in differ[:2]]


def test_history_tree_replays_every_day_of_a_range(tmp_path: Path) -> None:
    start, end = date(2025, 11, 2), date(2025, 11, 3)  # the fall change and the day after
    generate_ercot.history_tree(tmp_path, start, end)
    for n, hours in enumerate((25, 24)):
        day = start + timedelta(days=n)
        first = contract.format_ts(datetime(day.year, day.month, day.day, tzinfo=generate_ercot.CENTRAL))
        for feed in ("lmp", "dam", "load"):
            ticks = backfilled(feed, day, tmp_path)
            market = {"lmp": "RT5", "dam": "DAM", "load": "RTH"}[feed]
            location = "ERCOT" if feed == "load" else "HB_WEST"
            got = starts(ticks, location, market)
            assert_contiguous(got, first, hours * (12 if feed == "lmp" else 1), minutes=5 if feed == "lmp" else 60)


@pytest.mark.parametrize("feed", ["lmp", "dam", "load"])
def test_a_day_the_archive_does_not_hold_is_an_error_not_an_empty_day(feed: str) -> None:
    with pytest.raises(SourceError) as err:
        history(feed, date(2024, 1, 15))
    assert err.value.iso == "ERCOT" and "IceDocListJsonWS" in err.value.url and "2024-01-15" in str(err.value)


def test_an_unreadable_document_list_is_an_error(tmp_path: Path) -> None:
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(HISTORY, tree)
    (tree / "doclist_12331.json").write_text("<html><body>Maintenance</body></html>")
    with pytest.raises(SourceError) as err:
        history("dam", DAY, tree)
    assert "reportTypeId=12331" in err.value.url


# -- bad archive files -------------------------------------------------------------------------
def zone_document() -> Response:
    responses, _ = history("load", DAY)
    return next(r for r in responses if "mirDownload" in r.url)


def _csv(r: Response) -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(r.body)) as z:
        return z.read(z.namelist()[0]).decode()


# fetched the morning after the day, as a live poll would (a live parse checks the time window)
GOOD = replace(zone_document(), fetched_at=datetime(2026, 6, 12, 12, tzinfo=UTC))
TEXT = _csv(GOOD)
BAD = {
    "html page": b"<html><body>The page is temporarily unavailable</body></html>",
    "empty body": b"",
    "truncated zip": GOOD.body[: len(GOOD.body) // 2],
    "renamed column": synth.zip_bytes({"x.csv": TEXT.replace('"TOTAL"', '"SYSTEM"').encode()}),
    "truncated csv": synth.zip_bytes({"x.csv": TEXT[: TEXT.rindex(",")].encode()}),
    "an hour twice": synth.zip_bytes({"x.csv": (TEXT + TEXT.splitlines(True)[5]).encode()}),
    "not a zone report": synth.zip_bytes({"x.csv": b'"OperDay","HourEnding","A","TOTAL","DSTFlag"\r\n'}),
}
BAD_ROW = {
    "non-numeric load": synth.zip_bytes(
        {"x.csv": TEXT.replace('"06/11/2026","01:00","', '"06/11/2026","01:00","x', 1).encode()}
    ),
}

test_bad_archive_row_is_refused_alone, test_bad_archive_file_raises_naming_the_url = malformed_tests(
    SRC, "load", GOOD, BAD_ROW, BAD
)


def test_gridtape_parse_url_reads_a_saved_zone_document(tmp_path: Path) -> None:
    saved = tmp_path / "zones.zip"
    saved.write_bytes(GOOD.body)
    args = ["parse", "--iso", "ERCOT", "--dataset", "load", "--url", GOOD.url, str(saved)]
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr
    import json

    ticks = [json.loads(line) for line in out.stdout.splitlines()]
    assert {t["source"] for t in ticks} == {GOOD.url} and {t["location_type"] for t in ticks} >= {"zone"}
    assert_contiguous(starts(ticks, sorted(t["location"] for t in ticks)[0], "RTH"), FIRST_HOUR[DAY], 24, minutes=60)

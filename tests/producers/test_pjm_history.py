"""PJM history (rt_fivemin_hrl_lmps, da_hrl_lmps, inst_load by operating day): the committed
tree (both DST days and DAY), live and historical parses agreeing on DAY, the operating day
read from the address (gridtape parse --url), malformed archives, and history_tree."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers import http
from producers.base import Response
from producers.pjm import LOAD_URL, SETTLED_LMP_URL, MissingApiKey, PjmSource
from producers.poller import steps
from tests.producers.iso_contract import RECORDINGS, assert_contiguous, malformed_tests
from tools.recordings import pjm_history
from tools.recordings.demo_day import DAY

SOURCE = PjmSource(credentials={"api_key": "test"})
TREE = RECORDINGS / "history" / "pjm"
ROOT = Path(__file__).resolve().parents[2]
TZ = isos.get("PJM").tz
VALUES = ("interval_end", "lmp", "energy", "congestion", "loss", "load_mw", "location_type")


def history(feed: str, day: date, tree: Path = TREE) -> list[Response]:
    """The archive answers for `day`, fetched (replayed) the day after it."""
    fetched = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(days=1)
    layer = http.replay(http.Recordings.load(tree), clock=lambda: fetched)
    responses = SOURCE.history(feed, day, layer)
    assert isinstance(layer.transport, http.ReplayTransport) and not layer.transport.unmatched
    return responses


def parsed(feed: str, day: date, tree: Path = TREE) -> list[dict[str, Any]]:
    got = SOURCE.parse_rows(feed, history(feed, day, tree), live=False)
    assert not got.refused, got.refused[:2]
    return got.ticks


def per_location(ticks: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in ticks:
        out.setdefault(t["location"], []).append(t["interval_start"])
    return {k: sorted(v) for k, v in out.items()}


def midnight(day: date) -> str:
    return contract.format_ts(datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(UTC))


@pytest.mark.parametrize(
    ("day", "fives", "hours"), [(date(2025, 3, 9), 276, 23), (date(2025, 11, 2), 300, 25), (DAY, 288, 24)]
)
@pytest.mark.parametrize("feed", ["lmp", "load", "dam"])
def test_each_archived_day_parses_whole_on_its_own_clock(feed: str, day: date, fives: int, hours: int) -> None:
    ticks = parsed(feed, day)
    minutes, n = (60, hours) if feed == "dam" else (5, fives)
    for location, starts in per_location(ticks).items():
        assert_contiguous(starts, midnight(day), n, minutes)
        assert all(contract.parse_ts(s).astimezone(TZ).date() == day for s in starts), location
    for t in ticks:
        contract.validate(t)
        assert t["market"] == ("DAM" if feed == "dam" else "RT5")
    types = {t["location_type"] for t in ticks}
    assert types == ({"system", "zone"} if feed == "load" else {"hub", "zone"})


def day_tree_ticks() -> dict[str, list[dict[str, Any]]]:
    """DAY's live polls (producers/recordings/day/pjm), each with the cursor the one before left."""
    rec = http.Recordings.load(RECORDINGS / "day" / "pjm")
    clock = [rec.polls[0].now]
    layer = http.replay(rec, clock=lambda: clock[0])
    cursors: dict[str, str | None] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for p in rec.polls:
        clock[0] = p.now
        since = cursors.get(p.dataset)
        responses = SOURCE.fetch(p.dataset, layer, p.now, contract.parse_ts(since) if since else None)
        ticks = SOURCE.parse(p.dataset, responses)
        cursors[p.dataset] = steps.later(since, steps.newest_complete(ticks, p.now))
        out.setdefault(p.dataset, []).extend(ticks)
    return out


@pytest.mark.parametrize(("feed", "least"), [("lmp", 4 * 288), ("load", 288), ("dam", 12 * 24)])
def test_live_and_historical_files_agree_on_every_interval_they_share(feed: str, least: int) -> None:
    live = {contract.natural_key(t): t for t in day_tree_ticks()[feed]}
    past = {contract.natural_key(t): t for t in parsed(feed, DAY)}
    shared = live.keys() & past.keys()
    assert len(shared) >= least, len(shared)
    differ = [k for k in shared if any(live[k][f] != past[k][f] for f in VALUES)]
    assert not differ, [(live[k], past[k]) for k in differ[:1]]


def test_history_requests_one_operating_day_of_each_archive() -> None:
    lmp = SOURCE.history_request("lmp", date(2025, 11, 2))
    assert lmp.url == SETTLED_LMP_URL
    assert lmp.params["datetime_beginning_ept"] == "2025-11-02T00:00to2025-11-02T23:59"  # both 01:00 hours
    assert lmp.params["row_is_current"] == "TRUE" and "4669664" in lmp.params["pnode_id"].split(";")
    load = SOURCE.history_request("load", date(2025, 11, 2))
    assert (load.url, load.params["datetime_beginning_ept"]) == (LOAD_URL, "2025-11-02T00:00to2025-11-03T00:00")
    assert "pnode_id" not in load.params
    with pytest.raises(MissingApiKey):
        PjmSource().history("lmp", DAY, http.replay(http.Recordings.load(TREE), clock=lambda: None))


def test_the_reading_at_the_first_midnight_ends_the_day_before_and_is_left_out() -> None:
    (resp,) = history("load", DAY)
    first = json.loads(resp.body)["items"][0]
    assert first["datetime_beginning_utc"] == "2026-06-11T04:00:00"  # 00:00 EDT: ends 06-10's last interval
    rto = [t for t in SOURCE.parse("load", [resp]) if t["location"] == "PJM RTO"]
    assert min(t["interval_end"] for t in rto) == "2026-06-11T04:05:00Z"
    assert max(t["interval_end"] for t in rto) == "2026-06-12T04:00:00Z"  # next midnight's reading ends DAY


def test_gridtape_parse_reads_the_operating_day_from_url(tmp_path: Path) -> None:
    """inst_load's body carries readings, not the day they close: --url gives it."""
    (resp,) = history("load", date(2025, 3, 9))
    saved = tmp_path / "saved.json"
    saved.write_bytes(resp.body)

    def parse(*extra: str) -> list[dict[str, Any]]:
        cmd = [sys.executable, "-m", "app.cli", "parse", "--iso", "PJM", "--dataset", "load", *extra, str(saved)]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines()]

    with_url = parse("--url", resp.url)
    assert Counter(t["location"] for t in with_url) == {"PJM RTO": 276, "DOM": 276, "COMED": 276}
    without = parse()  # the 00:00 EST reading (ending 03-08's last interval) is kept
    assert len(without) == len(with_url) + 3


SETTLED = history("lmp", date(2025, 3, 9))[0]
LOAD = history("load", date(2025, 11, 2))[0]


def _edit(resp: Response, index: int, **changes: Any) -> bytes:
    doc = json.loads(resp.body)
    doc["items"][index].update(changes)
    return json.dumps(doc).encode()


def _renamed(resp: Response, old: str, new: str) -> bytes:
    return resp.body.replace(f'"{old}":'.encode(), f'"{new}":'.encode())


BAD_BODIES = {"empty": b"", "html": b"<html><body>Access denied</body></html>", "truncated": b'{"items":[{"da'}

test_settled_bad_row_is_refused_alone, test_settled_bad_body_is_a_source_error = malformed_tests(
    SOURCE,
    "lmp",
    SETTLED,
    bad_rows={"text price": _edit(SETTLED, 10, total_lmp_rt="-"), "bad time": _edit(SETTLED, 20, pnode_id=None)},
    bad_bodies={
        **BAD_BODIES,
        "cut in half": SETTLED.body[: len(SETTLED.body) // 2],
        "renamed column": _renamed(SETTLED, "total_lmp_rt", "lmp_rt"),
    },
)
test_load_bad_row_is_refused_alone, test_load_bad_body_is_a_source_error = malformed_tests(
    SOURCE,
    "load",
    LOAD,
    bad_rows={"text load": _edit(LOAD, 10, instantaneous_load="x"), "no area": _edit(LOAD, 20, area="")},
    bad_bodies={
        **BAD_BODIES,
        "cut in half": LOAD.body[: len(LOAD.body) // 2],
        "renamed column": _renamed(LOAD, "instantaneous_load", "load_mw"),
    },
)


def test_a_url_naming_another_feed_is_refused() -> None:
    url = f"{SETTLED_LMP_URL}?" + urlencode({"datetime_beginning_ept": "2026-06-11T00:00to2026-06-11T23:59"})
    resp = Response(url, 200, LOAD.body, {}, datetime(2026, 6, 12, tzinfo=UTC))
    with pytest.raises(SourceError, match="rt_fivemin_hrl_lmps is not a load endpoint") as err:
        SOURCE.parse("load", [resp])
    assert err.value.url == url


def test_history_tree_replays_every_day_of_a_range_without_a_gap(tmp_path: Path) -> None:
    start, end = date(2025, 11, 1), date(2025, 11, 3)  # the fall-back day in the middle
    pjm_history.history_tree(tmp_path, start, end)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest["responses"]) == 3 * 3 and manifest["iso"] == "PJM"
    lmp = [t for d in (start, date(2025, 11, 2), end) for t in parsed("lmp", d, tmp_path)]
    hubs = per_location(lmp)
    assert set(isos.get("PJM").hubs) <= set(hubs)
    for starts in hubs.values():
        assert_contiguous(starts, midnight(start), 288 + 300 + 288)
    dam = per_location([t for d in (start, end) for t in parsed("dam", d, tmp_path)])
    assert len(dam) == 12 + 23 and {len(v) for v in dam.values()} == {48}
    load = per_location(parsed("load", date(2025, 11, 2), tmp_path))
    assert len(load) == 25 and {len(v) for v in load.values()} == {300}


@pytest.mark.parametrize("feed", ["lmp", "load", "dam"])
def test_an_empty_archive_day_is_missing_not_an_empty_day(feed: str) -> None:
    """Not settled yet, or past Data Miner's retention (inst_load: about 30 days)."""
    request = SOURCE.history_request(feed, date(2024, 1, 5))
    url = f"{request.url}?{urlencode(request.params)}"
    empty = b'{"links":[],"items":[],"searchSpecification":{},"totalRows":0}'
    resp = Response(url, 200, empty, {}, datetime(2024, 1, 6, tzinfo=UTC))
    with pytest.raises(SourceError, match=r"no \w+ rows for 2024-01-05\.\.2024-01-05") as err:
        SOURCE.parse(feed, [resp])
    assert err.value.url == url
    live = Response(
        f"{LOAD_URL}?datetime_beginning_utc=2024-01-05T10:00to2024-01-05T11:00", 200, empty, {}, resp.fetched_at
    )
    assert SOURCE.parse("load", [live]) == []  # a live window may be empty

"""MISO: public-API JSON (five-minute ex-post LMP, real-time total load). No real MISO
response is available (../shared/iso-samples has none, so nothing here reads it or skips): the
recordings follow the shapes gridstatus and other public clients read, documented in
producers/miso/__init__.py. Day-ahead and archives: test_miso_history.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gridtape import isos
from producers.base import Response
from producers.miso import LMP_ROLLING_URL, LMP_URL, MisoSource
from tests.producers import iso_contract as ic

HUBS = isos.get("MISO").hubs
SRC = MisoSource()


def lmp_poll(now: str) -> Response:
    """The current five-minute LMP file the poll at `now` saved (the file is named by that minute)."""
    return ic.recorded("MISO", f"fiveminexpost_current_{datetime.fromisoformat(now):%Y%m%dT%H%M}.json", now)


LMP_NORMAL = lmp_poll("2025-06-10T18:42:00Z")
LMP_SPRING = lmp_poll("2025-03-09T08:07:00Z")
LMP_FALL = lmp_poll("2025-11-02T06:07:00Z")
DAY_SPRING = ic.recorded("MISO", "rolling_20250309.json", "2025-03-10T05:01:00Z", url=LMP_ROLLING_URL)
DAY_FALL = ic.recorded("MISO", "rolling_20251102.json", "2025-11-03T05:01:00Z", url=LMP_ROLLING_URL)
LOAD_NORMAL = ic.recorded("MISO", "realtimetotalload_20250610.json", "2025-06-10T18:42:00Z")
LOAD_SPRING = ic.recorded("MISO", "realtimetotalload_20250309.json", "2025-03-10T05:00:40Z")
LOAD_FALL = ic.recorded("MISO", "realtimetotalload_20251102.json", "2025-11-03T05:00:40Z")


class TestMisoContract(ic.IsoContract):
    source = SRC
    cases = (
        ic.Case("lmp normal", "lmp", [LMP_NORMAL], 1, set(HUBS)),
        ic.Case("lmp spring poll", "lmp", [LMP_SPRING], 1, set(HUBS)),
        ic.Case("lmp fall poll", "lmp", [LMP_FALL], 1, set(HUBS)),
        # EST all year: the DST days are ordinary 288-interval market days.
        ic.Case("lmp spring day", "lmp", [DAY_SPRING], 288, set(HUBS)),
        ic.Case("lmp fall day", "lmp", [DAY_FALL], 288, set(HUBS)),
        ic.Case("load normal so far", "load", [LOAD_NORMAL], 164, {"MISO"}),
        ic.Case("load spring day", "load", [LOAD_SPRING], 288, {"MISO"}),
        ic.Case("load fall day", "load", [LOAD_FALL], 288, {"MISO"}),
    )


def test_known_row_est_interval_end_and_components() -> None:
    ticks = {t["location"]: t for t in SRC.parse("lmp", [LMP_FALL])}
    ark = ticks["ARKANSAS.HUB"]
    # "2025-11-02T01:05:00" EST (UTC-5 even on the fall-back day) = 06:05Z, the interval END.
    assert '"2025-11-02T01:05:00","ARKANSAS.HUB"' in LMP_FALL.body.decode()
    assert (ark["interval_start"], ark["interval_end"]) == ("2025-11-02T06:00:00Z", "2025-11-02T06:05:00Z")
    assert (ark["lmp"], ark["loss"], ark["congestion"], ark["energy"]) == (31.63, 0.85, 0.0, 30.78)
    for t in ticks.values():
        assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"], abs=1e-6)
    assert set(ticks) == set(HUBS) and {t["location_type"] for t in ticks.values()} == {"hub"}


def test_dst_days_are_plain_est_days() -> None:
    for resp, first in ((DAY_SPRING, "2025-03-09T05:00:00Z"), (DAY_FALL, "2025-11-02T05:00:00Z")):
        starts = sorted(t["interval_start"] for t in SRC.parse("lmp", [resp]) if t["location"] == "MINN.HUB")
        ic.assert_contiguous(starts, first, 288)
    load = sorted(t["interval_start"] for t in SRC.parse("load", [LOAD_FALL]))
    ic.assert_contiguous(load, "2025-11-02T05:00:00Z", 288)


def test_nodes_with_include_nodes() -> None:
    ticks = MisoSource(include_nodes=True).parse("lmp", [LMP_NORMAL])
    assert {t["location"] for t in ticks if t["location_type"] == "node"} == {
        "ALTW.WELLS1",
        "EES.WRPP1",
        "NIPS.SCHAHFER18",
    }


def test_load_day_comes_from_refid() -> None:
    ticks = SRC.parse("load", [LOAD_NORMAL])
    assert ticks[0]["interval_start"] == "2025-06-10T05:00:00Z"  # "00:00" EST on 10-Jun-2025
    assert ticks[-1]["interval_start"] == "2025-06-10T18:35:00Z"  # RefId "Interval 13:35 EST"
    assert ticks[0]["load_mw"] == float(
        json.loads(LOAD_NORMAL.body)["LoadInfo"]["FiveMinTotalLoad"][0]["Load"]["Value"]
    )


def test_numbers_as_json_numbers_are_read() -> None:
    doc = json.loads(LMP_NORMAL.body)
    doc["data"] = [[r[0], r[1], float(r[2]), float(r[3]), float(r[4])] for r in doc["data"]]
    body = json.dumps(doc).encode()
    assert SRC.parse("lmp", [Response(LMP_URL, 200, body, {}, LMP_NORMAL.fetched_at)]) == SRC.parse("lmp", [LMP_NORMAL])


def test_recorded_polls_replay() -> None:
    polls = ic.replay_polls(SRC)
    assert all(polls.values())
    assert [t["interval_start"] for t in polls["lmp: spring DST day (MISO stays on EST: 03:00-03:05 EST)"]][:1] == [
        "2025-03-09T08:00:00Z"
    ]


def _swap(body: bytes, old: str, new: str) -> bytes:
    assert old.encode() in body
    return body.replace(old.encode(), new.encode(), 1)


GOOD = {"lmp": ("lmp", LMP_NORMAL), "load": ("load", LOAD_NORMAL)}
BAD = {  # (GOOD name, what is broken): a body in place of the good one
    ("lmp", "html page"): b"<!DOCTYPE html><html><body>Request blocked</body></html>",
    ("lmp", "empty body"): b"",
    ("lmp", "truncated json"): LMP_NORMAL.body[:-30],
    ("lmp", "renamed column"): _swap(LMP_NORMAL.body, '"MLC"', '"LOSS"'),
    ("lmp", "no data key"): _swap(LMP_NORMAL.body, '"data"', '"rows"'),
    ("lmp", "short row"): _swap(LMP_NORMAL.body, '"ARKANSAS.HUB",', ""),
    ("load", "html page"): b"<html><body>Service Unavailable</body></html>",
    ("load", "empty body"): b"  ",
    ("load", "truncated json"): LOAD_NORMAL.body[: len(LOAD_NORMAL.body) // 2],
    ("load", "renamed section"): _swap(LOAD_NORMAL.body, "FiveMinTotalLoad", "FiveMinLoad"),
    ("load", "bad refid"): _swap(LOAD_NORMAL.body, "10-Jun-2025 - Interval", "Interval"),
}
BAD_ROW = {  # (GOOD name, what is broken): the good body with one row unreadable
    ("lmp", "non-numeric price"): _swap(LMP_NORMAL.body, '"ARKANSAS.HUB","', '"ARKANSAS.HUB","x'),
    ("lmp", "bad interval"): _swap(LMP_NORMAL.body, "2025-06-10T13:40:00", "6/10/2025 1:40 PM"),
    ("lmp", "absurd price"): _swap(LMP_NORMAL.body, '"ARKANSAS.HUB","', '"ARKANSAS.HUB","9e9'),
    ("lmp", "control character in name"): _swap(LMP_NORMAL.body, '"ARKANSAS.HUB"', '"ARKANSAS\\u0007.HUB"'),
    ("load", "non-numeric load"): _swap(LOAD_NORMAL.body, '"Time":"00:00","Value":"', '"Time":"00:00","Value":"~'),
    ("load", "bad time"): _swap(LOAD_NORMAL.body, '"Time":"00:05"', '"Time":"12:05 AM"'),
    ("load", "negative load"): _swap(LOAD_NORMAL.body, '"Time":"00:00","Value":"', '"Time":"00:00","Value":"-'),
    ("load", "off the grid"): _swap(LOAD_NORMAL.body, '"Time":"00:05"', '"Time":"00:07"'),
}
test_one_bad_row_is_refused_alone, test_bad_body_raises = ic.malformed_tests_of(SRC, GOOD, BAD_ROW, BAD)


def test_a_three_hour_gap_is_healed_from_the_rolling_feed() -> None:
    from datetime import timedelta

    from producers import http

    now = datetime(2025, 11, 2, 20, 7, tzinfo=UTC)  # 15:07 EST
    since = now - timedelta(hours=3, minutes=2)  # the cursor: end of 17:00-17:05Z
    rolling = http.RecordedResponse(LMP_ROLLING_URL, {}, ic.RECORDINGS / "miso" / "rolling_20251102.json", 200, {})
    layer = ic.replay_layer("MISO", extra=[rolling], now=now)
    responses = SRC.fetch("lmp", layer, now, since)
    assert [r.url for r in responses] == [LMP_ROLLING_URL] and not layer.transport.unmatched
    ticks = SRC.parse("lmp", responses)
    for hub in HUBS:
        starts = {t["interval_start"] for t in ticks if t["location"] == hub}
        missing = [since + timedelta(minutes=5 * k) for k in range(36)]  # 17:05 .. 19:60, every interval
        assert {f"{m:%Y-%m-%dT%H:%M:%SZ}" for m in missing} <= starts, hub


def test_fetch_reads_the_newest_interval_normally_and_yesterday_too_after_midnight() -> None:
    from datetime import timedelta

    from producers.base import Request
    from producers.miso import LMP_PREVIOUS_URL

    asked: list[str] = []

    class Http:
        def get(self, request: Request) -> Response:
            asked.append(request.url)
            return Response(request.url, 200, b"{}", {}, now)

    now = datetime(2025, 6, 10, 6, 7, tzinfo=UTC)  # 01:07 EST
    SRC.fetch("lmp", Http(), now, None)
    SRC.fetch("lmp", Http(), now, now - timedelta(minutes=7))
    assert asked == [LMP_URL, LMP_URL]
    SRC.fetch("lmp", Http(), now, now - timedelta(hours=3))
    assert asked[2:] == [LMP_PREVIOUS_URL, LMP_ROLLING_URL]

    class Down(Http):
        def get(self, request: Request) -> Response:
            asked.append(request.url)
            return Response(request.url, 404 if request.url == LMP_ROLLING_URL else 200, b"{}", {}, now)

    got = SRC.fetch("lmp", Down(), now, now - timedelta(hours=3))
    assert [r.url for r in got] == [LMP_PREVIOUS_URL, LMP_URL]  # the newest interval still goes out

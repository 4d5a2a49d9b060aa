"""MISO: public-API JSON (five-minute ex-post LMP, real-time total load). No real MISO
response is available (../shared/iso-samples has none, so nothing here reads it or skips): the recordings follow the shapes
gridstatus and other public clients read, documented in producers/miso.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gridtape.errors import SourceError
from producers.base import Response
from producers.miso import HUBS, LMP_URL, LOAD_URL, MisoSource
from tests.producers.iso_contract import (
    Case,
    IsoContract,
    assert_contiguous,
    recorded,
    replay_polls,
)

SRC = MisoSource()
LMP_NORMAL = recorded("MISO", "fiveminexpost_current_20250610T1842.json", "2025-06-10T18:42:00Z")
LMP_SPRING = recorded("MISO", "fiveminexpost_current_20250309T0807.json", "2025-03-09T08:07:00Z")
LMP_FALL = recorded("MISO", "fiveminexpost_current_20251102T0607.json", "2025-11-02T06:07:00Z")
DAY_SPRING = recorded(
    "MISO", "rolling_20250309.json", "2025-03-10T05:01:00Z", url=LMP_URL.replace("/Current", "/Rolling")
)
DAY_FALL = recorded(
    "MISO", "rolling_20251102.json", "2025-11-03T05:01:00Z", url=LMP_URL.replace("/Current", "/Rolling")
)
LOAD_NORMAL = recorded("MISO", "realtimetotalload_20250610.json", "2025-06-10T18:42:00Z")
LOAD_SPRING = recorded("MISO", "realtimetotalload_20250309.json", "2025-03-10T05:00:40Z")
LOAD_FALL = recorded("MISO", "realtimetotalload_20251102.json", "2025-11-03T05:00:40Z")


class TestMisoContract(IsoContract):
    source = SRC
    cases = (
        Case("lmp normal", "lmp", [LMP_NORMAL], 1, set(HUBS)),
        Case("lmp spring poll", "lmp", [LMP_SPRING], 1, set(HUBS)),
        Case("lmp fall poll", "lmp", [LMP_FALL], 1, set(HUBS)),
        # EST all year: the DST days are ordinary 288-interval market days.
        Case("lmp spring day", "lmp", [DAY_SPRING], 288, set(HUBS)),
        Case("lmp fall day", "lmp", [DAY_FALL], 288, set(HUBS)),
        Case("load normal so far", "load", [LOAD_NORMAL], 164, {"MISO"}),
        Case("load spring day", "load", [LOAD_SPRING], 288, {"MISO"}),
        Case("load fall day", "load", [LOAD_FALL], 288, {"MISO"}),
    )


def test_known_row_est_interval_start_and_components() -> None:
    ticks = {t["location"]: t for t in SRC.parse("lmp", [LMP_FALL])}
    ark = ticks["ARKANSAS.HUB"]
    # "2025-11-02T01:00:00" EST (UTC-5 even on the fall-back day) = 06:00Z, interval beginning.
    assert (ark["interval_start"], ark["interval_end"]) == ("2025-11-02T06:00:00Z", "2025-11-02T06:05:00Z")
    assert (ark["lmp"], ark["loss"], ark["congestion"], ark["energy"]) == (31.63, 0.85, 0.0, 30.78)
    for t in ticks.values():
        assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"], abs=1e-6)
    assert set(ticks) == set(HUBS) and {t["location_type"] for t in ticks.values()} == {"hub"}


def test_dst_days_are_plain_est_days() -> None:
    for resp, first in ((DAY_SPRING, "2025-03-09T05:00:00Z"), (DAY_FALL, "2025-11-02T05:00:00Z")):
        starts = sorted(t["interval_start"] for t in SRC.parse("lmp", [resp]) if t["location"] == "MINN.HUB")
        assert_contiguous(starts, first, 288)
    load = sorted(t["interval_start"] for t in SRC.parse("load", [LOAD_FALL]))
    assert_contiguous(load, "2025-11-02T05:00:00Z", 288)


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
    polls = replay_polls(SRC)
    assert all(polls.values())
    assert [t["interval_start"] for t in polls["lmp: spring DST day (MISO stays on EST: 03:00 EST)"]][:1] == [
        "2025-03-09T08:00:00Z"
    ]


def _swap(body: bytes, old: str, new: str) -> bytes:
    assert old.encode() in body
    return body.replace(old.encode(), new.encode(), 1)


BAD_LMP = {
    "html page": b"<!DOCTYPE html><html><body>Request blocked</body></html>",
    "empty body": b"",
    "truncated json": LMP_NORMAL.body[:-30],
    "renamed column": _swap(LMP_NORMAL.body, '"MLC"', '"LOSS"'),
    "no data key": _swap(LMP_NORMAL.body, '"data"', '"rows"'),
    "non-numeric price": _swap(LMP_NORMAL.body, '"ARKANSAS.HUB","', '"ARKANSAS.HUB","x'),
    "short row": _swap(LMP_NORMAL.body, '"ARKANSAS.HUB",', ""),
    "bad interval": _swap(LMP_NORMAL.body, "2025-06-10T13:35:00", "6/10/2025 1:35 PM"),
}


@pytest.mark.parametrize("body", BAD_LMP.values(), ids=BAD_LMP.keys())
def test_bad_lmp_raises(body: bytes) -> None:
    with pytest.raises(SourceError) as err:
        SRC.parse("lmp", [Response(LMP_URL, 200, body, {}, LMP_NORMAL.fetched_at)])
    assert err.value.iso == "MISO" and err.value.url == LMP_URL and LMP_URL in str(err.value)


BAD_LOAD = {
    "html page": b"<html><body>Service Unavailable</body></html>",
    "empty body": b"  ",
    "truncated json": LOAD_NORMAL.body[: len(LOAD_NORMAL.body) // 2],
    "renamed section": _swap(LOAD_NORMAL.body, "FiveMinTotalLoad", "FiveMinLoad"),
    "bad refid": _swap(LOAD_NORMAL.body, "10-Jun-2025 - Interval", "Interval"),
    "non-numeric load": _swap(LOAD_NORMAL.body, '"Time":"00:00","Value":"', '"Time":"00:00","Value":"~'),
    "bad time": _swap(LOAD_NORMAL.body, '"Time":"00:05"', '"Time":"12:05 AM"'),
}


@pytest.mark.parametrize("body", BAD_LOAD.values(), ids=BAD_LOAD.keys())
def test_bad_load_raises(body: bytes) -> None:
    with pytest.raises(SourceError) as err:
        SRC.parse("load", [Response(LOAD_URL, 200, body, {}, datetime(2025, 6, 10, 18, 42, tzinfo=UTC))])
    assert err.value.iso == "MISO" and err.value.url == LOAD_URL

"""PJM day-ahead (feed dam, da_hrl_lmps): the recorded polls (both DST days), which days a poll
asks for around posts_at, hour-beginning labels, nodes only with include_nodes, the real
capture in ../shared, and malformed input."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers.base import Response
from producers.pjm import DA_LMP_URL, LMP_URL, PjmSource
from tests.producers.iso_contract import RECORDINGS, Case, IsoContract, malformed_tests, recorded

SOURCE = PjmSource(credentials={"api_key": "test"})
MANIFEST = json.loads((RECORDINGS / "pjm" / "manifest.json").read_text())
DAM_POLLS = {p["now"]: p["label"] for p in MANIFEST["polls"] if p["dataset"] == "dam"}
HUBS = set(isos.get("PJM").hubs)


def dam_response(now: str) -> Response:
    stamp = datetime.fromisoformat(now.replace("Z", "+00:00")).strftime("%Y%m%dT%H%MZ")
    return recorded("PJM", f"da_hrl_lmps_{stamp}.json", now)


SPRING, FALL, NORMAL = "2025-03-09T16:00:00Z", "2025-11-01T18:00:00Z", "2025-06-10T15:00:00Z"


class TestPjmDamContract(IsoContract):
    source = SOURCE
    cases = (
        Case(DAM_POLLS[SPRING], "lmp", [dam_response(SPRING)], 23, HUBS | {"PJM-RTO", "DOM"}),
        Case(DAM_POLLS[NORMAL], "lmp", [dam_response(NORMAL)], 24, HUBS | {"PJM-RTO", "DOM"}),
        Case(DAM_POLLS[FALL], "lmp", [dam_response(FALL)], 24 + 25, HUBS | {"PJM-RTO", "DOM"}),
    )

    @staticmethod
    def ticks(source: Any, case: Case) -> list[dict[str, Any]]:
        return source.parse("dam", case.responses)  # ticks of dataset lmp, market DAM


def local_days(ticks: list[dict[str, Any]], location: str) -> Counter[str]:
    tz = isos.get("PJM").tz
    return Counter(
        contract.parse_ts(t["interval_start"]).astimezone(tz).date().isoformat()
        for t in ticks
        if t["location"] == location
    )


def test_dst_days_have_23_and_25_hours_beginning_on_the_hour() -> None:
    spring = SOURCE.parse("dam", [dam_response(SPRING)])
    assert local_days(spring, "WESTERN HUB") == {"2025-03-09": 23}
    fall = SOURCE.parse("dam", [dam_response(FALL)])
    assert local_days(fall, "WESTERN HUB") == {"2025-11-01": 24, "2025-11-02": 25}
    for t in spring + fall:
        assert (t["dataset"], t["market"]) == ("lmp", "DAM")
        start = contract.parse_ts(t["interval_start"])
        assert start.minute == 0 and contract.parse_ts(t["interval_end"]) - start == timedelta(hours=1)
    # the repeated 01:00 EPT hour: two UTC hours, both present, distinct
    fall_hub = sorted(t["interval_start"] for t in fall if t["location"] == "WESTERN HUB")
    assert {"2025-11-02T05:00:00Z", "2025-11-02T06:00:00Z"} <= set(fall_hub)
    assert len(fall_hub) == len(set(fall_hub))


def test_first_hour_is_the_operating_days_midnight_no_hour_ending_shift() -> None:
    ticks = SOURCE.parse("dam", [dam_response(NORMAL)])
    starts = sorted(t["interval_start"] for t in ticks if t["location"] == "PJM-RTO")
    assert starts[0] == "2025-06-10T04:00:00Z" and starts[-1] == "2025-06-11T03:00:00Z"  # 00:00 .. 23:00 EDT


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (datetime(2025, 6, 10, 17, 29, tzinfo=UTC), "2025-06-10T00:00to2025-06-10T23:59"),  # 13:29 EDT
        (datetime(2025, 6, 10, 17, 30, tzinfo=UTC), "2025-06-10T00:00to2025-06-11T23:59"),  # 13:30 EDT: posted
        (datetime(2025, 6, 11, 3, 59, tzinfo=UTC), "2025-06-10T00:00to2025-06-11T23:59"),  # 23:59 EDT
        (datetime(2025, 6, 11, 4, 0, tzinfo=UTC), "2025-06-11T00:00to2025-06-11T23:59"),  # midnight: a new day
        (datetime(2025, 1, 10, 18, 31, tzinfo=UTC), "2025-01-10T00:00to2025-01-11T23:59"),  # 13:31 EST
        (datetime(2025, 1, 10, 18, 29, tzinfo=UTC), "2025-01-10T00:00to2025-01-10T23:59"),
    ],
)
def test_a_poll_asks_for_today_and_from_posts_at_on_tomorrow(now: datetime, days: str) -> None:
    req = SOURCE.request("dam", now)
    assert req.url == DA_LMP_URL and req.params["datetime_beginning_ept"] == days
    assert req.params["row_is_current"] == "TRUE" and "total_lmp_da" in req.params["fields"]
    assert "4669664" in req.params["pnode_id"].split(";")
    nodes = PjmSource(include_nodes=True, credentials={"api_key": "k"}).request("dam", now)
    assert "pnode_id" not in nodes.params


def item(pnode: int, name: str, lmp: Any, start: str = "2025-06-10T04:00:00") -> dict[str, Any]:
    return {"datetime_beginning_utc": start, "pnode_id": pnode, "pnode_name": name, "total_lmp_da": lmp}


def body(*items: dict[str, Any]) -> bytes:
    return json.dumps({"items": list(items), "totalRows": len(items), "links": []}).encode()


AT = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)


def test_a_bus_is_a_node_only_with_include_nodes() -> None:
    resp = Response(DA_LMP_URL, 200, body(item(1, "PJM-RTO", 30.0), item(5021703, "BRUNNER 13 KV UNIT1", 28.5)), {}, AT)
    assert {t["location"] for t in SOURCE.parse("dam", [resp])} == {"PJM-RTO"}
    nodes = PjmSource(include_nodes=True, credentials={"api_key": "k"}).parse("dam", [resp])
    assert {(t["location"], t["location_type"]) for t in nodes} == {
        ("PJM-RTO", "zone"),
        ("BRUNNER 13 KV UNIT1", "node"),
    }


def test_a_real_time_file_is_not_read_as_day_ahead() -> None:
    resp = Response(f"{LMP_URL}?rowCount=50000", 200, body(item(1, "PJM-RTO", 30.0)), {}, AT)
    with pytest.raises(SourceError, match="rt_unverified_fivemin_lmps is not a dam endpoint"):
        SOURCE.parse("dam", [resp])


GOOD = dam_response(NORMAL)


def _with(index: int, **changes: Any) -> bytes:
    doc = json.loads(GOOD.body)
    doc["items"][index].update(changes)
    for k, v in changes.items():
        if v is ...:
            del doc["items"][index][k]
    return json.dumps(doc).encode()


def _renamed() -> bytes:
    doc = json.loads(GOOD.body)
    for it in doc["items"]:
        it["lmp_da"] = it.pop("total_lmp_da")
    return json.dumps(doc).encode()


test_one_bad_row_is_refused_alone, test_bad_body_raises_source_error = malformed_tests(
    SOURCE,
    "dam",
    GOOD,
    bad_rows={
        "text price": _with(3, total_lmp_da="n/a"),
        "no price": _with(5, total_lmp_da=...),
        "half hour": _with(7, datetime_beginning_utc="2025-06-10T04:30:00"),
        "bad time": _with(9, datetime_beginning_utc="06/10/2025 00:00"),
        "text pnode": _with(11, pnode_id="51217"),
    },
    bad_bodies={
        "empty": b"",
        "html": b"<!DOCTYPE html><html><body>Service unavailable</body></html>",
        "truncated": GOOD.body[: len(GOOD.body) // 2],
        "renamed column": _renamed(),
        "a page missing": GOOD.body.replace(b'"totalRows":840', b'"totalRows":900'),
    },
)


def test_real_da_capture(iso_samples: Path) -> None:
    """electricitymaps' capture: type=ZONE, ept 2026-06-09T00:00to23:59, total only."""
    raw = (iso_samples / "pjm" / "emaps_pjm_da_hrl_lmps_2026-06-09.json").read_bytes()
    url = json.loads(raw)["links"][0]["href"]
    ticks = SOURCE.parse_rows("dam", [Response(url, 200, raw, {}, datetime(2026, 6, 9, 12, tzinfo=UTC))], live=False)
    assert not ticks.refused and len(ticks.ticks) == 552
    assert {t["location_type"] for t in ticks.ticks} == {"zone"}
    assert local_days(ticks.ticks, "PJM-RTO") == {"2026-06-09": 24}
    rto = {t["interval_start"]: t for t in ticks.ticks if t["location"] == "PJM-RTO"}
    first = rto["2026-06-09T04:00:00Z"]  # datetime_beginning_utc 04:00 = 00:00 EDT, the day's first hour
    assert (first["lmp"], first["interval_end"], first["market"]) == (31.862345, "2026-06-09T05:00:00Z", "DAM")
    assert first["energy"] is None and first["congestion"] is None and first["loss"] is None

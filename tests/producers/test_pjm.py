"""PJM real-time (lmp, load): the contract on every recording, the DST hours in UTC, paging, the
missing key, every malformed input, the real Data Miner captures in ../shared. Day-ahead:
test_pjm_dam.py; history: test_pjm_history.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError, TerminalError
from producers.base import Request, Response
from producers.pjm import HUB_IDS, LMP_URL, LOAD_URL, MissingApiKey, PjmSource
from tests.producers import iso_contract as ic

MANIFEST = json.loads((ic.RECORDINGS / "pjm" / "manifest.json").read_text())
HUBS = {
    "EASTERN HUB", "ATSI GEN HUB", "DOMINION HUB", "OHIO HUB", "AEP-DAYTON HUB", "AEP GEN HUB",
    "CHICAGO HUB", "CHICAGO GEN HUB", "N ILLINOIS HUB", "WESTERN HUB", "WEST INT HUB", "NEW JERSEY HUB",
}  # fmt: skip
ZONES = {
    "PJM-RTO", "AECO", "BGE", "DPL", "JCPL", "METED", "PECO", "PEPCO", "PPL", "PENELEC", "PSEG", "RECO",
    "APS", "AEP", "COMED", "DAY", "DOM", "DUQ", "ATSI", "DEOK", "EKPC", "OVEC",
}  # fmt: skip
AREAS = {"PJM RTO", "PJM MID ATLANTIC REGION", "DOM", "COMED", "UG"}


FEEDS = {"lmp": "rt_unverified_fivemin_lmps", "load": "inst_load", "dam": "da_hrl_lmps"}


def poll_response(dataset: str, now: str) -> Response:
    stamp = datetime.fromisoformat(now.replace("Z", "+00:00")).strftime("%Y%m%dT%H%MZ")
    return ic.recorded("PJM", f"{FEEDS[dataset]}_{stamp}.json", now)


def cases() -> list[ic.Case]:
    """The real-time polls (lmp, load); the day-ahead ones are in test_pjm_dam.py."""
    out = []
    for poll in MANIFEST["polls"]:
        if poll["dataset"] == "dam":
            continue
        expected = HUBS | ZONES if poll["dataset"] == "lmp" else AREAS
        # each recording is one hour of 5-minute intervals
        out.append(ic.Case(poll["label"], poll["dataset"], [poll_response(poll["dataset"], poll["now"])], 12, expected))
    return out


class TestPjmContract(ic.IsoContract):
    source = PjmSource(credentials={"api_key": "test"})
    cases = tuple(cases())


SOURCE = PjmSource(credentials={"api_key": "test"})


def by_key(ticks: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(t["location"], t["interval_start"]): t for t in ticks}


class TestValues:
    def test_known_row(self) -> None:
        ticks = by_key(SOURCE.parse("lmp", [poll_response("lmp", "2025-06-10T18:42:00Z")]))
        t = ticks[("WESTERN HUB", "2025-06-10T18:35:00Z")]  # datetime_beginning_utc 2025-06-10T18:35:00
        assert (t["interval_end"], t["location_type"]) == ("2025-06-10T18:40:00Z", "hub")
        assert (t["lmp"], t["energy"], t["congestion"], t["loss"]) == (48.567261, 50.543683, -2.508882, 0.53246)
        dom = ticks[("DOM", "2025-06-10T18:35:00Z")]
        assert (dom["lmp"], dom["location_type"]) == (50.540017, "zone")

    def test_fall_back_repeated_ept_hour_is_its_own_utc_hour(self) -> None:
        resp = poll_response("lmp", "2025-11-02T06:32:00Z")
        epts = [i["datetime_beginning_ept"][11:16] for i in json.loads(resp.body)["items"] if i["pnode_id"] == 1]
        assert epts == [*(f"01:{m:02d}" for m in range(30, 60, 5)), *(f"01:{m:02d}" for m in range(0, 30, 5))]
        ticks = by_key(SOURCE.parse("lmp", [resp]))
        hub = sorted(s for loc, s in ticks if loc == "CHICAGO HUB")
        ic.assert_contiguous(hub, "2025-11-02T05:30:00Z", 12)
        assert ticks[("CHICAGO HUB", "2025-11-02T05:55:00Z")]["lmp"] == -30.289911  # 01:55 EDT
        assert ticks[("CHICAGO HUB", "2025-11-02T06:00:00Z")]["lmp"] == -22.918764  # 01:00 EST, after it

    def test_spring_forward_skips_nothing_in_utc(self) -> None:
        resp = poll_response("lmp", "2025-03-09T07:32:00Z")
        epts = [i["datetime_beginning_ept"][11:16] for i in json.loads(resp.body)["items"] if i["pnode_id"] == 1]
        assert epts[5:7] == ["01:55", "03:00"]  # 02:00-02:55 EPT never happened
        ticks = SOURCE.parse("lmp", [resp])
        starts = sorted(t["interval_start"] for t in ticks if t["location"] == "PJM-RTO")
        ic.assert_contiguous(starts, "2025-03-09T06:30:00Z", 12)

    def test_load_areas_and_system(self) -> None:
        ticks = by_key(SOURCE.parse("load", [poll_response("load", "2025-11-02T06:32:00Z")]))
        rto = ticks[("PJM RTO", "2025-11-02T05:55:00Z")]  # the reading at 06:00 UTC ends this interval
        assert (rto["load_mw"], rto["location_type"], rto["interval_end"]) == (
            57406.455,
            "system",
            "2025-11-02T06:00:00Z",
        )
        assert ticks[("DOM", "2025-11-02T05:55:00Z")]["location_type"] == "zone"
        zones = [t for (a, s), t in ticks.items() if s == "2025-11-02T05:55:00Z" and t["location_type"] == "zone"]
        assert rto["load_mw"] == pytest.approx(sum(t["load_mw"] for t in zones if not t["location"].startswith("PJM")))

    @pytest.mark.parametrize(
        ("stamp", "end"),
        [
            ("2025-06-10T18:40:00", "2025-06-10T18:40:00Z"),  # on the grid: the interval ending at T
            ("2025-06-10T18:41:27", "2025-06-10T18:45:00Z"),  # off it: the first interval ending after T
            ("2025-06-10T18:44:59.500", "2025-06-10T18:45:00Z"),
            ("2025-06-10T18:40:00.001", "2025-06-10T18:45:00Z"),
        ],
    )
    def test_a_reading_ends_its_interval_never_before_it_existed(self, stamp: str, end: str) -> None:
        body = json.dumps(
            {"items": [{"datetime_beginning_utc": stamp, "area": "AE", "instantaneous_load": 1.5}]}
        ).encode()
        (t,) = SOURCE.parse("load", [Response(LOAD_URL, 200, body, {}, datetime(2025, 6, 10, 18, 46, tzinfo=UTC))])
        assert t["interval_end"] == end
        assert contract.parse_ts(t["interval_end"]) >= datetime.fromisoformat(stamp).replace(tzinfo=UTC)
        assert contract.parse_ts(t["interval_end"]) - contract.parse_ts(t["interval_start"]) == timedelta(minutes=5)


def test_every_recorded_poll_replays() -> None:
    polls = ic.replay_polls(PjmSource(credentials={"api_key": "replay"}))
    assert len(polls) == 9 and all(polls.values())
    assert {p.split(":")[0] for p in polls} == {"lmp", "load", "dam"}
    assert not any(t["location_type"] == "node" for ticks in polls.values() for t in ticks)


def test_every_recorded_lmp_poll_replays_with_include_nodes_too() -> None:
    source = PjmSource(include_nodes=True, credentials={"api_key": "replay"})
    polls = {}
    for poll in MANIFEST["polls"]:
        if poll["dataset"] == "lmp":  # the day-ahead recordings answer the hub-and-zone request only
            responses = ic.fetch_recorded(source, "lmp", poll["now"])
            polls[poll["label"]] = source.parse("lmp", responses)
    lmp = polls["normal day: the last hour of hubs and zones"]
    nodes = {t["location"] for t in lmp if t["location_type"] == "node"}
    assert nodes == {"BRUNNER 13 KV UNIT1", "BRUNNER 13 KV UNIT2", "KEYSTONE 22 KV UNIT1"}
    assert {t["location"] for t in lmp} >= HUBS | ZONES


def test_no_key_is_a_terminal_error_naming_pjm() -> None:
    class NoHttp:
        def get(self, request: Request) -> Response:
            raise AssertionError("must not be asked")

    with pytest.raises(MissingApiKey) as err:
        PjmSource().fetch("lmp", NoHttp(), datetime(2025, 6, 10, 18, 42, tzinfo=UTC))
    assert isinstance(err.value, TerminalError)
    assert "PJM" in str(err.value) and "key" in str(err.value)


def test_request_sends_the_key_and_filters_on_utc() -> None:
    req = SOURCE.request("lmp", datetime(2025, 11, 2, 6, 2, 31, tzinfo=UTC))
    assert req.headers == {"Ocp-Apim-Subscription-Key": "test"}
    assert req.params["datetime_beginning_utc"] == "2025-11-02T05:00to2025-11-02T06:00"
    assert "4669664" in req.params["pnode_id"].split(";")
    nodes = PjmSource(include_nodes=True, credentials={"api_key": "k"})
    assert "pnode_id" not in nodes.request("lmp", datetime.now(UTC)).params


def item(start: str, pnode: int, name: str, lmp: float) -> dict[str, Any]:
    return {"datetime_beginning_utc": start, "pnode_id": pnode, "pnode_name": name, "total_lmp_rt": lmp}


class PagedHttp:
    """Two pages: the first carries a next link, as Data Miner's does while rows remain."""

    NEXT = f"{LMP_URL}?rowCount=1&startRow=2"

    def __init__(self, total: int = 2) -> None:
        self.asked: list[str] = []
        self.total = total

    def get(self, request: Request) -> Response:
        self.asked.append(request.url)
        assert request.headers["Ocp-Apim-Subscription-Key"] == "test"
        now = datetime(2025, 6, 10, 18, 42, tzinfo=UTC)
        if request.url == self.NEXT:
            doc = {"items": [item("2025-06-10T18:35:00", 1, "PJM-RTO", -3.5)], "totalRows": self.total, "links": []}
        else:
            doc = {
                "items": [item("2025-06-10T18:35:00", 4669664, "WESTERN HUB", 0.0)],
                "totalRows": self.total,
                "links": [{"rel": "self", "href": LMP_URL}, {"rel": "next", "href": self.NEXT}],
            }
        return Response(request.url, 200, json.dumps(doc).encode(), {}, now)


def test_paging_follows_next_links() -> None:
    http = PagedHttp()
    responses = SOURCE.fetch("lmp", http, datetime(2025, 6, 10, 18, 42, tzinfo=UTC))
    assert http.asked == [LMP_URL, PagedHttp.NEXT]
    ticks = SOURCE.parse("lmp", responses)
    assert {(t["location"], t["lmp"]) for t in ticks} == {("WESTERN HUB", 0.0), ("PJM-RTO", -3.5)}
    assert all(t["energy"] is None for t in ticks)  # components not in these items: null, not zero


def test_a_missing_page_is_an_error() -> None:
    responses = SOURCE.fetch("lmp", PagedHttp(total=3), datetime(2025, 6, 10, 18, 42, tzinfo=UTC))
    with pytest.raises(SourceError, match="totalRows 3"):
        SOURCE.parse("lmp", responses)


GOOD = {"items": [item("2025-06-10T18:35:00", 1, "PJM-RTO", 20.0)], "totalRows": 1}


def mutated(**changes: Any) -> bytes:
    doc = json.loads(json.dumps(GOOD))
    doc["items"][0].update(changes)
    for k, v in changes.items():
        if v is ...:
            del doc["items"][0][k]
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"<!DOCTYPE html><html><body>Access denied</body></html>", "HTML"),
        (json.dumps(GOOD).encode()[:-15], "malformed JSON"),
        (b'{"links": [], "totalRows": 0}', "no items"),
        (b"[]", "expected a JSON object"),
        (mutated(total_lmp_rt=...), "no field 'total_lmp_rt'"),
        (mutated(total_lmp_rt="n/a"), "expected a number"),
        (mutated(congestion_price_rt="x"), "congestion_price_rt"),
        (mutated(pnode_id="1"), "pnode_id"),
        (mutated(datetime_beginning_utc="06/10/2025 18:35"), "bad time"),
    ],
)
def test_malformed_input_raises_source_error(body: bytes, reason: str) -> None:
    url = f"{LMP_URL}?rowCount=50000"
    with pytest.raises(SourceError) as err:
        SOURCE.parse("lmp", [Response(url, 200, body, {}, datetime(2025, 6, 10, 18, 42, tzinfo=UTC))])
    assert err.value.iso == "PJM" and err.value.url == url and reason in str(err.value)


def test_http_401_is_a_source_error() -> None:
    body = b'{ "statusCode": 401, "message": "Access denied due to invalid subscription key." }'
    with pytest.raises(SourceError, match="HTTP 401"):
        SOURCE.parse("load", [Response(LOAD_URL, 401, body, {}, datetime.now(UTC))])


# -- the real captures (../shared/iso-samples/pjm) --------------------------------------------


def test_real_unverified_fivemin_capture(iso_samples: Path) -> None:
    body = (iso_samples / "pjm" / "emaps_pjm_rt_unverified_fivemin_lmps_2026-06-10.json").read_bytes()
    resp = Response(LMP_URL, 200, body, {}, datetime(2026, 6, 10, 19, 16, tzinfo=UTC))
    ticks = SOURCE.parse("lmp", [resp])
    assert len(ticks) == 154
    starts = sorted({t["interval_start"] for t in ticks})
    assert starts[0] == "2026-06-10T18:40:00Z" and starts[-1] == "2026-06-10T19:10:00Z" and len(starts) == 7
    for t in ticks:
        contract.validate(t)
    by = by_key(ticks)
    rto = by[("PJM-RTO", "2026-06-10T19:10:00Z")]
    assert (rto["lmp"], rto["interval_end"], rto["location_type"]) == (545.53, "2026-06-10T19:15:00Z", "zone")
    assert by[("BGE", "2026-06-10T19:10:00Z")]["lmp"] == 1070.33
    assert by[("OVEC", "2026-06-10T18:40:00Z")]["lmp"] == 425.52
    assert rto["energy"] is None and rto["congestion"] is None  # requested without components


def test_real_envelope_has_no_next_link(iso_samples: Path) -> None:
    body = (iso_samples / "pjm" / "pjm_api_rt_marginal_value_5min_2024-09-02_00.json").read_bytes()

    class Once:
        def get(self, request: Request) -> Response:
            return Response(request.url, 200, body, {}, datetime.now(UTC))

    responses = SOURCE.fetch("lmp", Once(), datetime(2024, 9, 3, 4, tzinfo=UTC))
    assert len(responses) == 1  # 578 items of totalRows 578: one page


class KeyWatchingHttp(PagedHttp):
    """Pages whose next link points wherever the test says; records where the key went."""

    def __init__(self, next_href: str) -> None:
        super().__init__()
        self.next_href = next_href
        self.keyed_hosts: list[str] = []

    def get(self, request: Request) -> Response:
        if request.headers.get("Ocp-Apim-Subscription-Key"):
            self.keyed_hosts.append(urlsplit(request.url).netloc)
        if request.url != LMP_URL:
            raise AssertionError(f"asked {request.url}")
        resp = super().get(request)
        doc = json.loads(resp.body)
        doc["links"][1]["href"] = self.next_href
        return Response(resp.url, 200, json.dumps(doc).encode(), {}, resp.fetched_at)


@pytest.mark.parametrize(
    "href",
    [
        "https://evil.example/api/v1/rt_unverified_fivemin_lmps?startRow=2",
        "http://api.pjm.com/api/v1/rt_unverified_fivemin_lmps?startRow=2",
        "https://api.pjm.com.evil.example/x",
        "https://user@evil.example/x",
    ],
)
def test_a_next_link_off_pjms_api_host_is_refused_and_the_key_never_leaves(href: str) -> None:
    http = KeyWatchingHttp(href)
    with pytest.raises(SourceError, match=r"leaves https://api\.pjm\.com"):
        SOURCE.fetch("lmp", http, datetime(2025, 6, 10, 18, 42, tzinfo=UTC))
    assert http.keyed_hosts == ["api.pjm.com"]


def test_utc_and_ept_fields_must_name_the_same_instant() -> None:
    good = item("2025-11-02T06:00:00", 1, "PJM-RTO", 20.0) | {"datetime_beginning_ept": "2025-11-02T01:00:00"}
    wrong = item("2025-11-02T06:05:00", 1, "PJM-RTO", 20.0) | {"datetime_beginning_ept": "2025-11-02T02:05:00"}
    other = item("2025-11-02T05:05:00", 1, "PJM-RTO", 20.0) | {"datetime_beginning_ept": "2025-11-02T01:05:00"}
    fill = [item(f"2025-11-02T04:{m:02d}:00", 1, "PJM-RTO", 20.0) for m in range(0, 60, 5)]
    doc = {"items": [good, wrong, other, *fill], "totalRows": 15}
    at = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    parsed = SOURCE.parse_rows("lmp", [Response(LMP_URL, 200, json.dumps(doc).encode(), {}, at)])
    assert [r.reason for r in parsed.refused] == [
        "datetime_beginning_utc 2025-11-02T06:05:00 and datetime_beginning_ept 2025-11-02T02:05:00 "
        "name different instants"
    ]
    starts = {t["interval_start"] for t in parsed.ticks}
    assert {"2025-11-02T06:00:00Z", "2025-11-02T05:05:00Z"} <= starts  # 01:00 EST and 01:05 EDT: both agree


def test_after_an_outage_the_window_reaches_back_to_the_cursor() -> None:
    now = datetime(2025, 6, 10, 18, 42, tzinfo=UTC)
    assert SOURCE.request("lmp", now, now - timedelta(minutes=30)).params["datetime_beginning_utc"] == (
        "2025-06-10T17:40to2025-06-10T18:40"
    )
    assert SOURCE.request("lmp", now, datetime(2025, 6, 10, 15, 5, tzinfo=UTC)).params["datetime_beginning_utc"] == (
        "2025-06-10T15:05to2025-06-10T18:40"
    )
    assert SOURCE.request("load", now, now - timedelta(days=9)).params["datetime_beginning_utc"] == (
        "2025-06-09T18:40to2025-06-10T18:40"
    )


def test_hub_ids_name_exactly_the_iso_tables_hubs() -> None:
    assert set(HUB_IDS) == set(isos.get("PJM").hubs) == HUBS

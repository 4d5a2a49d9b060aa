"""CAISO: OASIS PRC_INTVL_LMP zips and Today's Outlook demand CSV, on committed recordings."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gridtape import isos
from gridtape.errors import SourceError
from producers.base import Request, Response
from producers.caiso import DEMAND_URL, DLAPS, OASIS_URL, CaisoSource
from tests.producers import iso_contract as ic
from tools.recordings import synth

HUBS = isos.get("CAISO").hubs
SRC = CaisoSource()
ZONES = set(HUBS + DLAPS)


def lmp(file: str, fetched_at: str) -> Response:
    return ic.recorded("CAISO", file, fetched_at)


def demand(day: str, fetched_at: str) -> Response:
    return ic.recorded("CAISO", f"demand_{day}.csv", fetched_at)


NORMAL = lmp("lmp_20250610T1842.zip", "2025-06-10T18:42:03Z")
SPRING_DAY = lmp("lmp_day_20250309.zip", "2025-03-10T08:10:00Z")
FALL_DAY = lmp("lmp_day_20251102.zip", "2025-11-03T09:10:00Z")
LOAD_NORMAL = ic.recorded("CAISO", "demand_20250610.csv", "2025-06-10T18:42:03Z")
LOAD_SPRING = demand("20250309", "2025-03-10T06:58:00Z")
LOAD_FALL = demand("20251102", "2025-11-03T07:58:00Z")


class TestCaisoContract(ic.IsoContract):
    source = SRC
    cases = (
        ic.Case("lmp normal poll", "lmp", [NORMAL], 24, ZONES),
        ic.Case("lmp spring poll", "lmp", [lmp("lmp_20250309T1102.zip", "2025-03-09T11:02:01Z")], 24, ZONES),
        ic.Case("lmp fall poll", "lmp", [lmp("lmp_20251102T1002.zip", "2025-11-02T10:02:01Z")], 24, ZONES),
        ic.Case("lmp spring day", "lmp", [SPRING_DAY], 276, ZONES),
        ic.Case("lmp fall day", "lmp", [FALL_DAY], 300, ZONES),
        ic.Case("load normal poll", "load", [LOAD_NORMAL], 141, {"CAISO"}),
        ic.Case("load spring day", "load", [LOAD_SPRING], 276, {"CAISO"}),
        ic.Case("load fall day", "load", [LOAD_FALL], 300, {"CAISO"}),
    )


def by_key(ticks: list[dict]) -> dict[tuple[str, str], dict]:
    return {(t["location"], t["interval_start"]): t for t in ticks}


def test_known_lmp_row_and_components() -> None:
    ticks = by_key(SRC.parse("lmp", [NORMAL]))
    np15 = ticks[("TH_NP15_GEN-APND", "2025-06-10T16:40:00Z")]
    assert np15["interval_end"] == "2025-06-10T16:45:00Z"
    assert np15["lmp"] == 20.98036
    assert np15["location_type"] == "hub"
    assert ticks[("DLAP_SCE-APND", "2025-06-10T16:40:00Z")]["location_type"] == "zone"
    assert np15["source"].startswith(OASIS_URL + "?") and "PRC_INTVL_LMP" in np15["source"]
    assert np15["published_at"] == np15["ingested_at"] == "2025-06-10T18:42:03Z"
    for t in ticks.values():  # MGHG is 0 at every California location: LMP = MCE + MCC + MCL
        assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"], abs=1e-9)


def test_negative_prices_survive() -> None:
    prices = [t["lmp"] for t in SRC.parse("lmp", [SPRING_DAY])]
    assert min(prices) < 0, "the recording has a negative midday solar trough"


def test_fall_repeated_hour_is_two_utc_hours() -> None:
    starts = sorted(t["interval_start"] for t in SRC.parse("lmp", [FALL_DAY]) if t["location"] == HUBS[0])
    # 01:00 PDT = 08:00Z and 01:00 PST = 09:00Z are both there, once each, with no gap between.
    assert "2025-11-02T08:00:00Z" in starts and "2025-11-02T09:00:00Z" in starts
    ic.assert_contiguous(starts, "2025-11-02T07:00:00Z", 300)
    loads = sorted(t["interval_end"] for t in SRC.parse("load", [LOAD_FALL]))
    assert "2025-11-02T08:00:00Z" in loads and "2025-11-02T09:00:00Z" in loads  # the two "01:00" rows
    ic.assert_contiguous(loads, "2025-11-02T07:00:00Z", 300)


def test_spring_gap_loses_nothing() -> None:
    starts = sorted(t["interval_start"] for t in SRC.parse("lmp", [SPRING_DAY]) if t["location"] == HUBS[0])
    ic.assert_contiguous(starts, "2025-03-09T08:00:00Z", 276)
    ends = sorted(t["interval_end"] for t in SRC.parse("load", [LOAD_SPRING]))
    # 01:55 PST (09:55Z) is followed by 03:00 PDT (10:00Z); the empty 02:xx rows are skipped.
    assert "2025-03-09T09:55:00Z" in ends and "2025-03-09T10:00:00Z" in ends
    ic.assert_contiguous(ends, "2025-03-09T08:00:00Z", 276)


def test_load_time_is_interval_end_pacific() -> None:
    ticks = SRC.parse("load", [LOAD_NORMAL])
    first = min(ticks, key=lambda t: t["interval_end"])
    # Row "00:00" on 2025-06-10 (PDT) is the interval ending at 07:00Z.
    assert (first["interval_start"], first["interval_end"]) == ("2025-06-10T06:55:00Z", "2025-06-10T07:00:00Z")
    assert first["load_mw"] == 21387.0 and first["location_type"] == "system"
    assert max(t["interval_end"] for t in ticks) == "2025-06-10T18:40:00Z"  # 11:40 PDT, rows after are empty


def test_load_just_after_midnight_is_yesterdays_file() -> None:
    late = Response(
        LOAD_NORMAL.url,
        200,
        (ic.RECORDINGS / "caiso" / "demand_20251102.csv").read_bytes(),
        {},
        datetime(2025, 11, 3, 8, 1, tzinfo=UTC),
    )
    ticks = SRC.parse("load", [late])  # fetched 00:01 PST on 11-03, the file is still 11-02's
    assert max(t["interval_end"] for t in ticks) == "2025-11-03T07:55:00Z"


def test_fetch_is_deterministic_and_bounded() -> None:
    class Http:
        def __init__(self) -> None:
            self.requests: list[Request] = []

        def get(self, request: Request) -> Response:
            self.requests.append(request)
            return NORMAL

    now = datetime(2025, 6, 10, 18, 42, 17, tzinfo=UTC)
    a, b = Http(), Http()
    SRC.fetch("lmp", a, now)
    SRC.fetch("lmp", b, now)
    assert a.requests == b.requests
    params = a.requests[0].params
    assert (params["startdatetime"], params["enddatetime"]) == ("20250610T16:40-0000", "20250610T18:40-0000")
    assert params["node"].split(",") == list(HUBS + DLAPS)
    nodes = CaisoSource(include_nodes=True).lmp_request(now).params
    assert nodes["grp_type"] == "ALL_APNODES" and nodes["startdatetime"] == "20250610T17:40-0000"
    load = SRC.load_request(now)
    assert load.url == DEMAND_URL and load.volatile_params == ("_",)


def test_all_nodes_response_types_nodes() -> None:
    resp = lmp("lmp_all_nodes_20250610T1842.zip", "2025-06-10T18:42:03Z")
    types = {t["location"]: t["location_type"] for t in CaisoSource(include_nodes=True).parse("lmp", [resp])}
    assert types["0096WD_7_N001"] == "node" and types["TH_ZP26_GEN-APND"] == "hub" and types["DLAP_PGAE-APND"] == "zone"


# -- malformed input ---------------------------------------------------------------------------
def members() -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(NORMAL.body)) as z:
        return {n: z.read(n) for n in z.namelist()}


def edit_lmp_csv(edit) -> bytes:  # type: ignore[no-untyped-def]
    files = members()
    name = next(n for n in files if n.endswith(".csv"))
    files[name] = edit(files[name].decode()).encode()
    return synth.zip_bytes(files)


BAD_LMP = {
    "html page": b"<!DOCTYPE html><html><body>Service Unavailable</body></html>",
    "empty body": b"",
    "truncated zip": NORMAL.body[: len(NORMAL.body) // 2],
    "oasis error report": (ic.RECORDINGS / "caiso" / "oasis_invalid_request.zip").read_bytes(),
    "renamed value column": edit_lmp_csv(lambda s: s.replace(",VALUE,", ",PRICE,", 1)),
    "truncated csv row": edit_lmp_csv(lambda s: s.rstrip("\n").rsplit(",", 3)[0] + "\n"),
    "missing component rows": edit_lmp_csv(lambda s: "".join(x for x in s.splitlines(True) if ",MCC," not in x)),
}
BAD_LMP_ROW = {
    "non-numeric price": edit_lmp_csv(lambda s: s.replace(",20.98036,", ",n/a,", 1)),
    "absurd price": edit_lmp_csv(lambda s: s.replace(",20.98036,", ",1e12,", 1)),
    "infinite price": edit_lmp_csv(lambda s: s.replace(",20.98036,", ",Infinity,", 1)),
    "operating interval disagrees with GMT": edit_lmp_csv(lambda s: s.replace(",20.98036,9,", ",20.98036,8,", 1)),
}


test_one_bad_lmp_row_is_refused_alone, test_bad_lmp_raises_source_error = ic.malformed_tests(
    SRC, "lmp", NORMAL, BAD_LMP_ROW, BAD_LMP
)


def test_oasis_error_reason_is_reported() -> None:
    bad = Response(NORMAL.url, 200, BAD_LMP["oasis error report"], {}, NORMAL.fetched_at)
    with pytest.raises(SourceError, match="1000 No data returned"):
        SRC.parse("lmp", [bad])


GOOD_LOAD = LOAD_NORMAL.body.decode()
BAD_LOAD = {
    "html page": b"<html><head><title>Access Denied</title></head></html>",
    "empty body": b"\n",
    "renamed column": GOOD_LOAD.replace("Current demand", "Demand").encode(),
    "truncated row": GOOD_LOAD[: GOOD_LOAD.index("\n00:10,") + 8].encode(),
}
BAD_LOAD_ROW = {
    "non-numeric load": GOOD_LOAD.replace(",21387,\n", ",abc,\n").encode(),
    "bad time": GOOD_LOAD.replace("\n00:05,", "\n0:05am,").encode(),
    "zero load": GOOD_LOAD.replace(",21387,\n", ",0,\n").encode(),
}


test_one_bad_load_row_is_refused_alone, test_bad_load_raises_source_error = ic.malformed_tests(
    SRC, "load", LOAD_NORMAL, BAD_LOAD_ROW, BAD_LOAD
)


# -- real sample -------------------------------------------------------------------------------
def test_real_outlook_sample_times_are_interval_end(iso_samples: Path) -> None:
    """In CAISO's own outlook CSV the hourly day-ahead forecast changes on the row after each
    full hour: HE01 spans 00:05..01:00, so `Time` marks interval ends (what the parser assumes)."""
    text = (iso_samples / "caiso" / "caiso_outlook_history_20260311_rtm_forecast_7day_00.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["Time"] == "03/11/2026 00:00" and "Time" in rows[0]
    by_hour_ending: dict[str, set[str]] = {}
    for row in rows[1:289]:
        stamp = datetime.strptime(row["Time"], "%m/%d/%Y %H:%M")
        he = (stamp - timedelta(minutes=5)).replace(minute=0) + timedelta(hours=1)
        by_hour_ending.setdefault(he.isoformat(), set()).add(row["Day-ahead demand forecast"])
    assert len(by_hour_ending) == 24
    assert all(len(v) == 1 for v in by_hour_ending.values()), "one DA value per hour ending"
    assert Counter(len(v) for v in by_hour_ending.values()) == Counter({1: 24})


def test_recorded_polls_replay() -> None:
    polls = ic.replay_polls(SRC)
    assert all(polls.values()), [k for k, v in polls.items() if not v]
    fall = polls["load: 2025-11-02 DST day, whole day at 23:58 PT"]
    assert sum(t["market"] == "RT5" and t["location_type"] == "system" for t in fall) == 300
    # Beside the 5-minute system load, the hourly TAC-area zones of the last 24 hours.
    assert {t["market"] for t in fall if t["location_type"] == "zone"} == {"RTH"}


def test_after_an_outage_the_oasis_window_reaches_back_to_the_cursor() -> None:
    now = datetime(2025, 6, 10, 18, 42, tzinfo=UTC)

    def window(src: CaisoSource, since: datetime | None) -> tuple[str, str]:
        params = src.lmp_request(now, since).params
        return params["startdatetime"], params["enddatetime"]

    assert (
        window(SRC, None) == window(SRC, now - timedelta(minutes=20)) == ("20250610T16:40-0000", "20250610T18:40-0000")
    )
    assert window(SRC, datetime(2025, 6, 10, 13, 7, tzinfo=UTC)) == ("20250610T13:05-0000", "20250610T18:40-0000")
    assert window(SRC, now - timedelta(days=5))[0] == "20250609T18:40-0000"  # at most MAX_CATCHUP
    nodes = CaisoSource(include_nodes=True)  # OASIS caps an all-nodes query at one hour
    assert window(nodes, now - timedelta(hours=5))[0] == "20250610T17:40-0000"

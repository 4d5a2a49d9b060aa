"""SPP: the contract on every recording, the per-interval file names across both DST days,
both file layouts, the latest-then-backfill fetch, every malformed input, and the real RTBM
files in ../shared (including the real 0-byte one)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract
from gridtape.errors import SourceError
from producers.base import Request, Response
from producers.spp import LATEST_PATH, LMP_URL, LOAD_URL, SppSource, interval_path
from tests.producers import iso_contract as ic
from tools.recordings.generate_spp import ends

REC = ic.RECORDINGS / "spp"
MANIFEST = json.loads((REC / "manifest.json").read_text())
HUBS = {"SPPNORTH_HUB", "SPPSOUTH_HUB", "KCPL_GMOC_HUB"}
ZONES = {"KCPL_KCPL", "GRDA_GRDA", "NPPD_NPPD", "EDE_EDE", "LES_LES"}


def interval_files(times: list[datetime], fetched_at: str) -> list[Response]:
    return [ic.recorded("SPP", interval_path(end).rsplit("/", 1)[1], fetched_at) for end in times]


FALL = interval_files(
    ends(datetime(2025, 11, 2, 5, 5, tzinfo=UTC), datetime(2025, 11, 3, 6, 0, tzinfo=UTC)), "2025-11-03T06:02:00Z"
)
SPRING = interval_files(
    ends(datetime(2025, 3, 9, 6, 5, tzinfo=UTC), datetime(2025, 3, 10, 5, 0, tzinfo=UTC)), "2025-03-10T05:02:00Z"
)
JUNE_2026 = interval_files(
    ends(datetime(2026, 6, 10, 18, 25, tzinfo=UTC), datetime(2026, 6, 10, 18, 40, tzinfo=UTC)), "2026-06-10T18:42:30Z"
)


def load_file(now: str) -> Response:
    stamp = datetime.fromisoformat(now.replace("Z", "+00:00")).strftime("%Y%m%dT%H%MZ")
    return ic.recorded("SPP", f"load-forecast_{stamp}.csv", now)


class TestSppContract(ic.IsoContract):
    source = SppSource()
    cases = (
        ic.Case("lmp-2026-layout-with-baa", "lmp", JUNE_2026, 4, HUBS | ZONES | {"SWPW_HUB"}),
        ic.Case("lmp-fall-back-day-every-file", "lmp", FALL, 300, HUBS | ZONES),
        ic.Case("lmp-spring-forward-day-every-file", "lmp", SPRING, 276, HUBS | ZONES),
        ic.Case("load-normal-day", "load", [load_file("2026-06-10T18:42:30Z")], 288, {"SPP"}),
        ic.Case("load-after-fall-back", "load", [load_file("2025-11-03T06:02:30Z")], 288, {"SPP"}),
        ic.Case("load-after-spring-forward", "load", [load_file("2025-03-10T05:02:30Z")], 288, {"SPP"}),
    )


SOURCE = SppSource()


def by_key(ticks: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(t["location"], t["interval_start"]): t for t in ticks}


class TestFileNames:
    @pytest.mark.parametrize(
        ("end", "path"),
        [
            # the real sample: GMTIntervalEnd 13:40 UTC is 08:40 CDT
            (datetime(2025, 3, 31, 13, 40), "/2025/03/By_Interval/31/RTBM-LMP-SL-202503310840.csv"),
            # midnight: named for the new day, filed under the day the interval began
            (datetime(2024, 7, 1, 5, 0), "/2024/06/By_Interval/30/RTBM-LMP-SL-202407010000.csv"),
            (datetime(2025, 11, 2, 6, 55), "/2025/11/By_Interval/02/RTBM-LMP-SL-202511020155.csv"),
            (datetime(2025, 11, 2, 7, 0), "/2025/11/By_Interval/02/RTBM-LMP-SL-202511020200.csv"),
            (datetime(2025, 11, 2, 7, 5), "/2025/11/By_Interval/02/RTBM-LMP-SL-202511020105d.csv"),
            (datetime(2025, 11, 2, 8, 0), "/2025/11/By_Interval/02/RTBM-LMP-SL-202511020200d.csv"),
            (datetime(2025, 11, 2, 8, 5), "/2025/11/By_Interval/02/RTBM-LMP-SL-202511020205.csv"),
            (datetime(2025, 3, 9, 8, 0), "/2025/03/By_Interval/09/RTBM-LMP-SL-202503090200.csv"),
            (datetime(2025, 3, 9, 8, 5), "/2025/03/By_Interval/09/RTBM-LMP-SL-202503090305.csv"),
        ],
    )
    def test_interval_path(self, end: datetime, path: str) -> None:
        assert interval_path(end.replace(tzinfo=UTC)) == path

    def test_fall_back_day_has_300_distinct_files_12_of_them_repeats(self) -> None:
        names = {r.url for r in FALL}
        assert len(names) == 300 and sum(n.endswith("d.csv") for n in names) == 12

    def test_spring_forward_day_has_276_files_and_no_0205_to_0300(self) -> None:
        names = [r.url for r in SPRING]
        assert len(set(names)) == 276
        assert not any(f"20250309{hhmm}" in n for n in names for hhmm in ("0205", "0230", "0255", "0300"))


class TestValues:
    def test_repeated_hour_file_is_its_own_utc_interval(self) -> None:
        ticks = by_key(SOURCE.parse("lmp", FALL))
        # RTBM-LMP-SL-202511020105d.csv: 11/02/2025 01:05:00 (CST), GMTIntervalEnd 07:05 UTC
        t = ticks[("SPPNORTH_HUB", "2025-11-02T07:00:00Z")]
        assert t["interval_end"] == "2025-11-02T07:05:00Z"
        assert (t["lmp"], t["loss"], t["congestion"], t["energy"]) == (-30.9356, -1.1534, -43.0604, 13.2782)
        assert t["source"].endswith("RTBM-LMP-SL-202511020105d.csv")
        first_pass = ticks[("SPPNORTH_HUB", "2025-11-02T06:00:00Z")]  # 01:05 CDT
        assert first_pass["source"].endswith("RTBM-LMP-SL-202511020105.csv")

    def test_dst_days_lose_and_duplicate_nothing(self) -> None:
        fall = sorted(t["interval_start"] for t in SOURCE.parse("lmp", FALL) if t["location"] == "SPPSOUTH_HUB")
        ic.assert_contiguous(fall, "2025-11-02T05:00:00Z", 300)
        spring = sorted(t["interval_start"] for t in SOURCE.parse("lmp", SPRING) if t["location"] == "SPPSOUTH_HUB")
        ic.assert_contiguous(spring, "2025-03-09T06:00:00Z", 276)
        load = sorted(t["interval_start"] for t in SOURCE.parse("load", [load_file("2025-11-03T06:02:30Z")]))
        ic.assert_contiguous(load, "2025-11-02T06:00:00Z", 288)

    def test_location_types_and_nodes(self) -> None:
        types = {t["location"]: t["location_type"] for t in SOURCE.parse("lmp", JUNE_2026)}
        assert {types[h] for h in HUBS | {"SWPW_HUB"}} == {"hub"} and {types[z] for z in ZONES} == {"zone"}
        assert "AECC_ELKINS" not in types
        nodes = {t["location"]: t["location_type"] for t in SppSource(include_nodes=True).parse("lmp", JUNE_2026)}
        assert nodes["AECC_ELKINS"] == "node" and nodes["AEC"] == "node"

    def test_components_add_up(self) -> None:
        for t in SOURCE.parse("lmp", SPRING):
            assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"], abs=2e-4)

    def test_load_skips_forecast_only_rows(self) -> None:
        resp = load_file("2025-11-03T06:02:30Z")
        ticks = SOURCE.parse("load", [resp])
        assert max(t["interval_end"] for t in ticks) == "2025-11-03T06:00:00Z"
        last = by_key(ticks)[("SPP", "2025-11-03T05:55:00Z")]
        assert (last["load_mw"], last["location_type"]) == (27562.8, "system")


def test_every_recorded_poll_replays() -> None:
    polls = ic.replay_polls(SppSource())
    assert len(polls) == 13 and all(polls.values())
    repeated = polls["lmp: fall-back day: 01:05d, first of the repeated hour"]
    assert {t["interval_end"] for t in repeated} == {
        f"2025-11-02T{h}Z" for h in ("06:50:00", "06:55:00", "07:00:00", "07:05:00")
    }


class FakeHttp:
    def __init__(self, latest: bytes, missing: tuple[str, ...] = ()) -> None:
        self.latest = latest
        self.missing = missing
        self.asked: list[str] = []

    def get(self, request: Request) -> Response:
        path = request.params.get("path", "")
        self.asked.append(path)
        now = datetime(2025, 11, 2, 7, 6, tzinfo=UTC)
        if path == LATEST_PATH:
            return Response(f"{LMP_URL}?path={path}", 200, self.latest, {}, now)
        if path in self.missing:
            return Response(f"{LMP_URL}?path={path}", 404, b"Not Found", {}, now)
        return Response(f"{LMP_URL}?path={path}", 200, (REC / path.rsplit("/", 1)[1]).read_bytes(), {}, now)


def test_fetch_reads_latest_then_backfills_the_intervals_before_it() -> None:
    latest = (REC / "RTBM-LMP-SL-202511020105d.csv").read_bytes()
    http = FakeHttp(latest, missing=("/2025/11/By_Interval/02/RTBM-LMP-SL-202511020150.csv",))
    responses = SOURCE.fetch("lmp", http, datetime(2025, 11, 2, 7, 6, tzinfo=UTC))
    assert http.asked == [
        LATEST_PATH,
        "/2025/11/By_Interval/02/RTBM-LMP-SL-202511020150.csv",
        "/2025/11/By_Interval/02/RTBM-LMP-SL-202511020155.csv",
        "/2025/11/By_Interval/02/RTBM-LMP-SL-202511020200.csv",
    ]
    assert len(responses) == 3  # the 404 (not posted) is skipped; the next poll asks again
    ends_seen = {t["interval_end"] for t in SOURCE.parse("lmp", responses)}
    assert ends_seen == {"2025-11-02T06:55:00Z", "2025-11-02T07:00:00Z", "2025-11-02T07:05:00Z"}


def test_an_empty_latest_file_is_fetched_alone_and_fails_parse() -> None:
    http = FakeHttp(b"")
    responses = SOURCE.fetch("lmp", http, datetime(2025, 11, 2, 7, 6, tzinfo=UTC))
    assert http.asked == [LATEST_PATH]
    with pytest.raises(SourceError, match="empty body"):
        SOURCE.parse("lmp", responses)


HEADER = "Interval,GMTIntervalEnd,Settlement Location,Pnode,LMP,MLC,MCC,MEC\n"
ROW = "03/31/2025 08:40:00,03/31/2025 13:40:00,SPPNORTH_HUB,SPPNORTH_H,36.0854,-3.8271,-250.1463,290.0588\n"
URL = f"{LMP_URL}?path=%2F2025%2F03%2FBy_Interval%2F31%2FRTBM-LMP-SL-202503310840.csv"


@pytest.mark.parametrize(
    ("dataset", "body", "reason"),
    [
        ("lmp", b"", "empty body"),
        ("lmp", b"<!DOCTYPE html>\n<html><head><title>SPP Portal</title></head></html>", "HTML"),
        ("lmp", (HEADER + ROW + ROW[:40]).encode(), "truncated"),
        ("lmp", (HEADER.replace("MEC", "Energy") + ROW).encode(), "missing column(s) MEC"),
        ("lmp", (HEADER + ROW.replace("36.0854", "N/A")).encode(), "expected a number"),
        ("lmp", (HEADER + ROW.replace("03/31/2025 13:40:00", "2025-03-31 13:40")).encode(), "bad time"),
        ("lmp", HEADER.encode(), "no rows"),
        ("load", b"Interval,GMTIntervalEnd,STLF,MTLF,Actual Load\n1,03/31/2025 13:40:00,1,1,abc\n", "Actual Load"),
        ("load", b"Interval,GMTIntervalEnd,STLF,MTLF,Actual Load\n1,03/31/2025 13:40:00,1,1,\n", "no interval has"),
        ("load", b"Interval,GMTIntervalEnd,STLF,MTLF\n1,03/31/2025 13:40:00,1,1\n", "missing column(s) Actual Load"),
    ],
)
def test_malformed_input_raises_source_error(dataset: str, body: bytes, reason: str) -> None:
    url = URL if dataset == "lmp" else LOAD_URL
    with pytest.raises(SourceError) as err:
        SOURCE.parse(dataset, [Response(url, 200, body, {}, datetime(2025, 3, 31, 13, 42, tzinfo=UTC))])
    assert err.value.iso == "SPP" and err.value.url == url and reason in str(err.value)


def test_load_with_a_baa_column_keeps_the_areas_apart() -> None:
    body = (
        b"Interval,GMTIntervalEnd,BAA,STLF,MTLF,Actual Load\n"
        b"06/10/2026 13:40:00,06/10/2026 18:40:00,SPP,1,1,41000.5\n"
        b"06/10/2026 13:40:00,06/10/2026 18:40:00,SWPW,1,1,9000.25\n"
    )
    ticks = SOURCE.parse("load", [Response(LOAD_URL, 200, body, {}, datetime(2026, 6, 10, 18, 42, tzinfo=UTC))])
    assert {(t["location"], t["location_type"], t["load_mw"]) for t in ticks} == {
        ("SPP", "system", 41000.5),
        ("SWPW", "system", 9000.25),
    }


def test_iso_gmt_times_are_read_too() -> None:
    body = b"Interval,GMTIntervalEnd,STLF,MTLF,Actual Load\n03/31/2025 08:40:00,2025-03-31T13:40:00Z,1,1,30000.5\n"
    (t,) = SOURCE.parse("load", [Response(LOAD_URL, 200, body, {}, datetime(2025, 3, 31, 13, 42, tzinfo=UTC))])
    assert (t["interval_start"], t["load_mw"]) == ("2025-03-31T13:35:00Z", 30000.5)


# -- the real files (../shared/iso-samples/spp) -----------------------------------------------

REAL = ("0840", "0850", "0855", "0900", "0905", "0910")


def real(iso_samples: Path, hhmm: str) -> Response:
    name = f"RTBM-LMP-SL-20250331{hhmm}.csv"
    body = (iso_samples / "spp" / f"emaps_spp_{name}").read_bytes()
    url = f"{LMP_URL}?path=%2F2025%2F03%2FBy_Interval%2F31%2F{name}"
    return Response(url, 200, body, {}, datetime(2025, 3, 31, 14, 20, tzinfo=UTC))


def test_real_interval_files(iso_samples: Path) -> None:
    everything = SppSource(include_nodes=True)
    for hhmm in REAL:
        resp = real(iso_samples, hhmm)
        ticks = everything.parse("lmp", [resp])
        assert len(ticks) == len({t["location"] for t in ticks}) == 1234
        end = datetime(2025, 3, 31, 5 + int(hhmm[:2]), int(hhmm[2:]), tzinfo=UTC)  # CDT = UTC-5
        assert {t["interval_end"] for t in ticks} == {contract.format_ts(end)}
        assert interval_path(end).endswith(f"RTBM-LMP-SL-20250331{hhmm}.csv")
        for t in ticks:
            contract.validate(t)
            assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"], abs=2e-3)
    north = by_key(SOURCE.parse("lmp", [real(iso_samples, "0840")]))[("SPPNORTH_HUB", "2025-03-31T13:35:00Z")]
    assert (north["lmp"], north["loss"], north["congestion"], north["energy"]) == (
        36.0854,
        -3.8271,
        -250.1463,
        290.0588,
    )
    assert north["interval_end"] == "2025-03-31T13:40:00Z" and north["location_type"] == "hub"
    kinds: dict[str, set[str]] = {}
    for t in SOURCE.parse("lmp", [real(iso_samples, "0840")]):
        kinds.setdefault(t["location_type"], set()).add(t["location"])
    assert set(kinds) == {"hub", "zone"} and len(kinds["hub"]) == 35 and len(kinds["zone"]) == 121
    assert {"SPPNORTH_HUB", "SPPSOUTH_HUB", "GRDA_HUB", "KCPL_GMOC_HUB"} <= kinds["hub"]
    assert "CSWS.VOLT.0004" not in kinds["hub"]  # a _H aggregate, not a hub


def test_real_empty_interval_file_raises(iso_samples: Path) -> None:
    name = "RTBM-LMP-SL-202503310845.csv"
    body = (iso_samples / "spp" / f"emaps_spp_{name}").read_bytes()
    assert body == b""
    url = f"{LMP_URL}?path=%2F2025%2F03%2FBy_Interval%2F31%2F{name}"
    with pytest.raises(SourceError) as err:
        SOURCE.parse("lmp", [real(iso_samples, "0840"), Response(url, 200, body, {}, datetime.now(UTC))])
    assert err.value.url == url and "empty body" in str(err.value) and "SPP" in str(err.value)


def test_a_three_hour_gap_is_healed_file_by_file() -> None:
    from producers import http
    from producers.spp import interval_path

    latest_end = datetime(2025, 11, 2, 12, 0, tzinfo=UTC)  # 06:00 CST
    since = latest_end - timedelta(hours=3)
    now = latest_end + timedelta(minutes=1, seconds=30)
    layer = ic.replay_layer("SPP", now=now)
    file = next(
        r.path for r in layer.transport.recordings.responses if r.params.get("path") == interval_path(latest_end)
    )
    latest = http.RecordedResponse(LMP_URL, {"path": LATEST_PATH}, file, 200, {})
    layer = ic.replay_layer("SPP", keep=lambda r: r.params.get("path") != LATEST_PATH, extra=[latest], now=now)
    responses = SOURCE.fetch("lmp", layer, now, since)
    assert not layer.transport.unmatched and len(responses) == 35 + 1  # the gap's files, then the latest
    ticks = SOURCE.parse("lmp", responses)
    ends = {t["interval_end"] for t in ticks if t["location"] == "SPPNORTH_HUB"}
    assert ends == {f"{since + timedelta(minutes=5 * k):%Y-%m-%dT%H:%M:%SZ}" for k in range(1, 37)}


def test_a_gap_longer_than_a_poll_can_read_is_read_oldest_first_without_the_latest() -> None:
    from producers.spp import CATCHUP_PER_POLL, MAX_CATCHUP, interval_path, missing_ends

    end = datetime(2025, 11, 2, 12, 0, tzinfo=UTC)
    assert missing_ends(end, None) == [end - timedelta(minutes=m) for m in (15, 10, 5)]
    assert missing_ends(end, end - timedelta(minutes=10)) == missing_ends(end, None)
    far = missing_ends(end, end - timedelta(days=3))
    assert far[0] == end - MAX_CATCHUP and len(far) == CATCHUP_PER_POLL  # the next poll goes on from far[-1]
    since = datetime(2025, 11, 1, 7, 5, tzinfo=UTC)  # a day behind the latest file (ends 07:05Z)
    gap = tuple(interval_path(since + timedelta(minutes=5 * k)) for k in range(1, CATCHUP_PER_POLL + 1))
    http = FakeHttp((REC / "RTBM-LMP-SL-202511020105d.csv").read_bytes(), missing=gap)
    responses = SOURCE.fetch("lmp", http, datetime(2025, 11, 2, 7, 6, tzinfo=UTC), since)
    assert http.asked[1:] == list(gap)
    assert responses == []  # none posted here, and the latest file waits until the gap is read


def test_a_row_whose_interval_and_gmt_time_disagree_is_refused() -> None:
    good = ic.fetch_recorded(SOURCE, "lmp", "2026-06-10T18:42:30Z")[-1]
    text = good.body.decode()
    first = next(line for line in text.splitlines() if ",SPPNORTH_HUB," in line)
    wrong = first.replace("06/10/2026 13:", "06/10/2026 12:", 1)  # Interval an hour off its GMTIntervalEnd
    parsed = SOURCE.parse_rows("lmp", [replace(good, body=text.replace(first, wrong, 1).encode())])
    assert len(parsed.refused) == 1 and "disagree" in parsed.refused[0].reason

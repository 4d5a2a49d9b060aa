"""SPP day-ahead and history: the DA By_Day files (23 / 24 / 25 hours, hour-ending labels), the
DA fetch around the 13:00 posting, SPP's archives (RTBM By_Day, DA By_Day, STLF-vs-actual)
answered from producers/recordings/history/spp, live and historical files agreeing on every
interval they share (both DST days and the complete day 2026-06-11), broken archive files,
`gridtape parse --url` and the month-long replay tree of history_tree."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract
from gridtape.errors import SourceError
from producers import http
from producers.base import Request, Response
from producers.spp import DAM_URL, STLF_URL, SppSource, dam_path, stlf_path
from producers.spp.files import day_bounds
from tests.producers.iso_contract import RECORDINGS, Case, IsoContract, assert_contiguous, recorded

SOURCE = SppSource()
HISTORY = RECORDINGS / "history" / "spp"
DAY_TREE = RECORDINGS / "day" / "spp"
LIVE = RECORDINGS / "spp"
SPRING, FALL, JUNE = date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11)
TRACKED = {"SPPNORTH_HUB", "SPPSOUTH_HUB"}
Key = tuple[str, str, str, str, str]


def da(day: date) -> Response:
    return recorded("SPP", f"DA-LMP-SL-{day:%Y%m%d}0100.csv", f"{day}T18:30:00Z")


class TestSppDamContract(IsoContract):
    source = SOURCE
    cases = (
        Case("dam-normal-day", "dam", [da(date(2026, 6, 10))], 24, TRACKED | {"SWPW_HUB", "KCPL_KCPL"}),
        Case("dam-spring-forward-23-hours", "dam", [da(SPRING)], 23, TRACKED | {"NPPD_NPPD"}),
        Case("dam-fall-back-25-hours", "dam", [da(FALL)], 25, TRACKED | {"GRDA_GRDA"}),
    )

    def test_records_satisfy_contract(self, case: Case) -> None:
        for t in self.ticks(self.source, case):  # the dam feed's ticks are DAM lmp ticks
            contract.validate(t)
            assert (t["iso"], t["dataset"], t["market"]) == ("SPP", "lmp", "DAM")


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (FALL, 25), (date(2026, 6, 10), 24)])
def test_dam_hours_end_on_the_label_and_cover_the_day(day: date, hours: int) -> None:
    ticks = SOURCE.parse("dam", [da(day)])
    start, _ = day_bounds(day)
    for hub in TRACKED:
        mine = sorted(t["interval_start"] for t in ticks if t["location"] == hub)
        assert_contiguous(mine, contract.format_ts(start), hours, minutes=60)
    assert {(t["market"], t["dataset"]) for t in ticks} == {("DAM", "lmp")}
    # the first row of the file is hour ending 01:00 Central: it starts at local midnight
    first = da(day).body.decode().splitlines()[1].split(",")
    assert first[0] == f"{day:%m/%d/%Y} 01:00:00"
    assert min(t["interval_start"] for t in ticks) == contract.format_ts(start)
    assert "AEC" not in {t["location"] for t in ticks}  # nodes only with include_nodes
    nodes = {t["location"]: t["location_type"] for t in SppSource(include_nodes=True).parse("dam", [da(day)])}
    assert nodes["AEC"] == "node" and nodes["SPPNORTH_HUB"] == "hub" and nodes["LES_LES"] == "zone"


class DamHttp:
    """Serves the committed DA files; `posted` lists the days whose file exists."""

    def __init__(self, posted: set[date]) -> None:
        self.posted, self.asked = posted, []

    def get(self, request: Request) -> Response:
        path = request.params["path"]
        self.asked.append(path)
        day = next((d for d in self.posted if dam_path(d) == path), None)
        if day is None:
            return Response(f"{DAM_URL}?path={path}", 404, b"Not Found", {}, datetime.now(UTC))
        recorded_day = day if (LIVE / f"DA-LMP-SL-{day:%Y%m%d}0100.csv").exists() else date(2026, 6, 10)
        return replace(da(recorded_day), url=f"{DAM_URL}?path={path}")


@pytest.mark.parametrize(
    ("now", "since", "want"),
    [
        ("2026-06-10T17:59:00Z", None, ["20260610"]),  # 12:59 CDT: not posted yet
        ("2026-06-10T18:00:00Z", None, ["20260610", "20260611"]),  # 13:00 CDT
        ("2026-06-11T04:59:00Z", None, ["20260610", "20260611"]),  # 23:59 CDT
        ("2026-06-11T05:10:00Z", None, ["20260611"]),  # 00:10 CDT: a new operating day
        ("2026-06-11T05:10:00Z", "2026-06-10T05:00:00Z", ["20260610", "20260611"]),  # back to the cursor
        ("2026-06-11T05:10:00Z", "2026-05-01T05:00:00Z", [f"202606{d:02d}" for d in range(4, 12)]),  # capped
    ],
)
def test_dam_fetch_reads_the_day_and_the_next_once_posted(now: str, since: str | None, want: list[str]) -> None:
    days = {date(2026, 6, d) for d in range(1, 13)}
    asked = DamHttp(days)
    when = contract.parse_ts(now)
    SOURCE.fetch("dam", asked, when, contract.parse_ts(since) if since else None)
    got = [p.rsplit("-", 1)[1][:8] for p in asked.asked]
    assert got == want


def test_dam_next_day_not_yet_posted_is_skipped_but_a_missing_current_day_is_an_error() -> None:
    now = datetime(2026, 6, 10, 18, 30, tzinfo=UTC)
    responses = SOURCE.fetch("dam", DamHttp({date(2026, 6, 10)}), now)
    assert len(responses) == 1 and responses[0].status == 200
    responses = SOURCE.fetch("dam", DamHttp(set()), now)
    with pytest.raises(SourceError, match="HTTP 404"):
        SOURCE.parse("dam", responses)


# -- history -----------------------------------------------------------------------------------


def layer(root: Path) -> Any:
    return http.replay(http.Recordings.load(root), clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))


def history(feed: str, day: date, root: Path = HISTORY) -> list[dict[str, Any]]:
    fetch = layer(root)
    responses = SOURCE.history(feed, day, fetch)
    assert not fetch.transport.unmatched, fetch.transport.unmatched[:3]
    parsed = SOURCE.parse_rows(feed, responses, live=False)
    assert not parsed.refused, parsed.refused[:2]
    return parsed.ticks


def keyed(ticks: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    return {contract.natural_key(t): t for t in ticks}


VALUES = ("interval_end", "lmp", "energy", "congestion", "loss", "load_mw", "location_type")


def assert_agree(live: list[dict[str, Any]], hist: list[dict[str, Any]], at_least: int) -> None:
    """Same natural key -> same interval and values, on at least `at_least` shared keys."""
    a, b = keyed(live), keyed(hist)
    shared = a.keys() & b.keys()
    assert len(shared) >= at_least, (len(shared), at_least)
    differ = [k for k in shared if any(a[k][v] != b[k][v] for v in VALUES)]
    assert not differ, [(a[k], b[k]) for k in differ[:1]]


@pytest.mark.parametrize(("day", "n", "hours"), [(SPRING, 276, 23), (FALL, 300, 25), (JUNE, 288, 24)])
def test_history_reads_every_interval_of_the_day(day: date, n: int, hours: int) -> None:
    start, _ = day_bounds(day)
    lmp, load, dam = history("lmp", day), history("load", day), history("dam", day)
    for hub in TRACKED:
        assert_contiguous(
            sorted(t["interval_start"] for t in lmp if t["location"] == hub), contract.format_ts(start), n
        )
        times = sorted(t["interval_start"] for t in dam if t["location"] == hub)
        assert_contiguous(times, contract.format_ts(start), hours, minutes=60)
    # the day's intervals, and the two before it that its first file holds too
    ends = sorted(t["interval_end"] for t in load if t["location"] == "SPP")
    assert_contiguous(ends, contract.format_ts(start - timedelta(minutes=5)), n + 2)
    assert {t["location_type"] for t in lmp} == {"hub", "zone"}
    assert {t["location"] for t in load} == ({"SPP", "SWPW"} if day.year >= 2026 else {"SPP"})


def live_day_files() -> dict[str, list[Response]]:
    """Every response of the complete-day tree, by feed, as its recordings serve them."""
    rec = http.Recordings.load(DAY_TREE)
    out: dict[str, list[Response]] = {"lmp": [], "load": [], "dam": []}
    for r in rec.responses:
        feed = "dam" if r.url == DAM_URL else "load" if "load-forecast" in r.url else "lmp"
        url = r.url + (f"?path={r.params['path']}" if r.params else "")
        out[feed].append(Response(url, 200, r.path.read_bytes(), {}, datetime(2026, 6, 12, 5, tzinfo=UTC)))
    return out


@pytest.mark.parametrize("feed", ["lmp", "load", "dam"])
def test_live_and_history_agree_on_the_complete_day(feed: str) -> None:
    live = SOURCE.parse_rows(feed, live_day_files()[feed], live=False).ticks
    at_least = {"lmp": 288 * 8, "load": 288, "dam": 24 * 8}[feed]
    assert_agree(live, history(feed, JUNE), at_least)


def test_live_and_history_agree_on_both_dst_days() -> None:
    from tests.producers.test_spp import FALL as FALL_FILES
    from tests.producers.test_spp import SPRING as SPRING_FILES
    from tests.producers.test_spp import load_file

    assert_agree(SOURCE.parse("lmp", FALL_FILES), history("lmp", FALL), 300 * 8)
    assert_agree(SOURCE.parse("lmp", SPRING_FILES), history("lmp", SPRING), 276 * 8)
    assert_agree(SOURCE.parse("load", [load_file("2025-11-03T06:02:30Z")]), history("load", FALL), 288)
    assert_agree(SOURCE.parse("load", [load_file("2025-03-10T05:02:30Z")]), history("load", SPRING), 276)
    assert_agree(SOURCE.parse("dam", [da(FALL)]), history("dam", FALL), 25 * 8)


def test_stlf_names_follow_the_wall_clock_with_d_in_the_repeated_hour() -> None:
    at = [datetime(2025, 11, 2, 6, 55, tzinfo=UTC) + timedelta(minutes=5 * k) for k in range(15)]
    names = [stlf_path(t) for t in at]
    assert names[0] == "/2025/11/02/02/OP-STLF-202511020155.csv"
    assert names[1] == "/2025/11/02/02/OP-STLF-202511020100d.csv"  # 07:00 UTC, 01:00 CST
    assert names[13] == "/2025/11/02/03/OP-STLF-202511020200.csv"  # 08:00 UTC, 02:00 CST
    assert len(set(names)) == len(names)
    assert stlf_path(datetime(2026, 6, 12, 4, 55, tzinfo=UTC)) == "/2026/06/11/00/OP-STLF-202606112355.csv"


# -- broken archive files --------------------------------------------------------------------


def archive(feed: str, day: date = SPRING) -> Response:
    responses = SOURCE.history(feed, day, layer(HISTORY))
    return responses[len(responses) // 2]


def cut(body: bytes, lines: int) -> bytes:
    return b"\n".join(body.splitlines()[:lines]) + b"\n"


@pytest.mark.parametrize(
    ("feed", "body", "reason"),
    [
        ("lmp", lambda b: b[: len(b) // 2], "truncated"),  # cut mid-row
        ("lmp", lambda b: cut(b, 2000), "intervals of 2025-03-09 missing"),  # cut at a row's end
        ("dam", lambda b: cut(b, 100), "intervals of 2025-03-09 missing"),
        ("lmp", lambda b: b"", "empty body"),
        ("dam", lambda b: b"<html><body>Maintenance</body></html>", "HTML"),
        ("lmp", lambda b: b.replace(b"GMTIntervalEnd", b"GMTIntervalStart", 1), "missing column(s) GMTIntervalEnd"),
        ("load", lambda b: b.replace(b"GMTInterval", b"GMTIntervalBegin", 1), "missing column(s) GMTInterval"),
        ("load", lambda b: b"Interval,GMTInterval,STLF,Actual\n", "no interval has an Actual"),
        ("load", lambda b: b"", "empty body"),
    ],
)
def test_a_broken_archive_file_is_a_source_error_naming_its_url(feed: str, body: Any, reason: str) -> None:
    good = archive(feed)
    with pytest.raises(SourceError) as err:
        SOURCE.parse_rows(feed, [replace(good, body=body(good.body))], live=False)
    assert err.value.url == good.url and good.url in str(err.value) and reason in str(err.value)


@pytest.mark.parametrize("feed", ["lmp", "dam", "load"])
def test_a_bad_archive_row_is_refused_alone(feed: str) -> None:
    good = archive(feed, JUNE)  # an STLF file of 2026: 10 rows (one per BAA), one bad row is under 20 %
    lines = good.body.decode().splitlines()
    n = next(i for i, line in enumerate(lines) if i and line.split(",")[-1])
    lines[n] = ",".join([*lines[n].split(",")[:-1], "n/a"])
    parsed = SOURCE.parse_rows(feed, [replace(good, body=("\n".join(lines) + "\n").encode())], live=False)
    assert len(parsed.refused) == 1 and parsed.refused[0].url == good.url
    assert len(parsed.ticks) == len(SOURCE.parse_rows(feed, [good], live=False).ticks) - 1


def test_gridtape_parse_reads_an_stlf_file_by_its_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from app import cli

    path = stlf_path(datetime(2025, 11, 2, 7, 5, tzinfo=UTC))
    saved = tmp_path / "saved.csv"  # a name that says nothing: only --url tells the format
    saved.write_bytes((HISTORY / path.rsplit("/", 1)[1]).read_bytes())
    url = f"{STLF_URL}?path={path}"
    assert cli.main(["parse", "--iso", "SPP", "--dataset", "load", "--url", url, str(saved)]) == 0
    ticks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {t["interval_end"] for t in ticks} == {
        "2025-11-02T06:55:00Z",
        "2025-11-02T07:00:00Z",
        "2025-11-02T07:05:00Z",
    }
    assert all(t["source"] == url for t in ticks)
    assert cli.main(["parse", "--iso", "SPP", "--dataset", "load", str(saved)]) == 1  # read as the live format


def test_history_tree_writes_a_replayable_range_of_days(tmp_path: Path) -> None:
    from tools.recordings.generate_spp import history_tree

    history_tree(tmp_path, FALL, date(2025, 11, 3))
    for day in (FALL, date(2025, 11, 3)):
        n = 300 if day == FALL else 288
        lmp = history("lmp", day, tmp_path)
        assert len([t for t in lmp if t["location"] == "SPPNORTH_HUB"]) == n
        assert len([t for t in history("load", day, tmp_path) if t["location"] == "SPP"]) == n + 2
        assert len([t for t in history("dam", day, tmp_path) if t["location"] == "SPPSOUTH_HUB"]) == n // 12

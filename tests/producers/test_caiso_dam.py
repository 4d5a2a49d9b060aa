"""CAISO day-ahead LMP (OASIS PRC_LMP, market DAM): the poll's window, hour-ending labels, both
DST days, hubs and zones, malformed input."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from gridtape import contract, isos
from producers.base import Response
from producers.caiso import DLAPS, OASIS_TIME, CaisoSource, oasis
from producers.transport import full_url
from tests.producers.iso_contract import RECORDINGS, assert_contiguous, malformed_tests, recorded
from tools.recordings import synth

HUBS = isos.get("CAISO").hubs
SRC = CaisoSource()
HISTORY = RECORDINGS / "history" / "caiso"


def history_dam(day: str) -> Response:
    """The committed archive of `day` (YYYYMMDD), under the address history() asks."""
    (request,) = SRC.history_requests("dam", datetime.strptime(day, "%Y%m%d").date())
    url = full_url(request.url, request.params)
    return Response(url, 200, (HISTORY / f"dam_{day}.zip").read_bytes(), {}, datetime(2026, 7, 1, tzinfo=UTC))


LIVE = {
    "before posting": recorded("CAISO", "dam_20250610T1842.zip", "2025-06-10T18:42:01Z"),
    "after posting": recorded("CAISO", "dam_20250610T2005.zip", "2025-06-10T20:05:01Z"),
    "eve of spring day": recorded("CAISO", "dam_20250308T2105.zip", "2025-03-08T21:05:01Z"),
    "eve of fall day": recorded("CAISO", "dam_20251101T2005.zip", "2025-11-01T20:05:01Z"),
}


def hours(ticks: list[dict], location: str, day: str) -> list[str]:
    """interval_starts of `location` on Pacific operating day `day` (YYYY-MM-DD)."""
    out = []
    for t in ticks:
        local = contract.parse_ts(t["interval_start"]).astimezone(oasis.ZONE)
        if t["location"] == location and f"{local:%Y-%m-%d}" == day:
            out.append(t["interval_start"])
    return sorted(out)


@pytest.mark.parametrize("name", list(LIVE))
def test_live_dam_polls_are_hourly_da_ticks_at_every_hub_and_dlap(name: str) -> None:
    parsed = SRC.parse_rows("dam", [LIVE[name]])
    assert parsed.ticks and not parsed.refused
    for t in parsed.ticks:
        contract.validate(t)
        assert (t["iso"], t["dataset"], t["market"]) == ("CAISO", "lmp", "DAM")
        assert contract.parse_ts(t["interval_end"]) - contract.parse_ts(t["interval_start"]) == timedelta(hours=1)
    assert Counter(contract.natural_key(t) for t in parsed.ticks).most_common(1)[0][1] == 1
    types = {t["location"]: t["location_type"] for t in parsed.ticks}
    assert types == {**dict.fromkeys(HUBS, "hub"), **dict.fromkeys(DLAPS, "zone")}


@pytest.mark.parametrize(
    ("response", "day", "first", "n"),
    [
        (LIVE["eve of spring day"], "2025-03-09", "2025-03-09T08:00:00Z", 23),
        (LIVE["eve of fall day"], "2025-11-02", "2025-11-02T07:00:00Z", 25),
        (LIVE["after posting"], "2025-06-11", "2025-06-11T07:00:00Z", 24),
        (history_dam("20250309"), "2025-03-09", "2025-03-09T08:00:00Z", 23),
        (history_dam("20251102"), "2025-11-02", "2025-11-02T07:00:00Z", 25),
        (history_dam("20260611"), "2026-06-11", "2026-06-11T07:00:00Z", 24),
    ],
    ids=["live spring", "live fall", "live normal", "history spring", "history fall", "history normal"],
)
def test_dst_days_have_23_and_25_contiguous_hours(response: Response, day: str, first: str, n: int) -> None:
    ticks = SRC.parse_rows("dam", [response], live=False).ticks
    for location in HUBS + DLAPS:
        assert_contiguous(hours(ticks, location, day), first, n, minutes=60)


def member_rows(body: bytes) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return [row for n in z.namelist() for row in csv.DictReader(io.StringIO(z.read(n).decode()))]


def test_hour_ending_label_is_the_hour_before_it() -> None:
    """On a 24-hour day, OPR_HR N (hour ending N, Pacific) is the tick starting at N-1 o'clock."""
    response = LIVE["after posting"]
    ticks = {(t["location"], t["interval_start"]): t for t in SRC.parse("dam", [response])}
    checked = 0
    for row in member_rows(response.body):
        if row["OPR_DT"] != "2025-06-11" or row["LMP_TYPE"] != "LMP":
            continue
        start = datetime(2025, 6, 11, int(row["OPR_HR"]) - 1, tzinfo=oasis.ZONE).astimezone(UTC)
        tick = ticks[(row["NODE"], start.strftime("%Y-%m-%dT%H:%M:%SZ"))]
        assert tick["lmp"] == float(row["MW"])
        checked += 1
    assert checked == 24 * len(HUBS + DLAPS)


def window(now: datetime, since: datetime | None = None, src: CaisoSource = SRC) -> tuple[str, str]:
    params = src.dam_request(now, since).params
    assert params["queryname"] == "PRC_LMP" and params["market_run_id"] == "DAM"
    return params["startdatetime"], params["enddatetime"]


def pacific(*args: int) -> datetime:
    return datetime(*args, tzinfo=oasis.ZONE).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("before", "after", "today", "tomorrow_end"),
    [
        (pacific(2025, 6, 10, 12, 59), pacific(2025, 6, 10, 13, 0), "20250610T07:00", "20250611T07:00"),
        (pacific(2025, 3, 8, 12, 59), pacific(2025, 3, 8, 13, 0), "20250308T08:00", "20250309T08:00"),
        (pacific(2025, 11, 1, 12, 59), pacific(2025, 11, 1, 13, 0), "20251101T07:00", "20251102T07:00"),
    ],
)
def test_poll_asks_for_tomorrow_from_posts_at_pacific(
    before: datetime, after: datetime, today: str, tomorrow_end: str
) -> None:
    assert isos.get("CAISO").feed("dam").posts_at == "13:00"
    assert window(before) == (f"{today}-0000", f"{tomorrow_end}-0000")
    start, end = window(after)
    assert start == f"{today}-0000"
    # the day after tomorrow's midnight: 23, 24 or 25 hours after tomorrow's
    span = datetime.strptime(end, OASIS_TIME) - datetime.strptime(tomorrow_end + "-0000", OASIS_TIME)
    assert span in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))


def test_after_an_outage_the_poll_reaches_back_to_the_cursor_day_at_most_a_week() -> None:
    now = pacific(2025, 6, 10, 9, 0)
    assert window(now, pacific(2025, 6, 11, 0, 0)) == window(now)  # cursor ahead: nothing missing
    assert window(now, pacific(2025, 6, 8, 15, 0))[0] == "20250608T07:00-0000"
    assert window(now, pacific(2025, 5, 1, 0, 0))[0] == "20250603T07:00-0000"
    nodes = CaisoSource(include_nodes=True).dam_request(now).params
    assert nodes["grp_type"] == "ALL_APNODES" and "node" not in nodes
    assert SRC.dam_request(now).params["node"].split(",") == list(HUBS + DLAPS)


def test_dam_fetch_replays_the_recorded_polls() -> None:
    from tests.producers.iso_contract import replay_polls

    polls = {k: v for k, v in replay_polls(SRC).items() if k.startswith("dam:")}
    assert len(polls) == 4 and all(polls.values())


# -- malformed input ---------------------------------------------------------------------------
GOOD = LIVE["after posting"]


def edit(edit_csv) -> bytes:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(io.BytesIO(GOOD.body)) as z:
        files = {n: z.read(n) for n in z.namelist()}
    for name in files:
        files[name] = edit_csv(name, files[name].decode()).encode()
    return synth.zip_bytes(files)


def first_lmp(name: str, text: str, old: str, new: str) -> str:
    return text.replace(old, new, 1) if name.endswith("_LMP_v12.csv") else text


FIRST = member_rows(GOOD.body)[0]
ROW_START = f"{FIRST['INTERVALSTARTTIME_GMT']},{FIRST['INTERVALENDTIME_GMT']},{FIRST['OPR_DT']},{FIRST['OPR_HR']},"
BAD_ROWS = {
    "non-numeric price": edit(lambda n, s: first_lmp(n, s, f",{FIRST['MW']},", ",n/a,")),
    "absurd price": edit(lambda n, s: first_lmp(n, s, f",{FIRST['MW']},", ",1e12,")),
    "hour ending disagrees with GMT": edit(
        lambda n, s: first_lmp(n, s, ROW_START, ROW_START.replace(f",{FIRST['OPR_HR']},", ",9,"))
    ),
}
BAD_BODIES = {
    "html page": b"<!DOCTYPE html><html><body>Service Unavailable</body></html>",
    "empty body": b"",
    "truncated zip": GOOD.body[: len(GOOD.body) // 2],
    "oasis error report": (RECORDINGS / "caiso" / "oasis_invalid_request.zip").read_bytes(),
    "renamed value column": edit(lambda n, s: s.replace(",MW,", ",PRC,", 1)),
    "real-time file given as day-ahead": recorded("CAISO", "lmp_20250610T1842.zip", "2025-06-10T18:42:03Z").body,
    "missing component member": edit(lambda n, s: s if "_MCC_" not in n else s.splitlines(True)[0]),
}
test_one_bad_dam_row_is_refused_alone, test_bad_dam_raises_source_error = malformed_tests(
    SRC, "dam", GOOD, BAD_ROWS, BAD_BODIES
)

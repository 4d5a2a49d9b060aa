"""NYISO day-ahead LBMP and archives: damlbmp stamps are hour BEGINNING (23 and 25 hours on the
DST days), the dam fetch follows posts_at, history() reads the monthly archives (day files for
the last week) for one operating day, agrees with the live day tree on 2026-06-11, refuses bad
archives, `gridtape parse --url` reads one day of an archive, and history_tree replays a month."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers import http
from producers.base import Request, Response
from producers.nyiso import NyisoSource, dam_day_url
from producers.nyiso.files import month_url
from tests.producers.iso_contract import RECORDINGS, assert_contiguous, recorded, replay_polls

ZONES = set(isos.get("NYISO").hubs)
PROXIES = {"H Q", "NPX", "O H", "PJM"}
HISTORY = RECORDINGS / "history" / "nyiso"
SRC = NyisoSource()
SPRING, FALL, DAY = date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11)
COUNT = {SPRING: 276, FALL: 300, DAY: 288}


def parse(feed: str, responses: list[Response], source: NyisoSource = SRC) -> list[dict[str, Any]]:
    return source.parse_rows(feed, responses, live=False).ticks


def per_location(ticks: list[dict[str, Any]]) -> Counter[str]:
    return Counter(t["location"] for t in ticks)


def dam_file(day: date) -> Response:
    return recorded("NYISO", f"{day:%Y%m%d}damlbmp_zone.csv", "2026-12-01T00:00:00Z")


def history(feed: str, day: date, root: Path = HISTORY, source: NyisoSource | None = None) -> list[dict[str, Any]]:
    layer = http.replay(http.Recordings.load(root), clock=lambda: datetime(2026, 12, 1, tzinfo=UTC))
    responses = (source or NyisoSource()).history(feed, day, layer)
    assert isinstance(layer.transport, http.ReplayTransport) and not layer.transport.unmatched
    return parse(feed, responses)


# -- day-ahead: hour-beginning stamps ------------------------------------------------------------
@pytest.mark.parametrize(("day", "hours"), [(date(2025, 6, 10), 24), (SPRING, 23), (FALL, 25)])
def test_dam_day_has_every_hour_once_per_location(day: date, hours: int) -> None:
    ticks = parse("dam", [dam_file(day)])
    assert set(per_location(ticks).values()) == {hours} and set(per_location(ticks)) == ZONES | PROXIES
    for t in ticks:
        contract.validate(t)
        assert (t["dataset"], t["market"]) == ("lmp", "DAM")
        assert t["energy"] + t["congestion"] + t["loss"] == pytest.approx(t["lmp"], abs=0.01)
    first = datetime(day.year, day.month, day.day, tzinfo=isos.get("NYISO").tz).astimezone(UTC)
    assert_contiguous(
        sorted(t["interval_start"] for t in ticks if t["location"] == "WEST"), contract.format_ts(first), hours, 60
    )
    assert {t["location_type"] for t in ticks if t["location"] in ZONES} == {"zone"}


def test_dam_stamp_is_the_hour_beginning() -> None:
    # "03/09/2025 00:00" is the hour 00:00-01:00 EST; "03:00" (no 02:00 that day) starts 07:00Z
    body = dam_file(SPRING).body.decode().splitlines()
    assert body[1].startswith('"03/09/2025 00:00","CAPITL"')
    by = {(t["location"], t["interval_start"]): t for t in parse("dam", [dam_file(SPRING)])}
    row = next(line for line in body if line.startswith('"03/09/2025 03:00","WEST"'))
    assert by[("WEST", "2025-03-09T07:00:00Z")]["lmp"] == float(row.split(",")[3])
    assert by[("WEST", "2025-03-09T05:00:00Z")]["interval_end"] == "2025-03-09T06:00:00Z"
    # the fall day's "01:00" comes twice per location: EDT (05:00Z), then EST (06:00Z)
    fall = {(t["location"], t["interval_start"]) for t in parse("dam", [dam_file(FALL)])}
    assert {("N.Y.C.", "2025-11-02T05:00:00Z"), ("N.Y.C.", "2025-11-02T06:00:00Z")} <= fall


class Asked:
    def __init__(self, missing: tuple[str, ...] = ()) -> None:
        self.asked: list[str] = []
        self.missing = missing

    def get(self, request: Request) -> Response:
        self.asked.append(request.url)
        status = 404 if any(m in request.url for m in self.missing) else 200
        return Response(request.url, status, b"x", {}, datetime(2026, 6, 11, tzinfo=UTC))


def test_dam_fetch_follows_posts_at() -> None:
    before = datetime(2026, 6, 11, 14, 59, tzinfo=UTC)  # 10:59 EDT: tomorrow's not posted yet
    after = datetime(2026, 6, 11, 15, 0, tzinfo=UTC)
    h = Asked()
    SRC.fetch("dam", h, before)
    assert h.asked == [dam_day_url(DAY)]
    h = Asked()
    assert len(SRC.fetch("dam", h, after)) == 2 and h.asked == [dam_day_url(DAY), dam_day_url(DAY + timedelta(days=1))]
    late = Asked(missing=("20260612",))  # NYISO late: no error, the next poll asks again
    assert [r.url for r in SRC.fetch("dam", late, after)] == [dam_day_url(DAY)]
    nodes = Asked()
    NyisoSource(include_nodes=True).fetch("dam", nodes, before)
    assert nodes.asked == [dam_day_url(DAY), dam_day_url(DAY, nodes=True)]


def test_generator_buses_only_with_include_nodes() -> None:
    body = dam_file(date(2025, 6, 10)).body.decode().replace('"CAPITL",61757', '"ASTORIA___GT2",23512')
    resp = Response(dam_day_url(DAY, nodes=True), 200, body.encode(), {}, datetime(2026, 6, 11, tzinfo=UTC))
    assert parse("dam", [resp]) == []
    nodes = parse("dam", [resp], NyisoSource(include_nodes=True))
    assert {t["location_type"] for t in nodes} == {"node"} and "ASTORIA___GT2" in {t["location"] for t in nodes}


def test_every_dam_poll_of_the_day_tree_covers_both_days() -> None:
    polls = replay_polls(NyisoSource())
    dam = [t for key, ticks in polls.items() if key.startswith("dam:") for t in ticks]
    assert {t["interval_start"][:10] for t in dam} >= {"2025-03-09", "2025-11-02"}


# -- history -------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", [SPRING, FALL, DAY])
def test_history_reads_one_operating_day_of_each_archive(day: date) -> None:
    tz = isos.get("NYISO").tz
    for feed, n, locations in (
        ("lmp", COUNT[day], ZONES | PROXIES),
        ("load", COUNT[day], ZONES | {"NYISO"}),
        ("dam", COUNT[day] // 12, ZONES | PROXIES),
    ):
        ticks = history(feed, day)
        assert set(per_location(ticks).values()) == {n} and set(per_location(ticks)) == locations, feed
        assert {contract.parse_ts(t["interval_start"]).astimezone(tz).date() for t in ticks} == {day}
        assert {t["source"].split("#")[1] for t in ticks} == {f"{day}"}
        step = 60 if feed == "dam" else 5
        first = contract.format_ts(datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC))
        assert_contiguous(sorted(t["interval_start"] for t in ticks if t["location"] == "WEST"), first, n, step)


def test_history_reads_day_files_for_the_last_week_and_the_archive_before() -> None:
    source = NyisoSource()
    source.today = lambda: date(2026, 6, 20)  # type: ignore[method-assign]
    h = Asked()
    source.history("load", date(2026, 6, 12), h)  # 8 days back: the archive; the 13th: its day file
    source.history("load", date(2026, 6, 11), h)  # the archive again is not fetched again
    assert h.asked == [month_url("pal", "pal", DAY), "https://mis.nyiso.com/public/csv/pal/20260613pal.csv"]
    got = source.history("lmp", date(2026, 6, 19), h)
    assert [r.url for r in got] == ["https://mis.nyiso.com/public/csv/realtime/20260619realtime_zone.csv#2026-06-19"]


def test_history_agrees_with_the_live_day_tree() -> None:
    root = RECORDINGS / "day" / "nyiso"
    manifest = json.loads((root / "manifest.json").read_text())
    fetched = datetime(2026, 6, 12, 4, 3, tzinfo=UTC)

    def live(prefix: str) -> list[Response]:
        return [
            Response(r["url"], r["status"], (root / r["file"]).read_bytes(), {}, fetched)
            for r in manifest["responses"]
            if f"/{prefix}/" in r["url"] and r["status"] == 200
        ]

    for feed, folder in (("lmp", "realtime"), ("load", "pal"), ("dam", "damlbmp")):
        polled = {contract.natural_key(t): t for t in parse(feed, live(folder))}
        archived = {contract.natural_key(t): t for t in history(feed, DAY)}
        shared = polled.keys() & archived.keys()
        assert len(shared) == len(archived), feed  # the live tree holds every archived interval
        fields = ("interval_start", "interval_end", "lmp", "energy", "congestion", "loss", "load_mw")
        for key in shared:
            assert {f: polled[key][f] for f in fields} == {f: archived[key][f] for f in fields}, key


# -- bad input -----------------------------------------------------------------------------------
ARCHIVE = Response(
    month_url("realtime", "realtime_zone", DAY) + "#2026-06-11",
    200,
    (HISTORY / "20260601realtime_zone_csv.zip").read_bytes(),
    {},
    datetime(2026, 12, 1, tzinfo=UTC),
)


def rezip(edit: Any) -> bytes:
    with zipfile.ZipFile(io.BytesIO(ARCHIVE.body)) as z:
        members = {n: edit(z.read(n).decode()) for n in z.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n, text in members.items():
            z.writestr(n, text)
    return out.getvalue()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"<html><body>Service Unavailable</body></html>", "HTML"),
        (ARCHIVE.body[: len(ARCHIVE.body) // 2], "not a readable zip"),
        (rezip(lambda t: t.replace("LBMP ($/MWHr)", "LMP ($/MWHr)")), "missing column"),
    ],
)
def test_a_bad_archive_is_a_source_error_naming_its_url(body: bytes, reason: str) -> None:
    with pytest.raises(SourceError) as err:
        parse("lmp", [replace(ARCHIVE, body=body)])
    assert err.value.url == ARCHIVE.url and reason in str(err.value)


def test_a_renamed_member_is_a_source_error() -> None:
    def renamed(data: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = {n.replace("20260611", "20260699"): z.read(n) for n in z.namelist()}
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for n, b in members.items():
                z.writestr(n, b)
        return out.getvalue()

    with pytest.raises(SourceError, match="no file for 2026-06-11"):
        parse("lmp", [replace(ARCHIVE, body=renamed(ARCHIVE.body))])


def test_a_bad_archive_row_is_refused_alone() -> None:
    bad = rezip(lambda t: t.replace('"06/11/2026 12:00:00","WEST",61752,', '"06/11/2026 12:00:00","WEST",61752,n/a', 1))
    got = SRC.parse_rows("lmp", [replace(ARCHIVE, body=bad)], live=False)
    assert len(got.refused) == 1 and got.refused[0].url == ARCHIVE.url and "WEST" in got.refused[0].row
    assert len(got.ticks) == len(parse("lmp", [ARCHIVE])) - 1


def test_gridtape_parse_reads_one_day_of_an_archive_by_its_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app import cli

    saved = tmp_path / "saved.zip"
    saved.write_bytes((HISTORY / "20251101pal_csv.zip").read_bytes())
    url = month_url("pal", "pal", FALL) + "#2025-11-02"
    assert cli.main(["parse", "--iso", "NYISO", "--dataset", "load", "--url", url, str(saved)]) == 0
    ticks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert per_location(ticks)["NYISO"] == 300 and {t["source"] for t in ticks} == {url}
    # without the day: every day the archive holds (11-02 and 11-03)
    assert cli.main(["parse", "--iso", "NYISO", "--dataset", "load", "--url", url.split("#")[0], str(saved)]) == 0
    assert len(capsys.readouterr().out.splitlines()) > len(ticks)


def test_history_tree_replays_a_month_with_no_missing_interval(tmp_path: Path) -> None:
    from tools.recordings.generate_nyiso import history_tree

    start, end = date(2026, 4, 28), date(2026, 5, 3)  # across a month's end: two archives
    history_tree(tmp_path, start, end)
    tz = isos.get("NYISO").tz
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    for feed, step in (("lmp", 5), ("load", 5), ("dam", 60)):
        starts = sorted(
            t["interval_start"] for d in days for t in history(feed, d, tmp_path) if t["location"] == "WEST"
        )
        first = contract.format_ts(datetime(start.year, start.month, start.day, tzinfo=tz).astimezone(UTC))
        assert_contiguous(starts, first, len(days) * 24 * 60 // step, step)

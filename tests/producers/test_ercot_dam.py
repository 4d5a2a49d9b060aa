"""ERCOT day-ahead settlement point prices (MIS report 12331, NP4-190): the document list + one
zipped CSV per operating day, hour-ending labels on the Central clock, both DST days, on the
committed recordings; the hour-ending clock on every hour of a year."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers.base import Response
from producers.ercot import ErcotSource, lmp, mis
from tests.producers.iso_contract import (
    Case,
    IsoContract,
    assert_contiguous,
    assert_row_refused,
    fetch_recorded,
    replay_polls,
    source_error,
)
from tools.recordings import ercot_formats, synth

ROOT = Path(__file__).resolve().parents[2]
SRC = ErcotSource()
TRACKED = set(isos.get("ERCOT").hubs) | {"LZ_HOUSTON", "LZ_NORTH", "LZ_SOUTH", "LZ_WEST"}
NORMAL = fetch_recorded(SRC, "dam", "2025-06-10T18:42:00Z")  # 13:42 CDT: 06-10 and, posted, 06-11
SPRING = fetch_recorded(SRC, "dam", "2025-03-09T12:00:00Z")
FALL = fetch_recorded(SRC, "dam", "2025-11-02T12:00:00Z")


class TestErcotDamContract(IsoContract):
    source = SRC
    cases = (
        Case("dam 06-10 and 06-11", "dam", NORMAL, 48, TRACKED),
        Case("dam spring DST day", "dam", SPRING, 23, TRACKED),
        Case("dam fall DST day", "dam", FALL, 25, TRACKED),
    )

    def test_records_satisfy_contract(self, case: Case) -> None:
        # the dam feed's ticks carry the contract's dataset lmp, market DAM (the ISO table's feed)
        for t in self.ticks(self.source, case):
            contract.validate(t)
            assert (t["iso"], t["dataset"], t["market"]) == ("ERCOT", "lmp", "DAM")


def starts(ticks: list[dict], location: str) -> list[str]:
    return sorted(t["interval_start"] for t in ticks if t["location"] == location)


def local_days(ticks: list[dict]) -> set[str]:
    return {mis.local_date(contract.parse_ts(t["interval_start"])).isoformat() for t in ticks}


def test_ticks_are_day_ahead_lmp_hourly() -> None:
    ticks = SRC.parse("dam", NORMAL)
    assert {(t["dataset"], t["market"], t["interval_end"][14:]) for t in ticks} == {("lmp", "DAM", "00:00Z")}
    assert {t["location_type"] for t in ticks} == {"hub", "zone"}, "nodes only with include_nodes"
    nodes = ErcotSource(include_nodes=True).parse("dam", NORMAL)
    assert {"AMISTAD_ALL", "SOLARA_UNIT1"} <= {t["location"] for t in nodes if t["location_type"] == "node"}
    # HE 01:00 of 06-10 is 00:00-01:00 CDT = 05:00-06:00Z; HE 24:00 of 06-11 ends 00:00 CDT 06-12
    assert_contiguous(starts(ticks, "HB_NORTH"), "2025-06-10T05:00:00Z", 48, minutes=60)


def test_published_at_is_the_documents_publish_date() -> None:
    listed = lmp.publish_times(NORMAL)
    for t in SRC.parse("dam", NORMAL):
        doc = listed[t["source"].rsplit("=", 1)[1]]
        assert t["published_at"] == doc.published.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert mis.local_date(doc.published) + timedelta(days=1) == mis.local_date(
            datetime.fromisoformat(t["interval_start"].replace("Z", "+00:00"))
        )  # posted the day before the operating day


def test_next_day_only_once_posted() -> None:
    before = SRC.parse("dam", fetch_recorded(SRC, "dam", "2025-06-10T18:25:00Z"))  # 13:25 CDT
    assert local_days(before) == {"2025-06-10"}
    assert len(starts(before, "HB_WEST")) == 24


def test_catch_up_reads_the_days_since_the_cursor() -> None:
    now = datetime(2025, 3, 10, 20, 0, tzinfo=UTC)  # 15:00 CDT 03-10: 03-11 is not recorded
    plain = SRC.parse("dam", fetch_recorded(SRC, "dam", "2025-03-10T20:00:00Z"))
    assert local_days(plain) == {"2025-03-10"}
    from producers import http
    from tests.producers.iso_contract import RECORDINGS

    layer = http.replay(http.Recordings.load(RECORDINGS / "ercot"), clock=lambda: now)
    back = SRC.parse("dam", SRC.fetch("dam", layer, now, since=datetime(2025, 3, 8, 12, tzinfo=UTC)))
    assert len(starts(back, "HB_HUBAVG")) == 23 + 24  # 03-09 (spring, 23 hours) and 03-10


def test_dst_days() -> None:
    spring = SRC.parse("dam", SPRING)
    assert_contiguous(starts(spring, "HB_SOUTH"), "2025-03-09T06:00:00Z", 23, minutes=60)
    fall = SRC.parse("dam", FALL)
    assert_contiguous(starts(fall, "LZ_WEST"), "2025-11-02T05:00:00Z", 25, minutes=60)


@pytest.mark.parametrize("year", [2025, 2026])
def test_hour_ending_labels_of_every_hour_of_a_year(year: int) -> None:
    """ERCOT's labels (hour ending, HE 02:00 skipped in spring and doubled in fall with DSTFlag
    Y) map back to each hour's start, on every day of the year."""
    day = date(year, 1, 1)
    while day.year == year:
        got = [mis.hour_ending_start(f"{day:%m/%d/%Y}", label, flag) for _, label, flag in ercot_formats.hours(day)]
        assert got == [start for start, _, _ in ercot_formats.hours(day)], day
        day += timedelta(days=1)


def test_spring_hour_labelled_either_way() -> None:
    # ERCOT skips HE 02:00 and labels 01:00-02:00 CST "03:00"; a file numbering it "02:00" means
    # the same hour (its start exists); "03:00" has no existing start, so it is the hour ENDING
    # at 03:00 CDT.
    assert mis.hour_ending_start("03/09/2025", "03:00", "N") == datetime(2025, 3, 9, 7, tzinfo=UTC)
    assert mis.hour_ending_start("03/09/2025", "02:00", "N") == datetime(2025, 3, 9, 7, tzinfo=UTC)
    assert mis.hour_ending_start("03/09/2025", "04", "N") == datetime(2025, 3, 9, 8, tzinfo=UTC)
    assert mis.hour_ending_start("11/02/2025", "02:00", "N") == datetime(2025, 11, 2, 6, tzinfo=UTC)
    assert mis.hour_ending_start("11/02/2025", "02:00", "Y") == datetime(2025, 11, 2, 7, tzinfo=UTC)
    for label in ("00:00", "25:00", "01:30", "x"):
        with pytest.raises(ValueError):
            mis.hour_ending_start("11/02/2025", label, "N")


def test_recorded_dam_polls_replay() -> None:
    polls = {k: v for k, v in replay_polls(SRC).items() if k.startswith("dam:")}
    assert len(polls) == 3 and all(polls.values())


# -- malformed input ---------------------------------------------------------------------------
GOOD = next(r for r in SPRING if "mirDownload" in r.url)


def _csv() -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(GOOD.body)) as z:
        return z.read(z.namelist()[0]).decode()


def rezip(edit) -> bytes:  # type: ignore[no-untyped-def]
    return synth.zip_bytes({"x.csv": edit(_csv()).encode()})


BAD = {
    "html page": b"<!DOCTYPE html><html><body>Temporarily unavailable</body></html>",
    "empty body": b"",
    "truncated zip": GOOD.body[:-40],
    "renamed column": rezip(lambda s: s.replace('"SettlementPointPrice"', '"Price"')),
    "truncated csv": rezip(lambda s: s[: s.rindex(",")]),
    "a point twice": rezip(lambda s: s + s.splitlines(True)[1]),
    "two csvs": synth.zip_bytes({"a.csv": _csv().encode(), "b.csv": _csv().encode()}),
}
BAD_ROW = {
    "non-numeric price": rezip(lambda s: s.replace('"01:00","HB_HOUSTON","', '"01:00","HB_HOUSTON","x', 1)),
    "bad DSTFlag": rezip(lambda s: s.replace('","N"\r\n', '","?"\r\n', 1)),
    "hour ending 25": rezip(lambda s: s.replace('"01:00"', '"25:00"', 1)),
}


@pytest.mark.parametrize("body", BAD.values(), ids=BAD.keys())
def test_bad_document_raises_naming_the_url(body: bytes) -> None:
    source_error(SRC, "dam", GOOD, body)
    bad = Response(GOOD.url, 200, body, {}, GOOD.fetched_at)
    with pytest.raises(SourceError) as err:
        SRC.parse("dam", [SPRING[0], bad])
    assert err.value.url == GOOD.url and "doclookupId" in str(err.value)


@pytest.mark.parametrize("body", BAD_ROW.values(), ids=BAD_ROW.keys())
def test_one_bad_row_is_refused_alone(body: bytes) -> None:
    assert_row_refused(SRC, "dam", GOOD, body)


def test_gridtape_parse_url_names_the_document(tmp_path: Path) -> None:
    """A saved DAM document: its id is only in the address it came from."""
    saved = tmp_path / "dam.zip"
    saved.write_bytes(GOOD.body)

    def parse(*extra: str) -> subprocess.CompletedProcess[str]:
        args = [sys.executable, "-m", "app.cli", "parse", "--iso", "ERCOT", "--dataset", "dam", *extra, str(saved)]
        return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)

    out = parse("--url", GOOD.url)
    assert out.returncode == 0, out.stderr
    import json

    ticks = [json.loads(line) for line in out.stdout.splitlines()]
    assert {t["source"] for t in ticks} == {GOOD.url}
    assert_contiguous(starts(ticks, "HB_PAN"), "2025-03-09T06:00:00Z", 23, minutes=60)
    without = parse()
    assert without.returncode != 0 and "doclookupId" in without.stderr


def test_spring_settlement_interval_numbered_either_way() -> None:
    """The 15-minute settlement prices (12301) of 01:00-02:00 CST on the spring day read the
    same whether ERCOT numbers that hour 2 or, skipping hour ending 2, 3."""
    from tests.producers.test_ercot import SPP_SPRING

    def renumbered(r: Response) -> Response:
        if "mirDownload" not in r.url:
            return r
        text = _unzip(r.body).replace('"03/09/2025","02"', '"03/09/2025","03"')
        return Response(r.url, r.status, synth.zip_bytes({"x.csv": text.encode()}), r.headers, r.fetched_at)

    relabelled = [renumbered(r) for r in SPP_SPRING]
    assert any(r.body != o.body for r, o in zip(relabelled, SPP_SPRING, strict=True))
    assert SRC.parse("lmp", relabelled) == SRC.parse("lmp", SPP_SPRING)


def _unzip(body: bytes) -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return z.read(z.namelist()[0]).decode()

"""DOE EAGLE-I customer outages: the yearly file parsed (both column layouts, streaming over the
requested days), counties placed by the mapping table, unmapped ones kept and reported, bad
files and bad rows handled like the price pollers', and `gridtape backfill --dataset customers`
end to end on the emulator."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import cli
from gridtape import aws, config, contract, counties, landing
from gridtape.context import CUSTOMERS_OUT
from gridtape.errors import SourceError
from producers.base import Response
from producers.context.eaglei import FEED, EagleiSource, year_url
from tools.recordings import context_eaglei as gen

JUNE = [date(2026, 6, 10), date(2026, 6, 11), date(2026, 6, 12)]
DST = [date(2025, 3, 9), date(2025, 11, 2)]
FETCHED = datetime(2027, 1, 2, tzinfo=UTC)


def response(body: bytes, year: int = 2026) -> Response:
    return Response(year_url(year), 200, body, {"Last-Modified": "Fri, 01 Jan 2027 00:00:00 GMT"}, FETCHED)


def parse(body: bytes, days: list[date], year: int = 2026) -> tuple[Any, EagleiSource]:
    source = EagleiSource(days=days)
    return source.parse_rows(FEED, [response(body, year)], live=False), source


def file_rows(body: bytes, days: list[date]) -> list[dict[str, str]]:
    """The file's rows of `days`, read independently of the parser (csv.DictReader)."""
    wanted = {d.isoformat() for d in days}
    return [r for r in csv.DictReader(io.StringIO(body.decode())) if r["run_start_time"][:10] in wanted]


@pytest.mark.parametrize("days", [JUNE, JUNE[1:2], DST])
def test_every_row_of_the_requested_days_becomes_one_valid_record(days: list[date]) -> None:
    year = days[0].year
    body = gen.year_csv(year, gen.DAYS)
    parsed, _ = parse(body, days, year)
    rows = file_rows(body, days)
    assert not parsed.refused and len(parsed.ticks) == len(rows) > 0
    for rec in parsed.ticks:
        contract.validate(rec, CUSTOMERS_OUT)
        start = contract.parse_ts(rec["interval_start"])
        assert start.date() in days and contract.parse_ts(rec["interval_end"]) - start == timedelta(minutes=15)
        assert rec["provider"] == "eaglei" and rec["source"] == year_url(year)
        assert rec["published_at"] == "2027-01-01T00:00:00Z"
    got = Counter((r["fips"], r["interval_start"], r["customers_out"]) for r in parsed.ticks)
    want = Counter(
        (r["fips_code"].zfill(5), r["run_start_time"].replace(" ", "T") + "Z", int(r["customers_out"])) for r in rows
    )
    assert got == want


def test_counties_are_placed_by_the_table_and_unmapped_ones_are_kept_and_counted() -> None:
    parsed, source = parse(gen.year_csv(2026, gen.DAYS), JUNE)
    table = counties.load()
    unmapped: Counter[str] = Counter()
    for rec in parsed.ticks:
        place = table.get(rec["fips"])
        assert (rec["iso"], rec["zone"]) == ((place.iso, place.zone) if place else (None, None))
        if place is None:
            unmapped[rec["fips"]] += 1
    assert set(unmapped) == {f for f, _, _ in gen.UNMAPPED_SAMPLE}
    assert {f: n for f, (_, _, n) in source.unmapped.items()} == dict(unmapped)
    assert source.unmapped["48141"][:2] == ("El Paso", "Texas")
    assert {r["iso"] for r in parsed.ticks} >= set(contract.ISOS)


def test_the_older_layout_and_a_gzip_body_give_the_same_records() -> None:
    new, _ = parse(gen.year_csv(2026, gen.DAYS), JUNE)
    old, _ = parse(gen.year_csv(2026, gen.DAYS, legacy=True), JUNE)  # `sum` as float, index column
    zipped, _ = parse(gzip.compress(gen.year_csv(2026, gen.DAYS)), JUNE)
    assert old.ticks == new.ticks == zipped.ticks


def test_rows_of_other_days_are_skipped_before_they_are_read() -> None:
    body = gen.year_csv(2026, gen.DAYS) + b"garbage,,,,2026-06-13 00:00:00\n"
    parsed, _ = parse(body, JUNE)
    assert not parsed.refused
    everything, _ = parse(gen.year_csv(2026, gen.DAYS), [date(2026, 6, 9)])  # the runs just before the range
    assert {r["interval_start"][:10] for r in everything.ticks} == {"2026-06-09"}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html><body>Service unavailable</body></html>\n", "not an EAGLE-I outage file"),
        (b"fips_code,county,state,run_start_time\n1001,Autauga,Alabama,2026-06-10 00:00:00\n", "customers_out|sum"),
        (b"fips_code,county,state,customers_out\n1001,Autauga,Alabama,3\n", "run_start_time"),
        (b"", "not an EAGLE-I outage file"),
        (gzip.compress(b"fips_code,county,state,customers_out,run_start_time\n", mtime=0)[:20], "EOFError"),
        (b"fips_code,county,state,customers_out,run_start_time\n", "no customers rows"),
    ],
)
def test_a_bad_file_is_a_source_error_naming_the_url(body: bytes, why: str) -> None:
    with pytest.raises(SourceError, match=why) as err:
        parse(body, JUNE)
    assert err.value.url == year_url(2026)


@pytest.mark.parametrize(
    "bad",
    [
        "abc,Autauga,Alabama,3,2026-06-10 01:00:00",  # not a FIPS code
        "1234567,Autauga,Alabama,3,2026-06-10 01:00:00",  # too long
        "1001,Autauga,Alabama,2.5,2026-06-10 01:00:00",  # half a customer
        "1001,Autauga,Alabama,n/a,2026-06-10 01:00:00",
        "1001,Autauga,Alabama,-4,2026-06-10 01:00:00",  # below the bounds
        "1001,Autauga,Alabama,99000000,2026-06-10 01:00:00",  # above them
        "1001,Autauga,Alabama,3,2026-06-10 01:07",  # not a run time
        "1001,Autauga,Alabama,3,2026-06-10 01:00:00,extra",  # a shifted row
        "1001,Autauga,Alabama,2026-06-10 01:00:00",  # a short row
    ],
)
def test_a_bad_row_is_refused_alone(bad: str) -> None:
    body = gen.year_csv(2026, gen.DAYS)
    good, _ = parse(body, JUNE)
    parsed, _ = parse(body + bad.encode() + b"\n", JUNE)
    assert parsed.ticks == good.ticks
    assert len(parsed.refused) == 1 and parsed.refused[0].url == year_url(2026)
    assert "Autauga" in parsed.refused[0].row


def test_there_is_no_live_feed() -> None:
    with pytest.raises(SourceError, match="backfill"):
        EagleiSource().fetch(FEED, None, FETCHED)  # type: ignore[arg-type]


# -- gridtape backfill --dataset customers, on the emulator ------------------------------------
@pytest.fixture
def names(own_names: config.Names) -> config.Names:
    return own_names


def run(names: config.Names, root: Path, start: date, end: date, *extra: str) -> int:
    args = ["backfill", "--env", names.env, "--dataset", "customers", "--replay", str(root)]
    return cli.main([*args, "--start", start.isoformat(), "--end", end.isoformat(), *extra])


def bucket(names: config.Names, prefix: str = "") -> dict[str, bytes]:
    s3 = aws.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names.raw_bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=names.raw_bucket, Key=o["Key"])["Body"].read()
    return out


def test_backfill_lands_every_county_by_iso_reports_the_unmapped_and_reruns_change_nothing(
    names: config.Names, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "rec"
    gen.build(root / "eaglei")
    body = (root / "eaglei" / "eaglei_outages_2026.csv").read_bytes()
    assert run(names, root, JUNE[0], JUNE[-1]) == 0
    out = capsys.readouterr().out
    landed = bucket(names, landing.CONTEXT_PREFIX)
    for day in JUNE:
        rows = file_rows(body, [day])
        records = []
        for iso in (*contract.ISOS, "UNMAPPED"):
            key = landing.context_key("customers", iso, "customers", day, day)
            got = [json.loads(line) for line in landing.decode(landed[key])]
            assert got and all((r["iso"] or "UNMAPPED") == iso and r["revision"] == 0 for r in got)
            records += got
        assert len(records) == len(rows)
    unmapped = Counter(
        r["fips_code"].zfill(5) for r in file_rows(body, JUNE) if counties.place(r["fips_code"].zfill(5)) is None
    )
    for fips, name, state in gen.UNMAPPED_SAMPLE:
        assert f"unmapped: {fips} {name}, {state}: {unmapped[fips]} rows" in out
    marks = {landing.parse_mark(k) for k in bucket(names, landing.MARKS_PREFIX)}
    assert marks == {(d, iso, "customers") for d in JUNE for iso in contract.ISOS}

    assert run(names, root, JUNE[0], JUNE[-1]) == 0  # resumed: every day done already
    assert "0 day(s) written, 3 already done" in capsys.readouterr().out
    assert run(names, root, JUNE[0], JUNE[-1], "--redo") == 0
    assert bucket(names, landing.CONTEXT_PREFIX) == landed  # same records, same revisions

    changed = body.replace(b",2026-06-11 12:00:00\n", b"0,2026-06-11 12:00:00\n")  # x10 at one run
    (root / "eaglei" / "eaglei_outages_2026.csv").write_bytes(changed)
    assert run(names, root, JUNE[1], JUNE[1], "--redo") == 0
    again = bucket(names, landing.CONTEXT_PREFIX)
    revised = [json.loads(x) for k, v in again.items() if "2026-06-11" in k for x in landing.decode(v)]
    assert {r["revision"] for r in revised if r["interval_start"] == "2026-06-11T12:00:00Z"} == {1}
    assert {r["revision"] for r in revised if r["interval_start"] != "2026-06-11T12:00:00Z"} == {0}


def test_the_dst_days_and_a_day_the_file_lacks(
    names: config.Names, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "rec"
    gen.build(root / "eaglei")
    assert run(names, root, DST[0], DST[0]) == 0
    assert run(names, root, DST[1], DST[1] + timedelta(days=1), "--json") == 1  # Nov 3 is not in the file
    err = capsys.readouterr().err
    assert "EAGLEI customers 2025-11-03: missing" in err
    for day in DST:  # UTC days: 96 runs each, also where the ISOs' clocks change
        starts = {
            json.loads(x)["interval_start"]
            for k, v in bucket(names, landing.context_partition("customers", "PJM", day)).items()
            for x in landing.decode(v)
        }
        assert starts and len(starts) <= 96 and {s[:10] for s in starts} == {day.isoformat()}
    assert run(names, root, date(2024, 1, 1), date(2024, 1, 1)) == 1  # no 2024 file: missing
    assert "no EAGLE-I file for 2024" in capsys.readouterr().err


def test_the_committed_recordings_are_what_the_generator_writes(tmp_path: Path) -> None:
    committed = Path(gen.OUT)
    written = gen.build(tmp_path / "eaglei")
    names = sorted(p.name for p in committed.iterdir())
    assert sorted(p.name for p in written.iterdir()) == names
    for name in names:
        assert (written / name).read_bytes() == (committed / name).read_bytes(), name


def test_the_live_layer_takes_a_year_file_larger_than_a_price_response() -> None:
    from producers import formats
    from producers.backfill import customers

    http = customers.live_layer()
    try:
        assert http.https_only and http.transport.max_body > 2 * formats.MAX_BODY_BYTES
    finally:
        http.close()

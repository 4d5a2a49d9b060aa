"""Compaction transforms on a real local SparkSession: a fall-back DST day with duplicates,
revisions, neighbouring-day records and rejects compacts to exactly the expected rows."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch.compaction import read_lines
from batch.transforms import CURATED_COLUMNS, CompactParams, transform_compact
from tests.batch.conftest import day_grid, tick, utc, write_raw_local

pytestmark = pytest.mark.spark

FALL = date(2024, 11, 3)  # PJM (Eastern) falls back: 300 five-minute intervals
SPRING = date(2024, 3, 10)  # CAISO (Pacific) springs forward: 276


def _as_strings(df: Any) -> list[tuple[Any, ...]]:
    """Rows with timestamps rendered as UTC strings (independent of the Python host zone)."""
    from pyspark.sql import functions as F

    cols = []
    for name, kind in df.dtypes:
        if kind == "timestamp":
            cols.append(F.date_format(name, "yyyy-MM-dd'T'HH:mm:ss'Z'").alias(name))
        elif kind == "date":
            cols.append(F.col(name).cast("string").alias(name))
        else:
            cols.append(F.col(name))
    return sorted(tuple(r) for r in df.select(*cols).collect())


def _row(rec: dict[str, Any], trade_date: date) -> tuple[Any, ...]:
    return (*(rec[c] for c in CURATED_COLUMNS[:-1]), trade_date.isoformat())


def scenario() -> tuple[list[str], list[tuple[Any, ...]], list[tuple[str, str]]]:
    """(raw lines, expected curated rows, expected rejects as (reason, trade_date))."""
    lines: list[str] = []
    winners: dict[tuple[str, ...], dict[str, Any]] = {}

    pjm = day_grid("PJM", FALL)
    assert len(pjm) == 300
    for i, start in enumerate(pjm):
        rec = tick("PJM", "lmp", "WESTERN HUB", start, round(20 + i * 0.1, 2))
        lines.append(json.dumps(rec))
        winners[("PJM", start.isoformat())] = rec

    # Exact duplicates (Firehose/Kinesis at-least-once): one row.
    dup = json.dumps(tick("PJM", "lmp", "WESTERN HUB", pjm[10], round(20 + 1.0, 2)))
    lines += [dup, dup]

    # A revision published later wins.
    base = winners[("PJM", pjm[20].isoformat())]
    rev = tick("PJM", "lmp", "WESTERN HUB", pjm[20], 99.0, published=pjm[20] + timedelta(hours=1))
    lines.append(json.dumps(rev))
    winners[("PJM", pjm[20].isoformat())] = rev

    # Same published_at: the later ingested_at wins.
    same_pub = pjm[21] + timedelta(minutes=6)
    rev = tick("PJM", "lmp", "WESTERN HUB", pjm[21], 77.0, published=same_pub, ingested=same_pub + timedelta(hours=2))
    lines.append(json.dumps(rev))
    winners[("PJM", pjm[21].isoformat())] = rev

    # An old version re-delivered late (older published_at, newer ingested_at) loses.
    rev = tick("PJM", "lmp", "WESTERN HUB", pjm[22], 55.0, published=pjm[22] + timedelta(minutes=30))
    base = winners[("PJM", pjm[22].isoformat())]
    stale = {**base, "ingested_at": (pjm[22] + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    lines += [json.dumps(rev), json.dumps(stale)]
    winners[("PJM", pjm[22].isoformat())] = rev

    # Intervals of the neighbouring local days sit in the same raw UTC partitions: not this day.
    lines.append(json.dumps(tick("PJM", "lmp", "WESTERN HUB", utc(2024, 11, 3, 3, 55), 1.0)))
    lines.append(json.dumps(tick("PJM", "lmp", "WESTERN HUB", utc(2024, 11, 4, 5, 0), 1.0)))

    # Revisions: the highest revision wins whatever the clocks say; a null revision counts lowest.
    older_clock = pjm[23] + timedelta(minutes=7)
    rev2 = tick("PJM", "lmp", "WESTERN HUB", pjm[23], 12.0, published=older_clock, revision=2)
    rev1 = tick("PJM", "lmp", "WESTERN HUB", pjm[23], 11.0, published=pjm[23] + timedelta(hours=5), revision=1)
    unnumbered = tick("PJM", "lmp", "WESTERN HUB", pjm[23], 10.0, published=pjm[23] + timedelta(hours=9))
    lines += [json.dumps(rev1), json.dumps(unnumbered), json.dumps(rev2)]
    winners[("PJM", pjm[23].isoformat())] = rev2
    rev0 = tick("PJM", "lmp", "WESTERN HUB", pjm[24], 13.0, published=pjm[24] + timedelta(minutes=7), revision=0)
    lines += [
        json.dumps(rev0),
        json.dumps(tick("PJM", "lmp", "WESTERN HUB", pjm[24], 14.0, published=pjm[24] + timedelta(hours=1))),
    ]
    winners[("PJM", pjm[24].isoformat())] = rev0

    # Rejects: a price tick without a price, a line that is not JSON, a negative price is fine.
    no_price = tick("PJM", "lmp", "WESTERN HUB", pjm[30], 0.0)
    no_price["lmp"] = None
    lines.append(json.dumps(no_price))
    lines.append('{"iso": "PJM", "market": ')
    negative = tick("PJM", "lmp", "EASTERN HUB", pjm[40], -15.25)
    lines.append(json.dumps(negative))
    winners[("PJM-E", pjm[40].isoformat())] = negative

    # CAISO's spring-forward day: 276 intervals, none invented for the skipped hour.
    caiso = day_grid("CAISO", SPRING)
    assert len(caiso) == 276
    for i, start in enumerate(caiso):
        rec = tick("CAISO", "load", "CA ISO-TAC", start, 20000.0 + i, location_type="zone")
        lines.append(json.dumps(rec))
        winners[("CAISO", start.isoformat())] = rec

    expected = sorted(_row(rec, SPRING if rec["iso"] == "CAISO" else FALL) for rec in winners.values())
    rejects = sorted(
        [
            ("tick field 'lmp': an lmp tick needs a price", FALL.isoformat()),
            ("tick field '<record>': not a JSON object", FALL.isoformat()),
        ]
    )
    return lines, expected, rejects


def test_day_with_duplicates_revisions_rejects_and_dst_compacts_to_exact_rows(spark: Any, tmp_path: Path) -> None:
    lines, expected, expected_rejects = scenario()
    write_raw_local(tmp_path, lines)
    curated, rejects = transform_compact(read_lines(spark, [str(tmp_path / "raw")]), CompactParams((SPRING, FALL)))

    assert tuple(curated.columns) == CURATED_COLUMNS
    got = _as_strings(curated)
    assert got == expected
    # The fall-back day keeps both 01:xx local hours (EDT then EST) as distinct UTC intervals.
    pjm_hub = [r for r in got if r[0] == "PJM" and r[3] == "WESTERN HUB"]
    assert len(pjm_hub) == 300
    assert len({r[5] for r in pjm_hub}) == 300
    assert len([r for r in got if r[0] == "CAISO"]) == 276
    # One row per natural key.
    keys = [(r[0], r[1], r[2], r[3], r[5]) for r in got]
    assert len(keys) == len(set(keys))

    got_rejects = sorted((r["reason"], str(r["trade_date"])) for r in rejects.collect())
    assert got_rejects == expected_rejects


def test_reject_reasons_name_the_field(spark: Any, tmp_path: Path) -> None:
    start = utc(2024, 7, 1, 12, 0)
    good = tick("ERCOT", "lmp", "HB_NORTH", start, 30.0)
    cases = {
        "tick field 'iso': not one of CAISO, ERCOT, ISONE, MISO, NYISO, PJM, SPP": {**good, "iso": "XX"},
        "tick field 'lmp': expected a finite number": {**good, "lmp": "cheap"},
        "tick field 'interval_start': not a UTC ISO 8601 time ending in Z": {
            **good,
            "interval_start": "2024-07-01 12:00",
        },
        "tick field 'interval_end': must be after interval_start": {**good, "interval_end": good["interval_start"]},
        "tick field 'price': unknown field": {**good, "price": 1},
        "tick field 'lmp': $/MWh is outside -10,000..50,000": {**good, "lmp": 1e300},
        "tick field 'location': holds control characters": {**good, "location": "HB\u0000NORTH"},
        "tick field 'revision': expected an integer": {**good, "revision": "1"},
        "tick field 'source': required field is missing or null": {k: v for k, v in good.items() if k != "source"},
    }
    write_raw_local(tmp_path, [json.dumps(c) for c in cases.values()] + [json.dumps(good)])
    curated, rejects = transform_compact(read_lines(spark, [str(tmp_path / "raw")]), CompactParams((date(2024, 7, 1),)))
    assert sorted(r["reason"] for r in rejects.collect()) == sorted(cases)
    assert curated.count() == 1

"""A small known dataset for the query pack: every tick version (the streaming source keeps
them all) and the latest of each natural key (what the nightly facts keep), loaded into one
DuckDB warehouse so each query can run on both sources and be compared with Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from batch import streaming_ingestion as si
from batch import warehouse
from gridtape import contract
from tests.batch import conftest

T0 = datetime(2024, 11, 4, 12, 10)  # the reference time of the tests (naive UTC, as stored)
BASE = datetime(2024, 11, 4, 11, 0, tzinfo=UTC)
N = 12  # 5-minute intervals 11:00 .. 11:55
SRC = "https://example.invalid/querypack"


def naive(value: str) -> datetime:
    return contract.parse_ts(value).replace(tzinfo=None)


def tick(iso: str, dataset: str, location: str, i: int, value: float, **kw: Any) -> dict[str, Any]:
    """The i-th 5-minute interval after BASE, revision 0 unless told (keywords: conftest.tick's)."""
    kw.setdefault("revision", 0)
    return conftest.tick(iso, dataset, location, BASE + timedelta(minutes=5 * i), value, source=SRC, **kw)


def versions() -> list[dict[str, Any]]:
    out = []
    for i in range(N):
        out.append(tick("PJM", "lmp", "WESTERN HUB", i, 20.0 + i))
        out.append(tick("MISO", "lmp", "INDIANA.HUB", i, 25.0 + 0.5 * i))
        out.append(tick("NYISO", "lmp", "WEST", i, 30.0 - i))
        out.append(tick("SPP", "lmp", "SPPSOUTH_HUB", i, 15.0 + i))
        out.append(tick("ERCOT", "lmp", "HB_NORTH", i, -5.0 + i))  # negative prices are real
        out.append(tick("PJM", "load", "PJM RTO", i, 80_000.0 + 100 * i * (1 if i % 3 else -1), location_type="system"))
    out.append(tick("ERCOT", "load", "ERCOT", 0, 45_000.0, market="RTH", location_type="system"))
    out.extend(dart_versions())
    # PJM WESTERN HUB 11:30 is revised twice. Revision 2 carries an earlier publication time than
    # revision 1 (a skewed clock): the highest revision wins anyway.
    out.append(tick("PJM", "lmp", "WESTERN HUB", 6, 99.0, revision=1, published=BASE + timedelta(minutes=52)))
    out.append(tick("PJM", "lmp", "WESTERN HUB", 6, 77.0, revision=2, published=BASE + timedelta(minutes=45)))
    return out


# Day-ahead prices of the hour 11:00-12:00 (and 12:00, which has no real-time price yet), and
# ERCOT's 15-minute settlement prices: what DART compares.
DAM = {("PJM", "WESTERN HUB"): 24.0, ("MISO", "INDIANA.HUB"): 30.0, ("ERCOT", "HB_NORTH"): 1.0}
ERCOT_RT15 = (-4.0, -2.0, 0.0, 10.0)


def dart_versions() -> list[dict[str, Any]]:
    out = [tick(iso, "lmp", hub, 12 * h, price + h, market="DAM") for (iso, hub), price in DAM.items() for h in (0, 1)]
    out += [tick("ERCOT", "lmp", "HB_NORTH", 3 * i, v, market="RT15") for i, v in enumerate(ERCOT_RT15)]
    return out


def latest(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    best: dict[tuple[str, ...], dict[str, Any]] = {}
    for r in records:
        key = contract.natural_key(r)
        if key not in best or (r["revision"] or 0) > (best[key]["revision"] or 0):
            best[key] = r
    return list(best.values())


def vol(window_end_min: int, n: int, computed_min: int, mean: float) -> dict[str, Any]:
    end = BASE + timedelta(minutes=window_end_min)
    return {
        "iso": "PJM",
        "market": "RT5",
        "location": "WESTERN HUB",
        "window_start": contract.format_ts(end - timedelta(minutes=60)),
        "window_end": contract.format_ts(end),
        "window_minutes": 60,
        "slide_minutes": 5,
        "n": n,
        "n_nonpositive": 0,
        "price_first": 20.0,
        "price_last": 25.0,
        "price_min": 20.0,
        "price_max": 25.0,
        "price_mean": mean,
        "vol_log": 0.05,
        "vol_abs": 1.0,
        "computed_at": contract.format_ts(BASE + timedelta(minutes=computed_min)),
    }


def volatility_versions() -> list[dict[str, Any]]:
    # The 11:35 window is re-emitted after a late tick (n 7 -> 8): the later record wins.
    return [vol(30, 6, 31, 22.5), vol(35, 7, 36, 23.0), vol(35, 8, 44, 23.5), vol(40, 8, 41, 24.0)]


@dataclass
class Loaded:
    ex: warehouse.DuckDBExecutor
    versions: list[dict[str, Any]]
    latest: list[dict[str, Any]]


_PRICE_COLS = "iso, market, location, location_type, interval_start, interval_end, trade_date, lmp, energy, congestion, loss, published_at, ingested_at, source"
_LOAD_COLS = "iso, market, location, location_type, interval_start, interval_end, trade_date, load_mw, published_at, ingested_at, source"
_VOL = [f.name for f in contract.VOLATILITY.fields]


def _ts_or_value(record: dict[str, Any], name: str, kind: str) -> Any:
    value = record.get(name)
    return naive(value) if kind == "timestamp" and value is not None else value


def stream_rows(records: list[dict[str, Any]], first_seq: int = 1) -> list[tuple[Any, ...]]:
    out = []
    for n, r in enumerate(records, start=first_seq):
        arrival = contract.parse_ts(r.get("ingested_at") or r["computed_at"]) + timedelta(seconds=1)
        out.append(
            si.mv_row(
                contract.dumps(r).encode(),
                arrival=arrival,
                partition_key=f"{r['iso']}:{r['location']}",
                shard_id="shardId-000000000000",
                sequence_number=f"{n:056d}",
                refresh_time=arrival + timedelta(seconds=5),
            )
        )
    return out


def load(path: Path) -> Loaded:
    ex = warehouse.DuckDBExecutor(path, cache_dir=path.parent / "cache")
    warehouse.ensure_schema(ex)
    si.ensure_local(ex)
    everything = versions()
    newest = latest(everything)
    con = ex.con
    for r in newest:
        values = {f.name: _ts_or_value(r, f.name, f.kind) for f in contract.TICK.fields}
        values["trade_date"] = values["interval_start"].date()
        table, cols = ("prices", _PRICE_COLS) if r["dataset"] == "lmp" else ("load_mw", _LOAD_COLS)
        names = [c.strip() for c in cols.split(",")]
        con.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(names))})", [values[c] for c in names])
    vols = volatility_versions()
    newest_vol = {(v["window_start"], v["window_end"]): v for v in sorted(vols, key=lambda v: v["computed_at"])}
    for v in newest_vol.values():
        con.execute(
            f"INSERT INTO volatility ({', '.join(_VOL)}) VALUES ({', '.join('?' * len(_VOL))})",
            [_ts_or_value(v, f.name, f.kind) for f in contract.VOLATILITY.fields],
        )
    con.executemany("INSERT INTO ticks_stream VALUES (?, ?, ?, ?, ?, ?, ?)", stream_rows(everything))
    con.executemany("INSERT INTO analytics_stream VALUES (?, ?, ?, ?, ?, ?, ?)", stream_rows(vols))
    # Enrich the day from a few context records (tests/batch/context_fakes.py), so the
    # price-vs-context queries have rows to return.
    from batch import context
    from tests.batch.context_fakes import FakeS3

    context.load_context(ex, "raw", BASE.date(), ["ERCOT"], s3=FakeS3())
    return Loaded(ex, everything, newest)

"""Query-pack benchmark: every query of batch/querypack.py (its default parameters, the
reference time at the end of the week) on a week of synthetic nodal data in the embedded DuckDB
warehouse, created by the warehouse's own schema (batch.warehouse.ensure_schema).

Per query: p50 of a few runs and the rows returned. For latest_prices and spreads the peer is
the same question written by hand as plain DuckDB SQL on the seeded dimension tables; the ratio
(ours / peer seconds, > 1 means the transpiled Redshift SQL is slower) is the price of writing
the pack once in Redshift SQL and translating it with sqlglot.
"""

from __future__ import annotations

import functools
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from harness import Result, side_by_side  # noqa: E402

START = datetime(2024, 7, 1)  # a summer week: no DST change inside it
INTERVALS = 7 * 288  # 2,016 five-minute intervals
END = datetime(2024, 7, 8)  # the reference time (--as-of default: "now")
NODES_PER_ISO = 500  # 7 x 500 = 3,500 priced locations (the hubs among them)
LOAD_ZONES = 10  # per ISO, plus the system-wide load, 5-minute
VOL_NODES = 40  # per ISO, plus the hubs: locations with volatility windows (60 and 1440 min)
REPEAT = 5

# Hand-written DuckDB SQL: what someone writing for DuckDB alone would type.
PEER_LATEST = """
SELECT h.iso, h.hub AS location, p.market, p.interval_start, p.interval_end, p.lmp,
    p.published_at, p.ingested_at, date_diff('second', p.interval_end, TIMESTAMP '{end}') AS age_seconds
FROM tracked_hubs h
LEFT JOIN (
    SELECT iso, location, market, interval_start, interval_end, lmp, published_at, ingested_at
    FROM prices
    WHERE market = 'RT5' AND interval_start BETWEEN TIMESTAMP '{end}' - INTERVAL 24 HOUR AND TIMESTAMP '{end}'
    QUALIFY row_number() OVER (PARTITION BY iso, location ORDER BY interval_start DESC) = 1
) p ON p.iso = h.iso AND p.location = h.hub
ORDER BY h.iso, h.hub
"""
PEER_SPREADS = """
SELECT a.interval_start, n.iso_a, n.hub_a, n.iso_b, n.hub_b, a.lmp AS lmp_a, b.lmp AS lmp_b, a.lmp - b.lmp AS spread
FROM hub_neighbours n
JOIN prices a ON a.iso = n.iso_a AND a.location = n.hub_a
JOIN prices b USING (market, interval_start)
WHERE b.iso = n.iso_b AND b.location = n.hub_b AND a.market = 'RT5'
    AND a.interval_start >= TIMESTAMP '{end}' - INTERVAL 24 HOUR AND a.interval_start < TIMESTAMP '{end}'
ORDER BY n.iso_a, n.hub_a, n.iso_b, n.hub_b, a.interval_start
"""
PEERS = {"latest_prices": PEER_LATEST, "spreads": PEER_SPREADS}


def _locations(con: Any) -> None:
    """loc(iso, location, location_type, n): the hubs first, then NODE.<n> up to NODES_PER_ISO."""
    from gridtape import isos

    hubs = ", ".join(f"('{i.code}', '{h}', {k})" for i in isos.TABLE for k, h in enumerate(i.hubs))
    codes = ", ".join(f"('{i.code}', {len(i.hubs)})" for i in isos.TABLE)
    con.execute(f"""
        CREATE TEMP TABLE loc AS
        SELECT iso, location, 'hub' AS location_type, n FROM (VALUES {hubs}) h(iso, location, n)
        UNION ALL
        SELECT c.iso, c.iso || '.NODE.' || r.n, 'node', r.n
        FROM (VALUES {codes}) c(iso, nhubs), range({NODES_PER_ISO}) r(n) WHERE r.n >= c.nhubs
    """)


def generate(con: Any) -> dict[str, int]:
    """Fill prices, load_mw and volatility of the warehouse schema with a week of data."""
    _locations(con)
    t = f"TIMESTAMP '{START:%Y-%m-%d %H:%M:%S}' + i * INTERVAL 5 MINUTE"
    price = "round(25 + (l.n % 97) * 0.4 + 15 * sin(i * 2 * pi() / 288) - (l.n % 7) * 3.1, 2)"
    con.execute(f"""
        INSERT INTO prices BY NAME
        SELECT l.iso, 'RT5' AS market, l.location, l.location_type, {t} AS interval_start,
            {t} + INTERVAL 5 MINUTE AS interval_end, CAST({t} AS DATE) AS trade_date, {price} AS lmp,
            {price} - 1.5 AS energy, 1.0 AS congestion, 0.5 AS loss,
            {t} + INTERVAL 6 MINUTE AS published_at, {t} + INTERVAL 7 MINUTE AS ingested_at,
            'bench' AS source, CAST(0 AS BIGINT) AS revision
        FROM loc l, range({INTERVALS}) r(i)
    """)
    from gridtape import isos

    systems = ", ".join(f"('{i.code}', '{i.system}')" for i in isos.TABLE)
    con.execute(f"""
        INSERT INTO load_mw BY NAME
        SELECT z.iso, 'RT5' AS market, z.location, z.location_type, {t} AS interval_start,
            {t} + INTERVAL 5 MINUTE AS interval_end, CAST({t} AS DATE) AS trade_date,
            round(z.base * (1 + 0.2 * sin(i * 2 * pi() / 288)), 1) AS load_mw,
            {t} + INTERVAL 6 MINUTE AS published_at, {t} + INTERVAL 7 MINUTE AS ingested_at,
            'bench' AS source, CAST(0 AS BIGINT) AS revision
        FROM (
            SELECT iso, location, 'system' AS location_type, 40000.0 AS base FROM (VALUES {systems}) s(iso, location)
            UNION ALL
            SELECT s.iso, s.iso || '.ZONE.' || k, 'zone', 3000.0 + k * 100
            FROM (VALUES {systems}) s(iso, location), range({LOAD_ZONES}) z(k)
        ) z, range({INTERVALS}) r(i)
    """)
    # Sliding windows ending every 5 minutes, 60 and 1440 minutes long, of the first locations.
    con.execute(f"""
        INSERT INTO volatility BY NAME
        SELECT l.iso, 'RT5' AS market, l.location, {t} - w * INTERVAL 1 MINUTE AS window_start, {t} AS window_end,
            w AS window_minutes, 5 AS slide_minutes, w // 5 AS n, 0 AS n_nonpositive,
            30.0 AS price_first, 31.0 AS price_last, 20.0 AS price_min, 45.0 AS price_max, 30.5 AS price_mean,
            0.01 + (l.n % 13) / 1000 AS vol_log, 1.5 AS vol_abs, {t} + INTERVAL 1 MINUTE AS computed_at
        FROM loc l, range(1, {INTERVALS} + 1) r(i), (VALUES (60), (1440)) ws(w)
        WHERE l.location_type = 'hub' OR l.n < {VOL_NODES}
    """)
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("prices", "load_mw", "volatility")}


def p50(fn: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _fetch(con: Any, sql: str) -> list[Any]:
    return list(con.execute(sql).fetchall())


def _translated(ex: Any, name: str) -> str:
    from batch import querypack

    (sql,) = ex.translate(querypack.render(name, now=END))
    return str(sql)


def run() -> list[Result]:
    from batch import querypack, warehouse

    tmp = Path(tempfile.mkdtemp(prefix="gridtape-bench-qp-"))
    ex = warehouse.DuckDBExecutor(tmp / "warehouse.duckdb")
    try:
        ex.con.execute("SET enable_progress_bar = false")
        warehouse.ensure_schema(ex)
        t0 = time.perf_counter()
        ex.con.execute("BEGIN TRANSACTION")
        counts = generate(ex.con)
        ex.con.execute("COMMIT")
        ex.con.execute("CHECKPOINT")
        load_s = time.perf_counter() - t0
        sizes = ", ".join(f"{n:,} {t}" for t, n in counts.items())
        results = [
            Result(
                "querypack: load a week of nodal data (DuckDB)",
                round(sum(counts.values()) / load_s, 1),
                "rows/s",
                notes=f"{sizes} ({NODES_PER_ISO * 7:,} locations x {INTERVALS:,} 5-min intervals) in {load_s:.1f}s",
            )
        ]
        for name in querypack.names():
            render_s, sql = p50(functools.partial(_translated, ex, name))
            made = f"render+translate {render_s * 1000:.1f} ms (not in the p50)"
            rows = len(querypack.run(ex, name, now=END))  # warm-up, and the row count
            if name in PEERS:
                peer_sql = PEERS[name].format(end=f"{END:%Y-%m-%d %H:%M:%S}")
                if _fetch(ex.con, peer_sql) != _fetch(ex.con, sql):  # the same answer, or no ratio
                    raise AssertionError(f"{name}: the hand-written peer answers differently from the pack")
                ours, theirs = side_by_side(
                    functools.partial(_fetch, ex.con, sql), functools.partial(_fetch, ex.con, peer_sql), repeat=REPEAT
                )
                results.append(
                    Result(
                        f"querypack {name} p50 (DuckDB, 1 week nodal)",
                        round(ours * 1000, 2),
                        "ms",
                        "hand-written DuckDB SQL",
                        round(theirs * 1000, 2),
                        round(ours / theirs, 3),
                        f"{rows} rows; {made}; lower is better, ratio > 1 = transpiled Redshift SQL slower",
                    )
                )
            else:
                seconds, _ = p50(functools.partial(_fetch, ex.con, sql))
                label = f"querypack {name} p50 (DuckDB, 1 week nodal)"
                results.append(Result(label, round(seconds * 1000, 2), "ms", notes=f"{rows} rows; {made}"))
        return results
    finally:
        ex.close()
        shutil.rmtree(tmp, ignore_errors=True)

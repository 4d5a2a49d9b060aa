"""The streaming benchmark's peer: DuckDB computing the volatility windows and statistics of
streaming/volatility.py in one batch SQL query over the same tick files."""

from __future__ import annotations

import time
from pathlib import Path

WINDOWS = ((60, 5), (1440, 60))


def duckdb_volatility(folder: Path) -> tuple[float, int]:
    """(seconds, windows) - the same definitions in DuckDB SQL, batch, all windows."""
    import duckdb

    families = " UNION ALL ".join(f"SELECT {m} AS wmin, {s} AS smin" for m, s in WINDOWS)
    sql = f"""
    WITH t AS (
        SELECT iso, market, location, interval_start::TIMESTAMP AS ts, lmp,
               published_at::TIMESTAMP AS pub, ingested_at::TIMESTAMP AS ing
        FROM read_json('{folder}/*.jsonl', format = 'newline_delimited', columns = {{
            iso: 'VARCHAR', market: 'VARCHAR', dataset: 'VARCHAR', location: 'VARCHAR',
            interval_start: 'VARCHAR', lmp: 'DOUBLE', published_at: 'VARCHAR', ingested_at: 'VARCHAR'}})
        WHERE dataset = 'lmp' AND lmp IS NOT NULL AND market IN ('RT5', 'RT15', 'RTH')
    ),
    latest AS (  -- one observation per interval: the latest revision
        SELECT iso, market, location, ts, arg_max(lmp, (pub, ing, lmp)) AS p
        FROM t GROUP BY ALL
    ),
    fam AS ({families}),
    offsets AS (
        SELECT l.*, f.wmin, f.smin, unnest(range(f.wmin // f.smin)) AS j FROM latest l, fam f
    ),
    expanded AS (  -- every window [wstart, wstart + wmin) containing ts, slide-aligned
        SELECT *, time_bucket(to_minutes(smin), ts) - to_minutes(j * smin) AS wstart FROM offsets
    ),
    steps AS (
        SELECT *, lag(p) OVER (PARTITION BY iso, market, location, wmin, wstart ORDER BY ts) AS prev
        FROM expanded
    )
    SELECT iso, market, location, wstart, wstart + to_minutes(wmin) AS wend, wmin, smin,
           count(*) AS n, count(*) FILTER (WHERE p <= 0) AS n_nonpositive,
           arg_min(p, ts) AS price_first, arg_max(p, ts) AS price_last,
           min(p), max(p), avg(p),
           stddev_samp(CASE WHEN prev > 0 AND p > 0 THEN ln(p / prev) END) AS vol_log,
           stddev_samp(p - prev) AS vol_abs
    FROM steps GROUP BY ALL
    """
    con = duckdb.connect()
    con.execute("SET threads = 2")  # the same two cores Spark gets
    t0 = time.perf_counter()
    n = len(con.execute(sql).fetchall())
    return time.perf_counter() - t0, n

"""Batch benchmarks: nightly compaction of a synthetic nodal-scale day (>= 5 million raw ticks,
gzip JSON lines in the Firehose layout) with Spark, beside DuckDB doing the same job (parse,
latest revision per natural key, ISO-local day, Parquet partitioned by iso/date, sorted); then
the warehouse load (COPY adapter + MERGE, batch/sql/load.sql) into DuckDB, beside a plain
INSERT ... SELECT of the same Parquet.

Sizes are fixed so a run stays under ~4 minutes on 2 cores: one interleaved run per side
(a second Spark pass would double the budget); the ratio is what to read.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from harness import Result, rate  # noqa: E402

DAY = date(2024, 7, 1)  # no DST: 288 intervals in every ISO's local day
NODES_PER_ISO = 2500  # 7 ISOs x 2,500 nodes x 288 intervals = 5.04 M ticks
REVISION_EVERY = 50  # 2 % of keys carry a later revision (more raw rows than output rows)

# The ISO's UTC offset on DAY (summer): local midnight in UTC.
OFFSETS = {"CAISO": 7, "ERCOT": 5, "SPP": 5, "MISO": 5, "ISONE": 4, "NYISO": 4, "PJM": 4}


def generate(root: Path) -> int:
    """Write the raw day with DuckDB (fast, columnar), one gzip JSON-lines file per ISO and
    UTC date, like Firehose's partitions; two ISOs at a time (the gzip of one file is one
    thread's work). Returns the number of raw lines."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return sum(pool.map(lambda item: _generate_iso(root, *item), OFFSETS.items()))


def _generate_iso(root: Path, iso: str, offset: int) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    base = f"""
        SELECT
            '{iso}' AS iso, 'RT5' AS market, 'lmp' AS dataset,
            '{iso}.NODE.' || n AS location, 'node' AS location_type,
            TIMESTAMP '{DAY} 00:00:00' + INTERVAL {offset} HOUR + i * INTERVAL 5 MINUTE AS s,
            round(20 + (n % 97) + (i % 24) * 1.5 - (n % 7) * 3.1, 2) AS price, n, i
        FROM range({NODES_PER_ISO}) t(n), range(288) u(i)
    """
    rows = f"""
        SELECT iso, market, dataset, location, location_type,
            strftime(s, '%Y-%m-%dT%H:%M:%SZ') AS interval_start,
            strftime(s + INTERVAL 5 MINUTE, '%Y-%m-%dT%H:%M:%SZ') AS interval_end,
            price AS lmp, CAST(NULL AS DOUBLE) AS energy, CAST(NULL AS DOUBLE) AS congestion,
            CAST(NULL AS DOUBLE) AS loss, CAST(NULL AS DOUBLE) AS load_mw,
            strftime(s + INTERVAL 6 MINUTE, '%Y-%m-%dT%H:%M:%SZ') AS published_at,
            strftime(s + INTERVAL 7 MINUTE, '%Y-%m-%dT%H:%M:%SZ') AS ingested_at,
            'bench' AS source, 0 AS revision, CAST(s AS DATE) AS d
        FROM ({base})
        UNION ALL
        SELECT iso, market, dataset, location, location_type,
            strftime(s, '%Y-%m-%dT%H:%M:%SZ'), strftime(s + INTERVAL 5 MINUTE, '%Y-%m-%dT%H:%M:%SZ'),
            price + 1.0, NULL, NULL, NULL, NULL,
            strftime(s + INTERVAL 60 MINUTE, '%Y-%m-%dT%H:%M:%SZ'),
            strftime(s + INTERVAL 61 MINUTE, '%Y-%m-%dT%H:%M:%SZ'), 'bench', 1, CAST(s AS DATE)
        FROM ({base}) WHERE (n * 288 + i) % {REVISION_EVERY} = 0
    """
    con.execute(f"CREATE TEMP TABLE g AS {rows}")
    for (d,) in con.execute("SELECT DISTINCT d FROM g ORDER BY d").fetchall():
        folder = root / "raw" / f"iso={iso}" / f"date={d}"
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT * EXCLUDE (d) FROM g WHERE d = DATE '{d}') TO '{folder}/bench-1-{d}-00-00-00.gz' "
            "(FORMAT JSON, COMPRESSION GZIP)"
        )
    total = con.execute("SELECT count(*) FROM g").fetchone()[0]  # type: ignore[index]
    con.close()
    return int(total)


def duckdb_compact(raw: Path, out: Path) -> int:
    """The peer: the same compaction in DuckDB SQL."""
    import duckdb

    from gridtape import isos

    zones = " ".join(f"WHEN '{iso}' THEN '{z}'" for iso, z in ((i.code, i.zone) for i in isos.TABLE))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = (
        "{iso: 'VARCHAR', market: 'VARCHAR', dataset: 'VARCHAR', location: 'VARCHAR', location_type: 'VARCHAR', "
        "interval_start: 'VARCHAR', interval_end: 'VARCHAR', lmp: 'DOUBLE', energy: 'DOUBLE', congestion: 'DOUBLE', "
        "loss: 'DOUBLE', load_mw: 'DOUBLE', published_at: 'VARCHAR', ingested_at: 'VARCHAR', source: 'VARCHAR', "
        "revision: 'BIGINT'}"
    )
    con.execute(
        f"""
        COPY (
            WITH parsed AS (
                SELECT * REPLACE (
                    CAST(strptime(interval_start, '%Y-%m-%dT%H:%M:%SZ') AS TIMESTAMP) AS interval_start,
                    CAST(strptime(interval_end, '%Y-%m-%dT%H:%M:%SZ') AS TIMESTAMP) AS interval_end,
                    CAST(strptime(published_at, '%Y-%m-%dT%H:%M:%SZ') AS TIMESTAMP) AS published_at,
                    CAST(strptime(ingested_at, '%Y-%m-%dT%H:%M:%SZ') AS TIMESTAMP) AS ingested_at)
                FROM read_json('{raw}/**/*.gz', format = 'newline_delimited', columns = {cols}, hive_partitioning = false)
                WHERE iso IS NOT NULL AND location IS NOT NULL AND interval_start IS NOT NULL
            ),
            dated AS (
                SELECT *, CAST(timezone(CASE iso {zones} END, CAST(interval_start AS TIMESTAMPTZ)) AS DATE) AS trade_date
                FROM parsed
            )
            SELECT *, iso AS p_iso, trade_date AS p_date FROM dated
            WHERE trade_date = DATE '{DAY}'
            QUALIFY row_number() OVER (
                PARTITION BY iso, market, dataset, location, interval_start
                ORDER BY revision DESC NULLS LAST, published_at DESC, ingested_at DESC) = 1
            ORDER BY iso, trade_date, interval_start, location
        ) TO '{out}' (FORMAT PARQUET, PARTITION_BY (p_iso, p_date), OVERWRITE_OR_IGNORE)
        """
    )
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()[0]  # type: ignore[index]
    con.close()
    return int(n)


def spark_compact(spark: Any, raw: Path, out: Path) -> int:
    from batch.compaction import read_lines, transform_and_write
    from batch.transforms import CompactParams

    counts, _rejects = transform_and_write(spark, read_lines(spark, [str(raw)]), CompactParams((DAY,)), str(out))
    return sum(counts.values())


def parse_floor(spark: Any, folder: Path) -> tuple[int, float]:
    """What no check, cache or write can take away: reading, gunzipping and the fast path's
    parse of every line (typed values and key list, batch/transforms.fast_parse), on one ISO's
    raw files. Returns (lines, seconds)."""
    from pyspark.sql import functions as F

    from batch.compaction import read_lines
    from batch.transforms import fast_parse

    parsed = fast_parse(read_lines(spark, [str(folder)]))
    t0 = time.perf_counter()
    row = parsed.agg(F.count("*"), F.count("_t.lmp"), F.sum(F.size("_keys"))).first()
    assert row is not None
    return int(row[0]), time.perf_counter() - t0


def run() -> list[Result]:
    from batch import warehouse
    from gridtape.spark import local_session

    tmp = Path(tempfile.mkdtemp(prefix="gridtape-bench-batch-"))
    results: list[Result] = []
    try:
        t0 = time.perf_counter()
        lines = generate(tmp)
        gen_s = time.perf_counter() - t0
        spark = local_session("gridtape-bench", extra={"spark.driver.memory": "6g"})
        raw = tmp / "raw"
        # Interleaved, one run each: Spark, then DuckDB.
        t0 = time.perf_counter()
        ours_rows = spark_compact(spark, raw, tmp / "spark-out")
        ours_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        peer_rows = duckdb_compact(raw, tmp / "duckdb-out")
        peer_s = time.perf_counter() - t0
        assert ours_rows == peer_rows, (ours_rows, peer_rows)
        floor_lines, floor_s = parse_floor(spark, raw / "iso=PJM")
        floor_day_s = floor_s * lines / floor_lines
        results.append(
            rate(
                "compaction raw JSON -> Parquet (Spark local[2])",
                "rows/s",
                lines,
                ours_s,
                "DuckDB same SQL job",
                peer_s,
                notes=f"{lines:,} raw ticks ({lines - ours_rows:,} revisions) -> {ours_rows:,} rows; "
                f"contract validation + dedup + local day + sorted partitioned Parquet; "
                f"Spark {ours_s:.1f}s vs DuckDB {peer_s:.1f}s; data generated in {gen_s:.1f}s; "
                f"parse floor (read, gunzip, typed parse + key list; no check, cache or write): "
                f"{floor_s:.1f}s for PJM's {floor_lines:,} lines, {floor_day_s:.0f}s scaled to the day "
                f"= {peer_s / floor_day_s:.2f}x DuckDB's whole job on Spark's parse alone",
            )
        )
        spark.stop()

        parquet = sorted((tmp / "spark-out" / "ticks").rglob("part-*.parquet"))
        ex = warehouse.DuckDBExecutor(tmp / "warehouse.duckdb")
        ex._fetch_manifest_files = lambda url: parquet  # type: ignore[method-assign]  # local files, no S3 in the bench
        warehouse.ensure_schema(ex)
        t0 = time.perf_counter()
        warehouse.load_day(ex, "bench", DAY)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        warehouse.load_day(ex, "bench", DAY)  # the rerun: every row matched and updated
        again_s = time.perf_counter() - t0
        loaded = warehouse.table_counts(ex, DAY)["prices"]
        assert loaded == ours_rows, (loaded, ours_rows)
        ex.con.execute("CREATE TABLE plain AS SELECT * FROM prices WHERE false")
        files = ", ".join(f"'{p}'" for p in parquet)
        t0 = time.perf_counter()
        ex.con.execute(
            "INSERT INTO plain SELECT iso, market, location, location_type, interval_start, interval_end, trade_date, "
            f"lmp, energy, congestion, loss, published_at, ingested_at, source, revision FROM read_parquet([{files}]) "
            "WHERE dataset = 'lmp'"
        )
        plain_s = time.perf_counter() - t0
        ex.close()
        results.append(
            rate(
                "load COPY+MERGE into empty warehouse (DuckDB)",
                "rows/s",
                loaded,
                first_s,
                "plain INSERT SELECT",
                plain_s,
                notes=f"{loaded:,} rows; batch/sql/load.sql through the sqlglot adapter, one transaction",
            )
        )
        results.append(
            rate(
                "load rerun, every row MERGE-updated (DuckDB)",
                "rows/s",
                loaded,
                again_s,
                "plain INSERT SELECT",
                plain_s,
                notes="idempotent rerun of the same day",
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


if __name__ == "__main__":
    for r in run():
        print(r)

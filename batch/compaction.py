"""Nightly compaction: raw JSON lines (Firehose layout) -> curated Parquet, one row per natural
key (the latest revision), partitioned by iso and local operating date, sorted for the
warehouse sort key.

The transforms are pure (batch/transforms.py, reject rules in batch/rules.py); publishing a
day (run prefixes, manifest flip, per-day lock) is batch/manifests.py. This module is the I/O
between them: `compact()` is the local run (raw objects staged from the emulator to a local
folder, so the local Spark needs no hadoop-aws / AWS SDK bundle jars); the Glue 5.0 job
(batch/compaction_job.py) reads s3:// directly and publishes through the same manifests.publish.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from batch import days as _days
from batch import manifests
from batch.transforms import (
    CompactParams,
    transform_classify,
    transform_latest,
    transform_rejects,
    transform_typed,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CompactResult:
    days: list[str]
    run_id: str
    rows: int
    rejects: int
    manifests: list[str] = field(default_factory=list)
    per_iso: dict[str, int] = field(default_factory=dict)
    per_day: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stage_raw(store: manifests.Store, raw_dates: Sequence[date], folder: Path) -> int:
    """Download the raw objects of these UTC dates, keeping their key layout."""
    n = 0
    for key in store.raw_keys(raw_dates):
        target = folder / key
        target.parent.mkdir(parents=True, exist_ok=True)
        store.s3.download_file(store.raw_bucket, key, str(target))
        n += 1
    return n


def read_lines(spark: Any, paths: Sequence[str]) -> Any:
    """Raw text lines with their file path (the raw UTC date is in the path)."""
    from pyspark.sql import functions as F

    # A line repeating a key: the last value counts, as in Python's json (never a failed job).
    spark.conf.set("spark.sql.mapKeyDedupPolicy", "LAST_WIN")
    # Wire times end in Z; the fast path reads the text before it in the session zone.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # The contract's rules compile to methods longer than the 8,000 bytes HotSpot compiles (it
    # would interpret them, several times slower); past that, Spark runs the stage without
    # whole-stage codegen, each operator's expressions compiled in methods of their own.
    spark.conf.set("spark.sql.codegen.hugeMethodLimit", "8000")
    if not paths:
        return spark.createDataFrame([], "value string, raw_path string")
    df = spark.read.option("recursiveFileLookup", "true").text(list(paths))
    return df.select("value", F.col("_metadata.file_path").alias("raw_path")).where(F.length(F.trim("value")) > 0)


def write_staged(curated: Any, rejects: Any, out: str) -> None:
    """Write both outputs under `out` (a local folder or an s3:// staging prefix). `curated`
    comes from transform_latest, already hashed by (iso, trade_date) and sorted: the partition
    columns are plain aliases, so the write keeps that order and adds no shuffle or sort."""
    from pyspark.sql import functions as F

    (
        curated.select("*", F.col("iso").alias("_iso"), F.col("trade_date").alias("_date"))
        .write.mode("overwrite")
        .option("compression", "snappy")
        .partitionBy("_iso", "_date")
        .parquet(f"{out}/ticks")
    )
    (
        rejects.withColumn("_date", F.col("trade_date").cast("string"))
        .drop("trade_date")
        .repartition(1)  # rejects are few; repartition (not coalesce) keeps the parse parallel
        .write.mode("overwrite")
        .partitionBy("_date")
        .json(f"{out}/rejects")
    )


def transform_and_write(
    spark: Any, lines: Any, params: CompactParams, out: str
) -> tuple[dict[tuple[str, str], int], int]:
    """Parse and validate once (persisted), write both outputs under `out`; returns the rows
    per (iso, day) (read back from what was written) and the number of rejects."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    classified = transform_classify(lines, params).persist()  # one parse for both outputs
    try:
        write_staged(transform_latest(transform_typed(classified)), transform_rejects(classified), out)
        n_rejects = classified.where(F.col("_reason").isNotNull()).count()
    finally:
        classified.unpersist()
    try:
        written = spark.read.parquet(f"{out}/ticks").groupBy("_iso", "_date").agg(F.count("*").alias("n")).collect()
    except AnalysisException:  # no rows at all: Spark cannot infer the schema of an empty folder
        written = []
    return {(str(r["_iso"]), str(r["_date"])): int(r["n"]) for r in written}, n_rejects


def summarize(
    days: Sequence[date], run_id: str, counts: dict[tuple[str, str], int], rejects: int, flipped: list[str]
) -> CompactResult:
    per_iso: dict[str, int] = {}
    per_day: dict[str, int] = {d.isoformat(): 0 for d in days}
    for (iso, day), n in counts.items():
        per_iso[iso] = per_iso.get(iso, 0) + n
        per_day[day] = per_day.get(day, 0) + n
    return CompactResult(
        days=[d.isoformat() for d in days],
        run_id=run_id,
        rows=sum(counts.values()),
        rejects=rejects,
        manifests=flipped,
        per_iso=dict(sorted(per_iso.items())),
        per_day=dict(sorted(per_day.items())),
    )


def compact(
    spark: Any, raw_bucket: str, curated_bucket: str, days: Sequence[date], work_dir: Path | None = None
) -> CompactResult:
    """Local run: stage raw from S3 (the emulator) to a folder, transform with Spark, publish."""
    store = manifests.Store(raw_bucket, curated_bucket)
    run_id = manifests.new_run_id()
    tmp = Path(tempfile.mkdtemp(prefix="gridtape-compact-", dir=work_dir))
    try:
        raw_dir = tmp / "raw"
        staged = stage_raw(store, _days.raw_dates_for(list(days)), raw_dir)
        lines = read_lines(spark, [str(raw_dir)] if staged else [])
        counts, n_rejects = transform_and_write(spark, lines, CompactParams(tuple(days)), str(tmp / "out"))
        flipped = manifests.publish(store, manifests.staged_local(tmp / "out"), days, run_id)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = summarize(days, run_id, counts, n_rejects, flipped)
    log.info("compaction %s: %s rows, %s rejects", result.days, result.rows, result.rejects)
    return result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The Glue job's arguments (Glue's convention is --name_with_underscores)."""
    p = argparse.ArgumentParser(description="compact raw ticks of some days into curated Parquet")
    p.add_argument("--date", required=True, help="the run's operating day, YYYY-MM-DD")
    p.add_argument("--days", default=None, help="comma-separated days to compact (the nightly's plan; default: --date)")
    p.add_argument("--raw_bucket", "--raw-bucket", dest="raw_bucket", required=True)
    p.add_argument("--curated_bucket", "--curated-bucket", dest="curated_bucket", required=True)
    args, _unknown = p.parse_known_args(argv)  # Glue adds its own --JOB_NAME etc.
    return args


def days_of(args: argparse.Namespace) -> list[date]:
    listed = [d.strip() for d in (args.days or "").split(",") if d.strip()]
    return sorted({_days.parse_day(d) for d in listed or [args.date]})

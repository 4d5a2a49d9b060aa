"""Nightly compaction: raw JSON lines (Firehose layout) -> curated Parquet, one row per natural
key, partitioned by iso and local operating date, sorted for the warehouse sort key.

The transforms (transform_*) are pure DataFrame -> DataFrame functions; `compact()` and
`main()` do the I/O. The same transforms run in the Glue 5.0 job (batch/glue_job.py, reading
s3:// directly) and locally (raw objects staged from the emulator to a local folder, so the
local Spark needs no hadoop-aws / AWS SDK bundle jars).

Atomic replacement of a day (what a reader sees): every run writes its Parquet under a new
run prefix, curated/ticks/iso=<ISO>/date=<D>/run=<run_id>/, and only then overwrites one
object, the day's manifest curated/_manifests/ticks/date=<D>.manifest (Redshift COPY manifest format). A
reader that goes through the manifest (the warehouse COPY ... MANIFEST, the local loader)
sees the old day or the new day, never a mix and never two copies. Runs older than the
previous one are deleted after the flip; the previous run is kept one cycle so a COPY that
read the old manifest a moment before the flip still finds its files. A reader that globs
the prefix instead of reading the manifest can see two runs for a moment: don't.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from batch import days as _days
from gridtape import isos
from gridtape.contract import TICK

log = logging.getLogger(__name__)

# Everything compaction writes lives under curated/ (the bucket's tiering rule covers it).
TICKS_PREFIX = "curated/ticks/"
MANIFEST_PREFIX = "curated/_manifests/ticks/"
REJECTS_PREFIX = "curated/rejects/"
RAW_PREFIX = "raw/"

# Column order of the curated Parquet files = column order of the warehouse staging table
# (Redshift COPY ... FORMAT AS PARQUET maps columns by position, not by name).
CURATED_COLUMNS: tuple[str, ...] = (*TICK.names, "trade_date")
# Sort within each (iso, date) file to match the facts' compound sort key (interval_start,
# location): zone maps prune well and the MERGE reads the staging table in key order.
SORT_COLUMNS: tuple[str, ...] = ("interval_start", "location", "market", "dataset")

_TS_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"


@dataclass(frozen=True, slots=True)
class CompactParams:
    days: tuple[date, ...]


@dataclass(slots=True)
class CompactResult:
    days: list[str]
    run_id: str
    rows: int
    rejects: int
    manifests: list[str] = field(default_factory=list)
    per_iso: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "run_id": self.run_id,
            "rows": self.rows,
            "rejects": self.rejects,
            "manifests": self.manifests,
            "per_iso": self.per_iso,
        }


# ---------------------------------------------------------------- pure transforms


def transform_parse(lines: Any) -> Any:
    """Text lines (columns: value, raw_path) -> one string column per contract field, plus
    the original line, the raw partition's UTC date and the JSON object's keys. The line is
    parsed once, as map<string,string>: every field arrives as text (numbers keep their JSON
    text), so a wrong type becomes a reject with a reason rather than a silent null, and the
    map's keys show unknown fields."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    # Generate nodes (explode/inline of a one-element array) are opaque to the optimizer: the
    # line is parsed exactly once and each field looked up once, instead of the parse being
    # substituted into every later expression that reads a field (which made the job ~10x slower).
    parsed = lines.select(
        "value",
        "raw_path",
        F.explode(
            F.array(F.from_json("value", T.MapType(T.StringType(), T.StringType()), {"mode": "PERMISSIVE"}))
        ).alias("_obj"),
    )
    obj = F.col("_obj")
    row = F.struct(
        F.col("value").alias("_line"),
        F.regexp_extract("raw_path", r"date=(\d{4}-\d{2}-\d{2})", 1).alias("_raw_date"),
        obj.isNotNull().alias("_is_object"),
        F.map_keys(obj).alias("_keys"),
        *[obj.getItem(n).alias(n) for n in TICK.names],
    )
    return parsed.select(F.inline(F.array(row)))


def _reason(df: Any) -> Any:
    """The first contract violation of each row (null when the row is valid), worded like
    gridtape.contract.validate()."""
    from pyspark.sql import functions as F

    checks: list[tuple[Any, str]] = [(~F.col("_is_object"), "tick field '<record>': not a JSON object")]
    known = F.array(*[F.lit(n) for n in TICK.names])
    checks.append((F.size(F.array_except(F.col("_keys"), known)) > 0, "tick field '<unknown>': unknown field"))
    for f in TICK.fields:
        c = F.col(f.name)
        if not f.nullable:
            checks.append((c.isNull(), f"tick field '{f.name}': required field is missing or null"))
        if f.kind == "string":
            checks.append((c == F.lit(""), f"tick field '{f.name}': expected a non-empty string"))
            if f.allowed:
                checks.append(
                    (c.isNotNull() & ~c.isin(*f.allowed), f"tick field '{f.name}': not one of {', '.join(f.allowed)}")
                )
        elif f.kind == "timestamp":
            checks.append(
                (c.isNotNull() & ~c.rlike(_TS_PATTERN), f"tick field '{f.name}': not a UTC ISO 8601 time ending in Z")
            )
        elif f.kind == "float":
            as_double = F.expr(f"try_cast({f.name} AS double)")
            bad = c.isNotNull() & (as_double.isNull() | F.isnan(as_double) | (F.abs(as_double) == float("inf")))
            checks.append((bad, f"tick field '{f.name}': expected a finite number"))
    start = F.to_timestamp(F.regexp_replace("interval_start", "Z$", ""))
    end = F.to_timestamp(F.regexp_replace("interval_end", "Z$", ""))
    checks.append((end <= start, "tick field 'interval_end': must be after interval_start"))
    checks.append(((F.col("dataset") == "lmp") & F.col("lmp").isNull(), "tick field 'lmp': an lmp tick needs a price"))
    checks.append(
        ((F.col("dataset") == "load") & F.col("load_mw").isNull(), "tick field 'load_mw': a load tick needs load_mw")
    )
    return F.coalesce(*[F.when(cond, F.lit(msg)) for cond, msg in checks])


def _zone_expr(iso_col: str = "iso") -> Any:
    from pyspark.sql import functions as F

    expr = None
    for iso, zone in ((i.code, i.zone) for i in isos.TABLE):
        expr = (F.when if expr is None else expr.when)(F.col(iso_col) == iso, F.lit(zone))
    return expr


def transform_classify(lines: Any, params: CompactParams) -> Any:
    """Raw lines -> every line of params.days with its contract verdict (`_reason`, null when
    valid) and its trade_date: the ISO's local day of interval_start when that can be computed,
    else the raw partition's UTC date (so a reject is filed under exactly one day).
    The I/O layer persists this frame once and derives both outputs from it."""
    from pyspark.sql import functions as F

    parsed = transform_parse(lines)
    with_reason = parsed.withColumn("_reason", _reason(parsed))
    start_ts = F.to_timestamp(F.regexp_replace("interval_start", "Z$", ""))
    local_day = F.to_date(F.from_utc_timestamp(start_ts, _zone_expr()))
    with_day = with_reason.withColumn(
        "trade_date",
        F.coalesce(F.when(F.col("iso").isin(*isos.CODES), local_day), F.to_date("_raw_date")),
    )
    wanted = [d.isoformat() for d in params.days]
    return with_day.where(F.col("trade_date").cast("string").isin(*wanted)).drop("_is_object", "_keys")


def transform_rejects(classified: Any) -> Any:
    """The lines that break the contract, with the reason, their raw date and trade date."""
    from pyspark.sql import functions as F

    return classified.where(F.col("_reason").isNotNull()).select(
        F.col("_reason").alias("reason"),
        F.col("_raw_date").alias("raw_date"),
        "trade_date",
        F.col("_line").alias("line"),
    )


def transform_typed(classified: Any) -> Any:
    """Valid lines as contract-typed columns (UTC timestamps, doubles) plus trade_date."""
    from pyspark.sql import functions as F

    valid = classified.where(F.col("_reason").isNull())
    casts = []
    for f in TICK.fields:
        if f.kind == "timestamp":
            casts.append(F.to_timestamp(F.regexp_replace(f.name, "Z$", "")).alias(f.name))
        elif f.kind == "float":
            casts.append(F.col(f.name).cast("double").alias(f.name))
        else:
            casts.append(F.col(f.name))
    return valid.select(*casts, "trade_date", F.col("_line"))


def transform_latest(valid: Any) -> Any:
    """Exactly one row per natural key: the latest revision by published_at, then
    ingested_at; the raw line breaks a full tie so reruns pick the same row every time."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy(*TICK.natural_key).orderBy(
        F.col("published_at").desc(), F.col("ingested_at").desc(), F.col("_line").desc()
    )
    return valid.withColumn("_rank", F.row_number().over(w)).where("_rank = 1").select(*CURATED_COLUMNS)


def transform_compact(lines: Any, params: CompactParams) -> tuple[Any, Any]:
    """Raw lines -> (curated rows of params.days, rejects of params.days)."""
    classified = transform_classify(lines, params)
    return transform_latest(transform_typed(classified)), transform_rejects(classified)


# ---------------------------------------------------------------- I/O


class Store:
    """The two buckets as the job sees them: boto3 (AWS or the emulator) for objects."""

    def __init__(self, raw_bucket: str, curated_bucket: str) -> None:
        from gridtape import aws

        self.s3 = aws.client("s3")
        self.raw_bucket = raw_bucket
        self.curated_bucket = curated_bucket

    def keys(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(page.get("Contents", []))
        return out

    def raw_keys(self, raw_dates: Sequence[date]) -> list[str]:
        wanted = {f"date={d.isoformat()}/" for d in raw_dates}
        keys = [o["Key"] for o in self.keys(self.raw_bucket, RAW_PREFIX)]
        return [k for k in keys if any(w in k for w in wanted) and "/errors/" not in k]


def stage_raw(store: Store, raw_dates: Sequence[date], folder: Path) -> int:
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

    if not paths:
        return spark.createDataFrame([], "value string, raw_path string")
    df = spark.read.option("recursiveFileLookup", "true").text(list(paths))
    return df.select("value", F.col("_metadata.file_path").alias("raw_path")).where(F.length(F.trim("value")) > 0)


def write_staged(curated: Any, rejects: Any, out: str) -> None:
    """Write both outputs under `out` (a local folder or an s3:// staging prefix)."""
    from pyspark.sql import functions as F

    (
        curated.withColumn("_iso", F.col("iso"))
        .withColumn("_date", F.col("trade_date").cast("string"))
        .repartition("_iso", "_date")
        .sortWithinPartitions(*SORT_COLUMNS)
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


def transform_and_write(spark: Any, lines: Any, params: CompactParams, out: str) -> tuple[dict[str, int], int]:
    """Parse and validate once (persisted), write both outputs under `out`; returns the rows
    per ISO (read back from what was written) and the number of rejects."""
    from pyspark.sql import functions as F

    classified = transform_classify(lines, params).persist()
    try:
        write_staged(transform_latest(transform_typed(classified)), transform_rejects(classified), out)
        n_rejects = classified.where(F.col("_reason").isNotNull()).count()
    finally:
        classified.unpersist()
    written = spark.read.parquet(f"{out}/ticks").groupBy("_iso").agg(F.count("*").alias("n")).collect()
    return {str(r["_iso"]): int(r["n"]) for r in written}, n_rejects


def _staged_files(folder: Path, kind: str) -> list[tuple[dict[str, str], Path]]:
    out = []
    for p in sorted((folder / kind).rglob("part-*")):
        if p.name.endswith(".crc"):
            continue
        parts = dict(seg.split("=", 1) for seg in p.relative_to(folder / kind).parts[:-1] if "=" in seg)
        out.append((parts, p))
    return out


def publish(store: Store, folder: Path, days: Sequence[date], run_id: str) -> list[str]:
    """Upload a local staging folder under the run prefix, then flip each day's manifest,
    then delete runs older than the previous one. Returns the manifest keys."""
    s3 = store.s3
    bucket = store.curated_bucket
    by_day: dict[str, list[dict[str, Any]]] = {d.isoformat(): [] for d in days}
    for parts, path in _staged_files(folder, "ticks"):
        key = f"{TICKS_PREFIX}iso={parts['_iso']}/date={parts['_date']}/run={run_id}/{path.name}"
        s3.upload_file(str(path), bucket, key)
        by_day.setdefault(parts["_date"], []).append(
            {"url": f"s3://{bucket}/{key}", "mandatory": True, "meta": {"content_length": path.stat().st_size}}
        )
    for parts, path in _staged_files(folder, "rejects"):
        key = f"{REJECTS_PREFIX}date={parts['_date']}/run={run_id}/{path.name}"
        s3.upload_file(str(path), bucket, key)
    manifests = []
    for day, entries in sorted(by_day.items()):
        key = f"{MANIFEST_PREFIX}date={day}.manifest"
        previous = read_manifest(store, day)
        body = json.dumps({"entries": entries}, indent=1).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")  # the flip
        manifests.append(key)
        _expire_runs(store, day, keep={run_id, *(previous.get("runs", []) if previous else [])})
    return manifests


def read_manifest(store: Store, day: str) -> dict[str, Any] | None:
    """The day's manifest, plus the run ids it points at (None when the day was never compacted)."""
    try:
        obj = store.s3.get_object(Bucket=store.curated_bucket, Key=f"{MANIFEST_PREFIX}date={day}.manifest")
    except store.s3.exceptions.NoSuchKey:
        return None
    manifest = json.loads(obj["Body"].read())
    runs = sorted({e["url"].split("/run=")[1].split("/")[0] for e in manifest["entries"]})
    return {**manifest, "runs": runs}


def _expire_runs(store: Store, day: str, keep: set[str]) -> None:
    for prefix in (TICKS_PREFIX, REJECTS_PREFIX):
        for obj in store.keys(store.curated_bucket, prefix):
            key = obj["Key"]
            if f"date={day}/run=" not in key:
                continue
            run = key.split("/run=")[1].split("/")[0]
            if run not in keep:
                store.s3.delete_object(Bucket=store.curated_bucket, Key=key)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def compact(
    spark: Any, raw_bucket: str, curated_bucket: str, days: Sequence[date], work_dir: Path | None = None
) -> CompactResult:
    """Local run: stage raw from S3 (the emulator) to a folder, transform with Spark, publish."""
    from pyspark.sql import functions as F

    store = Store(raw_bucket, curated_bucket)
    run_id = new_run_id()
    tmp = Path(tempfile.mkdtemp(prefix="gridtape-compact-", dir=work_dir))
    try:
        raw_dir = tmp / "raw"
        staged = stage_raw(store, _days.raw_dates_for(list(days)), raw_dir)
        paths = [str(raw_dir)] if staged else []
        # Parse and validate once; both outputs and the counts read the persisted frame.
        classified = transform_classify(read_lines(spark, paths), CompactParams(tuple(days))).persist()
        try:
            curated = transform_latest(transform_typed(classified))
            rejects = transform_rejects(classified)
            write_staged(curated, rejects, str(tmp / "out"))
            per_iso = {
                r["_iso"]: int(r["n"])
                for r in spark.read.parquet(str(tmp / "out" / "ticks"))
                .groupBy("_iso")
                .agg(F.count("*").alias("n"))
                .collect()
            }
            n_rejects = classified.where(F.col("_reason").isNotNull()).count()
        finally:
            classified.unpersist()
        manifests = publish(store, tmp / "out", days, run_id)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = CompactResult(
        days=[d.isoformat() for d in days],
        run_id=run_id,
        rows=sum(per_iso.values()),
        rejects=n_rejects,
        manifests=manifests,
        per_iso=dict(sorted(per_iso.items())),
    )
    log.info("compaction %s: %s rows, %s rejects", result.days, result.rows, result.rejects)
    return result


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="compact raw ticks of one day (or a range) into curated Parquet")
    p.add_argument("--date", required=True, help="first local operating day, YYYY-MM-DD")
    p.add_argument(
        "--end_date", "--end-date", dest="end_date", default=None, help="last day of a range (default: --date)"
    )
    # Glue's convention is --name_with_underscores (the job's DefaultArguments use it).
    p.add_argument("--raw_bucket", "--raw-bucket", dest="raw_bucket", required=True)
    p.add_argument("--curated_bucket", "--curated-bucket", dest="curated_bucket", required=True)
    args, _unknown = p.parse_known_args(argv)  # Glue adds its own --JOB_NAME etc.
    return args


def main(argv: Sequence[str] | None = None, spark: Any = None) -> dict[str, Any]:
    args = parse_args(argv)
    first = _days.parse_day(args.date)
    days = _days.day_range(first, _days.parse_day(args.end_date) if args.end_date else first)
    if spark is None:
        from gridtape.spark import local_session

        spark = local_session("gridtape-compaction")
    return compact(spark, args.raw_bucket, args.curated_bucket, days).as_dict()

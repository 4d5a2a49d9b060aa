"""Compaction's pure transforms (DataFrame -> DataFrame): parse raw JSON lines, file each under
its ISO-local trade date, split rejects (batch/rules.py, the contract as Spark rules) from
valid rows, type them and keep one row per natural key. The same functions run in the Glue
job (batch/compaction_job.py) and locally (batch/compaction.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from batch import rules
from gridtape import isos
from gridtape.contract import TICK
from gridtape.spark import fast_timestamp

# Column order of the curated Parquet files = column order of the warehouse staging table
# (Redshift COPY ... FORMAT AS PARQUET maps columns by position, not by name).
CURATED_COLUMNS: tuple[str, ...] = (*TICK.names, "trade_date")
# Sort within each (iso, date) file to match the facts' compound sort key (interval_start,
# location): zone maps prune well and the MERGE reads the staging table in key order.
SORT_COLUMNS: tuple[str, ...] = ("interval_start", "location", "market", "dataset")


@dataclass(frozen=True, slots=True)
class CompactParams:
    days: tuple[date, ...]


def _exact_row(obj: Any, raw_path: Any, keep: Any = None) -> list[Any]:
    """The fields the reject rules read, from the line parsed as a map (`obj`); with `keep`,
    the (costly) raw date is computed only where keep is true."""
    from pyspark.sql import functions as F

    raw_date = F.regexp_extract(raw_path, r"date=(\d{4}-\d{2}-\d{2})", 1)
    return [
        F.col("value").alias("_line"),
        (raw_date if keep is None else F.when(keep, raw_date)).alias("_raw_date"),
        obj.isNotNull().alias("_is_object"),
        F.map_keys(obj).alias("_keys"),
        *[obj.getItem(n).alias(n) for n in TICK.names],
    ]


def _map(value: Any) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    return F.from_json(value, T.MapType(T.StringType(), T.StringType()), {"mode": "PERMISSIVE"})


def transform_parse(lines: Any) -> Any:
    """Text lines (columns: value, raw_path) -> one string column per contract field, plus
    the original line, the raw partition's UTC date and the JSON object's keys. The line is
    parsed once, as map<string,string>: every field arrives as text (numbers keep their JSON
    text), so a wrong type becomes a reject with a reason rather than a silent null, and the
    map's keys show unknown fields. This is the exact path, the one rules.reason() reads."""
    from pyspark.sql import functions as F

    # Generate nodes (explode/inline of a one-element array) are opaque to the optimizer: the
    # line is parsed exactly once and each field looked up once, instead of the parse being
    # substituted into every later expression that reads a field (which made the job ~10x slower).
    parsed = lines.select("value", "raw_path", F.explode(F.array(_map("value"))).alias("_obj"))
    return parsed.select(F.inline(F.array(F.struct(*_exact_row(F.col("_obj"), F.col("raw_path"))))))


def fast_parse(lines: Any) -> Any:
    """Text lines -> the fast path's typed parse (rules.fast_schema) as a struct `_t` and the
    line's top-level keys `_keys`: the least a line costs (bench/bench_batch.py times it alone)."""
    from pyspark.sql import functions as F

    row = F.struct(
        F.from_json("value", rules.fast_schema(), rules.FAST_OPTIONS).alias("_t"),
        F.json_object_keys("value").alias("_keys"),
    )
    return lines.select("value", "raw_path", F.inline(F.array(row)))


def transform_fast(lines: Any) -> Any:
    """Text lines -> fast_parse's struct `_t`, and `_fast`: whether rules.fast_ok() vouches
    for the row. A typed parse costs a fraction of the map parse, and the fast check is simple
    comparisons on typed values, where the exact rules run regular expressions over the whole
    line."""
    flat = fast_parse(lines).select("value", "raw_path", "_t", "_keys", "_t.*")
    return flat.select("value", "raw_path", "_t", rules.fast_ok().alias("_fast"))


def _local_day(ts: Any) -> Any:
    """The ISO's local date of a UTC timestamp (null for an unknown ISO). One branch per ISO,
    each with its zone as a literal: a zone taken from a column is looked up on every row."""
    from pyspark.sql import functions as F

    expr: Any = None
    for iso in isos.TABLE:
        day = F.to_date(F.from_utc_timestamp(ts, iso.zone))
        expr = (F.when if expr is None else expr.when)(F.col("iso") == iso.code, day)
    return expr


def _pick(f: Any, cast: Any) -> Any:
    """A field's typed value: from the typed parse on the fast path, cast from text on the exact one."""
    from pyspark.sql import functions as F

    fast, exact = F.col("_t")[f.name], F.col(f.name)
    if cast is not None:
        exact = cast(f.name)
        fast = fast_timestamp(f"`_t`.`{f.name}`") if f.kind == "timestamp" else fast
    return F.when(F.col("_fast"), fast).otherwise(exact).alias(f.name)


def transform_classify(lines: Any, params: CompactParams) -> Any:
    """Raw lines -> every line of params.days, contract-typed (UTC timestamps, doubles, longs),
    with its verdict `_reason` (null when valid), its raw date and its trade_date: the ISO's
    local day of interval_start when that can be computed, else the raw partition's UTC date
    (so a reject is filed under exactly one day). `_line` is kept on rejects only.

    A line the fast path vouches for (transform_fast) is typed from its typed parse; any other
    line goes through the exact path (transform_parse + rules.reason), and only those lines
    pay for the map parse (the CASE is evaluated lazily, row by row, in one pass).
    The I/O layer persists this frame once and derives both outputs from it."""
    from pyspark.sql import functions as F

    fast = transform_fast(lines)
    slow = ~F.col("_fast")
    mapped = fast.select(
        "value", "raw_path", "_t", "_fast", F.explode(F.array(F.when(slow, _map("value")))).alias("_o")
    )
    exact = mapped.select(
        "_t", "_fast", F.inline(F.array(F.struct(*_exact_row(F.col("_o"), F.col("raw_path"), keep=slow))))
    )
    judged = exact.withColumn("_reason", F.when(slow, rules.reason()))
    cast = {"timestamp": rules.as_timestamp, "float": rules.as_double, "int": rules.as_long}
    typed = judged.select(
        "_reason",
        "_raw_date",
        F.when(slow, F.col("_line")).alias("_line"),
        *[_pick(f, cast.get(f.kind)) for f in TICK.fields],
    )
    with_day = typed.withColumn("trade_date", F.coalesce(_local_day(F.col("interval_start")), F.to_date("_raw_date")))
    wanted = [d.isoformat() for d in params.days]
    return with_day.where(F.col("trade_date").cast("string").isin(*wanted))


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
    """Valid rows: the contract's columns plus trade_date."""
    from pyspark.sql import functions as F

    return classified.where(F.col("_reason").isNull()).select(*CURATED_COLUMNS)


def latest_first() -> list[Any]:
    """ "Latest wins" as a sort order: the highest revision (a null revision sorts lowest),
    then the latest published_at, then the latest ingested_at; the remaining columns break a
    full tie, so reruns pick the same row every time."""
    from pyspark.sql import functions as F

    order = ["revision", "published_at", "ingested_at"]
    rest = [c for c in TICK.names if c not in order and c not in TICK.natural_key]
    return [F.col("revision").desc_nulls_last(), *[F.col(c).desc_nulls_last() for c in order[1:] + rest]]


def transform_latest(valid: Any) -> Any:
    """Exactly one row per natural key, the latest (latest_first), sorted within each
    (iso, trade_date) partition by SORT_COLUMNS, ready for the partitioned write.

    One shuffle and one sort: rows are hashed by (iso, trade_date) (the natural key fixes
    both), sorted by (iso, trade_date, SORT_COLUMNS, latest first), and the window over
    (iso, trade_date, SORT_COLUMNS) = the natural key finds that order already in place."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys = ["iso", "trade_date", *SORT_COLUMNS]
    assert set(keys) >= set(TICK.natural_key)
    ordered = valid.repartition("iso", "trade_date").sortWithinPartitions(*keys, *latest_first())
    w = Window.partitionBy(*keys).orderBy(*latest_first())
    return ordered.withColumn("_rank", F.row_number().over(w)).where("_rank = 1").select(*CURATED_COLUMNS)


def transform_compact(lines: Any, params: CompactParams) -> tuple[Any, Any]:
    """Raw lines -> (curated rows of params.days, rejects of params.days)."""
    classified = transform_classify(lines, params)
    return transform_latest(transform_typed(classified)), transform_rejects(classified)

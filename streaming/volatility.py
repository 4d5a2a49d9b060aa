"""Rolling price volatility on event time: pure DataFrame -> DataFrame transforms.

Nothing here reads or writes anything; the same functions run on a static DataFrame (tests,
batch) and on a streaming one (Kinesis on Glue, the Python Kinesis source or a folder of
files locally). Only APIs present in both Spark 3.5 (Glue 5.0) and Spark 4.x are used.

Definitions (what a trader reads in a ``volatility`` record):

* Key: (iso, market, location) of ``lmp`` ticks. Only real-time markets by default: a
  day-ahead price's interval_start is up to a day in the future, and since a Spark watermark
  is global to the query, one DAM tick would drag the watermark a day ahead and make every
  real-time tick "late". DAM volatility belongs to the nightly batch.
* Window: sliding event-time windows on interval_start. A window [window_start, window_end)
  holds the intervals whose interval_start t satisfies window_start <= t < window_end
  (Spark's ``window()`` semantics). Windows are aligned to the Unix epoch (UTC), so a 60/5
  window starts on every 5-minute boundary.
* Revisions: one observation per interval_start, the one with the latest published_at, then
  the latest ingested_at (then the larger price, only so equal timestamps still give one
  deterministic answer). A revision replaces the earlier value; it never adds a second one.
* Statistics over the window's observations sorted by interval_start (event time, never
  arrival order), prices p_1..p_n:
  vol_abs = sample stdev (ddof=1) of p_i - p_{i-1}, i = 2..n; null when fewer than 2 diffs.
  vol_log = sample stdev of ln(p_i / p_{i-1}) over the consecutive pairs where both prices
  are > 0 (pairs with a zero or negative price are skipped, not bridged: a log return is
  undefined there, and vol_abs still carries them); null when fewer than 2 such returns.
  "Consecutive" means adjacent observations in the window, whether or not an interval in
  between is missing.
* Watermark (event time = interval_start, delay D, default 15 minutes): Spark computes at
  the end of each micro-batch W = max(interval_start seen so far) - D and uses it in the next
  batch to emit windows; input is filtered with the watermark of the *previous* batch (Spark
  >= 3.4 does this so that nothing already emitted can be reopened). So a tick arriving in
  micro-batch N is *late* when interval_start < max(interval_start over batches 0..N-2) - D;
  a late tick is dropped whole and counted (numRowsDroppedByWatermark of the deduplication
  operator, which counts input ticks - see on_time_prices). Every other tick, however far out
  of arrival order, is on time and counts in every window containing it: those windows all end
  after interval_start >= that watermark, so none of them has been emitted yet. In practice a
  tick up to D behind the newest event time always makes it; one further behind may not.
* Emission (append mode): a window is emitted once, in the first batch whose watermark
  reaches its end (W >= window_end); its record is final. Batches without input still run
  when the watermark moves, so windows are not held back waiting for more data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridtape.contract import TICK, VOLATILITY

REALTIME_MARKETS = ("RT5", "RT15", "RTH")


@dataclass(frozen=True, slots=True)
class WindowSpec:
    minutes: int
    slide_minutes: int

    def __post_init__(self) -> None:
        if self.minutes <= 0 or self.slide_minutes <= 0:
            raise ValueError(f"window {self.minutes}/{self.slide_minutes}: both must be positive minutes")
        if self.minutes % self.slide_minutes:
            # Spark allows it, but then windows overlap unevenly; nobody trades on that.
            raise ValueError(f"window {self.minutes} min is not a multiple of its slide {self.slide_minutes} min")

    @classmethod
    def parse(cls, text: str) -> WindowSpec:
        """'60/5' -> 60-minute windows sliding every 5 minutes."""
        try:
            length, slide = (int(part) for part in text.split("/"))
        except ValueError:
            raise ValueError(f"window {text!r}: expected MINUTES/SLIDE_MINUTES, e.g. 60/5") from None
        return cls(length, slide)


@dataclass(frozen=True, slots=True)
class VolatilityParams:
    windows: tuple[WindowSpec, ...] = (WindowSpec(60, 5), WindowSpec(24 * 60, 60))
    watermark_minutes: int = 15
    markets: tuple[str, ...] = REALTIME_MARKETS

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("at least one window is needed")
        if self.watermark_minutes < 0:
            raise ValueError("watermark delay cannot be negative")


def parse_ticks(raw: Any, column: str = "data") -> Any:
    """Raw records (one JSON tick per row in `column`, string or binary) -> typed tick columns
    of the contract's Spark schema. Rows that are not a tick (unparseable JSON, missing key or
    event time) are dropped here; the contract is enforced at the producers."""
    from pyspark.sql import functions as F

    from gridtape.contract import spark_schema

    parsed = raw.select(F.from_json(F.col(column).cast("string"), spark_schema(TICK)).alias("t")).select("t.*")
    return parsed.where(
        F.col("iso").isNotNull()
        & F.col("market").isNotNull()
        & F.col("location").isNotNull()
        & F.col("interval_start").isNotNull()
        & F.col("published_at").isNotNull()
        & F.col("ingested_at").isNotNull()
    )


def on_time_prices(ticks: Any, params: VolatilityParams) -> Any:
    """Price ticks of the configured markets, watermarked on interval_start, with late ticks
    dropped (counted by the deduplication operator) and exact replays collapsed to one."""
    from pyspark.sql import functions as F

    prices = ticks.where(
        (F.col("dataset") == "lmp") & F.col("lmp").isNotNull() & F.col("market").isin(*params.markets)
    ).select("iso", "market", "location", "interval_start", "lmp", "published_at", "ingested_at")
    # dropDuplicates on a watermarked stream is a stateful operator that (a) drops every input
    # row older than the watermark, counting it in numRowsDroppedByWatermark - a per-tick count,
    # unlike the aggregation's own counter, which counts partial aggregates per window - and
    # (b) collapses Kinesis at-least-once redeliveries of the very same record. Its state holds
    # only the last `watermark` of event time. On a static DataFrame it is a plain distinct.
    return prices.withWatermark("interval_start", f"{params.watermark_minutes} minutes").dropDuplicates(
        ["iso", "market", "location", "interval_start", "published_at", "ingested_at", "lmp"]
    )


# Spark marks an event-time column (and the window struct derived from it) with this metadata
# key; stateful operators find their watermark column by it, and for a struct key they evict on
# its second field, the window end. The key is EventTimeWatermark.delayKey, unchanged since
# Spark 2.1 (3.5 on Glue, 4.x locally); the streaming tests would fail if a release moved it.
WATERMARK_DELAY_KEY = "spark.watermarkDelayMs"


def _window_array(spec: WindowSpec) -> str:
    """SQL for the spec's windows containing interval_start: L/S structs, each window
    [start, start + L) with start aligned to the slide on the Unix epoch, exactly as Spark's
    window(interval_start, L, S) places them."""
    length, slide = spec.minutes * 60_000_000, spec.slide_minutes * 60_000_000
    base = f"(unix_micros(interval_start) - pmod(unix_micros(interval_start), {slide}L))"
    return (
        f"transform(sequence(0, {spec.minutes // spec.slide_minutes - 1}), j -> named_struct("
        f"'start', timestamp_micros({base} - j * {slide}L), 'end', timestamp_micros({base} - j * {slide}L + {length}L),"
        f" 'window_minutes', {spec.minutes}L, 'slide_minutes', {spec.slide_minutes}L))"
    )


def expand_windows(prices: Any, params: VolatilityParams) -> Any:
    """One row per (tick, window containing it), over every window family, with the window
    as a struct(start, end) that carries the watermark - one Generate and one stateful
    aggregation for all families. (A union of window() projections would plan the
    deduplication above once per branch, each with its own state and drop counter.)"""
    from pyspark.sql import functions as F

    windows = f"flatten(array({', '.join(_window_array(s) for s in params.windows)}))"
    delay_ms = params.watermark_minutes * 60_000
    return prices.select(
        "iso",
        "market",
        "location",
        F.explode(F.expr(windows)).alias("win"),
        # Field order matters: sort_array orders structs field by field, so sorting puts each
        # interval's revisions together with the winning one last.
        F.struct("interval_start", "published_at", "ingested_at", "lmp").alias("o"),
    ).select(
        "iso",
        "market",
        "location",
        F.struct(F.col("win.start").alias("start"), F.col("win.end").alias("end")).alias(
            "w", metadata={WATERMARK_DELAY_KEY: delay_ms}
        ),
        F.col("win.window_minutes").alias("window_minutes"),
        F.col("win.slide_minutes").alias("slide_minutes"),
        "o",
    )


def transform_volatility(ticks: Any, params: VolatilityParams | None = None) -> Any:
    """Typed ticks (contract schema, static or streaming) -> volatility records (VOLATILITY
    contract columns, in contract order). On a stream, use append output mode."""
    from pyspark.sql import functions as F

    params = params or VolatilityParams()
    expanded = expand_windows(on_time_prices(ticks, params), params)
    grouped = expanded.groupBy("iso", "market", "location", "w", "window_minutes", "slide_minutes").agg(
        F.collect_list("o").alias("obs")
    )
    return window_stats(grouped)


# Spark SQL higher-order functions over the collected observations: vectorised in the JVM, no
# Python UDF on the hot path. Each step is its own column so each expression stays readable.
# Keep the last element of each run of equal interval_start (the winning revision). CASE, not
# OR: CASE never evaluates s[i + 1] past the end, which ANSI mode (Spark 4's default) rejects.
_LATEST = (
    "filter(s, (x, i) -> CASE WHEN i = size(s) - 1 THEN true ELSE s[i + 1].interval_start != x.interval_start END)"
)
_DIFFS = "zip_with(slice(p, 2, greatest(size(p) - 1, 0)), slice(p, 1, greatest(size(p) - 1, 0)), (b, a) -> b - a)"
_LOGS = (
    "filter(zip_with(slice(p, 2, greatest(size(p) - 1, 0)), slice(p, 1, greatest(size(p) - 1, 0)),"
    " (b, a) -> CASE WHEN a > 0 AND b > 0 THEN ln(b / a) END), r -> r IS NOT NULL)"
)


def _mean(col: str) -> str:
    # CASE: an empty array has no mean, and ANSI mode (Spark 4's default) raises on x / 0.
    return f"CASE WHEN size({col}) > 0 THEN aggregate({col}, 0D, (acc, x) -> acc + x) / size({col}) END"


def _sample_std(col: str, mean_col: str) -> str:
    """Two-pass sample standard deviation of an array column (null under 2 elements): the mean
    (a column of its own, so it is computed once, not once per element) and then the squared
    deviations from it, which keeps full double precision."""
    ss = f"aggregate({col}, 0D, (acc, x) -> acc + (x - {mean_col}) * (x - {mean_col}))"
    return f"CASE WHEN size({col}) >= 2 THEN sqrt({ss} / (size({col}) - 1)) END"


def window_stats(grouped: Any) -> Any:
    """(key, w, window_minutes, slide_minutes, obs: array<struct<interval_start, published_at,
    ingested_at, lmp>>) -> volatility records."""
    from pyspark.sql import functions as F

    latest = (
        grouped.withColumn("s", F.expr("sort_array(obs)"))
        .withColumn("s", F.expr(_LATEST))
        .withColumn("p", F.expr("transform(s, x -> x.lmp)"))
        .withColumn("d", F.expr(_DIFFS))
        .withColumn("r", F.expr(_LOGS))
        .withColumn("d_mean", F.expr(_mean("d")))
        .withColumn("r_mean", F.expr(_mean("r")))
    )
    out = latest.select(
        "iso",
        "market",
        "location",
        F.col("w.start").alias("window_start"),
        F.col("w.end").alias("window_end"),
        "window_minutes",
        "slide_minutes",
        F.expr("cast(size(p) as long)").alias("n"),
        F.expr("cast(size(filter(p, x -> x <= 0)) as long)").alias("n_nonpositive"),
        F.expr("p[0]").alias("price_first"),
        F.expr("element_at(p, -1)").alias("price_last"),
        F.expr("array_min(p)").alias("price_min"),
        F.expr("array_max(p)").alias("price_max"),
        F.expr(_mean("p")).alias("price_mean"),
        F.expr(_sample_std("r", "r_mean")).alias("vol_log"),
        F.expr(_sample_std("d", "d_mean")).alias("vol_abs"),
        F.current_timestamp().alias("computed_at"),
    )
    assert tuple(out.columns) == VOLATILITY.names, out.columns
    return out

"""Rolling price volatility on event time: pure DataFrame -> DataFrame transforms, the Spark
adapter of the numpy kernel in streaming/stats.py.

Nothing here reads or writes anything; the same functions run on a static DataFrame (tests,
batch) and on a streaming one (Kinesis on Glue, the Python Kinesis source or a folder of
files locally). Only APIs present in both Spark 3.5 (Glue 5.0) and Spark 4.x are used; the
Glue 5.0 test environment (`make test-glue`) runs the tests marked glue on Spark 3.5.

Definitions (what a trader reads in a ``volatility`` record):

* Key: (iso, market, location) of ``lmp`` ticks. Only real-time markets by default: a
  day-ahead price's interval_start is up to a day in the future, and since a Spark watermark
  is global to the query, one DAM tick would drag the watermark a day ahead and make every
  real-time tick "late". DAM volatility belongs to the nightly batch.
* Refused first (streaming/guards.py): ticks starting from the third UTC midnight after now
  on, and ticks the contract refuses (gridtape/bounds.py); both dropped before the watermark
  and counted.
* Window: sliding event-time windows on interval_start. A window [window_start, window_end)
  holds the intervals whose interval_start t satisfies window_start <= t < window_end
  (Spark's ``window()`` semantics). Windows are aligned to the Unix epoch (UTC), so a 60/5
  window starts on every 5-minute boundary.
* Revisions: one observation per interval_start, the one with the highest revision number
  (a tick without one ranks lowest), then the latest published_at, then the latest
  ingested_at (then the larger price, only so equal keys still give one deterministic
  answer). A revision replaces the earlier value, whatever order they arrive in; it never
  adds a second one.
* Statistics over the window's observations sorted by interval_start (event time, never
  arrival order), prices p_1..p_n:
  vol_abs = sample stdev (ddof=1) of p_i - p_{i-1}, i = 2..n; null when fewer than 2 diffs.
  vol_log = sample stdev of ln(p_i / p_{i-1}) over the consecutive pairs where both prices
  are > 0 (pairs with a zero or negative price are skipped, not bridged: a log return is
  undefined there, and vol_abs still carries them); null when fewer than 2 such returns.
  "Consecutive" means adjacent observations in the window, whether or not an interval in
  between is missing. A statistic that would not be finite is null (see stats.py).
* Watermark (event time = interval_start, delay D, default 15 minutes): Spark computes at
  the end of each micro-batch W = max(interval_start seen so far) - D and uses it in the next
  batch to emit windows; input is filtered with the watermark of the *previous* batch (Spark
  >= 3.4 does this so that nothing already emitted can be reopened). So a tick arriving in
  micro-batch N is *late* when interval_start < max(interval_start over batches 0..N-2) - D;
  a late tick is dropped whole and counted (numRowsDroppedByWatermark of the stateful
  operator, which counts input ticks - see transform_volatility). Every other tick, however far out
  of arrival order, is on time and counts in every window containing it: those windows all end
  after interval_start >= that watermark, so none of them has been emitted yet. In practice a
  tick up to D behind the newest event time always makes it; one further behind may not.
* Emission (append mode): a window is emitted once, in the first batch whose watermark
  reaches its end (W >= window_end); its record is final. Batches without input still run
  when the watermark moves, so windows are not held back waiting for more data.
* End of input (`gridtape stream --from-dir --flush` only): the line END_OF_INPUT is no tick
  of any ISO; parse_ticks(end_of_input=True) turns it into a marker row whose event time is
  END_OF_INPUT_TIME, which moves the watermark past every window so the next batch emits them
  all. The marker is never an observation. Sources anyone can write to (Kinesis) never
  recognise it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np

from gridtape.contract import TICK, VOLATILITY
from streaming import guards
from streaming.stats import (
    ALWAYS,
    KEY,
    NEVER,
    NO_REVISION,
    OBS,
    STATS_FIELDS,
    US_PER_MIN,
    WindowSpec,
    latest_revisions,
    merge_revisions,
    next_window_end,
    pack,
    unpack,
    window_stats,
)

__all__ = ["REALTIME_MARKETS", "VolatilityParams", "WindowSpec", "parse_ticks", "transform_volatility"]

REALTIME_MARKETS = ("RT5", "RT15", "RTH")
END_OF_INPUT: Final = '{"gridtape":"end-of-input"}'
END_OF_INPUT_TIME: Final = datetime(9999, 12, 31, tzinfo=UTC)  # after any window of any real tick
_END: Final = "_end_of_input"


@dataclass(frozen=True, slots=True)
class VolatilityParams:
    windows: tuple[WindowSpec, ...] = (WindowSpec(60, 5), WindowSpec(24 * 60, 60))
    watermark_minutes: int = 15
    markets: tuple[str, ...] = REALTIME_MARKETS
    # Locations are hashed into this many groups, each one Python call and one state row per
    # batch. Part of the stateful plan: a checkpoint keeps the number it started with.
    location_groups: int = 16

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("at least one window is needed")
        if self.watermark_minutes < 0:
            raise ValueError("watermark delay cannot be negative")
        if self.location_groups < 1:
            raise ValueError("location_groups must be at least 1")


def parse_ticks(raw: Any, column: str = "data", *, end_of_input: bool = False) -> Any:
    """Raw records (one JSON tick per row in `column`, string or binary) -> typed tick columns
    of the contract's Spark schema, one row per non-blank record: what is not a tick comes out
    with null fields, for the guard to count and drop. With end_of_input, the END_OF_INPUT line
    becomes the end-of-input marker instead. Times are read as text, then as the contract reads
    them (gridtape.spark.wire_time: a time of another shape is null); the session must be UTC."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    from gridtape.contract import spark_schema
    from gridtape.spark import wire_time

    if raw.sparkSession.conf.get("spark.sql.session.timeZone") != "UTC":
        raise ValueError("parse_ticks reads wire times in the session zone, which must be UTC")
    times = {f.name for f in TICK.fields if f.kind == "timestamp"}
    schema = StructType(
        [StructField(f.name, StringType(), f.nullable) if f.name in times else f for f in spark_schema(TICK).fields]
    )
    text = F.col(column).cast("string")
    end = (F.trim(text) == END_OF_INPUT) if end_of_input else F.lit(False)
    parsed = raw.where(F.trim(text) != "").select(
        F.from_json(text, schema).alias("t"), F.coalesce(end, F.lit(False)).alias(_END)
    )
    return parsed.select(
        *(wire_time(f"t.{name}").alias(name) if name in times else F.col(f"t.{name}") for name in schema.names),
        _END,
    )


def on_time_prices(ticks: Any, params: VolatilityParams) -> Any:
    """Guarded price ticks of the configured markets (and the end-of-input marker), watermarked
    on interval_start. Late ticks are dropped (and counted) by the stateful step itself (see
    transform_volatility); exact replays collapse there too, as a revision that changes nothing."""
    from pyspark.sql import functions as F

    end = F.col(_END) if _END in ticks.columns else F.lit(False)
    if not ticks.isStreaming:
        end = F.lit(False)  # a batch query emits every window anyway
    is_price = (F.col("dataset") == "lmp") & F.col("lmp").isNotNull() & F.col("market").isin(*params.markets)
    prices = guards.guard(ticks, exempt=end).where(end | is_price)
    prices = prices.select(
        *(F.when(~end, F.col(k)).alias(k) for k in KEY),
        F.when(end, F.lit(END_OF_INPUT_TIME)).otherwise(F.col("interval_start")).alias("interval_start"),
        "revision",
        "published_at",
        "ingested_at",
        "lmp",
    )
    return prices.withWatermark("interval_start", f"{params.watermark_minutes} minutes")


# ----------------------------------------------------------------------------------------
# The stateful step. On a stream the observations live in the state of
# applyInPandasWithState (Spark >= 3.4, so Glue 5.0 has it), keyed by a hash group of
# (iso, market, location); on a static DataFrame applyInPandas runs the same function once
# per group with every window emitted.

# Spark marks an event-time column with this metadata key (EventTimeWatermark.delayKey, the
# same since Spark 2.1); stateful operators find their watermark column by it.
WATERMARK_DELAY_KEY = "spark.watermarkDelayMs"
# The stateful operator's name in a query's progress: its numRowsDroppedByWatermark counts the
# late input ticks it dropped (one per tick, before any grouping).
LATE_TICKS_OPERATOR = "applyInPandasWithState"

_SPARK_TYPES: Final = {"timestamp": "long", "int": "long", "float": "double"}
# What the Python function returns: one row per call, each column an array holding that field of
# every window (unpacked with inline(arrays_zip(...)) in the JVM). Thousands of output rows
# converted and padded one by one on the way back cost more than the statistics. Timestamps as
# epoch microseconds (a pandas datetime would be read back in the session time zone). Beside the
# arrays, one scalar: the micro-batch's time (see _streaming_windows), null on a static DataFrame.
_OUT_NAMES: Final = (*KEY, *(name for name, _ in STATS_FIELDS))
_BATCH_US = "_batch_us"
_OUT_SCHEMA = ", ".join(
    [f"{k} array<string>" for k in KEY]
    + [f"{name} array<{_SPARK_TYPES[kind]}>" for name, kind in STATS_FIELDS]
    + [f"{_BATCH_US} long"]
)
# Locations ({"names": [[iso, market, location], ...], "n": observations, "open": those still open to
# a revision} as JSON; a plain list of names before stats.pack) and observations (stats.pack).
_STATE_SCHEMA = "locations string, obs binary, emitted_upto long"
_GROUP = "_location_group"
# (iso, market, location) travel to Python as one string joined by a separator that no key holds
# (a control character: the guard refuses them in locations, isos and markets are codes).
_KEY = "_key"
_SEP: Final = "\x1f"


class _Locations:
    """The locations of one group: (iso, market, location) <-> index in OBS["k"]."""

    def __init__(self, names: list[tuple[str, str, str]]) -> None:
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}

    def observations(self, frames: Any) -> np.ndarray:
        import pandas as pd

        chunks = []
        for pdf in frames:
            # One key column (see _KEY): one factorize, and only the distinct keys split in Python.
            codes, uniques = pd.factorize(pdf[_KEY])
            tick = codes >= 0  # the end-of-input marker (null key) is no observation
            if not tick.any():
                continue
            ids = np.array([self._id(tuple(u.split(_SEP))) for u in uniques], dtype=np.int64)
            rows = slice(None) if tick.all() else tick  # the marker is rare: no copy without it
            obs = np.empty(int(tick.sum()), dtype=OBS)
            obs["k"] = ids[codes[rows]]
            for name, column in (("t", "t_us"), ("rev", "rev"), ("pub", "pub_us"), ("ing", "ing_us"), ("p", "lmp")):
                obs[name] = pdf[column].to_numpy()[rows]
            chunks.append(obs)
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=OBS)

    def _id(self, name: tuple[str, ...]) -> int:
        i = self.index.get(name)  # type: ignore[arg-type]
        if i is None:
            i = self.index[name] = len(self.names)  # type: ignore[index]
            self.names.append(name)  # type: ignore[arg-type]
        return i

    def records(
        self, obs: np.ndarray, specs: tuple[WindowSpec, ...], after: int, upto: int, batch_us: int | None = None
    ) -> Any:
        """Every window ending in (after, upto] of every location in obs (latest revisions,
        sorted) as one DataFrame row of arrays (see _OUT_SCHEMA), or None."""
        import pandas as pd

        stats = window_stats(obs, specs, after, upto)
        if not stats:
            return None
        names = np.empty((len(self.names), len(KEY)), dtype=object)
        names[:] = self.names
        columns: dict[str, Any] = {name: [names[stats["k"], i]] for i, name in enumerate(KEY)}
        columns.update({name: [stats[name]] for name, _ in STATS_FIELDS})
        columns[_BATCH_US] = [batch_us]
        return pd.DataFrame(columns)


def _static_windows(params: VolatilityParams) -> Any:
    def run(pdf: Any) -> Any:
        import pandas as pd

        locations = _Locations([])
        obs = latest_revisions(locations.observations([pdf]))
        out = locations.records(obs, params.windows, NEVER, ALWAYS)
        return out if out is not None else pd.DataFrame(columns=[*_OUT_NAMES, _BATCH_US])

    return run


def _streaming_windows(params: VolatilityParams) -> Any:
    """The stateful step of a group of locations. State: the latest revision of every interval
    that a window not emitted yet may hold (sorted, as OBS bytes), the group's locations, and the
    watermark up to which windows were emitted. Called with the group's new ticks and, through
    the event-time timeout, whenever the watermark passes the end of its next window; it emits
    every window ending in (emitted_upto, watermark] - each window once, in the first batch whose
    watermark reaches its end, as Spark's append-mode window aggregation does. The records carry
    the batch's time (the same on a replay of the batch: Spark keeps it in the offset log)."""
    longest = max(s.minutes for s in params.windows) * US_PER_MIN

    def run(key: tuple[Any, ...], frames: Any, state: Any) -> Any:
        watermark = int(state.getCurrentWatermarkMs()) * 1000
        if state.exists:
            names, blob, emitted_upto = state.get
            meta = json.loads(names)
            if isinstance(meta, list):  # written before stats.pack: every observation whole
                meta = {"names": meta, "n": None}
            locations = _Locations([tuple(n) for n in meta["names"]])
            old = np.frombuffer(blob, dtype=OBS) if meta["n"] is None else unpack(blob, meta["n"], meta["open"])
        else:
            locations, old, emitted_upto = _Locations([]), np.empty(0, dtype=OBS), NEVER
        new = locations.observations(frames)
        # Every tick that got past the late filter is after any window already emitted, so
        # merging it never reopens one.
        obs = merge_revisions(old, new)
        batch_us = int(state.getCurrentProcessingTimeMs()) * 1000
        out = locations.records(obs, params.windows, emitted_upto, watermark, batch_us) if len(obs) else None
        # Windows still to come end after the watermark, so they start after watermark - longest.
        obs = obs[obs["t"] > watermark - longest]
        if len(obs):
            # Renumber the locations still holding observations (obs is sorted by location).
            first = np.concatenate(([True], obs["k"][1:] != obs["k"][:-1]))
            kept, obs["k"] = obs["k"][first], np.cumsum(first) - 1
            # Ticks before this watermark will be late in the next batch: theirs are final.
            meta = {
                "names": [locations.names[i] for i in kept],
                "n": len(obs),
                "open": int((obs["t"] >= watermark).sum()),
            }
            state.update((json.dumps(meta), pack(obs, watermark), watermark))
            # Spark times a key out once timeout < watermark: 1 ms before the end is due at W >= end.
            state.setTimeoutTimestamp(next_window_end(obs["t"], params.windows, watermark) // 1000 - 1)
        else:
            state.remove()
        if out is not None:
            yield out

    return run


def transform_volatility(ticks: Any, params: VolatilityParams | None = None) -> Any:
    """Typed ticks (contract schema, static or streaming, as parse_ticks gives them) ->
    volatility records (VOLATILITY contract columns, in contract order). On a stream, use
    append output mode."""
    from pyspark.sql import functions as F

    params = params or VolatilityParams()
    prices = on_time_prices(ticks, params).select(
        F.concat(F.col(KEY[0]), F.lit(_SEP), F.col(KEY[1]), F.lit(_SEP), F.col(KEY[2])).alias(_KEY),
        # Locations are processed in groups (one Python call and one state row per group per
        # batch, not per location): the per-call overhead of the stateful operator dominates.
        F.expr(f"pmod(hash(iso, market, location), {params.location_groups})").alias(_GROUP),
        # interval_start as epoch microseconds, still marked as the event-time column: the stateful
        # step finds the watermark by that mark (and the end-of-input time would not fit a
        # pandas datetime).
        F.expr("unix_micros(interval_start)").alias(
            "t_us", metadata={WATERMARK_DELAY_KEY: params.watermark_minutes * 60_000}
        ),
        F.coalesce(F.col("revision"), F.lit(NO_REVISION)).cast("long").alias("rev"),
        F.expr("unix_micros(published_at)").alias("pub_us"),
        F.expr("unix_micros(ingested_at)").alias("ing_us"),
        F.col("lmp").cast("double").alias("lmp"),
    )
    grouped = prices.groupBy(_GROUP)
    if ticks.isStreaming:
        windows = grouped.applyInPandasWithState(
            _streaming_windows(params), _OUT_SCHEMA, _STATE_SCHEMA, "append", "EventTimeTimeout"
        )
    else:
        windows = grouped.applyInPandas(_static_windows(params), _OUT_SCHEMA)
    windows = windows.select(_BATCH_US, F.expr(f"inline(arrays_zip({', '.join(_OUT_NAMES)}))"))
    # computed_at is the micro-batch's time, as current_timestamp() is in a streaming query; but
    # current_timestamp() becomes a literal in the generated code, a new one every batch, and
    # recompiles the output stage each time (see guards.future_tick). A static query has one.
    computed_at = F.expr(f"timestamp_micros({_BATCH_US})") if ticks.isStreaming else F.current_timestamp()
    # NaN -> null, as pandas -> Arrow did with a column of floats (a statistic that is not finite).
    out = windows.select(
        *KEY,
        *(
            F.expr(f"timestamp_micros({n})").alias(n)
            if kind == "timestamp"
            else F.nanvl(n, F.lit(None).cast("double")).alias(n)
            if kind == "float"
            else F.col(n)
            for n, kind in STATS_FIELDS
        ),
        computed_at.alias("computed_at"),
    )
    assert tuple(out.columns) == VOLATILITY.names, out.columns
    return out

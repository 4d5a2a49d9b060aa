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
  a late tick is dropped whole and counted (numRowsDroppedByWatermark of the stateful
  operator, which counts input ticks - see transform_volatility). Every other tick, however far out
  of arrival order, is on time and counts in every window containing it: those windows all end
  after interval_start >= that watermark, so none of them has been emitted yet. In practice a
  tick up to D behind the newest event time always makes it; one further behind may not.
* Emission (append mode): a window is emitted once, in the first batch whose watermark
  reaches its end (W >= window_end); its record is final. Batches without input still run
  when the watermark moves, so windows are not held back waiting for more data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

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
    """Price ticks of the configured markets, watermarked on interval_start. Late ticks are
    dropped (and counted) by the stateful step itself (see transform_volatility); exact replays
    collapse there too, as a revision that changes nothing."""
    from pyspark.sql import functions as F

    prices = ticks.where(
        (F.col("dataset") == "lmp") & F.col("lmp").isNotNull() & F.col("market").isin(*params.markets)
    ).select("iso", "market", "location", "interval_start", "lmp", "published_at", "ingested_at")
    return prices.withWatermark("interval_start", f"{params.watermark_minutes} minutes")


# ----------------------------------------------------------------------------------------
# Windows and statistics: one pass per location in numpy.
#
# Each location's observations are kept sorted by interval_start, one per interval (the winning
# revision), so a window is an index range [lo, hi) found by binary search and its statistics
# are array reductions - no per-window copy of the observations, no per-tick window explosion.
# On a stream the observations live in the state of applyInPandasWithState (Spark >= 3.4, so
# Glue 5.0 has it), keyed by (iso, market, location); on a static DataFrame applyInPandas runs
# the same function once per location with every window emitted.

# Spark marks an event-time column with this metadata key (EventTimeWatermark.delayKey, the
# same since Spark 2.1); stateful operators find their watermark column by it.
WATERMARK_DELAY_KEY = "spark.watermarkDelayMs"
# The stateful operator's name in a query's progress: its numRowsDroppedByWatermark counts the
# late input ticks it dropped (one per tick, before any grouping).
LATE_TICKS_OPERATOR = "applyInPandasWithState"
_US_PER_MIN = 60_000_000
_NEVER = np.iinfo(np.int64).min
_ALWAYS = np.iinfo(np.int64).max
# One observation: the location (index into the group's location list), interval_start,
# published_at, ingested_at (epoch microseconds) and price.
OBS = np.dtype([("k", "<i8"), ("t", "<i8"), ("pub", "<i8"), ("ing", "<i8"), ("p", "<f8")])

_KEY = ("iso", "market", "location")
_STATS_FIELDS = (
    ("window_start", "long"),
    ("window_end", "long"),
    ("window_minutes", "long"),
    ("slide_minutes", "long"),
    ("n", "long"),
    ("n_nonpositive", "long"),
    ("price_first", "double"),
    ("price_last", "double"),
    ("price_min", "double"),
    ("price_max", "double"),
    ("price_mean", "double"),
    ("vol_log", "double"),
    ("vol_abs", "double"),
)
# What the Python function returns: timestamps as epoch microseconds (a pandas datetime would be
# read back in the session time zone), turned into timestamps in Spark.
_OUT_SCHEMA = ", ".join(f"{n} {t}" for n, t in (*((k, "string") for k in _KEY), *_STATS_FIELDS))
# Locations as a JSON list of [iso, market, location], observations as OBS bytes.
_STATE_SCHEMA = "locations string, obs binary, emitted_upto long"
_GROUP = "_location_group"


def latest_revisions(obs: np.ndarray) -> np.ndarray:
    """Observations in any order, revisions included -> one per (location, interval_start): the
    latest published_at, then ingested_at, then the larger price; sorted by location, then
    interval_start."""
    if len(obs) == 0:
        return obs
    s = obs[np.lexsort((obs["p"], obs["ing"], obs["pub"], obs["t"], obs["k"]))]
    last = np.ones(len(s), dtype=bool)
    last[:-1] = (s["t"][1:] != s["t"][:-1]) | (s["k"][1:] != s["k"][:-1])
    return s[last]


def _gather(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x[lo_i:hi_i] of every window as the rows of a padded matrix: (values, mask, counts)."""
    counts = hi - lo
    width = int(counts.max(initial=0))
    idx = lo[:, None] + np.arange(width)[None, :]
    mask = idx < hi[:, None]
    values = x[np.minimum(idx, len(x) - 1)] if len(x) else np.zeros(idx.shape)
    return np.where(mask, values, 0.0), mask, counts


def _mean_std(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per window: mean (nan when empty) and two-pass sample stdev (nan under 2 values)."""
    values, mask, counts = _gather(x, lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = values.sum(axis=1) / counts
        dev = np.where(mask, values - mean[:, None], 0.0)
        std = np.sqrt((dev * dev).sum(axis=1) / (counts - 1))
    return mean, np.where(counts >= 2, std, np.nan)


def window_stats(obs: np.ndarray, specs: tuple[WindowSpec, ...], after: int, upto: int) -> dict[str, np.ndarray]:
    """Statistics of every window (of every spec, of every location) that holds at least one
    observation and ends in (after, upto], epoch microseconds, with the location in "k".
    obs: latest revisions sorted by location, then interval_start."""
    if not len(obs):
        return {}
    # All locations at once: location k's times are laid out in a lane of their own,
    # k * lane + (t - ref), so one sorted array and one binary search serve every location; a
    # lane is wider than its times plus a window, so no window reaches into the next lane.
    margin = max(s.minutes for s in specs) * _US_PER_MIN + max(s.slide_minutes for s in specs) * _US_PER_MIN
    ref = int(obs["t"].min()) - margin
    lane = int(obs["t"].max()) - ref + margin + 1
    per_chunk = (1 << 62) // lane
    if int(obs["k"].max()) >= per_chunk:  # lanes would overflow int64: a slice of locations at a time
        chunks = []
        for k0 in range(0, int(obs["k"].max()) + 1, per_chunk):
            chunk = obs[(obs["k"] >= k0) & (obs["k"] < k0 + per_chunk)].copy()
            chunk["k"] -= k0
            part = window_stats(chunk, specs, after, upto)
            if part:
                part["k"] += k0
                chunks.append(part)
        return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]} if chunks else {}
    k, t, p = obs["k"], obs["t"], obs["p"]
    at = k * lane + (t - ref)
    d = np.diff(p)  # pairs across two lanes are never inside one window
    both_positive = (p[:-1] > 0) & (p[1:] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.log(p[1:][both_positive] / p[:-1][both_positive])
    r_before = np.concatenate(([0], np.cumsum(both_positive)))  # log returns before pair i
    nonpos_before = np.concatenate(([0], np.cumsum(p <= 0)))
    parts: list[dict[str, np.ndarray]] = []
    for spec in specs:
        slide, length = spec.slide_minutes * _US_PER_MIN, spec.minutes * _US_PER_MIN
        # Windows holding t: starts base - j * slide, i.e. ends base + slide .. base + length,
        # base = t aligned down to the slide on the Unix epoch (numpy's % is Spark's pmod here).
        bases = np.unique(k * lane + (t - t % slide - ref))
        steps = slide * np.arange(1, spec.minutes // spec.slide_minutes + 1, dtype=np.int64)
        end_at = np.unique((bases[:, None] + steps[None, :]).ravel())
        wk = end_at // lane
        ends = end_at - wk * lane + ref
        due = (ends > after) & (ends <= upto)
        if not due.any():
            continue
        end_at, wk, ends = end_at[due], wk[due], ends[due]
        lo, hi = np.searchsorted(at, end_at - length, "left"), np.searchsorted(at, end_at, "left")
        values, mask, counts = _gather(p, lo, hi)
        _, vol_abs = _mean_std(d, lo, hi - 1)  # diffs p[i] - p[i-1], i in (lo, hi)
        _, vol_log = _mean_std(r, r_before[lo], r_before[hi - 1])
        parts.append(
            {
                "k": wk,
                "window_start": ends - length,
                "window_end": ends,
                "window_minutes": np.full(len(ends), spec.minutes, dtype=np.int64),
                "slide_minutes": np.full(len(ends), spec.slide_minutes, dtype=np.int64),
                "n": counts.astype(np.int64),
                "n_nonpositive": (nonpos_before[hi] - nonpos_before[lo]).astype(np.int64),
                "price_first": p[lo],
                "price_last": p[hi - 1],
                "price_min": np.where(mask, values, np.inf).min(axis=1),
                "price_max": np.where(mask, values, -np.inf).max(axis=1),
                "price_mean": values.sum(axis=1) / counts,
                "vol_log": vol_log,
                "vol_abs": vol_abs,
            }
        )
    if not parts:
        return {}
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


class _Locations:
    """The locations of one group: (iso, market, location) <-> index in OBS["k"]."""

    def __init__(self, names: list[tuple[str, str, str]]) -> None:
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}

    def observations(self, frames: Any) -> np.ndarray:
        import pandas as pd

        chunks = []
        for pdf in frames:
            if not len(pdf):
                continue
            codes, uniques = pd.MultiIndex.from_arrays([pdf[c] for c in _KEY]).factorize()
            ids = np.array([self._id(tuple(map(str, u))) for u in uniques], dtype=np.int64)
            obs = np.empty(len(pdf), dtype=OBS)
            obs["k"] = ids[codes]
            obs["t"], obs["pub"], obs["ing"] = pdf["t_us"], pdf["pub_us"], pdf["ing_us"]
            obs["p"] = pdf["lmp"]
            chunks.append(obs)
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=OBS)

    def _id(self, name: tuple[str, ...]) -> int:
        i = self.index.get(name)  # type: ignore[arg-type]
        if i is None:
            i = self.index[name] = len(self.names)  # type: ignore[index]
            self.names.append(name)  # type: ignore[arg-type]
        return i

    def records(self, obs: np.ndarray, specs: tuple[WindowSpec, ...], after: int, upto: int) -> Any:
        """Every window ending in (after, upto] of every location in obs (latest revisions,
        sorted) as one DataFrame of output rows, or None."""
        import pandas as pd

        stats = window_stats(obs, specs, after, upto)
        if not stats:
            return None
        names = np.empty((len(self.names), len(_KEY)), dtype=object)
        names[:] = self.names
        columns: dict[str, Any] = {name: names[stats["k"], i] for i, name in enumerate(_KEY)}
        columns.update({name: stats[name] for name, _ in _STATS_FIELDS})
        return pd.DataFrame(columns)


def _next_end(t: np.ndarray, specs: tuple[WindowSpec, ...], watermark: int) -> int:
    """The earliest end after the watermark of a window holding one of the times t."""
    best = _ALWAYS
    for spec in specs:
        slide, length = spec.slide_minutes * _US_PER_MIN, spec.minutes * _US_PER_MIN
        bases = t - t % slide
        open_ = bases + length > watermark  # the base's windows end at base + slide .. base + length
        if open_.any():
            first_after = watermark - watermark % slide + slide
            best = min(best, int(np.maximum(bases[open_] + slide, first_after).min()))
    return best


def _static_windows(params: VolatilityParams) -> Any:
    def run(pdf: Any) -> Any:
        import pandas as pd

        locations = _Locations([])
        obs = latest_revisions(locations.observations([pdf]))
        out = locations.records(obs, params.windows, _NEVER, _ALWAYS)
        return out if out is not None else pd.DataFrame(columns=[*_KEY, *(n for n, _ in _STATS_FIELDS)])

    return run


def _streaming_windows(params: VolatilityParams) -> Any:
    """The stateful step of a group of locations. State: the latest revision of every interval
    that a window not emitted yet may hold (sorted, as OBS bytes), the group's locations, and the
    watermark up to which windows were emitted. Called with the group's new ticks and, through
    the event-time timeout, whenever the watermark passes the end of its next window; it emits
    every window ending in (emitted_upto, watermark] - each window once, in the first batch whose
    watermark reaches its end, as Spark's append-mode window aggregation does."""
    longest = max(s.minutes for s in params.windows) * _US_PER_MIN

    def run(key: tuple[Any, ...], frames: Any, state: Any) -> Any:
        watermark = int(state.getCurrentWatermarkMs()) * 1000
        if state.exists:
            names, blob, emitted_upto = state.get
            locations = _Locations([tuple(n) for n in json.loads(names)])
            old = np.frombuffer(blob, dtype=OBS)
        else:
            locations, old, emitted_upto = _Locations([]), np.empty(0, dtype=OBS), _NEVER
        new = locations.observations(frames)
        # Every tick that got past the late filter is after any window already emitted, so
        # merging it never reopens one.
        obs = latest_revisions(np.concatenate((old, new))) if len(new) else old
        out = locations.records(obs, params.windows, emitted_upto, watermark) if len(obs) else None
        # Windows still to come end after the watermark, so they start after watermark - longest.
        obs = obs[obs["t"] > watermark - longest]
        if len(obs):
            # Renumber the locations still holding observations.
            kept, obs["k"] = np.unique(obs["k"], return_inverse=True)
            names = json.dumps([locations.names[i] for i in kept])
            state.update((names, obs.tobytes(), watermark))
            # Spark times a key out once timeout < watermark: 1 ms before the end is due at W >= end.
            state.setTimeoutTimestamp(_next_end(obs["t"], params.windows, watermark) // 1000 - 1)
        else:
            state.remove()
        if out is not None:
            yield out

    return run


def transform_volatility(ticks: Any, params: VolatilityParams | None = None) -> Any:
    """Typed ticks (contract schema, static or streaming) -> volatility records (VOLATILITY
    contract columns, in contract order). On a stream, use append output mode."""
    from pyspark.sql import functions as F

    params = params or VolatilityParams()
    prices = on_time_prices(ticks, params).select(
        *_KEY,
        # Locations are processed in groups (one Python call and one state row per group per
        # batch, not per location): the per-call overhead of the stateful operator dominates.
        F.expr(f"pmod(hash(iso, market, location), {params.location_groups})").alias(_GROUP),
        # interval_start as epoch microseconds, still marked as the event-time column: the stateful
        # step finds the watermark by that mark (and a timestamp past 2262 - the --flush tick -
        # would not fit a pandas datetime).
        F.expr("unix_micros(interval_start)").alias(
            "t_us", metadata={WATERMARK_DELAY_KEY: params.watermark_minutes * 60_000}
        ),
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
    out = windows.select(
        *_KEY,
        F.expr("timestamp_micros(window_start)").alias("window_start"),
        F.expr("timestamp_micros(window_end)").alias("window_end"),
        *(n for n, _ in _STATS_FIELDS[2:]),
        F.current_timestamp().alias("computed_at"),
    )
    assert tuple(out.columns) == VOLATILITY.names, out.columns
    return out

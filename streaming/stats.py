"""The volatility statistics kernel: numpy only (no Spark, no pandas), so it is importable and
tested on its own. streaming/volatility.py adapts it to Spark; the definitions (windows,
revisions, statistics, negative prices) are documented there.

Each location's observations are kept sorted by interval_start, one per interval (the winning
revision), so a window is an index range [lo, hi) found by binary search and its statistics are
array reductions - no per-window copy of the observations, no per-tick window explosion.

The output fields are the VOLATILITY contract's (gridtape/contract.py) minus the key and
computed_at, which the adapter adds: STATS_FIELDS is derived from the contract, and
window_stats checks that it produced exactly those. Every statistic is a finite number, or NaN
(null on the wire) where the contract allows null: nothing infinite reaches a sink, whatever
the prices (the stream drops out-of-bounds ticks first; this is the second line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from gridtape.contract import VOLATILITY

US_PER_MIN: Final = 60_000_000
NEVER: Final = int(np.iinfo(np.int64).min)
ALWAYS: Final = int(np.iinfo(np.int64).max)
# A tick without a revision number ranks below revision 0 (contract revisions are >= 0).
NO_REVISION: Final = -1
# One observation: the location (index into the caller's location list), interval_start,
# revision, published_at, ingested_at (epoch microseconds) and price.
OBS: Final = np.dtype([("k", "<i8"), ("t", "<i8"), ("rev", "<i8"), ("pub", "<i8"), ("ing", "<i8"), ("p", "<f8")])

KEY: Final = ("iso", "market", "location")
# (name, contract kind) of every field the kernel computes; timestamps as epoch microseconds.
STATS_FIELDS: Final = tuple((f.name, f.kind) for f in VOLATILITY.fields if f.name not in (*KEY, "computed_at"))
STATS_NAMES: Final = tuple(name for name, _ in STATS_FIELDS)
NULLABLE: Final = frozenset(f.name for f in VOLATILITY.fields if f.nullable)


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


def latest_revisions(obs: np.ndarray) -> np.ndarray:
    """Observations in any order, revisions included -> one per (location, interval_start): the
    highest revision (none lowest), then the latest published_at, then ingested_at, then the
    larger price; sorted by location, then interval_start. Non-finite prices are not
    observations."""
    obs = obs[np.isfinite(obs["p"])]
    if len(obs) == 0:
        return obs
    s = obs[np.lexsort((obs["p"], obs["ing"], obs["pub"], obs["rev"], obs["t"], obs["k"]))]
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


def _scale(values: np.ndarray) -> np.ndarray:
    """Per row, a power of two at least half its largest magnitude: dividing by it is exact
    and keeps sums and squares far from overflow (2**1024 itself would not fit a double)."""
    top = np.abs(values).max(axis=1, initial=0.0)
    _, exponent = np.frexp(np.where(np.isfinite(top), top, 0.0))
    return np.ldexp(1.0, exponent - 1)


def _mean_std(values: np.ndarray, mask: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per window (a row of _gather's matrix): mean (nan when empty) and two-pass sample stdev
    (nan under 2 values), both computed on scaled values so that no intermediate overflows."""
    scale = _scale(values)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        scaled = values / scale[:, None]
        mean = scaled.sum(axis=1) / counts
        dev = np.where(mask, scaled - mean[:, None], 0.0)
        std = np.sqrt((dev * dev).sum(axis=1) / (counts - 1)) * scale
        mean = mean * scale
    return mean, np.where(counts >= 2, std, np.nan)


def _log_returns(p: np.ndarray, both_positive: np.ndarray) -> np.ndarray:
    """ln(p_i / p_{i-1}) of the pairs with both prices > 0; through ln p_i - ln p_{i-1} where the
    ratio itself overflows or underflows."""
    a, b = p[:-1][both_positive], p[1:][both_positive]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        r = np.log(b / a)
        bad = ~np.isfinite(r)
        r[bad] = np.log(b[bad]) - np.log(a[bad])
    return r


def window_stats(obs: np.ndarray, specs: tuple[WindowSpec, ...], after: int, upto: int) -> dict[str, np.ndarray]:
    """Statistics of every window (of every spec, of every location) that holds at least one
    observation and ends in (after, upto], epoch microseconds, with the location in "k".
    obs: latest revisions sorted by location, then interval_start (see latest_revisions)."""
    if not len(obs):
        return {}
    # All locations at once: location k's times are laid out in a lane of their own,
    # k * lane + (t - ref), so one sorted array and one binary search serve every location; a
    # lane is wider than its times plus a window, so no window reaches into the next lane.
    margin = max(s.minutes for s in specs) * US_PER_MIN + max(s.slide_minutes for s in specs) * US_PER_MIN
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
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.diff(p)  # pairs across two lanes are never inside one window
    both_positive = (p[:-1] > 0) & (p[1:] > 0)
    r = _log_returns(p, both_positive)
    r_before = np.concatenate(([0], np.cumsum(both_positive)))  # log returns before pair i
    nonpos_before = np.concatenate(([0], np.cumsum(p <= 0)))
    parts: list[dict[str, np.ndarray]] = []
    for spec in specs:
        slide, length = spec.slide_minutes * US_PER_MIN, spec.minutes * US_PER_MIN
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
        mean, _ = _mean_std(values, mask, counts)
        _, vol_abs = _mean_std(*_gather(d, lo, hi - 1))  # diffs p[i] - p[i-1], i in (lo, hi)
        _, vol_log = _mean_std(*_gather(r, r_before[lo], r_before[hi - 1]))
        stats = {
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
            "price_mean": mean,
            "vol_log": vol_log,
            "vol_abs": vol_abs,
        }
        if tuple(stats) != STATS_NAMES:  # the contract changed: this function must follow it
            raise AssertionError(f"kernel computes {tuple(stats)}, the VOLATILITY contract has {STATS_NAMES}")
        for name in NULLABLE.intersection(stats):  # infinite (overflowed) -> null, never a sink's problem
            stats[name] = np.where(np.isfinite(stats[name]), stats[name], np.nan)
        parts.append({"k": wk, **stats})
    if not parts:
        return {}
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def next_window_end(t: np.ndarray, specs: tuple[WindowSpec, ...], watermark: int) -> int:
    """The earliest end after the watermark of a window holding one of the times t."""
    best = ALWAYS
    for spec in specs:
        slide, length = spec.slide_minutes * US_PER_MIN, spec.minutes * US_PER_MIN
        bases = t - t % slide
        open_ = bases + length > watermark  # the base's windows end at base + slide .. base + length
        if open_.any():
            first_after = watermark - watermark % slide + slide
            best = min(best, int(np.maximum(bases[open_] + slide, first_after).min()))
    return best

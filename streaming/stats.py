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

_CLOCKS: Final = ("rev", "pub", "ing")
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
    # Sorting on two keys is cheap; only the few intervals seen more than once are ranked on
    # all of them (both sorts are stable, so full ties still go to the last in input order).
    s = obs[np.lexsort((obs["t"], obs["k"]))]
    same = (s["t"][1:] == s["t"][:-1]) & (s["k"][1:] == s["k"][:-1])
    if not same.any():
        return s
    repeated = np.zeros(len(s), dtype=bool)
    repeated[:-1] |= same
    repeated[1:] |= same
    keep = ~repeated
    at = np.flatnonzero(repeated)
    r = s[at]
    order = np.lexsort((r["p"], r["ing"], r["pub"], r["rev"], r["t"], r["k"]))
    ranked = r[order]
    last = np.ones(len(ranked), dtype=bool)
    last[:-1] = (ranked["t"][1:] != ranked["t"][:-1]) | (ranked["k"][1:] != ranked["k"][:-1])
    keep[at[order[last]]] = True
    return s[keep]


def pack(obs: np.ndarray, final_before: int) -> bytes:
    """Observations (sorted) -> state bytes: location, time and price of every one, revision and
    clocks only of those still open to a revision (interval_start >= final_before: any later tick
    for an earlier interval is late and dropped); 2.4x fewer bytes to carry across each batch."""
    is_open = np.flatnonzero(obs["t"] >= final_before)
    parts = (obs["k"].astype("<i4"), obs["t"], obs["p"], is_open.astype("<i4"))
    return b"".join(np.ascontiguousarray(a).tobytes() for a in (*parts, *(obs[c][is_open] for c in _CLOCKS)))


def unpack(blob: bytes, n: int, n_open: int) -> np.ndarray:
    """pack's bytes -> the observations; the closed ones rank as NO_REVISION, never compared again."""
    obs = np.zeros(n, dtype=OBS)
    obs["rev"] = NO_REVISION
    offset = 0
    for name, dtype, count in (("k", "<i4", n), ("t", "<i8", n), ("p", "<f8", n), ("", "<i4", n_open)):
        column = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
        offset += column.nbytes
        if name:
            obs[name] = column
    is_open = column
    for name in _CLOCKS:
        obs[name][is_open] = np.frombuffer(blob, dtype="<i8", count=n_open, offset=offset)
        offset += 8 * n_open
    return obs


def merge_revisions(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """latest_revisions(old + new) where old is latest_revisions' output already: only the new
    observations are sorted, and only the intervals they touch are decided again."""
    new = latest_revisions(new)
    if not len(old) or not len(new):
        return new if len(new) else old
    t0 = min(int(old["t"].min()), int(new["t"].min()))
    span = max(int(old["t"].max()), int(new["t"].max())) - t0 + 1
    if (max(int(old["k"].max()), int(new["k"].max())) + 1) * span >= 1 << 62:  # the keys would overflow
        return latest_revisions(np.concatenate((old, new)))
    # (location, interval_start) as one sortable int64, old's already in order.
    key_old, key_new = old["k"] * span + (old["t"] - t0), new["k"] * span + (new["t"] - t0)
    at = np.searchsorted(key_old, key_new)
    hit = at < len(old)
    hit[hit] = key_old[at[hit]] == key_new[hit]
    # A new observation of an interval already held replaces it where it ranks at least as high
    # (a full tie goes to the later one, as in latest_revisions); the others are inserted.
    out = old.copy()
    was, now = old[at[hit]], new[hit]
    wins, decided = np.zeros(len(now), dtype=bool), np.zeros(len(now), dtype=bool)
    for name in (*_CLOCKS, "p"):
        higher, lower = now[name] > was[name], now[name] < was[name]
        wins |= ~decided & higher
        decided |= higher | lower
    wins |= ~decided
    out[at[hit][wins]] = now[wins]
    return np.insert(out, at[~hit], new[~hit])


def _gather(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x[lo_i:hi_i] of every window as the rows of a padded matrix: (values, mask, counts)."""
    counts = hi - lo
    width = int(counts.max(initial=0))
    idx = lo[:, None] + np.arange(width)[None, :]
    mask = idx < hi[:, None]
    values = np.take(x, idx, mode="clip") if len(x) else np.zeros(idx.shape)
    return np.where(mask, values, 0.0), mask, counts


def _diffs(values: np.ndarray, mask: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_gather(np.diff(x), lo, hi - 1) from _gather(x, lo, hi), without gathering again."""
    with np.errstate(over="ignore", invalid="ignore"):
        d = values[:, 1:] - values[:, :-1]
    return np.where(mask[:, 1:], d, 0.0), mask[:, 1:], counts - 1


def _segments(reduce: np.ufunc, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """reduce over x[lo_i:hi_i] of every window (none empty), without a padded matrix."""
    bounds = np.empty(2 * len(lo), dtype=np.intp)
    bounds[0::2], bounds[1::2] = lo, hi
    return reduce.reduceat(np.append(x, 0.0), bounds)[0::2]  # odd segments lie between windows


# Where every nonzero magnitude lies within 2**-400..2**400, no sum or square of a window
# overflows or underflows: the per-window scaling by a power of two (see _scale) is exact and
# would change nothing there, so it is skipped (everyday prices, diffs and log returns).
_PLAIN_MIN, _PLAIN_MAX = 2.0**-400, 2.0**400


def _plain(x: np.ndarray) -> bool:
    m = np.abs(x)
    return bool(
        np.isfinite(m).all() and m.max(initial=0.0) <= _PLAIN_MAX and m.min(initial=np.inf, where=m > 0) >= _PLAIN_MIN
    )


def _scale(values: np.ndarray) -> np.ndarray:
    """Per row, a power of two at least half its largest magnitude: dividing by it is exact
    and keeps sums and squares far from overflow (2**1024 itself would not fit a double)."""
    top = np.abs(values).max(axis=1, initial=0.0)
    _, exponent = np.frexp(np.where(np.isfinite(top), top, 0.0))
    return np.ldexp(1.0, exponent - 1)


def _mean(values: np.ndarray, counts: np.ndarray, plain: bool) -> np.ndarray:
    """Per window (a row of _gather's matrix): the mean (nan when empty), computed on scaled
    values unless plain, so that no intermediate overflows."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if plain:
            return values.sum(axis=1) / counts
        scale = _scale(values)
        return (values / scale[:, None]).sum(axis=1) / counts * scale


def _std(values: np.ndarray, mask: np.ndarray, counts: np.ndarray, plain: bool) -> np.ndarray:
    """Per window: the two-pass sample stdev (nan under 2 values), scaled as in _mean."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if plain:
            scale, scaled = np.ones(len(values)), values
        else:
            scale = _scale(values)
            scaled = values / scale[:, None]
        mean = scaled.sum(axis=1) / counts
        dev = np.where(mask, scaled - mean[:, None], 0.0)
        std = np.sqrt((dev * dev).sum(axis=1) / (counts - 1)) * scale
    return np.where(counts >= 2, std, np.nan)


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
    plain_p, plain_d, plain_r = _plain(p), _plain(d), _plain(r)
    nonpos_before = np.concatenate(([0], np.cumsum(p <= 0)))
    # Each location's first and last observation (obs is sorted by location, then time).
    first = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    last = np.concatenate((first[1:] - 1, [len(k) - 1]))
    parts: list[dict[str, np.ndarray]] = []
    for spec in specs:
        slide, length = spec.slide_minutes * US_PER_MIN, spec.minutes * US_PER_MIN
        # Only the windows ending in (after, upto] are enumerated, per location: the slide-aligned
        # ends from its first observation's window to its last one's (a window [e - length, e)
        # holds t iff e is in (t, t + length]; numpy's % is Spark's pmod here), those without an
        # observation (a gap in the location's data) dropped below.
        tmin, tmax = t[first], t[last]
        lo_end = np.maximum(tmin - tmin % slide + slide, _aligned_above(max(after, ref), slide))
        hi_end = np.minimum(tmax - tmax % slide + length, _aligned_at_or_below(min(upto, ref + lane), slide))
        count = np.where(hi_end >= lo_end, (hi_end - lo_end) // slide + 1, 0)
        if not count.any():
            continue
        offset = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        wk = np.repeat(k[first], count)
        ends = np.repeat(lo_end, count) + slide * offset
        end_at = wk * lane + (ends - ref)
        lo, hi = np.searchsorted(at, end_at - length, "left"), np.searchsorted(at, end_at, "left")
        held = hi > lo
        if not held.any():
            continue
        lo, hi, wk, ends = lo[held], hi[held], wk[held], ends[held]
        values, mask, counts = _gather(p, lo, hi)
        mean = _mean(values, counts, plain_p)
        vol_abs = _std(*_diffs(values, mask, counts), plain_d)  # diffs p[i] - p[i-1], i in (lo, hi)
        vol_log = _std(*_gather(r, r_before[lo], r_before[hi - 1]), plain_r)
        stats = {
            "window_start": ends - length,
            "window_end": ends,
            "window_minutes": np.full(len(ends), spec.minutes, dtype=np.int64),
            "slide_minutes": np.full(len(ends), spec.slide_minutes, dtype=np.int64),
            "n": counts.astype(np.int64),
            "n_nonpositive": (nonpos_before[hi] - nonpos_before[lo]).astype(np.int64),
            "price_first": p[lo],
            "price_last": p[hi - 1],
            "price_min": _segments(np.minimum, p, lo, hi),
            "price_max": _segments(np.maximum, p, lo, hi),
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


def _aligned_above(x: int, slide: int) -> int:
    """The first multiple of slide after x (Python ints: no overflow at NEVER)."""
    return x - x % slide + slide


def _aligned_at_or_below(x: int, slide: int) -> int:
    return x - x % slide


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

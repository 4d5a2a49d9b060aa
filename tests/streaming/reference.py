"""An independent reference for the volatility job: plain Python + numpy over the wire ticks,
sharing no code with streaming/ (only the documented definitions).

It models micro-batches explicitly: `batches` is the input as the job receives it, one list
per micro-batch, and the late rule is the documented one - a tick of batch N is late when its
interval_start < max(interval_start over batches 0..N-2) - delay.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REALTIME = ("RT5", "RT15", "RTH")
FLOAT_FIELDS = ("price_first", "price_last", "price_min", "price_max", "price_mean", "vol_log", "vol_abs")


def ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def wire_ts(d: datetime) -> str:
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _std(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    return float(np.std(np.array(values, dtype=np.float64), ddof=1))


def _prices(tick: dict[str, Any], markets: tuple[str, ...]) -> bool:
    return tick["dataset"] == "lmp" and tick.get("lmp") is not None and tick["market"] in markets


def accepted_ticks(
    batches: list[list[dict[str, Any]]], delay_min: int, markets: tuple[str, ...] = REALTIME
) -> tuple[list[dict[str, Any]], int, datetime | None]:
    """(on-time price ticks, number of late ticks dropped, final watermark)."""
    delay = timedelta(minutes=delay_min)
    maxima: list[datetime | None] = []
    accepted: list[dict[str, Any]] = []
    late = 0
    seen: set[tuple[Any, ...]] = set()
    for n, batch in enumerate(batches):
        prices = [t for t in batch if _prices(t, markets)]
        older = [m for m in maxima[: max(n - 1, 0)] if m is not None]
        cutoff = max(older) - delay if older else None
        for t in prices:
            if cutoff is not None and ts(t["interval_start"]) < cutoff:
                # An exact replay of an already accepted record would be dropped by the
                # deduplication either way; count it as late the way Spark does (it filters
                # late rows before looking at its dedup state).
                late += 1
                continue
            key = tuple(t[k] for k in ("iso", "market", "location", "interval_start", "published_at", "ingested_at"))
            if (*key, t["lmp"]) in seen:
                continue
            seen.add((*key, t["lmp"]))
            accepted.append(t)
        maxima.append(max((ts(t["interval_start"]) for t in prices), default=None))
    all_max = [m for m in maxima if m is not None]
    final_wm = max(all_max) - delay if all_max else None
    return accepted, late, final_wm


def _rank(t: dict[str, Any]) -> tuple[Any, ...]:
    """Which version of an interval wins: the highest revision (none lowest), then the latest
    published_at, then ingested_at, then the larger price."""
    rev = t.get("revision")
    return (-1 if rev is None else rev, ts(t["published_at"]), ts(t["ingested_at"]), t["lmp"])


def windows_of(t: datetime, minutes: int, slide: int) -> list[tuple[datetime, datetime]]:
    micros = (t - EPOCH) // timedelta(microseconds=1)
    slide_us = slide * 60_000_000
    base = micros - micros % slide_us
    out = []
    for j in range(minutes // slide):
        start = EPOCH + timedelta(microseconds=base - j * slide_us)
        out.append((start, start + timedelta(minutes=minutes)))
    return out


def volatility(
    batches: list[list[dict[str, Any]]],
    windows: tuple[tuple[int, int], ...],
    delay_min: int = 15,
    *,
    emit_all: bool = False,
    markets: tuple[str, ...] = REALTIME,
) -> tuple[list[dict[str, Any]], int]:
    """(expected volatility records without computed_at, expected late count). Windows are
    emitted when the final watermark reaches their end, or all of them with emit_all."""
    accepted, late, final_wm = accepted_ticks(batches, delay_min, markets)
    members: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for t in accepted:
        start_t = ts(t["interval_start"])
        for minutes, slide in windows:
            for ws, we in windows_of(start_t, minutes, slide):
                assert ws <= start_t < we
                members[(t["iso"], t["market"], t["location"], ws, we, minutes, slide)].append(t)
    out = []
    for (iso, market, location, ws, we, minutes, slide), ticks in members.items():
        if not emit_all and (final_wm is None or we > final_wm):
            continue
        latest: dict[datetime, dict[str, Any]] = {}
        for t in ticks:
            k = ts(t["interval_start"])
            cur = latest.get(k)
            if cur is None or _rank(t) > _rank(cur):
                latest[k] = t
        p = [latest[k]["lmp"] for k in sorted(latest)]
        diffs = [b - a for a, b in itertools.pairwise(p)]
        logs = [math.log(b / a) for a, b in itertools.pairwise(p) if a > 0 and b > 0]
        out.append(
            {
                "iso": iso,
                "market": market,
                "location": location,
                "window_start": wire_ts(ws),
                "window_end": wire_ts(we),
                "window_minutes": minutes,
                "slide_minutes": slide,
                "n": len(p),
                "n_nonpositive": sum(1 for x in p if x <= 0),
                "price_first": p[0],
                "price_last": p[-1],
                "price_min": min(p),
                "price_max": max(p),
                "price_mean": float(np.mean(p)),
                "vol_log": _std(logs),
                "vol_abs": _std(diffs),
            }
        )
    return out, late


def key(rec: dict[str, Any]) -> tuple[Any, ...]:
    return (rec["iso"], rec["market"], rec["location"], rec["window_start"], rec["window_end"])


def assert_matches(actual: list[dict[str, Any]], expected: list[dict[str, Any]], tol: float = 1e-9) -> None:
    """Same windows, same counts, floats within tol (absolute, or relative for big values)."""
    got = {key(r): r for r in actual}
    assert len(got) == len(actual), "duplicate volatility records"
    want = {key(r): r for r in expected}
    assert set(got) == set(want), (
        f"missing {sorted(set(want) - set(got))[:3]}, unexpected {sorted(set(got) - set(want))[:3]}"
    )
    for k, exp in want.items():
        act = got[k]
        for name, value in exp.items():
            if name in FLOAT_FIELDS:
                if value is None:
                    assert act[name] is None, (k, name, act[name])
                else:
                    assert act[name] is not None and math.isclose(act[name], value, rel_tol=tol, abs_tol=tol), (
                        k,
                        name,
                        act[name],
                        value,
                    )
            else:
                assert act[name] == value, (k, name, act[name], value)

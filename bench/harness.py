"""Shared benchmark plumbing. Every benchmark measures gridtape and a peer in the same process
run, interleaved, so machine noise hits both sides alike; the ratio is what to read."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    value: float
    unit: str
    peer: str | None = None
    peer_value: float | None = None
    ratio: float | None = None  # value / peer_value (for rates, > 1 means gridtape is faster)
    notes: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def best_seconds(fn: Callable[[], Any], repeat: int = 5) -> float:
    """Median wall time of `repeat` runs (median: robust to one noisy run on a shared host)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def side_by_side(ours: Callable[[], Any], peer: Callable[[], Any], repeat: int = 5) -> tuple[float, float]:
    """Median seconds for ours and peer, runs interleaved (ours, peer, ours, peer, ...)."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeat):
        for fn, sink in ((ours, a), (peer, b)):
            t0 = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - t0)
    return statistics.median(a), statistics.median(b)


def rate(
    name: str,
    unit: str,
    work: float,
    seconds: float,
    peer: str | None = None,
    peer_seconds: float | None = None,
    notes: str = "",
) -> Result:
    """A throughput result (work / s) with the peer's throughput and ours/peer."""
    value = work / seconds
    peer_value = work / peer_seconds if peer_seconds else None
    return Result(
        name,
        round(value, 1),
        unit,
        peer,
        round(peer_value, 1) if peer_value else None,
        round(value / peer_value, 3) if peer_value else None,
        notes,
    )

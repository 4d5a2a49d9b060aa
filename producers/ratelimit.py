"""The fetch layer's pacing: an ISO's rate limit, and the poll's time budget it must not wait past."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gridtape.errors import TransientError

BUDGET_EXHAUSTED = "time budget exhausted"
Sleep = Callable[[float], None]


class BudgetExhausted(TransientError):
    """Waiting would pass the deadline set with FetchLayer.set_deadline."""


class RateLimiter:
    """At most `rate` requests per second, spaced evenly (ISOs throttle bursts, not averages)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self, deadline: float | None = None) -> float:
        """Wait for the next slot; returns the seconds waited. A slot that would only come
        after `deadline` (monotonic seconds) is not taken: BudgetExhausted."""
        with self._lock:
            now = self._clock()
            wait = max(0.0, self._next - now)
            if deadline is not None and now + wait > deadline:
                raise BudgetExhausted(f"{BUDGET_EXHAUSTED}: the rate limit's next slot is {wait:.1f} s away")
            self._next = max(now, self._next) + self.interval
        if wait:
            self._sleep(wait)
        return wait

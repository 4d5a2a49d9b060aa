"""Live polling of several ISOs, keeping one FetchLayer (HTTP session, rate limiter,
conditional-request validators) and one rhythm schedule per ISO across polls, as a warm Lambda
container does: each feed on its rhythm (run_rhythm; the Lambda's poll_window), or every ISO
at a fixed interval (run: `gridtape poll --interval`, and the benchmark's peer)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

from gridtape import isos as iso_table
from producers import registry
from producers.base import IsoSource
from producers.http import FetchLayer, live
from producers.poller import schedule
from producers.poller.once import PollSummary, Sinks, poll, unpolled

log = logging.getLogger("producers.poller")

# Fetch + publish of one ISO's datasets must end well inside the Lambda timeout (55 s), so the
# outcome is always recorded rather than cut off mid-write.
POLL_BUDGET_S: Final = 45.0


# The Lambda's minute: start no poll after this (LAMBDA_TIMEOUT_S is 55 s; the next scheduled
# invocation, a minute after this one, carries on).
LAMBDA_WINDOW_S: Final = 50.0

# (iso, include_nodes) -> the ISO's source and its fetch layer (tests and the bench inject their own)
Factory = Callable[[str, bool | None], tuple[IsoSource, FetchLayer]]


def _live_factory(iso: str, include_nodes: bool | None) -> tuple[IsoSource, FetchLayer]:
    source = registry.create(iso, include_nodes=include_nodes)
    return source, live(iso, source.requests_per_second, secrets=tuple(source.credentials.values()))


class LivePoller:
    def __init__(
        self,
        isos: Sequence[str],
        sinks: Sinks,
        include_nodes: bool | None = None,
        budget_s: float = POLL_BUDGET_S,
        *,
        factory: Factory = _live_factory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        wait: Callable[[threading.Event, float], bool] = lambda stop, s: stop.wait(s),
    ) -> None:
        self.isos = list(isos)
        self.sinks = sinks
        self.include_nodes = include_nodes
        self.budget_s = budget_s
        self.factory = factory
        self.clock = clock  # the scheduler's notion of now (the bench runs a faster one)
        self.wait = wait
        self._sources: dict[str, IsoSource] = {}
        self._http: dict[str, FetchLayer] = {}
        self._last: dict[str, datetime] = {}
        self._told: set[str] = set()
        self._schedules: dict[str, schedule.IsoSchedule] = {}  # kept warm, like the fetch layers

    def poll_iso(self, iso: str, now: datetime | None = None) -> list[PollSummary]:
        now = now or self.clock()
        deadline = time.monotonic() + self.budget_s
        return [self.poll_feed(iso, d, now, deadline) for d in self._datasets(iso)]

    def poll_feed(self, iso: str, dataset: str, now: datetime, deadline: float) -> PollSummary:
        try:
            source = self._source(iso)
        except registry.MissingCredentials as exc:
            if iso not in self._told:  # one clear line, not one a minute (the metric counts each)
                log.warning("%s", exc)
                self._told.add(iso)
            return unpolled(self.sinks, iso, dataset, now, "skipped", str(exc))
        except registry.RegistryError as exc:
            log.error("%s", exc)
            return unpolled(self.sinks, iso, dataset, now, "failed", str(exc))
        http = self._http[iso]
        http.set_deadline(deadline)
        return poll(source, dataset, http, self.sinks, now, deadline=deadline)

    def schedule_of(self, iso: str) -> schedule.IsoSchedule:
        if iso not in self._schedules:
            self._schedules[iso] = schedule.IsoSchedule(iso, self._datasets(iso))
        return self._schedules[iso]

    def poll_window(self, iso: str, window_s: float = LAMBDA_WINDOW_S) -> list[PollSummary]:
        """The Lambda's minute: every feed due now, then whatever falls due (fast windows)
        until window_s from now."""
        stop = threading.Event()  # never set: the window's end stops it
        return schedule.run_window(
            self.schedule_of(iso),
            lambda name, now, deadline: self.poll_feed(iso, name, now, deadline),
            clock=self.clock,
            wait=lambda s: self.wait(stop, s),
            end=time.monotonic() + window_s,
            budget_s=self.budget_s,
        )

    def run_rhythm(self, stop: threading.Event, on_poll: Callable[[PollSummary], None] | None = None) -> None:
        """Each feed on its rhythm (one thread per ISO) until stop is set."""
        schedule.run_threads(
            [self.schedule_of(iso) for iso in self.isos],
            lambda iso: lambda name, now, deadline: self.poll_feed(iso, name, now, deadline),
            stop,
            clock=self.clock,
            wait=self.wait,
            budget_s=self.budget_s,
            on_poll=on_poll,
        )

    def poll_once(self, now: datetime | None = None, only_due: bool = False) -> list[PollSummary]:
        out: list[PollSummary] = []
        for iso in self.isos:
            t = now or self.clock()
            if only_due and not self._due(iso, t):
                continue
            self._last[iso] = t
            out.extend(self.poll_iso(iso, t))
        return out

    def run(
        self,
        interval_s: float,
        stop: threading.Event,
        max_cycles: int | None = None,
        on_cycle: Callable[[list[PollSummary]], None] | None = None,
    ) -> int:
        """Poll every interval (each ISO no more often than its min_poll_interval_s) until stop
        is set or max_cycles ran; returns the number of cycles."""
        cycles = 0
        while not stop.is_set() and (max_cycles is None or cycles < max_cycles):
            started = self.clock()
            summaries = self.poll_once(started, only_due=True)
            if on_cycle:
                on_cycle(summaries)
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                break
            spent = (self.clock() - started).total_seconds()
            self.wait(stop, max(0.0, interval_s - spent))
        return cycles

    def _due(self, iso: str, now: datetime) -> bool:
        last = self._last.get(iso)
        source = self._sources.get(iso)
        min_gap = source.min_poll_interval_s if source else 0.0
        return last is None or (now - last).total_seconds() >= min_gap - 1.0

    def _datasets(self, iso: str) -> tuple[str, ...]:
        """The feeds the ISO's module polls (the table's, unless the module says otherwise)."""
        try:
            return tuple(self._source(iso).datasets)
        except (registry.RegistryError, registry.MissingCredentials):  # poll_feed reports it, feed by feed
            return iso_table.get(iso).datasets

    def _source(self, iso: str) -> IsoSource:
        if iso not in self._sources:
            self._sources[iso], self._http[iso] = self.factory(iso, self.include_nodes)
        return self._sources[iso]

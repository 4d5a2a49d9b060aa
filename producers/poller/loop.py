"""Live polling of several ISOs on a schedule, keeping one FetchLayer (HTTP session, rate
limiter, conditional-request validators) per ISO across polls, as a warm Lambda container does."""

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
from producers.poller.once import PollSummary, Sinks, poll, unpolled

log = logging.getLogger("producers.poller")

# Fetch + publish of one ISO's datasets must end well inside the Lambda timeout (55 s), so the
# outcome is always recorded rather than cut off mid-write.
POLL_BUDGET_S: Final = 45.0


class LivePoller:
    def __init__(
        self,
        isos: Sequence[str],
        sinks: Sinks,
        include_nodes: bool | None = None,
        budget_s: float = POLL_BUDGET_S,
    ) -> None:
        self.isos = list(isos)
        self.sinks = sinks
        self.include_nodes = include_nodes
        self.budget_s = budget_s
        self._sources: dict[str, IsoSource] = {}
        self._http: dict[str, FetchLayer] = {}
        self._last: dict[str, datetime] = {}
        self._told: set[str] = set()

    def poll_iso(self, iso: str, now: datetime | None = None) -> list[PollSummary]:
        now = now or datetime.now(UTC)
        deadline = time.monotonic() + self.budget_s
        try:
            source = self._source(iso)
        except registry.MissingCredentials as exc:
            if iso not in self._told:  # one clear line, not one a minute (the metric counts each)
                log.warning("%s", exc)
                self._told.add(iso)
            return [unpolled(self.sinks, iso, d, now, "skipped", str(exc)) for d in iso_table.get(iso).datasets]
        except registry.RegistryError as exc:
            log.error("%s", exc)
            return [unpolled(self.sinks, iso, d, now, "failed", str(exc)) for d in iso_table.get(iso).datasets]
        http = self._http[iso]
        http.set_deadline(deadline)
        return [poll(source, dataset, http, self.sinks, now, deadline=deadline) for dataset in source.datasets]

    def poll_once(self, now: datetime | None = None, only_due: bool = False) -> list[PollSummary]:
        out: list[PollSummary] = []
        for iso in self.isos:
            t = now or datetime.now(UTC)
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
            started = datetime.now(UTC)
            summaries = self.poll_once(started, only_due=True)
            if on_cycle:
                on_cycle(summaries)
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                break
            spent = (datetime.now(UTC) - started).total_seconds()
            stop.wait(max(0.0, interval_s - spent))
        return cycles

    def _due(self, iso: str, now: datetime) -> bool:
        last = self._last.get(iso)
        source = self._sources.get(iso)
        min_gap = source.min_poll_interval_s if source else 0.0
        return last is None or (now - last).total_seconds() >= min_gap - 1.0

    def _source(self, iso: str) -> IsoSource:
        if iso not in self._sources:
            source = registry.create(iso, include_nodes=self.include_nodes)
            self._sources[iso] = source
            self._http[iso] = live(iso, source.requests_per_second, secrets=tuple(source.credentials.values()))
        return self._sources[iso]

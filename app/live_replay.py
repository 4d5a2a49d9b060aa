"""Recorded hub prices replayed as if the market were open now, for the demo's live dashboard.

The demo's recordings are of past days; a dashboard of "live" prices needs ticks stamped now.
`LiveReplay` takes each tracked hub's recorded price series from the warehouse and publishes it
on the ticks stream with interval times moved to the present: first the hour before now (so
the page has a recent past), then one 5-minute interval at a time at the real clock, and
between interval boundaries a revision of the current interval with the series' next price
(revision + 1, so it wins), so the page moves every few seconds. One ISO (`broken`) stops after
the first interval, the way a feed that went quiet looks: stale on the page, alerted on.

Ticks go through the contract (validate) and the one Kinesis writer; the poller's publish-once
state is not involved, since these are not ISO responses.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gridtape import config, contract, isos, kinesis

STEP = timedelta(minutes=5)
SOURCE = "gridtape-demo-replay"


@dataclass
class Series:
    iso: str
    location: str
    market: str
    prices: Iterator[tuple[float, contract.Components]]  # lmp and its components


def _floor5(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0) - timedelta(minutes=when.minute % 5)


def series_from_warehouse(rows: list[dict[str, Any]]) -> list[Series]:
    """Rows of (iso, market, location, interval_start, lmp, energy, congestion, loss) -> one endless
    price cycle per tracked hub (the ISO table's hubs) in interval order."""
    by_key: dict[tuple[str, str, str], list[tuple[datetime, tuple[float, contract.Components]]]] = {}
    for r in rows:
        if r["location"] not in isos.get(r["iso"]).hubs:
            continue
        prices = (float(r["lmp"]), contract.Components(energy=r["energy"], congestion=r["congestion"], loss=r["loss"]))
        by_key.setdefault((r["iso"], r["market"], r["location"]), []).append((r["interval_start"], prices))
    return [
        Series(iso, location, market, itertools.cycle([p for _, p in sorted(points, key=lambda x: x[0])]))
        for (iso, market, location), points in sorted(by_key.items())
        if market == "RT5"
    ]


def replay_ticks(series: list[Series], start: datetime, revision: int, now: datetime) -> list[dict[str, Any]]:
    """One tick per series for the interval starting at `start`."""
    out = []
    for s in series:
        lmp, components = next(s.prices)
        tick = contract.interval_tick(
            s.iso,
            s.market,  # RT5: the interval is one STEP long
            "lmp",
            s.location,
            start,
            lmp,
            location_type="zone" if s.iso == "NYISO" else "hub",
            published_at=now,
            source=SOURCE,
            revision=revision,
            **components,
        )
        out.append(contract.validate(tick))
    return out


@dataclass
class LiveReplay:
    names: config.Names
    series: list[Series]
    broken: str = "MISO"  # the ISO whose feed "goes quiet" after the first interval
    step_s: float = 3.0
    history: int = 12  # intervals before now published at start
    published: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _publish(self, ticks: list[dict[str, Any]]) -> None:
        records = [kinesis.Entry(contract.dumps(t).encode(), f"{t['iso']}:{t['location']}") for t in ticks]
        kinesis.Writer(self.names.ticks_stream).put(records)
        self.published += len(records)

    def _run(self) -> None:
        now = datetime.now(UTC)
        current = _floor5(now) - STEP  # the newest interval that has ended
        for k in range(self.history, 0, -1):
            live = [s for s in self.series if s.iso != self.broken or k == self.history]
            self._publish(replay_ticks(live, current - k * STEP, 0, now))
        revision = 0
        while not self._stop.wait(self.step_s):
            now = datetime.now(UTC)
            newest = _floor5(now) - STEP
            revision = revision + 1 if newest == current else 0
            current = newest
            self._publish(replay_ticks([s for s in self.series if s.iso != self.broken], current, revision, now))

    def start(self) -> LiveReplay:
        self._thread = threading.Thread(target=self._run, name="live-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

"""The live state behind the dashboard: hub prices, system load, spreads between neighbouring
hubs, volatility and per-ISO feed health, kept from the records the processor hands over, with
alert rules evaluated on it and every change published to the hub as one event per batch.

Only what a trader's page shows is kept: prices at the ISO table's hubs, each ISO's system
load, volatility at hubs; other locations update health only. Each series keeps the last
`keep` intervals. Records arrive at least once (the KCL replays a batch that was processed but
not checkpointed), so every update is idempotent: per natural key the highest (revision,
published_at, ingested_at) wins and an equal or older version changes nothing.

Single-threaded: call it on the hub's asyncio loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from feed.alerts import Alert, AlertEngine, View
from feed.hub import Hub
from gridtape import isos
from gridtape.contract import format_ts, parse_ts

SPREAD_MARKET: Final = "RT5"  # every ISO publishes 5-minute prices; spreads pair like with like


def headline_hubs() -> dict[str, str]:
    """One hub per ISO for the cross-ISO charts: the ISO's first hub on a seam, else its first hub."""
    out: dict[str, str] = {}
    for iso_a, hub_a, iso_b, hub_b in isos.neighbour_pairs():
        out.setdefault(iso_a, hub_a)
        out.setdefault(iso_b, hub_b)
    return {iso.code: out.get(iso.code, iso.hubs[0]) for iso in isos.TABLE}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _order(ts: str) -> str:
    """A wire time that sorts as text: milliseconds are written only when non-zero, and
    "...:00Z" must not sort after "...:00.5Z"."""
    return ts if "." in ts else ts[:-1] + ".000Z"


def _version(rec: dict[str, Any]) -> tuple[int, str, str]:
    rev = rec.get("revision")
    return (-1 if rev is None else rev, _order(rec["published_at"]), _order(rec["ingested_at"]))


class Series:
    """interval -> (value, version), trimmed to the newest `keep` intervals."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.points: dict[str, tuple[float | None, Any]] = {}

    def put(self, t: str, value: float | None, version: Any) -> bool:
        old = self.points.get(t)
        if old is not None and old[1] >= version:
            return False
        if old is None and len(self.points) >= self.keep and t < min(self.points):
            return False  # older than everything kept
        self.set(t, value, version)
        return True

    def set(self, t: str, value: float | None, version: Any = None) -> None:
        self.points[t] = (value, version)
        if len(self.points) > self.keep:
            del self.points[min(self.points)]

    def latest(self) -> tuple[str, float | None] | None:
        if not self.points:
            return None
        t = max(self.points)
        return t, self.points[t][0]

    def get(self, t: str) -> float | None:
        p = self.points.get(t)
        return None if p is None else p[0]


class LiveFeed:
    def __init__(
        self,
        engine: AlertEngine | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        keep: int = 288,
        stale_after_s: float = 900.0,
        hub_keep: int = 5000,
    ) -> None:
        self.engine = engine or AlertEngine([])
        self.clock = clock
        self.keep = keep
        self.stale_after_s = stale_after_s
        self.hub = Hub(self.snapshot, keep=hub_keep)
        self.headline = headline_hubs()
        self.pairs = isos.neighbour_pairs()
        self._pairs_of: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {}
        for pair in self.pairs:
            self._pairs_of.setdefault((pair[0], pair[1]), []).append(pair)
            self._pairs_of.setdefault((pair[2], pair[3]), []).append(pair)
        self.prices: dict[tuple[str, str, str], Series] = {}  # (iso, hub, market)
        self.load: dict[str, Series] = {}  # iso -> system load
        self.spreads: dict[tuple[str, str, str, str], Series] = {}
        self.vol: dict[tuple[str, str, str, int], Series] = {}  # (iso, hub, market, window_minutes)
        self.health: dict[str, dict[str, Any]] = {}  # iso -> newest ingested_at / interval_end, count
        self.alerts: deque[dict[str, Any]] = deque(maxlen=100)
        self.counts = {"tick": 0, "volatility": 0, "kept": 0}

    # ------------------------------------------------------------------ records in
    def ingest(self, kind: str, records: list[dict[str, Any]]) -> None:
        """A processed batch of one stream: update the state, publish what changed, evaluate rules."""
        if kind == "tick":
            points = [p for rec in records for p in self._tick(rec)]
            if points:
                self.hub.publish("ticks", points)
            self.hub.publish("health", self.health_view())
            self._alerts(("price_above", "price_below", "spread_above"))
        else:
            vols = [v for rec in records if (v := self._volatility(rec)) is not None]
            if vols:
                self.hub.publish("volatility", vols)
        self.counts[kind] += len(records)

    def _tick(self, rec: dict[str, Any]) -> list[dict[str, Any]]:
        iso = rec["iso"]
        h = self.health.setdefault(iso, {"ingested_at": "", "interval_end": "", "ticks": 0})
        h["ingested_at"] = max(h["ingested_at"], rec["ingested_at"], key=lambda t: _order(t) if t else "")
        h["interval_end"] = max(h["interval_end"], rec["interval_end"])
        h["ticks"] += 1
        t, market, loc = rec["interval_start"], rec["market"], rec["location"]
        table = isos.get(iso)
        if rec["dataset"] == "load":
            if loc != table.system or rec["load_mw"] is None:
                return []
            series = self.load.setdefault(iso, Series(self.keep))
            if not series.put(t, rec["load_mw"], _version(rec)):
                return []
            self.counts["kept"] += 1
            return [{"k": "load", "iso": iso, "market": market, "t": t, "v": rec["load_mw"]}]
        if loc not in table.hubs or rec["lmp"] is None:
            return []
        series = self.prices.setdefault((iso, loc, market), Series(self.keep))
        if not series.put(t, rec["lmp"], _version(rec)):
            return []
        self.counts["kept"] += 1
        out = [{"k": "price", "iso": iso, "location": loc, "market": market, "t": t, "v": rec["lmp"]}]
        if market == SPREAD_MARKET:
            out += self._spreads(iso, loc, t)
        return out

    def _spreads(self, iso: str, hub: str, t: str) -> list[dict[str, Any]]:
        out = []
        for pair in self._pairs_of.get((iso, hub), []):
            a = self.prices.get((pair[0], pair[1], SPREAD_MARKET))
            b = self.prices.get((pair[2], pair[3], SPREAD_MARKET))
            pa, pb = (a.get(t) if a else None), (b.get(t) if b else None)
            if pa is None or pb is None:
                continue
            spread = round(pa - pb, 6)
            # Always written: a revision of either side recomputes the spread of that interval.
            self.spreads.setdefault(pair, Series(self.keep)).set(t, spread)
            out.append({"k": "spread", "pair": list(pair), "t": t, "v": spread})
        return out

    def _volatility(self, rec: dict[str, Any]) -> dict[str, Any] | None:
        iso, loc = rec["iso"], rec["location"]
        if loc not in isos.get(iso).hubs:
            return None
        key = (iso, loc, rec["market"], rec["window_minutes"])
        # The job may re-emit a window (a late revision): the newest computation wins. A null
        # vol_abs (under two price changes) stays a gap, not a zero.
        series = self.vol.setdefault(key, Series(self.keep))
        if not series.put(rec["window_end"], rec["vol_abs"], _order(rec["computed_at"])):
            return None
        return {
            "iso": iso,
            "location": loc,
            "market": rec["market"],
            "window_minutes": rec["window_minutes"],
            "t": rec["window_end"],
            "vol_abs": rec["vol_abs"],
            "vol_log": rec["vol_log"],
            "price_mean": rec["price_mean"],
            "n": rec["n"],
        }

    # ------------------------------------------------------------------ health and rules
    def health_view(self) -> dict[str, dict[str, Any]]:
        now = self.clock()
        out: dict[str, dict[str, Any]] = {}
        for iso in isos.CODES:
            h = self.health.get(iso)
            if h is None:
                out[iso] = {"status": "none", "age_s": None, "ingested_at": None, "interval_end": None, "ticks": 0}
                continue
            age = (now - parse_ts(h["ingested_at"])).total_seconds()
            status = "stale" if age > self.stale_after_s else "ok"
            out[iso] = {"status": status, "age_s": round(age, 1), **h}
        return out

    def view(self) -> View:
        prices = {k: p[1] for k, s in self.prices.items() if (p := s.latest()) is not None and p[1] is not None}
        spreads = {
            (*k, SPREAD_MARKET): p[1]
            for k, s in self.spreads.items()
            if (p := s.latest()) is not None and p[1] is not None
        }
        now = self.clock()
        ages = {iso: (now - parse_ts(h["ingested_at"])).total_seconds() for iso, h in self.health.items()}
        return View(prices, spreads, ages)

    def _alerts(self, kinds: tuple[str, ...]) -> list[Alert]:
        fired = self.engine.evaluate(self.view(), format_ts(self.clock()), kinds)
        for alert in fired:
            self.alerts.append(alert.as_dict())
            self.hub.publish("alert", alert.as_dict())
        return fired

    def check(self) -> list[Alert]:
        """The periodic beat: publish health (ages move with the clock) and evaluate staleness."""
        self.hub.publish("health", self.health_view())
        return self._alerts(("stale",))

    # ------------------------------------------------------------------ what a new page gets
    def snapshot(self) -> dict[str, Any]:
        """The headline series in full and every other hub's latest price, health and alerts."""
        points: list[dict[str, Any]] = []
        for (iso, loc, market), s in self.prices.items():
            times = sorted(s.points) if self.headline.get(iso) == loc else sorted(s.points)[-1:]
            points += [
                {"k": "price", "iso": iso, "location": loc, "market": market, "t": t, "v": s.points[t][0]}
                for t in times
            ]
        for iso, s in self.load.items():
            points += [{"k": "load", "iso": iso, "t": t, "v": v} for t, (v, _) in sorted(s.points.items())]
        for pair, s in self.spreads.items():
            points += [{"k": "spread", "pair": list(pair), "t": t, "v": v} for t, (v, _) in sorted(s.points.items())]
        vols = [
            {"iso": iso, "location": loc, "market": m, "window_minutes": w, "t": t, "vol_abs": v}
            for (iso, loc, m, w), s in self.vol.items()
            for t, (v, _) in sorted(s.points.items())
        ]
        return {
            "headline": self.headline,
            "pairs": [list(p) for p in self.pairs],
            "points": points,
            "volatility": vols,
            "health": self.health_view(),
            "alerts": list(self.alerts),
            "active": [a.as_dict() for a in self.engine.active.values()],
            "stale_after_s": self.stale_after_s,
        }

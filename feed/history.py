"""The dashboard's history: the last N hours the warehouse holds, read from the local DuckDB
warehouse file with plain SQL on its documented tables (batch/sql/schema.sql: prices,
load_mw, volatility). The feed is a stage and does not import batch; on AWS the app is given
a loader for Redshift instead (the app takes any `history(hours) -> dict` callable).

"The last N hours" ends at the newest interval the warehouse holds, or now if that is later
than now (the nightly load runs a day behind; a page should not open on empty charts). The
result has the shapes of the live events (feed/live.py), so the page merges both the same way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feed.live import headline_hubs
from gridtape import isos
from gridtape.contract import format_ts

log = logging.getLogger(__name__)
MAX_HOURS = 24 * 7


def _ts(value: datetime) -> str:
    return format_ts(value.replace(tzinfo=UTC) if value.tzinfo is None else value)


def hubs_shown() -> list[tuple[str, str]]:
    """The headline hub of each ISO and both hubs of every seam."""
    out = dict.fromkeys(headline_hubs().items())
    for a_iso, a_hub, b_iso, b_hub in isos.neighbour_pairs():
        out.setdefault((a_iso, a_hub))
        out.setdefault((b_iso, b_hub))
    return list(out)


def empty(reason: str = "") -> dict[str, Any]:
    return {"points": [], "volatility": [], "from": None, "to": None, "note": reason}


def load_history(path: Path, hours: float, now: datetime | None = None) -> dict[str, Any]:
    """{points: [price | load | spread points], volatility: [...], from, to, note}."""
    import duckdb

    if not path.exists():
        return empty(f"no warehouse at {path}")
    hours = max(0.0, min(float(hours), MAX_HOURS))
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:  # e.g. a nightly load holds the write lock right now
        log.warning("history: warehouse %s unavailable: %s", path, exc)
        return empty(f"warehouse busy: {exc}")
    try:
        return _query(con, hours, now or datetime.now(UTC))
    except duckdb.CatalogException as exc:  # not loaded yet: no tables
        return empty(f"warehouse has no tables yet: {exc}")
    finally:
        con.close()


def _query(con: Any, hours: float, now: datetime) -> dict[str, Any]:
    newest = con.execute("SELECT max(interval_start) FROM prices").fetchone()[0]
    if newest is None:
        return empty("warehouse holds no prices")
    end = min(newest.replace(tzinfo=UTC), now)
    start = end - timedelta(hours=hours)
    span = [start.replace(tzinfo=None), end.replace(tzinfo=None)]
    hubs = hubs_shown()
    hub_values = ", ".join("(?, ?)" for _ in hubs)
    flat = [x for pair in hubs for x in pair]
    prices = con.execute(
        f"""SELECT p.iso, p.location, p.market, p.interval_start, p.lmp
            FROM prices AS p JOIN (VALUES {hub_values}) AS h(iso, location)
              ON p.iso = h.iso AND p.location = h.location
            WHERE p.interval_start BETWEEN ? AND ? ORDER BY p.interval_start""",
        [*flat, *span],
    ).fetchall()
    systems = [(iso.code, iso.system) for iso in isos.TABLE]
    load = con.execute(
        f"""SELECT l.iso, l.interval_start, l.load_mw
            FROM load_mw AS l JOIN (VALUES {", ".join("(?, ?)" for _ in systems)}) AS s(iso, location)
              ON l.iso = s.iso AND l.location = s.location
            WHERE l.interval_start BETWEEN ? AND ? ORDER BY l.interval_start""",
        [*(x for pair in systems for x in pair), *span],
    ).fetchall()
    vol = con.execute(
        f"""SELECT v.iso, v.location, v.market, v.window_minutes, v.window_end, v.vol_abs
            FROM volatility AS v JOIN (VALUES {hub_values}) AS h(iso, location)
              ON v.iso = h.iso AND v.location = h.location
            WHERE v.window_end BETWEEN ? AND ? ORDER BY v.window_end""",
        [*flat, *span],
    ).fetchall()
    points: list[dict[str, Any]] = [
        {"k": "price", "iso": i, "location": loc, "market": m, "t": _ts(t), "v": v} for i, loc, m, t, v in prices
    ]
    points += [{"k": "load", "iso": i, "t": _ts(t), "v": v} for i, t, v in load]
    points += _spreads(points)
    vols = [
        {"iso": i, "location": loc, "market": m, "window_minutes": w, "t": _ts(t), "vol_abs": v}
        for i, loc, m, w, t, v in vol
    ]
    return {"points": points, "volatility": vols, "from": _ts(start), "to": _ts(end), "note": ""}


def _spreads(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Seam spreads of the same 5-minute interval, as the live feed computes them."""
    rt5 = {(p["iso"], p["location"], p["t"]): p["v"] for p in points if p["k"] == "price" and p["market"] == "RT5"}
    out = []
    for pair in isos.neighbour_pairs():
        for (iso, loc, t), a in rt5.items():
            if (iso, loc) == (pair[0], pair[1]) and (b := rt5.get((pair[2], pair[3], t))) is not None:
                out.append({"k": "spread", "pair": list(pair), "t": t, "v": round(a - b, 6)})
    return sorted(out, key=lambda p: p["t"])

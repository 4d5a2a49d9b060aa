"""The dashboard's "Price vs context" panel: one tracked hub's hourly price beside the outage MW,
customers out and weather of its zone, from the warehouse table enriched_prices (filled by the
nightly enrichment, batch/sql/schema.sql).

The columns are those of the query pack's price_vs_outages and price_vs_temperature (params iso,
hub, until, hours): the feed is a stage and may not import batch, so it reads the table with the
same plain SQL locally; the composition root may hand make_app any loader with the signature
`enrichment(iso, hub, hours) -> dict` instead (e.g. one running the query pack on Redshift), and
shape() turns such rows into the panel's answer.

NULL means unknown and stays null in the JSON (the page draws a gap, never a zero). Hours inside
the range with no row at all are filled with nulls too, so a missing hour is a gap as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from feed.live import headline_hubs
from gridtape import isos
from gridtape.contract import format_ts

log = logging.getLogger(__name__)

# The panel's series, in the order the page draws them (price_vs_outages + price_vs_temperature).
COLUMNS: Final = (
    "lmp",
    "load_mw",
    "outage_mw",
    "outage_scope",
    "customers_out",
    "temperature_c",
    "dew_point_c",
    "wind_mps",
)
MAX_HOURS: Final = 24 * 7
HOUR: Final = timedelta(hours=1)

# (connection, iso, hub, since, until) -> rows of interval_start + COLUMNS (+ zone): how the rows of
# one range are read; plain_rows by default, the composition root may pass the query pack's.
ReadRows = Callable[[Any, str, str, datetime, datetime], list[dict[str, Any]]]


class BadRequest(ValueError):
    """An unknown ISO or hub: the caller's mistake (HTTP 400)."""


def resolve(iso: str, hub: str) -> tuple[str, str]:
    """(ISO code, hub): hub '' = the ISO's headline hub; only tracked hubs are answered."""
    try:
        row = isos.get(iso.upper())
    except KeyError:
        raise BadRequest(f"unknown ISO {iso!r}") from None
    hub = hub or headline_hubs()[row.code]
    if hub not in row.hubs:
        raise BadRequest(f"{hub!r} is not a tracked hub of {row.code}")
    return row.code, hub


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def empty(iso: str, hub: str, note: str) -> dict[str, Any]:
    return {
        "iso": iso,
        "hub": hub,
        "hubs": list(isos.get(iso).hubs),
        "zone": None,
        "from": None,
        "to": None,
        "t": [],
        "series": {c: [] for c in COLUMNS},
        "known": dict.fromkeys(COLUMNS, 0),
        "note": note,
    }


def shape(iso: str, hub: str, rows: Iterable[Mapping[str, Any]], until: datetime, hours: float) -> dict[str, Any]:
    """The panel's answer from rows (interval_start + any of COLUMNS + zone), hour by hour from
    the first row's hour to the last, missing hours and NULLs as null."""
    by_hour = {_utc(r["interval_start"]).replace(minute=0, second=0, microsecond=0): r for r in rows}
    if not by_hour:
        return empty(iso, hub, f"no enriched prices for {iso} {hub} yet")
    first, last = min(by_hour), max(by_hour)
    grid = [first + HOUR * k for k in range(int((last - first) / HOUR) + 1)]
    series: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for hour in grid:
        row = by_hour.get(hour, {})
        for c in COLUMNS:
            v = row.get(c)
            series[c].append(v if v is None or isinstance(v, str) else float(v))
    known = {c: sum(v is not None for v in series[c]) for c in COLUMNS}
    zone = by_hour[last].get("zone")
    return {
        "iso": iso,
        "hub": hub,
        "hubs": list(isos.get(iso).hubs),
        "zone": zone,
        "from": format_ts(until - timedelta(hours=hours)),
        "to": format_ts(until),
        "t": [format_ts(h) for h in grid],
        "series": series,
        "known": known,
        "note": "",
    }


def load_enrichment(
    path: Path, iso: str, hub: str, hours: float = 48, now: datetime | None = None, read: ReadRows | None = None
) -> dict[str, Any]:
    """The last `hours` hours enriched_prices holds for the hub, ending at its newest priced hour
    (or at the current hour if the table somehow runs ahead of the clock)."""
    import duckdb

    iso, hub = resolve(iso, hub)
    hours = max(1.0, min(float(hours), MAX_HOURS))
    if not path.exists():
        return empty(iso, hub, f"no warehouse at {path}")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:  # e.g. the nightly load holds the write lock right now
        log.warning("enrichment: warehouse %s unavailable: %s", path, exc)
        return empty(iso, hub, f"warehouse busy: {exc}")
    try:
        return _query(con, iso, hub, hours, now or datetime.now(UTC), read or plain_rows)
    except duckdb.CatalogException as exc:  # an older warehouse without the table
        return empty(iso, hub, f"warehouse has no enriched_prices yet: {exc}")
    finally:
        con.close()


def _query(con: Any, iso: str, hub: str, hours: float, now: datetime, read: ReadRows) -> dict[str, Any]:
    newest = con.execute(
        "SELECT max(interval_start) FROM enriched_prices WHERE iso = ? AND location = ? AND lmp IS NOT NULL",
        [iso, hub],
    ).fetchone()[0]
    if newest is None:
        return empty(iso, hub, f"no enriched prices for {iso} {hub} yet")
    current = _utc(now).replace(minute=0, second=0, microsecond=0) + HOUR
    until = min(_utc(newest) + HOUR, current)  # exclusive, as the query pack's `until`
    since = until - timedelta(hours=hours)
    return shape(iso, hub, read(con, iso, hub, since, until), until, hours)


def plain_rows(con: Any, iso: str, hub: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Priced enriched_prices rows of the hub in [since, until): the rows and columns of the two
    query-pack queries (an hour without a price is a gap like any other)."""
    cur = con.execute(
        f"""SELECT interval_start, zone, {", ".join(COLUMNS)} FROM enriched_prices
            WHERE iso = ? AND location = ? AND lmp IS NOT NULL AND interval_start >= ? AND interval_start < ?
            ORDER BY interval_start""",
        [iso, hub, since.astimezone(UTC).replace(tzinfo=None), until.astimezone(UTC).replace(tzinfo=None)],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

"""ERCOT five-minute system load from the website's "supply and demand" dashboard JSON
(https://www.ercot.com/api/1/services/read/dashboards/supply-demand.json), the source
gridstatus reads for today's load (Ercot._get_todays_outlook_non_forecast: ``data[]`` rows,
``forecast`` 0 for actuals, ``demand`` MW, ``epoch`` ms taken as the interval END, "Updates
every 5 minutes").

Shape: ``lastUpdated`` ("2026-06-11 23:58:10-0500") and ``data``: one row per five minutes of
the operating day, ``timestamp`` (local, with its UTC offset), ``epoch`` (ms, the same instant),
``demand``, ``capacity``, ``forecast`` (1: a forecast still to come, skipped). ``demand`` at T
is ERCOT's system load as measured at T: an instantaneous reading, filed (gridtape's rule for
readings) as the five minutes ENDING at T, since it is only known at T (a T off the five-minute
grid: the interval ending at the next mark). The epoch is UTC, so
the DST days need no wall-clock guessing. ERCOT keeps no archive of it: history is hourly
(producers.ercot.zones). Market RT5 of the load feed, when the ISO table has that feed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from producers import formats
from producers.base import Request, Response
from producers.formats import FormatError

if TYPE_CHECKING:
    from producers.ercot import ErcotSource

URL = "https://www.ercot.com/api/1/services/read/dashboards/supply-demand.json"
FIVE_MINUTES_MS = 300_000


def request() -> Request:
    return Request(URL)


def enabled(source: ErcotSource) -> bool:
    """Whether the ISO table has ERCOT's five-minute load feed (load, RT5)."""
    return any(f.market == "RT5" for f in source.facts.feeds_named("load"))


def rows(response: Response) -> list[tuple[dict[str, Any], datetime]]:
    doc = formats.json_document(response.body)
    try:
        published = datetime.strptime(str(formats.path(doc, "lastUpdated")), "%Y-%m-%d %H:%M:%S%z")
    except ValueError:
        raise FormatError(f"lastUpdated {doc.get('lastUpdated')!r} is not 'YYYY-MM-DD HH:MM:SS+hhmm'") from None
    data = formats.path(doc, "data")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise FormatError("data is not a list of objects")
    actual = [r for r in data if formats.path(r, "forecast") in (0, False, "0")]
    return [
        ({"epoch": r.get("epoch"), "demand": r.get("demand"), "timestamp": r.get("timestamp")}, published)
        for r in actual
    ]


def read(source: ErcotSource, item: tuple[dict[str, Any], datetime], response: Response) -> dict[str, Any]:
    row, published = item
    epoch = row["epoch"]
    if not isinstance(epoch, int) or isinstance(epoch, bool):
        raise FormatError(f"epoch {epoch!r} is not a time in ms")
    # On the grid: a reading a few seconds past a mark files into the interval ending at the
    # next one (rounding down would put it before it was taken).
    end = datetime.fromtimestamp(-(-epoch // FIVE_MINUTES_MS) * FIVE_MINUTES_MS / 1000, UTC)
    return source.tick(
        response,
        "load",
        market="RT5",
        location=source.facts.system,
        location_type="system",
        end=end,  # a reading at T: the five minutes ending at T
        published_at=published,
        load_mw=formats.number(row["demand"], f"demand at {end:%Y-%m-%dT%H:%MZ}"),
    )

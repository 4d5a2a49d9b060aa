"""ERCOT hourly system load from the website's "system-wide demand" dashboard JSON.

Shape (checked against a real capture, ../shared/iso-samples/ercot/emaps_ercot_supply_demand_
2024-11-25.json): ``lastUpdated`` ("2024-11-25 02:15:02-0600") and three days, ``previousDay``,
``currentDay``, ``nextDay``, each ``{"dayDate", "data": [row, ...]}``. A row is one operating
hour: ``hourEnding`` 1-24, ``dstFlag``, forecasts, ``systemLoad`` (MW, only for hours that
have happened), ``timestamp`` ("2024-11-24 01:00:00-0600") and ``epoch`` (ms). The timestamp
is the hour's END, with its UTC offset (HE1's timestamp is 01:00 and its epoch is 07:00Z), so
the two DST days need no wall-clock guessing: the fall day lists 25 rows, the spring day 23.
ERCOT's dashboards have been seen (by gridstatus, on the fall day) to stamp the repeated hour
with the next hour's wall time; when two rows end at the same instant, the one flagged
dstFlag N is that mislabelled hour and ends one hour earlier. Any other collision is an error.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from producers import formats
from producers.base import Request, Response
from producers.formats import FormatError

if TYPE_CHECKING:
    from producers.ercot import ErcotSource

URL = "https://www.ercot.com/api/1/services/read/dashboards/system-wide-demand.json"
DAYS = ("previousDay", "currentDay")  # nextDay holds forecasts only


def request() -> Request:
    return Request(URL)


def _time(text: Any, what: str) -> datetime:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S%z")
    except ValueError:
        raise FormatError(f"{what}: {text!r} is not 'YYYY-MM-DD HH:MM:SS+hhmm'") from None


def rows(response: Response) -> list[tuple[datetime, Any, datetime | str]]:
    """(published, systemLoad, UTC interval end or why it has none) for every hour that has
    happened. Two rows ending at one instant are resolved here (see the module docstring)."""
    doc = formats.json_document(response.body)
    published = _time(formats.path(doc, "lastUpdated"), "lastUpdated")
    # (interval end or the unreadable text, dstFlag, systemLoad)
    entries: list[tuple[datetime | str, str, Any]] = []
    for day in DAYS:
        day_rows = formats.path(doc, day, "data")
        if not isinstance(day_rows, list):
            raise FormatError(f"{day}/data is not a list")
        for n, row in enumerate(day_rows):
            if not isinstance(row, dict):
                raise FormatError(f"{day}/data/{n} is not an object")
            if row.get("systemLoad") is None:
                continue  # an hour still to come
            try:
                end: datetime | str = _time(formats.path(row, "timestamp"), f"{day}/data/{n}/timestamp")
            except FormatError as exc:
                end = str(exc)
            entries.append((end, str(row.get("dstFlag")), row["systemLoad"]))
    if not entries:
        raise FormatError("no systemLoad values")
    by_end: dict[datetime, list[str]] = {}
    for end, flag, _ in entries:
        if isinstance(end, datetime):
            by_end.setdefault(end, []).append(flag)
    out = []
    for end, flag, mw in entries:
        if isinstance(end, datetime) and len(by_end[end]) > 1:
            shifted = end - timedelta(hours=1)
            if sorted(by_end[end]) != ["N", "Y"] or shifted in by_end:
                raise FormatError(f"{len(by_end[end])} rows end at {end.isoformat()}")
            end = shifted if flag == "N" else end
        out.append((published, mw, end))
    return out


def read(source: ErcotSource, row: tuple[datetime, Any, datetime | str], response: Response) -> dict[str, Any]:
    published, mw, end = row
    if not isinstance(end, datetime):
        raise FormatError(end)
    return source.tick(
        response,
        "load",
        location=source.facts.system,
        location_type="system",
        end=end,  # the row's timestamp marks the hour's END
        published_at=published,
        load_mw=formats.number(mw, f"systemLoad ending {end:%Y-%m-%dT%H:%MZ}"),
    )

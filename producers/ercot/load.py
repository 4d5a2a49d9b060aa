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

from gridtape.contract import tick
from gridtape.timeutil import interval_ending
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


def parse(source: ErcotSource, response: Response) -> list[dict[str, Any]]:
    doc = formats.json_document(response.body)
    published = _time(formats.path(doc, "lastUpdated"), "lastUpdated")
    # interval end (UTC) -> (dstFlag, MW)
    ends: dict[datetime, list[tuple[str, float]]] = {}
    for day in DAYS:
        rows = formats.path(doc, day, "data")
        if not isinstance(rows, list):
            raise FormatError(f"{day}/data is not a list")
        for n, row in enumerate(rows):
            if row.get("systemLoad") is None:
                continue  # an hour still to come
            end = _time(formats.path(row, "timestamp"), f"{day}/data/{n}/timestamp")
            mw = formats.number(row["systemLoad"], f"{day}/data/{n}/systemLoad")
            flag = str(formats.path(row, "dstFlag"))
            ends.setdefault(end, []).append((flag, mw))
    values: dict[datetime, float] = {}
    for end, entries in ends.items():
        if len(entries) == 1:
            values[end] = entries[0][1]
            continue
        flags = sorted(flag for flag, _ in entries)
        shifted = end - timedelta(hours=1)
        if flags != ["N", "Y"] or shifted in ends:
            raise FormatError(f"{len(entries)} rows end at {end.isoformat()}")
        for flag, mw in entries:
            values[shifted if flag == "N" else end] = mw
    if not values:
        raise FormatError("no systemLoad values")
    return [
        tick(
            iso=source.iso,
            market="RTH",
            dataset="load",
            location="ERCOT",
            location_type="system",
            interval_start=interval_ending(end, 60)[0],
            interval_end=end,
            load_mw=mw,
            published_at=published,
            ingested_at=response.fetched_at,
            source=response.url,
        )
        for end, mw in sorted(values.items())
    ]

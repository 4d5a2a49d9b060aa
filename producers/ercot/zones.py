"""ERCOT hourly actual load by zone: MIS reports 13101 "Actual System Load by Weather Zone"
(NP6-345-CD) and 14836 "Actual System Load by Forecast Zone" (NP6-346-CD), document list plus
zipped CSV as the price reports. One document per operating day, posted early the next morning.

Columns ``OperDay`` (MM/DD/YYYY), ``HourEnding`` ("01:00" .. "24:00", hour ENDING, Central
prevailing clock; DST days as in producers.ercot.mis), one column of MW per zone, ``TOTAL`` and
``DSTFlag``. Each value is the hour's load (an hourly figure, not a reading), filed by the hour
it ends. Weather zones COAST EAST FAR_WEST NORTH NORTH_C SOUTHERN SOUTH_C WEST; forecast zones
NORTH SOUTH WEST HOUSTON. Both sets share names (NORTH, WEST), so gridtape prefixes them:
``WZ_COAST``, ``FZ_HOUSTON``, location_type "zone", market RTH beside the system total. The
weather-zone file's TOTAL is the system total (location ERCOT, "system"): the archive for past
days of the hourly system load the dashboard gives live. gridstatus reads the same reports for
past days (ACTUAL_SYSTEM_LOAD_BY_WEATHER_ZONE = 13101, ..._BY_FORECAST_ZONE = 14836, "published
day after"; columns title-cased from FAR_WEST, NORTH_C, SOUTH_C, SOUTHERN, TOTAL).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from producers import formats
from producers.base import HttpClient, Response
from producers.ercot import lmp, mis
from producers.formats import FormatError

if TYPE_CHECKING:
    from producers.ercot import ErcotSource

WEATHER = "13101"
FORECAST = "14836"
REPORTS = (WEATHER, FORECAST)
ZONES = {
    WEATHER: ("COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST"),
    FORECAST: ("NORTH", "SOUTH", "WEST", "HOUSTON"),
}
PREFIX = {WEATHER: "WZ_", FORECAST: "FZ_"}
CATCHUP_DAYS = 7
DAY = timedelta(days=1)


def operating_day(doc: lmp.Document) -> date:
    return mis.local_date(doc.published) - DAY  # posted the morning after


def fetch(http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
    """Each report's newest day; after an outage, the days since the cursor (a week at most)."""
    out: list[Response] = []
    today = mis.local_date(now)
    for report in REPORTS:
        listing, docs = mis.listing(http, report)
        ready = [d for d in docs if d.published <= now]
        days = {d.doc_id: operating_day(d) for d in ready}
        chosen = mis.newest_per_day(ready, days)
        if since is None:
            chosen = chosen[-1:]
        else:
            first = max(mis.local_date(since), today - timedelta(days=CATCHUP_DAYS))
            chosen = [d for d in chosen if operating_day(d) >= first] or chosen[-1:]
        out += [listing, *mis.download(http, chosen)]
    return out


def history(http: HttpClient, day: date) -> list[Response]:
    return [r for report in REPORTS for r in mis.archived(http, report, lambda d: operating_day(d) == day, day)]


def report_of(header: list[str]) -> str:
    for report in REPORTS:
        if set(ZONES[report]) <= set(header) and (report == WEATHER) == ("COAST" in header):
            return report
    raise FormatError(f"not a load-by-zone CSV: columns {header}")


def columns(header: list[str]) -> tuple[str, ...]:
    return ("OperDay", "HourEnding", *ZONES[report_of(header)], "TOTAL", "DSTFlag")


def rows(
    source: ErcotSource, response: Response, listed: dict[str, lmp.Document]
) -> list[tuple[dict[str, str], datetime]]:
    """({OperDay, HourEnding, DSTFlag, location, location_type, MW}, published) per zone and hour."""
    doc = listed.get(lmp.doc_id(response))
    published = doc.published if doc else response.fetched_at
    header, records = mis.zipped_csv(response, columns)
    report = report_of(header)
    keys = [(r["OperDay"], r["HourEnding"], r["DSTFlag"]) for r in records]
    if len(set(keys)) != len(keys):
        raise FormatError(f"{len(keys) - len(set(keys))} hour(s) appear twice")
    out = []
    for r in records:
        base = {"OperDay": r["OperDay"], "HourEnding": r["HourEnding"], "DSTFlag": r["DSTFlag"]}
        for zone in ZONES[report]:
            out.append(({**base, "location": PREFIX[report] + zone, "location_type": "zone", "MW": r[zone]}, published))
        if report == WEATHER:
            out.append(
                ({**base, "location": source.facts.system, "location_type": "system", "MW": r["TOTAL"]}, published)
            )
    return out


def read(source: ErcotSource, item: tuple[dict[str, str], datetime], response: Response) -> dict[str, Any]:
    row, published = item
    where = f"{row['location']} {row['OperDay']} HE {row['HourEnding']!r}"
    start = mis.row_start(row["location"], row["OperDay"], row["HourEnding"], row["DSTFlag"])
    return source.tick(
        response,
        "load",
        market="RTH",
        location=row["location"],
        location_type=row["location_type"],
        start=start,
        published_at=published,
        load_mw=formats.number(row["MW"], f"{where} load"),
    )

"""MISO generation outages: the Multi-Day Operating Margin report (``mom``), one .xlsx per day on
docs.misoenergy.org/marketreports/, sheet OUTAGE (no key).

Format (checked against gridstatus MISO.get_generation_outages_forecast / _estimated and
_get_generation_outages_data, and its tests; no real sample offline): URL
``https://docs.misoenergy.org/marketreports/YYYYMMDD_mom.xlsx``. Sheet ``OUTAGE`` holds two
tables read by position, as gridstatus does (read_excel skiprows=6 / 26, nrows=17): the outage
FORECAST with its header on row 7 and rows 8-24, the ESTIMATED outages with their header on row
27 and rows 28-44. Column A is the region (``MISO``, ``North``, ``Central``, ``South``), column B
the type (``Derated``, ``Forced``, ``Planned``, ``Unplanned``), then one column per day whose
header is the day as text, sometimes with a trailing `` **`` (stripped); empty columns are
skipped. Forecast columns are the 7 days after the report day, estimated ones the 30 days up to
it (gridstatus's tests: "published on the date for the next seven days" / "the past 30 days").

Clock: daily values on MISO's market clock, EST all year (isos tz Etc/GMT+5, so every day has 24
hours, the US DST days included); gridstatus files them as Interval Start = the day, End = +1
day. gridtape expands each daily value to every hour of that day, the same MW each hour, so the
enrichment joins hourly; the figure is MISO's daily outage level, not an hourly measurement.

Areas: ``MISO`` is the system area (isos system "MISO"); North / Central / South keep MISO's name
as zones: MEMBERS maps them to the load-zone names of the LRZ load ticks (LRZ2_7 and LRZ3_5
straddle North and Central and belong to neither). Kinds: planned, forced, unplanned (no total
row: they add up, see producers/context/outages.py). ``Derated`` (partial reductions of running
units) has no OUTAGE kind and is not read; fuel "all".

Which days a report yields: its estimate for its own day D (the newest estimate of D; the older
29 estimated days are revisions gridtape does not republish) and its forecast for D+1..D+7.
fetch: today's report (EST), yesterday's while today's is not posted (HTTP 404).
history(day): the report of `day` (its estimated column for `day`). published_at: Last-Modified,
else the fetch.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Final

from gridtape import isos
from producers import formats
from producers.base import HttpClient, Request, Response
from producers.context.outages import FEED, OutageSource, day_bounds, hourly_copies, worksheet
from producers.formats import FormatError
from producers.miso.reports import REPORTS

ZONE: Final = isos.get("MISO").tz
SHEET: Final = "OUTAGE"
FORECAST_HEADER: Final = 7  # 1-based sheet rows (gridstatus skiprows=6 / 26, nrows=17)
ESTIMATED_HEADER: Final = 27
TABLE_ROWS: Final = 17
KINDS: Final = {"Planned": "planned", "Forced": "forced", "Unplanned": "unplanned"}
SKIPPED_TYPES: Final = frozenset({"Derated"})
AREAS: Final = {
    "MISO": ("MISO", "system"),
    "North": ("North", "zone"),
    "Central": ("Central", "zone"),
    "South": ("South", "zone"),
}
MEMBERS: Final = {"North": ("LRZ1",), "Central": ("LRZ4", "LRZ6"), "South": ("LRZ8_9_10",)}
_NAME = re.compile(r"/(\d{8})_mom\.xlsx$")
_DAY_FORMATS: Final = ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y", "%b %d, %Y", "%d-%b-%Y")


def url(day: date) -> str:
    return f"{REPORTS}/{day:%Y%m%d}_mom.xlsx"


def report_day(address: str) -> date:
    found = _NAME.search(address.split("?", 1)[0])
    if not found:
        raise FormatError(f"not a YYYYMMDD_mom.xlsx address: {address}")
    return datetime.strptime(found.group(1), "%Y%m%d").date()


def column_day(value: Any) -> date | None:
    """The day a table column's header names (None: an empty column)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).replace("**", "").strip()
    for fmt in _DAY_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise FormatError(f"column header {value!r} is not a day")


def sheet_tables(body: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """The forecast and estimated tables of sheet OUTAGE: header row + its 17 rows each."""
    rows = list(worksheet(body, SHEET).iter_rows(min_row=1, max_row=ESTIMATED_HEADER + TABLE_ROWS, values_only=True))
    return {
        "forecast": rows[FORECAST_HEADER - 1 : FORECAST_HEADER + TABLE_ROWS],
        "estimated": rows[ESTIMATED_HEADER - 1 : ESTIMATED_HEADER + TABLE_ROWS],
    }


class MisoOutages(OutageSource):
    iso: ClassVar[str] = "MISO"

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._feed(dataset)
        today = now.astimezone(ZONE).date()
        response = http.get(Request(url(today)))
        if response.status == 404:  # not posted yet
            response = http.get(Request(url(today - timedelta(days=1))))
        return [response]

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self._feed(dataset)
        return [http.get(Request(url(day)))]

    # -- parse -----------------------------------------------------------------------------
    def _rows_outage(self, resp: Response, context: Any) -> list[tuple[tuple[Any, ...], str, date]]:
        day = report_day(resp.url)
        tables = sheet_tables(resp.body)
        rows: list[tuple[tuple[Any, ...], str, date]] = []
        for name, wanted in (("estimated", {day}), ("forecast", {day + timedelta(days=n) for n in range(1, 8)})):
            table = tables[name]
            if not table:
                raise FormatError(
                    f"no {name} table at row {FORECAST_HEADER if name == 'forecast' else ESTIMATED_HEADER}"
                )
            days = [column_day(c) for c in table[0][2:]]
            if not wanted & set(days):
                raise FormatError(f"the {name} table has no column for {sorted(wanted)[0]} (header {table[0]})")
            region = None
            for cells in table[1:]:
                if len(cells) < 3 or all(c is None or not str(c).strip() for c in cells[:2]):
                    continue  # a blank separator row
                region = str(cells[0]).strip() if cells[0] is not None and str(cells[0]).strip() else region
                for col, column in enumerate(days, start=2):
                    if column in wanted:
                        rows.append(((region, cells[1], cells[col] if col < len(cells) else None), name, column))
        return rows

    def _read_outage(self, row: tuple[tuple[Any, Any, Any], str, date], resp: Response) -> dict[str, Any] | None:
        (region, kind_cell, value), _table, day = row
        kind = str(kind_cell).strip() if kind_cell is not None else ""
        if kind in SKIPPED_TYPES:
            return None
        kind = formats.one_of(kind, KINDS, "type")
        area, area_type = AREAS[formats.one_of(region or "", AREAS, "region")]
        start, end = day_bounds(self.iso, day)
        mw = formats.number(value, f"{region} {kind} {day}")
        return self.outage(
            resp, area=area, area_type=area_type, fuel="all", kind=KINDS[kind], start=start, end=end, mw=mw
        )

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [hour for daily in ticks for hour in hourly_copies(daily)]


__all__ = ["FEED", "MEMBERS", "MisoOutages", "url"]

"""SPP generation outages: Capacity of Generation on Outage, the Marketplace file browser's
``capacity-of-generation-on-outage`` folder, one CSV per report day (no key).

Format (checked against gridstatus SPP.get_capacity_of_generation_on_outage /
_process_capacity_of_generation_on_outage and its tests' column list, and public code that reads
the same daily files and annual zips; no real sample offline): URL ``https://portal.spp.org/
file-browser-api/download/capacity-of-generation-on-outage?path=/YYYY/MM/Capacity-Gen-Outage-
YYYYMMDD.csv`` (gridstatus: "published daily at 8am CT for next 7 days"), 168 hourly rows.
Columns (names padded with spaces, stripped): ``Market Hour`` (M/D/YYYY H:MM[:SS]), ``Outaged
MW`` (the total) and per fuel ``Coal MW``, ``Diesel Fuel Oil MW``, ``Hydro MW``, ``Natural Gas
MW``, ``Nuclear MW``, ``Solar MW``, ``Waste Disposal MW``, ``Wind MW``, ``Waste Heat MW``,
``Other MW``; the fuels add up to Outaged MW (a row where they do not is refused, every fuel of it).

Clock: ``Market Hour`` is the hour ENDING in UTC (gridstatus _handle_market_end_to_interval parses
it with utc=True as Interval End, start = end - 1 h): no DST guessing, so the DST days simply hold
23 / 25 Central hours like any other UTC span.

Areas: SPP publishes no zone split: area "SPP" (system). No planned / forced split: kind "total";
one record per fuel, named as SPP names it without " MW" (no "all" row: the fuels add up to it,
see producers/context/outages.py). Every hour of a file is read (the later hours are forecasts:
the contract allows them); a later report wins an hour two reports hold.

fetch: today's report (Central), or yesterday's while today's is not posted (HTTP 404).
history(day): the reports of day - 1 and day, so day's hours are held whichever Central or UTC
day a report starts at (one missing report is dropped; both missing: the day's 404); the backfill
keeps the day's hours. published_at: Last-Modified, else
the fetch.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Final

from producers import formats
from producers.base import HttpClient, Request, Response
from producers.context.outages import FEED, HOUR, OutageSource
from producers.formats import FormatError
from producers.spp.files import DOWNLOAD, ZONE

URL: Final = f"{DOWNLOAD}/capacity-of-generation-on-outage"
TIME: Final = "Market Hour"
TOTAL: Final = "Outaged MW"
FUELS: Final = (
    "Coal",
    "Diesel Fuel Oil",
    "Hydro",
    "Natural Gas",
    "Nuclear",
    "Solar",
    "Waste Disposal",
    "Wind",
    "Waste Heat",
    "Other",
)
SUM_TOLERANCE_MW: Final = 1.0  # SPP rounds each fuel
_MARKET_HOUR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")


def report_path(day: date) -> str:
    return f"/{day:%Y}/{day:%m}/Capacity-Gen-Outage-{day:%Y%m%d}.csv"


def market_hour(text: str) -> datetime:
    """The UTC hour end a Market Hour cell names."""
    found = _MARKET_HOUR.match(text.strip())
    if not found:
        raise FormatError(f"{TIME}: {text!r} is not M/D/YYYY H:MM")
    month, day, year, hour, minute, second = (int(g or 0) for g in found.groups())
    end = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    if minute or second:
        raise FormatError(f"{TIME}: {text!r} is not on the hour")
    return end


class SppOutages(OutageSource):
    iso: ClassVar[str] = "SPP"

    def request(self, day: date) -> Request:
        return Request(URL, {"path": report_path(day)})

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._feed(dataset)
        today = now.astimezone(ZONE).date()
        response = http.get(self.request(today))
        if response.status == 404:  # posted about 08:00 Central
            response = http.get(self.request(today - timedelta(days=1)))
        return [response]

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self._feed(dataset)
        responses = [http.get(self.request(d)) for d in (day - timedelta(days=1), day)]
        found = [r for r in responses if r.status != 404]
        return found or responses[-1:]  # one report is enough; neither: the day's 404 (missing)

    # -- parse -----------------------------------------------------------------------------
    def _rows_outage(self, resp: Response, context: Any) -> list[tuple[dict[str, str], str]]:
        required = (TIME, TOTAL, *(f"{f} MW" for f in FUELS))
        rows = formats.csv_records(formats.decode(resp.body), required)
        return [(row, fuel) for row in rows for fuel in FUELS]

    def _read_outage(self, row: tuple[dict[str, str], str], resp: Response) -> dict[str, Any]:
        cells, fuel = row
        end = market_hour(cells[TIME])
        parts = {f: formats.number(cells[f"{f} MW"], f"{f} MW") for f in FUELS}
        total = formats.number(cells[TOTAL], TOTAL)
        if min(parts.values()) < 0:  # the whole row is suspect, not just that fuel
            raise FormatError(f"negative MW: {cells}")
        if abs(sum(parts.values()) - total) > SUM_TOLERANCE_MW:
            raise FormatError(f"the fuels add up to {sum(parts.values()):g} MW, {TOTAL} is {total:g}")
        return self.outage(
            resp, area="SPP", area_type="system", fuel=fuel, kind="total", start=end - HOUR, end=end, mw=parts[fuel]
        )


__all__ = ["FEED", "FUELS", "URL", "SppOutages", "market_hour", "report_path"]

"""NYISO generation outages: the Generation Maintenance Report (MIS P-15),
``https://mis.nyiso.com/public/csv/genmaint/gen_maint_report.csv`` (no key).

What NYISO publishes (checked against gridstatus NYISO.get_generation_outages_forecast, whose
GENERATION_OUTAGES_FORECAST_URL is this file, and public code and notes reading it; no real sample
offline): one CSV, rewritten in place, ``"Date","Forecasted Generation Outage (MW)"`` with one
row per day (``"MM/DD/YYYY"``) for about the next 31 days from today: the system-wide MW on
scheduled outage. It is the only public generator-outage MW NYISO gives: no zone, no fuel, no
planned / forced split, no unit detail (NYISO's other outage CSVs, os / schedlineoutages /
realtimelineoutages, list transmission equipment, not generation MW), and NOT archived: the
file keeps no past days: a past day is known only from a snapshot taken on or before it.
history(day) therefore reads the current snapshot, which serves `day` only while the file still
holds it (today and the days ahead); for a day it no longer holds it raises a SourceError saying
so (never an empty "done" day). gridstatus reads its publish time from Last-Modified.

Clock: daily values on NYISO's Eastern operating day (gridstatus: Interval Start = Date
localised to America/New_York, End = +1 day). gridtape expands each to every hour of that day
(23 / 25 on the DST days), the same MW each hour, so the enrichment joins hourly; the figure is
NYISO's daily schedule, not an hourly measurement.

Records: area "NYISO" (system), fuel "all", kind "total" (the report does not split). A row whose
MW is not a number (gridstatus coerces it to NaN) is refused alone. Every day of the file is read
(future days are forecasts: the contract allows them); a later snapshot wins a day through the
poller's revisions. published_at: Last-Modified, else the fetch.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Final

from producers import formats
from producers.base import HttpClient, Request, Response
from producers.context.outages import FEED, OutageSource, day_bounds, hourly_copies
from producers.formats import FormatError
from producers.nyiso.files import BASE

URL: Final = f"{BASE}/csv/genmaint/gen_maint_report.csv"
DATE: Final = "Date"
MW: Final = "Forecasted Generation Outage (MW)"


def report_day(text: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date()
    except ValueError:
        raise FormatError(f"{DATE}: {text!r} is not MM/DD/YYYY") from None


class NyisoOutages(OutageSource):
    iso: ClassVar[str] = "NYISO"

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._feed(dataset)
        return [http.get(Request(URL))]

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        """The current snapshot, when it still holds `day` (the file is rewritten in place)."""
        self._feed(dataset)
        response = http.get(Request(URL))
        if response.status == 200 and f"{day:%m/%d/%Y}".encode() not in response.body:
            raise self.error(dataset, response.url, f"the snapshot holds no row for {day}: NYISO keeps no archive")
        return [response]

    # -- parse -----------------------------------------------------------------------------
    def _rows_outage(self, resp: Response, context: Any) -> list[dict[str, str]]:
        return formats.csv_records(formats.decode(resp.body), (DATE, MW))

    def _read_outage(self, row: dict[str, str], resp: Response) -> dict[str, Any]:
        start, end = day_bounds(self.iso, report_day(row[DATE]))
        mw = formats.number(row[MW], MW)
        return self.outage(
            resp, area="NYISO", area_type="system", fuel="all", kind="total", start=start, end=end, mw=mw
        )

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [hour for daily in ticks for hour in hourly_copies(daily)]


__all__ = ["FEED", "URL", "NyisoOutages"]

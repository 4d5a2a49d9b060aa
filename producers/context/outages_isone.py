"""ISO-NE generation outages: the Morning Report's Section 3 (Operable Capacity Analysis) from
ISO Express, ``https://www.iso-ne.com/transform/csv/morningreport?start=YYYYMMDD`` (no key; the
/transform/csv/ addresses need the ISO Express session cookie, so fetch and history() first GET
producers.isone's COOKIE_PAGE, as the ISO-NE price module does).

What was checked (no real sample offline): gridstatus reads the same report through ISO-NE's
web services (ISONEAPI.get_morning_report, ``morningreport/day/YYYYMMDD/all``, which needs an ISO
Express account: GenOutagesReductionMW / GenPlannedOutagesReductionMW /
GenForcedOutagesReductionMW = "Generation Outages and Reductions Planned and Forced / Planned /
Forced"); public code and notes that download the CSV export (one operating day per file, the
archive from 2018-07-01, 403 without the cookie) quote its record-typed rows: ``"C"`` comments
(``"Report for MM/DD/YYYY"``), ``"H"`` section headers, ``"D"`` rows of (label, MW), among them
``C. Generation Outages and Reductions (Planned + Forced)``, ``Generation Planned Outages and
Reductions`` and ``Generation Forced Outages and Reductions``; the planned / forced split is
blank before a mid-2025 format change. ISO-NE's next-day operational capacity page shows the
same three lines. The record-typed layout is producers.isone.files.data_rows' (trailer row
required: a file ending in a data row was cut off). Labels are matched by prefix (the MW column
is the label's next cell); the report's day is the URL's ``start`` (a "Report for" comment
naming another day refuses the file).

Clock and meaning: one value per operating day (Eastern), the MW out at the day's forecast peak
hour. gridtape expands it to every hour of that day (23 / 25 on the DST days), the same MW each
hour, so the enrichment joins hourly; it is ISO-NE's daily figure, not an hourly measurement.

Records: area "ISONE" (system; the report has no zone or fuel split), fuel "all". Kinds planned
and forced where the split is given (they must add up to line C within 1 MW, else the report is
refused), else line C alone as kind "total". A report is one day's two or three numbers: a bad
one refuses them all, and the share rule turns that into a SourceError naming the URL. fetch: today's report (Eastern), yesterday's while
today's is not posted (HTTP 404). history(day): the report of `day`. published_at:
Last-Modified, else the fetch.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Final
from urllib.parse import parse_qs, urlsplit

from producers import formats
from producers.base import HttpClient, Request, Response
from producers.context.outages import FEED, OutageSource, day_bounds, hourly_copies
from producers.formats import FormatError
from producers.isone.files import COOKIE_PAGE, WWW, ZONE, data_rows

URL: Final = f"{WWW}/transform/csv/morningreport"
TOTAL: Final = "C. Generation Outages and Reductions"
PARTS: Final = {
    "planned": "Generation Planned Outages and Reductions",
    "forced": "Generation Forced Outages and Reductions",
}
SUM_TOLERANCE_MW: Final = 1.0
_REPORT_FOR = re.compile(rb'"?C"?\s*,\s*"?Report for (\d{2}/\d{2}/\d{4})')


def request(day: date) -> Request:
    return Request(URL, {"start": f"{day:%Y%m%d}"})


def report_day(url: str) -> date:
    values = parse_qs(urlsplit(url).query).get("start")
    if not values:
        raise FormatError("the URL has no start=YYYYMMDD: which day it holds is unknown")
    try:
        return datetime.strptime(values[0], "%Y%m%d").date()
    except ValueError:
        raise FormatError(f"start={values[0]!r} is not YYYYMMDD") from None


def lines(body: bytes) -> dict[str, str]:
    """The MW cell of each outage line of Section 3 ('' where blank), by line."""
    _header, data = data_rows(body)
    found: dict[str, str] = {}
    for row in data:
        label = row[1].strip() if len(row) > 1 else ""
        for name in (TOTAL, *PARTS.values()):
            if label.startswith(name) and name not in found:
                found[name] = row[2].strip() if len(row) > 2 else ""
    if TOTAL not in found:
        raise FormatError(f"no {TOTAL!r} line (not a Morning Report?)")
    return found


class IsoneOutages(OutageSource):
    iso: ClassVar[str] = "ISONE"

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._feed(dataset)
        http.get(Request(COOKIE_PAGE))  # sets the session cookie the CSV endpoints require
        today = now.astimezone(ZONE).date()
        response = http.get(request(today))
        if response.status == 404:  # posted in the morning
            response = http.get(request(today - timedelta(days=1)))
        return [response]

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self._feed(dataset)
        http.get(Request(COOKIE_PAGE))
        return [http.get(request(day))]

    # -- parse -----------------------------------------------------------------------------
    def _rows_outage(self, resp: Response, context: Any) -> list[tuple[str, dict[str, str], date]]:
        day = report_day(resp.url)
        named = _REPORT_FOR.search(resp.body[:2000])
        if named and datetime.strptime(named.group(1).decode(), "%m/%d/%Y").date() != day:
            raise FormatError(f"the report is for {named.group(1).decode()}, the URL asked for {day}")
        found = lines(resp.body)
        if not any(found.get(label) for label in PARTS.values()):
            return [("total", found, day)]
        return [(kind, found, day) for kind in PARTS]

    def _read_outage(self, row: tuple[str, dict[str, str], date], resp: Response) -> dict[str, Any]:
        kind, found, day = row
        total = formats.number(found[TOTAL], TOTAL)
        mw = total
        if kind != "total":
            parts = {k: formats.number(found.get(label), label) for k, label in PARTS.items()}
            if abs(sum(parts.values()) - total) > SUM_TOLERANCE_MW:
                raise FormatError(f"planned + forced = {sum(parts.values()):g} MW do not add up to line C, {total:g}")
            mw = parts[kind]
        start, end = day_bounds(self.iso, day)
        return self.outage(resp, area="ISONE", area_type="system", fuel="all", kind=kind, start=start, end=end, mw=mw)

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [hour for daily in ticks for hour in hourly_copies(daily)]


__all__ = ["FEED", "URL", "IsoneOutages", "request"]

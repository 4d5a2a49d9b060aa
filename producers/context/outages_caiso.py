"""CAISO generation outages: the Curtailed and Non-Operational Generator Prior Trade Date report,
one .xlsx per trade date, posted the next day.

Format (checked against gridstatus CAISO.get_curtailed_non_operational_generator_report and its
docstring's glossary link, Curtailed-OperationalGeneratorReportGlossary; no real sample
offline): URL ``https://www.caiso.com/documents/curtailed-non-operational-generator-prior-
trade-date-report-<date>.xlsx``, <date> = YYYYMMDD (before 2024-05-31 and after 2025-01-12;
mon-dd-yyyy lower case in between, 2024-05-31 as YYYY-MM-DD, and 2024-06-01 with
"curtailed-and-non-operational"), earliest 2021-06-17. Sheet ``PREV_DAY_OUTAGES``: title rows,
then a header row whose column B is ``OUTAGE MRID``, columns B:M ``OUTAGE MRID``, ``RESOURCE
NAME``, ``RESOURCE ID``, ``OUTAGE TYPE`` (PLANNED / FORCED), ``NATURE OF WORK``, ``CURTAILMENT
START DATE TIME``, ``CURTAILMENT END DATE TIME`` (blank: still out), ``CURTAILMENT MW``,
``RESOURCE PMAX MW``, ``NET QUALIFYING CAPACITY MW`` (``OUTAGE STATUS`` on some days). Times are
Pacific wall clock (gridstatus localises them with ambiguous=DST: the first pass of the repeated
hour); openpyxl gives them as datetimes (text "YYYY-MM-DD HH:MM[:SS]" is read too). A row whose
start equals its end is a zero-length duplicate (gridstatus drops them) and is skipped.

The report names no fuel and no zone: area CAISO (system), fuel "all", kind planned / forced.
Aggregation: for every hour of the trade day (Pacific; 23 / 25 on DST days) and kind, the MW
out on average over the hour = sum of CURTAILMENT MW x the share of the hour each curtailment
covers (a curtailment with no end lasts to the day's end). The report lists every curtailment
of its day, so an hour with none of a kind is 0 MW, known. An unreadable row is refused alone.
Reading .xlsx needs openpyxl (pinned 3.1.5; see /tmp/briefs/requests.md).

fetch: the newest report (yesterday's trade date; the day before while yesterday's is not posted
yet, a 404). history(day): that trade date's file. published_at: Last-Modified, else the fetch.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

from gridtape import contract
from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, Request, Response
from producers.context.outages import FEED, HOUR, OutageSource, day_bounds, hours, worksheet
from producers.formats import FormatError

BASE: Final = "https://www.caiso.com/documents/"
SHEET: Final = "PREV_DAY_OUTAGES"
FIRST_COLUMN: Final = "OUTAGE MRID"
START: Final = "CURTAILMENT START DATE TIME"
END: Final = "CURTAILMENT END DATE TIME"
REQUIRED: Final = (FIRST_COLUMN, "RESOURCE ID", "OUTAGE TYPE", START, END, "CURTAILMENT MW")
KINDS: Final = {"PLANNED": "planned", "FORCED": "forced"}
EARLIEST: Final = date(2021, 6, 17)
_DATE_IN_NAME: Final = re.compile(r"prior-trade-date-report-([0-9a-z-]+)\.xlsx$")


def url(day: date) -> str:
    """The report of trade date `day` (the file names CAISO has used, per gridstatus)."""
    name = "curtailed-non-operational-generator-prior-trade-date-report"
    if day == date(2024, 5, 31):
        stamp = day.isoformat()
    elif date(2024, 5, 31) < day <= date(2025, 1, 12):
        stamp = day.strftime("%b-%d-%Y").lower()
        if day == date(2024, 6, 1):
            name = "curtailed-and-non-operational-generator-prior-trade-date-report"
    else:
        stamp = day.strftime("%Y%m%d")
    return f"{BASE}{name}-{stamp}.xlsx"


def trade_date(address: str) -> date:
    """The trade date a report's URL names."""
    found = _DATE_IN_NAME.search(urlsplit(address).path.lower())
    if not found:
        raise FormatError("the URL names no trade date (…-prior-trade-date-report-<date>.xlsx)")
    text = found.group(1)
    for pattern in ("%Y%m%d", "%Y-%m-%d", "%b-%d-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise FormatError(f"{text!r} in the URL is not a date")


def sheet_rows(body: bytes) -> list[dict[str, Any]]:
    """The rows under the OUTAGE MRID header of sheet PREV_DAY_OUTAGES, as {column: cell}."""
    header: list[str] | None = None
    out: list[dict[str, Any]] = []
    for cells in worksheet(body, SHEET).iter_rows(min_col=2, max_col=13, values_only=True):
        if header is None:
            if isinstance(cells[0], str) and cells[0].strip() == FIRST_COLUMN:
                header = [str(c).strip() if c is not None else "" for c in cells]
            continue
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        out.append(dict(zip(header, cells, strict=False)))
    if header is None:
        raise FormatError(f"sheet {SHEET} has no {FIRST_COLUMN!r} header row")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FormatError(f"no column(s) {missing}; header {[h for h in header if h]}")
    return out


def wall_time(value: Any, what: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FormatError(f"{what}: {value!r} is not a date and time")


class CaisoOutages(OutageSource):
    iso: ClassVar[str] = "CAISO"

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._feed(dataset)
        yesterday = now.astimezone(self.facts.tz).date() - timedelta(days=1)
        newest = http.get(Request(url(yesterday)))
        if newest.status == 404:  # not posted yet: the day before's is the newest
            return [http.get(Request(url(yesterday - timedelta(days=1))))]
        return [newest]

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self._feed(dataset)
        if day < EARLIEST:
            raise FormatError(f"CAISO publishes this report from {EARLIEST} on, not for {day}")
        return [http.get(Request(url(day)))]

    # -- parse -----------------------------------------------------------------------------
    def _rows_outage(self, resp: Response, context: Any) -> list[Any]:
        day = trade_date(resp.url)
        return [(row, day) for row in sheet_rows(resp.body)]

    def _read_outage(self, row: tuple[dict[str, Any], date], resp: Response) -> dict[str, Any] | None:
        """One curtailment, clipped to the trade day (finish() spreads it over the hours)."""
        cells, day = row
        kind = KINDS.get(str(cells.get("OUTAGE TYPE") or "").strip().upper())
        if kind is None:
            raise FormatError(f"OUTAGE TYPE {cells.get('OUTAGE TYPE')!r} is not PLANNED or FORCED")
        mw = formats.number(cells.get("CURTAILMENT MW"), "CURTAILMENT MW")
        first, last = day_bounds(self.iso, day)
        start = local_to_utc(wall_time(cells.get(START), START), self.facts.tz)
        end = last if cells.get(END) in (None, "") else local_to_utc(wall_time(cells.get(END), END), self.facts.tz)
        if end < start:
            raise FormatError(f"curtailment ends ({end:%Y-%m-%dT%H:%MZ}) before it starts ({start:%Y-%m-%dT%H:%MZ})")
        start, end = max(start, first), min(end, last)
        if end <= start:
            return None  # zero-length, or outside the trade day
        return self.outage(
            resp, area=self.facts.system, area_type="system", fuel="all", kind=kind, start=start, end=end, mw=mw
        )

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every hour of each report's trade day and kind: the hour's average MW out."""
        out: list[dict[str, Any]] = []
        by_source: dict[str, list[dict[str, Any]]] = {}
        for t in ticks:
            by_source.setdefault(t["source"], []).append(t)
        for source, spans in by_source.items():
            first, last = day_bounds(self.iso, trade_date(source))
            for kind in KINDS.values():
                mine = [(contract.parse_ts(s["interval_start"]), contract.parse_ts(s["interval_end"]), s) for s in spans
                        if s["kind"] == kind]  # fmt: skip
                template = spans[0]
                for h in hours(first, last):
                    mw = sum(s["outage_mw"] * _overlap(a, b, h) for a, b, s in mine)
                    out.append(
                        {
                            **template,
                            "kind": kind,
                            "interval_start": contract.format_ts(h),
                            "interval_end": contract.format_ts(h + HOUR),
                            "outage_mw": round(mw, 3),
                        }
                    )
        return out


def _overlap(a: datetime, b: datetime, hour: datetime) -> float:
    return max(0.0, (min(b, hour + HOUR) - max(a, hour)).total_seconds()) / HOUR.total_seconds()


__all__ = ["FEED", "CaisoOutages", "trade_date", "url"]

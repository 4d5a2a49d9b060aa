"""PJM generation outages: Data Miner 2 ``gen_outages_by_type`` (api.pjm.com, the subscription
key of producers.pjm, header Ocp-Apim-Subscription-Key; the same JSON envelope and ``next``-link
paging as producers.pjm.api).

Format (checked against gridstatus PJM.get_gen_outages_by_type / _parse_gen_outages_by_type,
its tests, and the Data Miner feed definition as quoted by public client code: "Posting
Frequency: Daily, Update Availability: Daily 06:00 a.m. EPT"; no real sample offline): one item
per forecast execution day, forecast day and region, with ``forecast_execution_date_ept``
("2026-06-11T00:00:00": the day PJM ran the seven-day forecast), ``forecast_date`` (the
operating day the MW apply to, Eastern), ``region`` ("PJM RTO", "Mid Atlantic - Dominion",
"Western"), ``planned_outages_mw``, ``maintenance_outages_mw``, ``forced_outages_mw`` and
``total_outages_mw`` (their sum; an item whose parts do not add up to it is refused). The
filter is ``forecast_execution_date_ept=<first>T00:00to<last>T23:59`` (what gridstatus sends,
filter_timestamp_name="forecast_execution_date").

Clock: daily values on PJM's Eastern operating day; gridstatus files them as Interval Start =
forecast_date (Eastern midnight), End = +1 day. gridtape expands each daily value to every hour
of that operating day (23 / 25 on DST days), the same MW each hour, so the enrichment joins
hourly; the figure is PJM's daily outage schedule, not an hourly measurement.

Areas: "PJM RTO" is the system area (isos system); "Western" is the inst_load area
``PJM WESTERN REGION`` (zone); "Mid Atlantic - Dominion" spans the inst_load areas
``PJM MID ATLANTIC REGION`` and ``PJM SOUTHERN REGION`` (Dominion) and keeps PJM's name (zone).
MEMBERS lists the transmission zones of each, for the enrichment's zone -> region lookup. Kinds:
planned, maintenance, forced (no "total" row: the three add up to it); fuel "all".

Which days a response yields: the forecast days inside its execution-date filter (the URL), the
later execution winning a day. A live poll asks for yesterday's and today's executions (today's
is posted at 06:00 EPT, yesterday's forecast covers today until then); history(day) asks for the
day's own execution, whose forecast_date = execution date row is the day's schedule. Future
forecast days are not published. published_at: the execution day's Eastern midnight (as
gridstatus's Publish Time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar, Final
from urllib.parse import parse_qs, urlsplit

from gridtape import contract
from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, Request, Response
from producers.context.outages import FEED, OutageSource, day_bounds, hourly_copies
from producers.formats import FormatError
from producers.pjm import api
from producers.pjm.api import KEY_HEADER, ROW_COUNT, ZONE

URL: Final = f"{api.API}/gen_outages_by_type"
FILTER: Final = "forecast_execution_date_ept"
FIELDS: Final = (
    "forecast_execution_date_ept,forecast_date,region,planned_outages_mw,"
    "maintenance_outages_mw,forced_outages_mw,total_outages_mw"
)
KINDS: Final = {"planned": "planned_outages_mw", "maintenance": "maintenance_outages_mw", "forced": "forced_outages_mw"}
AREAS: Final = {
    "PJM RTO": ("PJM RTO", "system"),
    "Western": ("PJM WESTERN REGION", "zone"),
    "Mid Atlantic - Dominion": ("Mid Atlantic - Dominion", "zone"),
}
MID_ATLANTIC: Final = ("AE", "BC", "DPL", "JC", "ME", "PE", "PEP", "PL", "PN", "PS", "RECO", "UG")
WESTERN: Final = ("AEP", "APS", "ATSI", "COMED", "DAYTON", "DEOK", "DUQ", "EKPC")
MEMBERS: Final = {"PJM WESTERN REGION": WESTERN, "Mid Atlantic - Dominion": (*MID_ATLANTIC, "DOM")}
SUM_TOLERANCE_MW: Final = 1.0  # PJM rounds each part to the MW


def execution_days(url: str) -> tuple[date, date]:
    """The execution days a request asked for (its forecast_execution_date_ept filter)."""
    values = parse_qs(urlsplit(url).query).get(FILTER)
    if not values:
        raise FormatError(f"the URL has no {FILTER} filter: which days it holds is unknown")
    first, _, last = values[0].partition("to")
    try:
        return date.fromisoformat(first[:10]), date.fromisoformat(last[:10])
    except ValueError:
        raise FormatError(f"{FILTER} filter {values[0]!r} is not a date range") from None


def day_of(text: Any, what: str) -> date:
    value = api.naive(text, what)
    if value.time() != time():
        raise FormatError(f"{what}: {text!r} is not a midnight")
    return value.date()


class PjmOutages(OutageSource):
    iso: ClassVar[str] = "PJM"

    def request(self, first: date, last: date) -> Request:
        params = {"rowCount": str(ROW_COUNT), "startRow": "1", FILTER: api.ept_days(first, last), "fields": FIELDS}
        return Request(URL, params, {KEY_HEADER: self.credentials.get("api_key", "")})

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._feed(dataset)
        today = now.astimezone(ZONE).date()
        return self._pages(dataset, http, self.request(today - timedelta(days=1), today))

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self._feed(dataset)
        return self._pages(dataset, http, self.request(day, day))

    def _pages(self, dataset: str, http: HttpClient, first: Request) -> list[Response]:
        if not self.credentials.get("api_key"):
            from producers.pjm import MissingApiKey  # the live PJM module's: skipped, logged once

            raise MissingApiKey("PJM outage: no Data Miner subscription key (credentials['api_key'])")
        return api.follow(http, first, lambda url, why: self.error(dataset, url, why))

    # -- parse -----------------------------------------------------------------------------
    def prepare(self, dataset: str, responses: Sequence[Response]) -> dict[int, list[Any]]:
        return api.pages(responses)

    def _rows_outage(self, resp: Response, items: dict[int, list[Any]]) -> list[Any]:
        execution_days(resp.url)  # next-link pages repeat the query, filter included
        page = items[id(resp)]

        def executed(item: Any) -> str:
            value = item.get(FILTER) if isinstance(item, dict) else None
            return value if isinstance(value, str) else ""

        # the later execution last: it wins a forecast day both hold
        return [(item, kind) for item in sorted(page, key=executed) for kind in KINDS]

    def _read_outage(self, row: tuple[Any, str], resp: Response) -> dict[str, Any]:
        """A forecast day's value (every item is read and checked; finish() keeps the days asked
        for, so one bad item among a response's forecast days is refused alone)."""
        item, kind = row
        if not isinstance(item, dict):
            raise FormatError(f"item is not an object: {item!r}")
        day = day_of(item.get("forecast_date"), "forecast_date")
        executed = day_of(item.get(FILTER), FILTER)
        region = api.name(item, "region")
        if region not in AREAS:
            raise FormatError(f"unknown region {region!r}")
        parts = {k: formats.number(item.get(field), field) for k, field in KINDS.items()}
        total = formats.number(item.get("total_outages_mw"), "total_outages_mw")
        if abs(sum(parts.values()) - total) > SUM_TOLERANCE_MW:
            raise FormatError(f"planned + maintenance + forced = {sum(parts.values()):g}, total_outages_mw {total:g}")
        area, area_type = AREAS[region]
        start, end = day_bounds(self.iso, day)
        return self.outage(
            resp,
            area=area,
            area_type=area_type,
            fuel="all",
            kind=kind,
            start=start,
            end=end,
            mw=parts[kind],
            published_at=local_to_utc(datetime.combine(executed, time()), ZONE),
        )

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The days inside each response's execution-date filter, one record per hour."""
        out = []
        for daily in ticks:
            first, last = execution_days(daily["source"])
            day = contract.parse_ts(daily["interval_start"]).astimezone(ZONE).date()
            if first <= day <= last:
                out += hourly_copies(daily)
        return out


__all__ = ["FEED", "MEMBERS", "URL", "PjmOutages"]

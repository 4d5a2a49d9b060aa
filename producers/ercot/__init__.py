"""ERCOT: prices and zonal load from the MIS document service, system load from the website
dashboards. Every MIS report is a document list (IceDocListJsonWS?reportTypeId=...) plus one
zipped CSV per document (mirDownload?doclookupId=...); past days come from the same lists.

lmp   12300 "LMPs by Resource Nodes, Load Zones and Trading Hubs" (NP6-788): one CSV per SCED
      run -> RT5; 12301 "Settlement Point Prices at Resource Nodes, Hubs and Load Zones"
      (NP6-905): one CSV per 15-minute settlement interval -> RT15. See producers.ercot.lmp.
dam   12331 "DAM Settlement Point Prices" (NP4-190): one CSV per operating day, hour ending
      -> DAM. See producers.ercot.dam and .mis (the hour-ending clock and DST days).
load  the "system-wide demand" dashboard JSON: hourly system load, hour ending -> RTH (.load);
      the "supply and demand" dashboard JSON: five-minute system load readings -> RT5, when the
      ISO table has that feed (.demand5); 13101 / 14836 "Actual System Load by Weather / Forecast
      Zone" (NP6-345 / NP6-346): hourly load per zone and the system total -> RTH (.zones).

history(feed, day): the MIS document lists of the feed's reports and the documents of operating
day `day` (lmp: the SCED runs and settlement intervals of that day, by their names; dam: the document
posted the day before; load: the zone reports posted the morning after). A download's document
id is only in its address, so `gridtape parse --url .../mirDownload?doclookupId=N FILE` reads a
saved document (its publication time is then the fetch time: the list is not there).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from producers.base import HttpClient, IsoSource, Response
from producers.ercot import dam, demand5, lmp, load, mis, zones
from producers.formats import FormatError


class ErcotSource(IsoSource):
    iso: ClassVar[str] = "ERCOT"
    archives: ClassVar[frozenset[str]] = frozenset({"lmp", "load", "dam"})

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset == "lmp":
            return lmp.fetch(http, now, since)
        if dataset == "dam":
            return dam.fetch(http, now, since)
        if dataset == "load":
            five = [http.get(demand5.request())] if demand5.enabled(self) else []
            return [http.get(load.request()), *five, *zones.fetch(http, now, since)]
        raise ValueError(f"ERCOT has no dataset {dataset!r}")

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        """Raises SourceError naming the document list when it is unreadable or lists nothing
        for `day`."""
        try:
            if dataset == "lmp":  # the reports the live poll reads, the documents named for `day`
                return [r for rep in lmp.NEWEST for r in mis.archived(http, rep, lambda d: named_day(d) == day, day)]
            if dataset == "dam":
                return dam.history(http, day)
            if dataset == "load":
                return zones.history(http, day)
        except FormatError as exc:
            raise self.error(dataset, exc.url or lmp.DOC_LIST_URL, str(exc)) from None
        return super().history(dataset, day, http)

    def prepare(self, dataset: str, responses: Sequence[Response]) -> dict[str, lmp.Document]:
        """Every listed document's publication time, from the document lists."""
        return lmp.publish_times(responses)

    def wanted(self, dataset: str, response: Response) -> bool:
        return not lmp.is_document_list(response)

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Of two ticks for one interval (two SCED runs in it, a re-published report, the
        dashboard's and the zone report's system hour) the later-published comes last and wins."""
        return sorted(ticks, key=lambda t: t["published_at"])

    def _rows_lmp(self, response: Response, listed: dict[str, lmp.Document]) -> list[Any]:
        return lmp.rows(self, response, listed)

    def _read_lmp(self, row: Any, response: Response) -> dict[str, Any] | None:
        return lmp.read(self, row, response)

    def _rows_dam(self, response: Response, listed: dict[str, lmp.Document]) -> list[Any]:
        return dam.rows(response, listed)

    def _read_dam(self, row: Any, response: Response) -> dict[str, Any] | None:
        return dam.read(self, row, response)

    def _rows_load(self, response: Response, listed: dict[str, lmp.Document]) -> list[Any]:
        kind = load_format(response)
        if kind == "zones":
            return zones.rows(self, response, listed)
        return demand5.rows(response) if kind == "five" else load.rows(response)

    def _read_load(self, row: Any, response: Response) -> dict[str, Any]:
        if isinstance(row[0], dict):  # (fields, published): a zone-report hour or a 5-minute reading
            return demand5.read(self, row, response) if "epoch" in row[0] else zones.read(self, row, response)
        return load.read(self, row, response)


def load_format(response: Response) -> str:
    """hourly (system-wide-demand.json), five (supply-demand.json), zones (a MIS document) or
    list (a MIS document list), by the address; a saved file without one (`gridtape parse`
    with no --url) by its bytes."""
    if lmp.is_document_list(response):
        return "list"
    path = urlsplit(response.url).path
    if path.endswith(urlsplit(load.URL).path):
        return "hourly"
    if path.endswith(urlsplit(demand5.URL).path):
        return "five"
    if path.endswith("mirDownload") or response.body[:2] == b"PK":
        return "zones"
    return "hourly" if b'"previousDay"' in response.body else "five"


def named_day(doc: lmp.Document) -> date | None:
    """The operating day a real-time document holds, from its name: a SCED run is named by the
    run's time (LMPSROSNODENP6788_20250610_134011), a settlement interval by the interval's END
    (SPPHLZNP6905_20250610_1345; the one named 00:00 closes the day before), as gridstatus
    picks a day's 12301 documents (name time in (day 00:00, day+1 00:00])."""
    parts = doc.friendly_name.replace("_retry", "").split("_")
    try:
        named = datetime.strptime(parts[1] + parts[2][:4], "%Y%m%d%H%M")
    except (IndexError, ValueError):
        return None
    return (named - timedelta(minutes=1)).date() if doc.report == lmp.SPP_REPORT else named.date()

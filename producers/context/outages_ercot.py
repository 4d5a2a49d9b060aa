"""ERCOT generation outages: the Hourly Resource Outage Capacity report (NP3-233-CD, MIS report
type id 13103), document list plus zipped CSV as ERCOT's other MIS reports (producers.ercot.mis).

Format (checked against gridstatus Ercot.get_hourly_resource_outage_capacity and
_handle_hourly_resource_outage_capacity_df (HOURLY_RESOURCE_OUTAGE_CAPACITY_RTID = 13103), its
tests' column list, and public code reading the CSV and the public API's np3-233-cd
hourly_res_outage_cap fields; no real sample offline): posted every hour, each document the
Outage Scheduler's view of the next seven days, one row per hour: ``Date`` (MM/DD/YYYY),
``HourEnding`` (1-24, or "01:00"), and MW per load zone South / North / West / Houston of
``TotalResourceMWZone*`` (resources other than IRR), ``TotalIRRMWZone*`` (intermittent
renewables) and ``TotalNewEquipResourceMWZone*`` (new equipment not yet in service: not
capacity out of service, not read). Older files have system columns only (``TotalResourceMW``,
``TotalIRRMW``): read as the system area. The report does not split planned and forced: kind
"total"; fuel "resource" (non-IRR, gridstatus: "a proxy for thermal outages") or "irr".

Areas: the four zones are ERCOT's load zones, named as the forecast-zone load ticks name them
(FZ_NORTH, FZ_SOUTH, FZ_WEST, FZ_HOUSTON); the system area ERCOT is their sum (finish), for
the hours where all four are read.

Clock: hour ENDING on the Central clock. The report has no DSTFlag ("the data set ignores DST",
gridstatus, which localises with ambiguous=DST and drops non-existent times): the repeated
hour of the fall-back day is read as its first (daylight) pass unless a DSTFlag column says Y,
and an hour whose start does not exist (spring day, hour ending 3) is dropped, so the spring
day holds 23 hours and the fall day 24 (the second 01:00 CST hour stays unknown).

Which hours a document yields: those of the operating day it was published on (Central), so a
live poll and a backfilled day read the same rows; the day's later documents win an hour. A
live poll reads the newest document; history(day) every document published on that day.
published_at: the document's PublishDate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Final

from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, Request, Response
from producers.context.outages import FEED, HOUR, OutageSource
from producers.ercot import lmp, mis
from producers.ercot.lmp import DOC_LIST_URL, Document
from producers.formats import FormatError

REPORT: Final = "13103"
ZONE = mis.ZONE
ZONES: Final = {"South": "FZ_SOUTH", "North": "FZ_NORTH", "West": "FZ_WEST", "Houston": "FZ_HOUSTON"}
FUELS: Final = {"TotalResource": "resource", "TotalIRR": "irr"}
ZONED: Final = tuple(f"{prefix}MWZone{z}" for prefix in FUELS for z in ZONES)
SYSTEM_ONLY: Final = tuple(f"{prefix}MW" for prefix in FUELS)


def columns(header: list[str]) -> tuple[str, ...]:
    return ("Date", "HourEnding", *(ZONED if ZONED[0] in header else SYSTEM_ONLY))


def hour_start(day_text: str, label: str, flag: str) -> datetime | None:
    """UTC start of the hour ending at `label` of `day_text`; None for a start that does not
    exist (the spring gap: the report ignores DST)."""
    day = datetime.strptime(day_text.strip(), "%m/%d/%Y")
    hour = int(label.strip().split(":")[0])
    if not 1 <= hour <= 24:
        raise ValueError(f"HourEnding {label!r} is not 1..24")
    repeated = formats.one_of(flag.strip() or "N", mis.FLAGS, "DSTFlag") == "Y"
    try:
        return local_to_utc(day + timedelta(hours=hour - 1), ZONE, repeated=repeated)
    except ValueError:
        return None


class ErcotOutages(OutageSource):
    iso: ClassVar[str] = "ERCOT"

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._feed(dataset)
        listing, docs = mis.listing(http, REPORT)
        ready = sorted((d for d in docs if d.published <= now), key=lambda d: (d.published, d.doc_id))
        return [listing, *mis.download(http, ready[-1:])]

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self._feed(dataset)
        return mis.archived(http, REPORT, lambda d: mis.local_date(d.published) == day, day)

    # -- parse -----------------------------------------------------------------------------
    def prepare(self, dataset: str, responses: Sequence[Response]) -> dict[str, Document]:
        return lmp.publish_times(responses)

    def wanted(self, dataset: str, response: Response) -> bool:
        return not lmp.is_document_list(response)

    def _rows_outage(self, resp: Response, listed: dict[str, Document]) -> list[Any]:
        doc = listed.get(lmp.doc_id(resp))
        if doc is None:
            raise FormatError(f"document {lmp.doc_id(resp)} is not in the report's document list")
        header, records = mis.zipped_csv(resp, columns)
        zoned = ZONED[0] in header
        cells = (
            [(f"{p}MWZone{z}", fuel, ZONES[z]) for p, fuel in FUELS.items() for z in ZONES]
            if zoned
            else [(f"{p}MW", fuel, None) for p, fuel in FUELS.items()]
        )
        return [(row, cell, doc) for row in records for cell in cells]

    def _read_outage(self, row: tuple[dict[str, str], tuple[str, str, str | None], Document], resp: Response) -> Any:
        record, (column, fuel, zone), doc = row
        start = hour_start(record["Date"], record["HourEnding"], record.get("DSTFlag", ""))
        if start is None or mis.local_date(start) != mis.local_date(doc.published):
            return None  # the spring gap, or not the day the document was published on
        return self.outage(
            resp,
            area=zone or self.facts.system,
            area_type="zone" if zone else "system",
            fuel=fuel,
            kind="total",
            start=start,
            end=start + HOUR,
            mw=formats.number(record[column], f"{column} of {record['Date']} HE {record['HourEnding']}"),
            published_at=doc.published,
        )

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The system area for every (document, fuel, hour) whose four zones were all read."""
        sums: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for t in ticks:
            if t["area_type"] == "zone":
                sums.setdefault((t["source"], t["fuel"], t["interval_start"]), []).append(t)
        totals = [
            {
                **parts[-1],
                "area": self.facts.system,
                "area_type": "system",
                "outage_mw": sum(p["outage_mw"] for p in parts),
            }
            for parts in sums.values()
            if sorted(p["area"] for p in parts) == sorted(ZONES.values())
        ]
        return [*ticks, *totals]


def listing_request() -> Request:
    return Request(DOC_LIST_URL, {"reportTypeId": REPORT})


__all__ = ["FEED", "REPORT", "ErcotOutages", "listing_request"]

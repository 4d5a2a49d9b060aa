"""ERCOT real-time prices from the MIS document service (public, no key).

A poll is two steps per report: GET the document list (IceDocListJsonWS?reportTypeId=...),
then GET each chosen document (mirDownload?doclookupId=...), a zip holding one CSV. Every
document is listed twice, as ``..._csv`` and ``..._xml``; only the CSV twins are downloaded.

Report 12300 (NP6-788, RT5): one document per SCED run. SCED runs about every five minutes
but at irregular times (``SCEDTimestamp`` 06/10/2025 13:40:11, Central prevailing time; the
second pass through the fall-back hour has ``RepeatedHourFlag`` Y). ERCOT applies a SCED
run's prices from its timestamp until the next run, so gridtape maps a run to the 5-minute
interval its timestamp falls in (floor to :00/:05/..., computed in UTC): the run at 13:40:11
CDT is the interval 18:40-18:45Z. When two runs fall in one interval (a re-run after a
failure or a manual run) the later run wins; an interval with no run has no tick (a real gap,
not filled in).

Report 12301 (NP6-905, RT15): one document per 15-minute settlement interval, with
``DeliveryDate`` (MM/DD/YYYY), ``DeliveryHour`` (hour ENDING, 1-24; on the spring day hour
ending 3 does not exist) and ``DeliveryInterval`` (1-4 within the hour), Central prevailing
time; ``DSTFlag`` Y marks the repeated (standard-time) hour of the fall-back day. Load zones
are published twice, as type LZ and as LZEW (the energy-weighted variant, same name); the
LZ price is the load zone's settlement price, so LZEW rows are not emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from gridtape.contract import tick
from gridtape.timeutil import CENTRAL, interval_beginning, local_to_utc, with_offset
from producers import formats
from producers.base import HttpClient, Request, Response
from producers.formats import FormatError

if TYPE_CHECKING:
    from producers.ercot import ErcotSource

DOC_LIST_URL = "https://www.ercot.com/misapp/servlets/IceDocListJsonWS"
DOWNLOAD_URL = "https://www.ercot.com/misdownload/servlets/mirDownload"
SCED_REPORT = "12300"
SPP_REPORT = "12301"
# Documents fetched per poll: the newest few, so one missed poll is filled by the next.
NEWEST = {SCED_REPORT: 3, SPP_REPORT: 2}
SCED_COLUMNS = ("SCEDTimestamp", "RepeatedHourFlag", "SettlementPoint", "LMP")
SPP_COLUMNS = (
    "DeliveryDate",
    "DeliveryHour",
    "DeliveryInterval",
    "SettlementPointName",
    "SettlementPointType",
    "SettlementPointPrice",
    "DSTFlag",
)
SKIPPED_TYPES = ("LZEW",)
FLAGS = ("Y", "N")


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    report: str
    published: datetime
    friendly_name: str


def location_type(name: str) -> str:
    if name.startswith("HB_"):
        return "hub"
    if name.startswith("LZ_"):
        return "zone"
    return "node"


# -- fetch ------------------------------------------------------------------------------------
def fetch(http: HttpClient, now: datetime) -> list[Response]:
    out: list[Response] = []
    for report, keep in NEWEST.items():
        listing = http.get(Request(DOC_LIST_URL, {"reportTypeId": report}))
        out.append(listing)
        try:
            docs = documents(listing)
        except FormatError:
            continue  # parse() reports the broken list as a SourceError
        chosen = sorted((d for d in docs if d.published <= now), key=lambda d: (d.published, d.doc_id))[-keep:]
        out.extend(http.get(Request(DOWNLOAD_URL, {"doclookupId": d.doc_id})) for d in chosen)
    return out


def is_document_list(response: Response) -> bool:
    return urlsplit(response.url).path.endswith("IceDocListJsonWS")


def documents(listing: Response) -> list[Document]:
    """The CSV documents of a document list."""
    entries = formats.path(formats.json_document(listing.body), "ListDocsByRptTypeRes", "DocumentList")
    if not isinstance(entries, list):
        raise FormatError("DocumentList is not a list")
    out = []
    for entry in entries:
        doc = formats.path(entry, "Document")
        name = str(formats.path(doc, "FriendlyName"))
        if not name.endswith("_csv"):
            continue
        try:
            published = with_offset(str(formats.path(doc, "PublishDate")))
        except ValueError:
            raise FormatError(f"document {doc.get('DocID')}: bad PublishDate {doc.get('PublishDate')!r}") from None
        out.append(Document(str(formats.path(doc, "DocID")), str(formats.path(doc, "ReportTypeID")), published, name))
    return out


# -- parse ------------------------------------------------------------------------------------
def publish_times(source: ErcotSource, responses: Sequence[Response]) -> dict[str, Document]:
    out: dict[str, Document] = {}
    for response in responses:
        if is_document_list(response):
            try:
                out.update((d.doc_id, d) for d in documents(response))
            except FormatError as exc:
                raise source.error("lmp", response.url, str(exc)) from None
    return out


def doc_id(response: Response) -> str:
    ids = parse_qs(urlsplit(response.url).query).get("doclookupId", [])
    if len(ids) != 1:
        raise FormatError("download URL has no doclookupId")
    return ids[0]


def parse_document(
    source: ErcotSource, response: Response, listed: dict[str, Document]
) -> list[tuple[datetime, dict[str, Any]]]:
    """(run time, tick) pairs from one downloaded document; the run time ranks revisions."""
    doc = listed.get(doc_id(response))
    published = doc.published if doc else response.fetched_at
    members = formats.zip_members(response.body)
    csvs = [name for name in members if name.lower().endswith(".csv")]
    if len(csvs) != 1:
        raise FormatError(f"expected one CSV in the zip, found {sorted(members)}")
    text = formats.decode(members[csvs[0]])
    header = formats.csv_rows(text)[:1]
    if header and "SCEDTimestamp" in [h.strip() for h in header[0]]:
        return _sced(source, response, formats.csv_records(text, SCED_COLUMNS), published)
    return _spp(source, response, formats.csv_records(text, SPP_COLUMNS), published)


def _sced(
    source: ErcotSource, response: Response, rows: list[dict[str, str]], published: datetime
) -> list[tuple[datetime, dict[str, Any]]]:
    out = []
    seen: set[tuple[str, datetime]] = set()
    for row in rows:
        name = row["SettlementPoint"]
        kind = location_type(name)
        if kind == "node" and not source.include_nodes:
            continue
        flag = formats.one_of(row["RepeatedHourFlag"], FLAGS, f"{name} RepeatedHourFlag")
        try:
            wall = datetime.strptime(row["SCEDTimestamp"], "%m/%d/%Y %H:%M:%S")
            run = local_to_utc(wall, CENTRAL, repeated=flag == "Y")
        except ValueError as exc:
            raise FormatError(f"{name}: SCEDTimestamp {row['SCEDTimestamp']!r}: {exc}") from None
        if (name, run) in seen:
            raise FormatError(f"{name} appears twice in SCED run {row['SCEDTimestamp']}")
        seen.add((name, run))
        start = run.replace(minute=run.minute - run.minute % 5, second=0, microsecond=0)
        out.append((run, _tick(source, response, "RT5", name, kind, start, 5, row["LMP"], published)))
    return out


def _spp(
    source: ErcotSource, response: Response, rows: list[dict[str, str]], published: datetime
) -> list[tuple[datetime, dict[str, Any]]]:
    out = []
    seen: set[tuple[str, datetime]] = set()
    for row in rows:
        name = row["SettlementPointName"]
        kind = location_type(name)
        if row["SettlementPointType"] in SKIPPED_TYPES or (kind == "node" and not source.include_nodes):
            continue
        flag = formats.one_of(row["DSTFlag"], FLAGS, f"{name} DSTFlag")
        try:
            day = datetime.strptime(row["DeliveryDate"], "%m/%d/%Y")
            hour, quarter = int(row["DeliveryHour"]), int(row["DeliveryInterval"])
            if not (1 <= hour <= 24 and 1 <= quarter <= 4):
                raise ValueError(f"hour {hour} interval {quarter} out of range")
            wall = day + timedelta(hours=hour - 1, minutes=15 * (quarter - 1))
            start = local_to_utc(wall, CENTRAL, repeated=flag == "Y")
        except ValueError as exc:
            raise FormatError(f"{name} {row['DeliveryDate']} HE{row['DeliveryHour']}: {exc}") from None
        if (name, start) in seen:
            raise FormatError(f"{name} appears twice for {start:%Y-%m-%dT%H:%MZ}")
        seen.add((name, start))
        out.append(
            (published, _tick(source, response, "RT15", name, kind, start, 15, row["SettlementPointPrice"], published))
        )
    return out


def _tick(
    source: ErcotSource,
    response: Response,
    market: str,
    name: str,
    kind: str,
    start: datetime,
    minutes: int,
    price: str,
    published: datetime,
) -> dict[str, Any]:
    begin, end = interval_beginning(start, minutes)
    return tick(
        iso=source.iso,
        market=market,
        dataset="lmp",
        location=name,
        location_type=kind,
        interval_start=begin,
        interval_end=end,
        lmp=formats.number(price, f"{name} price"),
        published_at=published,
        ingested_at=response.fetched_at,
        source=response.url,
    )


def latest_run_per_interval(ranked: list[tuple[datetime, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One tick per (market, location, interval): the latest SCED run (or latest-published
    settlement price) wins, as it would as a revision downstream."""
    best: dict[tuple[str, str, str], tuple[datetime, dict[str, Any]]] = {}
    for rank, t in ranked:
        key = (t["market"], t["location"], t["interval_start"])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, t)
    return sorted((t for _, t in best.values()), key=lambda t: (t["market"], t["interval_start"], t["location"]))

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
``DeliveryDate`` (MM/DD/YYYY), ``DeliveryHour`` (hour ENDING, 1-24; on the spring day the
hour 01:00-02:00 CST is numbered 2 or, ERCOT's protocols skipping hour ending 2, 3: both read
as that hour, see producers.ercot.mis) and ``DeliveryInterval`` (1-4 within the hour), Central prevailing
time; ``DSTFlag`` Y marks the repeated (standard-time) hour of the fall-back day. Load zones
are published twice, as type LZ and as LZEW (the energy-weighted variant, same name); the
LZ price is the load zone's settlement price, so LZEW rows are not emitted.

After an outage (the poller's cursor `since` older than the newest documents a poll reads) the
documents published since the cursor are read, oldest first, at most CATCHUP per report a poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from gridtape import isos
from gridtape.timeutil import local_to_utc, with_offset
from producers import formats
from producers.base import HttpClient, Request, Response
from producers.formats import FormatError

if TYPE_CHECKING:
    from producers.ercot import ErcotSource

ZONE = isos.get("ERCOT").tz  # the market clock, from the ISO table
DOC_LIST_URL = "https://www.ercot.com/misapp/servlets/IceDocListJsonWS"
DOWNLOAD_URL = "https://www.ercot.com/misdownload/servlets/mirDownload"
SCED_REPORT = "12300"
SPP_REPORT = "12301"
# Documents fetched per poll: the newest few, so one missed poll is filled by the next.
NEWEST = {SCED_REPORT: 3, SPP_REPORT: 2}
# After an outage (documents published since the poller's cursor): at most this many a poll,
# oldest first, so the cursor moves forward without a hole (~5 minutes of SCED runs each).
CATCHUP = {SCED_REPORT: 24, SPP_REPORT: 8}
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
    return formats.location_type(name, hub="HB_", zone="LZ_")


# -- fetch ------------------------------------------------------------------------------------
def fetch(http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
    out: list[Response] = []
    for report, keep in NEWEST.items():
        listing = http.get(Request(DOC_LIST_URL, {"reportTypeId": report}))
        out.append(listing)
        try:
            docs = documents(listing)
        except FormatError:
            continue  # parse() reports the broken list as a SourceError
        ready = sorted((d for d in docs if d.published <= now), key=lambda d: (d.published, d.doc_id))
        chosen = ready[-keep:]
        if since is not None and chosen and since < chosen[0].published:
            chosen = [d for d in ready if d.published > since][: max(keep, CATCHUP[report])]
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
def publish_times(responses: Sequence[Response]) -> dict[str, Document]:
    out: dict[str, Document] = {}
    for response in responses:
        if is_document_list(response):
            if response.status != 200:
                raise FormatError(f"HTTP {response.status}", response.url)
            try:
                out.update((d.doc_id, d) for d in documents(response))
            except FormatError as exc:
                raise FormatError(str(exc), response.url) from None
    return out


def doc_id(response: Response) -> str:
    ids = parse_qs(urlsplit(response.url).query).get("doclookupId", [])
    if len(ids) != 1:
        raise FormatError("download URL has no doclookupId")
    return ids[0]


def rows(source: ErcotSource, response: Response, listed: dict[str, Document]) -> list[tuple[dict[str, str], datetime]]:
    """(row, the document's publication time) for the rows of one downloaded document."""
    doc = listed.get(doc_id(response))
    published = doc.published if doc else response.fetched_at
    members = formats.zip_members(response.body)
    csvs = [name for name in members if name.lower().endswith(".csv")]
    if len(csvs) != 1:
        raise FormatError(f"expected one CSV in the zip, found {sorted(members)}")
    text = formats.decode(members[csvs[0]])
    header = formats.csv_rows(text)[:1]
    sced = bool(header) and "SCEDTimestamp" in [h.strip() for h in header[0]]
    records = formats.csv_records(text, SCED_COLUMNS if sced else SPP_COLUMNS)
    keys = [_key(r) for r in records]
    if len(set(keys)) != len(keys):
        raise FormatError(f"{len(keys) - len(set(keys))} settlement point(s) appear twice for one time")
    return [(row, published) for row in records]


def _key(row: dict[str, str]) -> tuple[str, ...]:
    if "SCEDTimestamp" in row:
        return (row["SettlementPoint"], row["SCEDTimestamp"], row["RepeatedHourFlag"])
    return (row["SettlementPointName"], row["SettlementPointType"], row["DeliveryDate"], row["DeliveryHour"],
            row["DeliveryInterval"], row["DSTFlag"])  # fmt: skip


def read(source: ErcotSource, item: tuple[dict[str, str], datetime], response: Response) -> dict[str, Any] | None:
    row, published = item
    sced = "SCEDTimestamp" in row
    name = row["SettlementPoint" if sced else "SettlementPointName"]
    kind = location_type(name)
    if (kind == "node" and not source.include_nodes) or row.get("SettlementPointType") in SKIPPED_TYPES:
        return None
    flag = formats.one_of(row["RepeatedHourFlag" if sced else "DSTFlag"], FLAGS, f"{name} repeated-hour flag")
    if sced:
        market, price = "RT5", row["LMP"]
        try:
            run = local_to_utc(datetime.strptime(row["SCEDTimestamp"], "%m/%d/%Y %H:%M:%S"), ZONE, repeated=flag == "Y")
        except ValueError as exc:
            raise FormatError(f"{name}: SCEDTimestamp {row['SCEDTimestamp']!r}: {exc}") from None
        start = run.replace(minute=run.minute - run.minute % 5, second=0, microsecond=0)  # the run's interval
    else:
        market, price = "RT15", row["SettlementPointPrice"]
        try:
            day = datetime.strptime(row["DeliveryDate"], "%m/%d/%Y")
            hour, quarter = int(row["DeliveryHour"]), int(row["DeliveryInterval"])
            if not (1 <= hour <= 24 and 1 <= quarter <= 4):
                raise ValueError(f"hour {hour} interval {quarter} out of range")
            wall = day + timedelta(hours=hour - 1, minutes=15 * (quarter - 1))  # hour ENDING -> interval start
            try:
                start = local_to_utc(wall, ZONE, repeated=flag == "Y")
            except ValueError:  # the spring gap: hour 3 labels 01:00-02:00 CST by its end (see .mis)
                start = local_to_utc(wall + timedelta(hours=1), ZONE) - timedelta(hours=1)
        except ValueError as exc:
            raise FormatError(f"{name} {row['DeliveryDate']} HE{row['DeliveryHour']}: {exc}") from None
    return source.tick(
        response,
        "lmp",
        market=market,
        location=name,
        location_type=kind,
        start=start,
        published_at=published,
        lmp=formats.number(price, f"{name} price"),
    )

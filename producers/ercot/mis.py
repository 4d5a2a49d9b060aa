"""What the ERCOT MIS reports gridtape reads share: one zipped CSV per document, the
hour-ending clock of the hourly reports, and picking documents from a document list.

Hour-ending reports (DAM settlement point prices NP4-190, actual load by weather / forecast zone
NP6-345 / NP6-346) label each hour by its END on the Central prevailing clock: ``HourEnding``
"01:00" .. "24:00" (some reports write 1 .. 24) of ``DeliveryDate`` / ``OperDay`` (MM/DD/YYYY),
``DSTFlag`` Y on the second (standard-time) pass through the repeated hour of the fall-back day
(25 rows, HE 02:00 twice). On the spring-forward day ERCOT's protocols skip hour ending 02:00;
the hour 01:00-02:00 CST then ends at 03:00 CDT and is labelled "03:00". gridtape maps a label
to the interval START = label - 1 h on the local clock; when that wall time does not exist (the
spring gap) the label is the hour's END on the new clock, so the interval ends there. gridstatus
reads the same files the same way (Ercot.parse_doc: HourEnding - 1 h, DSTFlag for the ambiguous
hour, a non-existent start shifted to the hour ending at the label).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta

from gridtape import isos
from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, Request, Response
from producers.ercot.lmp import DOC_LIST_URL, DOWNLOAD_URL, Document, documents
from producers.formats import FormatError

ZONE = isos.get("ERCOT").tz
HOUR = timedelta(hours=1)
FLAGS = ("Y", "N")


def hour_ending_start(day_text: str, label: str, flag: str) -> datetime:
    """UTC start of the hour labelled `label` (hour ending) of operating day `day_text`."""
    day = datetime.strptime(day_text.strip(), "%m/%d/%Y")
    hh, sep, mm = label.strip().partition(":")
    hour = int(hh)
    if (sep and mm != "00") or not 1 <= hour <= 24:
        raise ValueError(f"hour ending {label!r} is not 01:00..24:00")
    repeated = formats.one_of(flag.strip(), FLAGS, "DSTFlag") == "Y"
    try:
        return local_to_utc(day + timedelta(hours=hour - 1), ZONE, repeated=repeated)
    except ValueError:  # the spring gap: the label is the END of 01:00-02:00 CST, on the new clock
        return local_to_utc(day + timedelta(hours=hour), ZONE) - HOUR


def row_start(who: str, day_text: str, label: str, flag: str) -> datetime:
    """hour_ending_start of one report row; a bad day or label is a FormatError naming `who`."""
    try:
        return hour_ending_start(day_text, label, flag)
    except ValueError as exc:
        raise FormatError(f"{who} {day_text} HE {label!r}: {exc}") from None


def zipped_csv(
    response: Response, columns: Sequence[str] | Callable[[list[str]], Sequence[str]]
) -> tuple[list[str], list[dict[str, str]]]:
    """(header, records) of the one CSV in a downloaded document; every column of `columns`
    (or of what it gives for the header) must be there (a renamed column is a FormatError)."""
    members = formats.zip_members(response.body)
    csvs = [name for name in members if name.lower().endswith(".csv")]
    if len(csvs) != 1:
        raise FormatError(f"expected one CSV in the zip, found {sorted(members)}")
    text = formats.decode(members[csvs[0]])
    header = [h.strip() for h in (formats.csv_rows(text)[:1] or [[]])[0]]
    return header, formats.csv_records(text, tuple(columns(header) if callable(columns) else columns))


def local_date(t: datetime) -> date:
    return t.astimezone(ZONE).date()


def listing(http: HttpClient, report: str) -> tuple[Response, list[Document]]:
    """The report's document list and its CSV documents ([] when the list is unreadable:
    parse() reports it as a SourceError)."""
    response = http.get(Request(DOC_LIST_URL, {"reportTypeId": report}))
    try:
        return response, documents(response)
    except FormatError:
        return response, []


def archived(http: HttpClient, report: str, holds: Callable[[Document], bool], day: date) -> list[Response]:
    """For history(): the report's document list and the documents `holds` picks for `day`. A
    list that cannot be read, or that holds no such document (MIS keeps a report's documents
    for a limited time), is a FormatError naming the list: a backfilled day is never silently
    empty."""
    response = http.get(Request(DOC_LIST_URL, {"reportTypeId": report}))
    if response.status != 200:
        raise FormatError(f"HTTP {response.status}", response.url)
    try:
        docs = [d for d in documents(response) if holds(d)]
    except FormatError as exc:
        raise FormatError(str(exc), response.url) from None
    if not docs:
        raise FormatError(f"report {report} lists no document for operating day {day}", response.url)
    return [response, *download(http, docs)]


def download(http: HttpClient, docs: Iterable[Document]) -> list[Response]:
    """The documents, oldest first (so a later correction is read last and wins)."""
    ordered = sorted(docs, key=lambda d: (d.published, d.doc_id))
    return [http.get(Request(DOWNLOAD_URL, {"doclookupId": d.doc_id})) for d in ordered]


def newest_per_day(docs: Iterable[Document], day_of: dict[str, date]) -> list[Document]:
    """Of the documents for each day (`day_of`: DocID -> the operating day it holds), the
    latest published (a re-posted report supersedes the first)."""
    latest: dict[date, Document] = {}
    for d in sorted(docs, key=lambda d: (d.published, d.doc_id)):
        if d.doc_id in day_of:
            latest[day_of[d.doc_id]] = d
    return list(latest.values())

"""ERCOT day-ahead settlement point prices: MIS report 12331, "DAM Settlement Point Prices"
(NP4-190-CD), the same document list + zipped CSV path as the real-time reports (producers.
ercot.lmp), public, no key.

One document per operating day, posted the day before when the DAM clears (about 13:30 Central;
the ISO table's posts_at). Columns ``DeliveryDate`` (MM/DD/YYYY), ``HourEnding`` ("01:00" ..
"24:00", hour ENDING on the Central prevailing clock), ``SettlementPoint``, ``SettlementPointPrice``
($/MWh), ``DSTFlag`` (Y: the repeated standard-time hour of the fall-back day); see producers.
ercot.mis for the DST days. Every settlement point is listed: hubs (HB_*), load zones (LZ_*) and
resource nodes (only with include_nodes). No price components are published. gridstatus reads
the same report (DAM_SETTLEMENT_POINT_PRICES_RTID = 12331; a day's document is the one published
the day before), as does ERCOT's public API (np4-190-cd/dam_stlmnt_pnt_prices).

The document list gives no operating day, so it is worked out from the publication date: the
day after it. A poll reads the operating day in progress and, once posted, the next; after an
outage (the cursor `since` days back) the days since, up to CATCHUP_DAYS.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from producers import formats
from producers.base import HttpClient, Response
from producers.ercot import lmp, mis
from producers.formats import FormatError

if TYPE_CHECKING:
    from producers.ercot import ErcotSource

REPORT = "12331"
COLUMNS = ("DeliveryDate", "HourEnding", "SettlementPoint", "SettlementPointPrice", "DSTFlag")
CATCHUP_DAYS = 7
DAY = timedelta(days=1)


def operating_day(doc: lmp.Document) -> date:
    return mis.local_date(doc.published) + DAY


def fetch(http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
    listing, docs = mis.listing(http, REPORT)
    today = mis.local_date(now)
    first = today
    if since is not None:
        first = max(min(mis.local_date(since), today), today - timedelta(days=CATCHUP_DAYS))
    wanted = {first + k * DAY for k in range((today - first).days + 2)}  # ... today, tomorrow
    ready = {d.doc_id: operating_day(d) for d in docs if d.published <= now and operating_day(d) in wanted}
    return [listing, *mis.download(http, mis.newest_per_day(docs, ready))]


def history(http: HttpClient, day: date) -> list[Response]:
    """Operating day `day`'s results: the document(s) published the day before."""
    return mis.archived(http, REPORT, lambda d: operating_day(d) == day, day)


def rows(response: Response, listed: dict[str, lmp.Document]) -> list[tuple[dict[str, str], datetime]]:
    """(row, the document's publication time) for one downloaded document."""
    doc = listed.get(lmp.doc_id(response))
    published = doc.published if doc else response.fetched_at
    _, records = mis.zipped_csv(response, COLUMNS)
    keys = [(r["SettlementPoint"], r["DeliveryDate"], r["HourEnding"], r["DSTFlag"]) for r in records]
    if len(set(keys)) != len(keys):
        raise FormatError(f"{len(keys) - len(set(keys))} settlement point(s) appear twice for one hour")
    return [(row, published) for row in records]


def read(source: ErcotSource, item: tuple[dict[str, str], datetime], response: Response) -> dict[str, Any] | None:
    row, published = item
    name = row["SettlementPoint"].strip()
    kind = lmp.location_type(name)
    if kind == "node" and not source.include_nodes:
        return None
    start = mis.row_start(name, row["DeliveryDate"], row["HourEnding"], row["DSTFlag"])
    return source.tick(
        response,
        "dam",
        location=name,
        location_type=kind,
        start=start,
        published_at=published,
        lmp=formats.number(row["SettlementPointPrice"], f"{name} price"),
    )

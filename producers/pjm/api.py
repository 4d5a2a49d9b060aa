"""PJM Data Miner 2: endpoints, pnode ids, request filters, the JSON envelope and its times.

Shared by the live polls and history() of producers.pjm (the IsoSource is in __init__)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gridtape import isos
from producers import formats
from producers.base import HttpClient, Request, Response
from producers.formats import FormatError

ZONE = isos.get("PJM").tz  # the market clock, from the ISO table
API = "https://api.pjm.com/api/v1"
API_HOST = urlsplit(API).netloc
LMP_URL = f"{API}/rt_unverified_fivemin_lmps"  # live 5-minute LMPs
SETTLED_LMP_URL = f"{API}/rt_fivemin_hrl_lmps"  # settled (verified) 5-minute LMPs, a day or so later
DA_LMP_URL = f"{API}/da_hrl_lmps"  # day-ahead hourly LMPs
LOAD_URL = f"{API}/inst_load"  # instantaneous load by area
KEY_HEADER = "Ocp-Apim-Subscription-Key"
# Feed name -> the endpoints whose items it reads (the first is the live one) and the suffix
# of their price fields.
ENDPOINTS: dict[str, tuple[str, ...]] = {
    "lmp": (LMP_URL, SETTLED_LMP_URL),
    "dam": (DA_LMP_URL,),
    "load": (LOAD_URL,),
}
PRICE_SUFFIX = {"lmp": "rt", "dam": "da"}

# The ISO table's hubs by PJM pnode id (the unverified feed has no type field: ids tell hubs
# and zones apart).
HUB_IDS: dict[str, int] = {
    "EASTERN HUB": 51217,
    "ATSI GEN HUB": 116013751,
    "DOMINION HUB": 35010337,
    "OHIO HUB": 34497151,
    "AEP-DAYTON HUB": 34497127,
    "AEP GEN HUB": 34497125,
    "CHICAGO HUB": 33092315,
    "CHICAGO GEN HUB": 33092313,
    "N ILLINOIS HUB": 33092311,
    "WESTERN HUB": 4669664,
    "WEST INT HUB": 51288,
    "NEW JERSEY HUB": 51287,
}
ZONES: dict[int, str] = {
    1: "PJM-RTO",
    3: "MID-ATL/APS",
    51291: "AECO",
    51292: "BGE",
    51293: "DPL",
    51295: "JCPL",
    51296: "METED",
    51297: "PECO",
    51298: "PEPCO",
    51299: "PPL",
    51300: "PENELEC",
    51301: "PSEG",
    7633629: "RECO",
    8394954: "APS",
    8445784: "AEP",
    33092371: "COMED",
    34508503: "DAY",
    34964545: "DOM",
    37737283: "DUQ",
    116013753: "ATSI",
    124076095: "DEOK",
    970242670: "EKPC",
    1709725933: "OVEC",
}

ROW_COUNT = 50000  # Data Miner's largest page
MAX_PAGES = 50  # a window is at most a few pages; more means a paging loop
LOOKBACK = timedelta(hours=1)  # re-read the last hour: revisions win, a missed poll heals
MAX_CATCHUP = timedelta(hours=24)  # after an outage, the window reaches back this far at most
FIVE = timedelta(minutes=5)

LMP_REQUIRED = ("datetime_beginning_utc", "pnode_id", "pnode_name")
LOAD_REQUIRED = ("datetime_beginning_utc", "area", "instantaneous_load")


def utc_window(now: datetime, since: datetime | None = None) -> str:
    """Data Miner's range filter, 'YYYY-MM-DDTHH:MMtoYYYY-MM-DDTHH:MM', on the UTC field."""
    end = now.astimezone(UTC).replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % 5)
    start = end - LOOKBACK
    if since is not None and since < start:
        start = max(since.astimezone(UTC).replace(second=0, microsecond=0), end - MAX_CATCHUP)
    return f"{start:%Y-%m-%dT%H:%M}to{end:%Y-%m-%dT%H:%M}"


def ept_days(first: date, last: date, through_midnight: bool = False) -> str:
    """The range filter on datetime_beginning_ept (wall clock, both ends inclusive) for the
    operating days first..last: both 01:00 hours of a fall-back day fall in it. With
    `through_midnight`, up to the next midnight: the reading that ends the last interval."""
    end = f"{last + timedelta(days=1)}T00:00" if through_midnight else f"{last}T23:59"
    return f"{first}T00:00to{end}"


def endpoint(feed: str, url: str) -> str:
    """The Data Miner endpoint a response of `feed` came from, by its URL (a saved file's
    path naming none: the feed's live endpoint). Another feed's endpoint is a FormatError."""
    path = urlsplit(url).path
    named = [u for urls in ENDPOINTS.values() for u in urls if u.rsplit("/", 1)[1] in path.rsplit("/", 1)[-1]]
    if not named:
        return ENDPOINTS[feed][0]
    if named[0] not in ENDPOINTS[feed]:
        raise FormatError(f"{named[0].rsplit('/', 1)[1]} is not a {feed} endpoint")
    return named[0]


def operating_day(url: str) -> tuple[date, date] | None:
    """The operating days a history request asked for (its datetime_beginning_ept filter)."""
    values = parse_qs(urlsplit(url).query).get("datetime_beginning_ept")
    if not values:
        return None
    first, _, last = values[0].partition("to")
    try:
        start = date.fromisoformat(first[:10])
        end = datetime.fromisoformat(last)
    except ValueError:
        raise FormatError(f"datetime_beginning_ept filter {values[0]!r} in the URL is not a date range") from None
    return start, (end - timedelta(minutes=1)).date()


def naive(text: Any, what: str) -> datetime:
    if not isinstance(text, str):
        raise FormatError(f"{what}: expected text, got {text!r}")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"{what}: bad time {text!r}") from None


def utc(item: dict[str, Any]) -> datetime:
    """datetime_beginning_utc, cross-checked against datetime_beginning_ept when the item has it."""
    value = naive(item["datetime_beginning_utc"], "datetime_beginning_utc")
    value = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if item.get("datetime_beginning_ept") is not None:
        ept = naive(item["datetime_beginning_ept"], "datetime_beginning_ept").replace(tzinfo=None)
        if value.astimezone(ZONE).replace(tzinfo=None) != ept:
            raise FormatError(
                f"datetime_beginning_utc {item['datetime_beginning_utc']} and datetime_beginning_ept "
                f"{item['datetime_beginning_ept']} name different instants"
            )
    return value


def ceil5(at: datetime) -> datetime:
    """The 5-minute boundary at or after `at`: the end of the interval a reading at `at` closes."""
    floor = at.replace(second=0, microsecond=0) - timedelta(minutes=at.minute % 5)
    return floor if floor == at else floor + FIVE


def required(item: dict[str, Any], names: Sequence[str]) -> None:
    for name in names:
        if name not in item:
            raise FormatError(f"no field {name!r}; item has {', '.join(sorted(item))}")


def name(item: dict[str, Any], field: str) -> str:
    value = item[field]
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"{field}: expected a name, got {value!r}")
    return value.strip()


def pages(responses: Sequence[Response]) -> dict[int, list[Any]]:
    """Each page's items, after checking that each chain of pages (a first page, then the
    pages its `next` links led to) holds totalRows items in all: a lost page is an error,
    not a silent gap."""
    items: dict[int, list[Any]] = {}
    total: Any = None
    got = 0
    for resp in responses:
        if resp.status != 200:
            raise FormatError(f"HTTP {resp.status}", resp.url)
        doc = formats.json_document(resp.body)
        if not isinstance(doc, dict):
            raise FormatError(f"expected a JSON object, got {type(doc).__name__}", resp.url)
        page = formats.path(doc, "items")
        if not isinstance(page, list):
            raise FormatError("items is not a list", resp.url)
        items[id(resp)] = page
        if total is None:
            total, got = doc.get("totalRows"), 0
        got += len(page)
        if next_href(doc) is None:  # the chain ends here
            if isinstance(total, int) and total != got:
                raise FormatError(f"got {got} items of totalRows {total} (a page missing?)", resp.url)
            total = None
    if total is not None:
        raise FormatError("the last page still has a next link (a page missing?)", responses[-1].url)
    return items


def next_link(resp: Response) -> str | None:
    if resp.status != 200:
        return None  # parse reports it
    try:
        return next_href(formats.json_document(resp.body))
    except formats.FormatError:
        return None


def next_href(doc: Any) -> str | None:
    links = (doc.get("links") if isinstance(doc, dict) else None) or []
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None


def follow(http: HttpClient, first: Request, fail: Callable[[str, str], Exception]) -> list[Response]:
    """The first page and every page its next links name, up to MAX_PAGES. A next link off
    https://API_HOST is refused (the key goes to PJM only), and so is a paging loop; `fail(url,
    reason)` makes the error to raise."""
    responses = [http.get(first)]
    while len(responses) < MAX_PAGES:
        nxt = next_link(responses[-1])
        if nxt is None:
            return responses
        where = urlsplit(nxt)
        if where.scheme != "https" or where.netloc.lower() != API_HOST:
            raise fail(responses[-1].url, f"next link {nxt!r} leaves https://{API_HOST}: refused")
        # The next link is a complete URL (query string included), sent as given.
        responses.append(http.get(Request(nxt, {}, first.headers)))
    raise fail(responses[-1].url, f"still a next link after {MAX_PAGES} pages")

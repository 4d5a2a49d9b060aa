"""PJM: real-time 5-minute LMP and instantaneous load from the Data Miner 2 API (api.pjm.com).

Endpoints (a free subscription key, sent as the Ocp-Apim-Subscription-Key header):
- lmp: ``/api/v1/rt_unverified_fivemin_lmps``, PJM's live 5-minute LMPs. The verified feed
  ``rt_fivemin_hrl_lmps`` has the same item shape but lands about a day later, too late for a
  stream; it is the feed to re-read for settled values.
- load: ``/api/v1/inst_load``, load by area (21 transmission zones, UG, the three regions and
  the RTO), posted every 5 minutes.

Every response is one JSON envelope: ``items`` (the rows), ``totalRows``, and ``links`` whose
``next`` link (present while rows remain) is followed until it is gone. Checked against real
captures in ../shared/iso-samples/pjm (rt_unverified_fivemin_lmps with 154 items; the
rt_marginal_value envelope).

Time: items carry ``datetime_beginning_utc`` (UTC, no offset, interval BEGINNING) next to the
Eastern ``datetime_beginning_ept``. gridtape reads the UTC field (and refuses an item whose EPT
field, when present, names another instant: two redundant fields that disagree mean one is
wrong) and filters requests on it too (each poll asks for the last hour, so revisions land and a missed poll heals), so neither DST day needs special handling: the repeated 01:00 EPT hour is two distinct
UTC hours and the skipped spring hour simply has no rows. inst_load stamps are readings;
gridtape files the reading at T under the 5-minute interval containing T (beginning at T
floored to 5 minutes), the latest reading winning if two fall in one interval.

Fields: ``pnode_id``, ``pnode_name``, ``total_lmp_rt`` are required. The components
``system_energy_price_rt``, ``congestion_price_rt`` and ``marginal_loss_price_rt`` (PJM's
convention: total = energy + congestion + loss) are stored when the feed returns them and null
when it does not (the real capture requested only the total). The unverified feed has no
``type`` field, so hubs and zones are told apart by pnode id: the 12 trading hubs and the
transmission zones (plus the PJM-RTO and MID-ATL/APS aggregates, typed zone) are requested by
id. With include_nodes the request is unfiltered and every other pnode is a ``node``.

Load: the area ``PJM RTO`` is the ``system`` tick; every other area, regions included, is a
``zone`` (regions and the RTO are sums of zones: do not add them up).

Transport: the ``next`` link comes from the response body, so it is followed only to PJM's API
host over https (anything else is a SourceError and is never asked): the key must not travel
anywhere else. A redirect to another host drops it too (producers.transport).
After an outage (the poller's cursor `since` before the hour a poll re-reads) the window
reaches back to the cursor, at most MAX_CATCHUP.

published_at: items carry no publication time; the response's Last-Modified when sent (Data
Miner stamps it with the answer's own time), else the fetch time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from gridtape import isos
from gridtape.errors import TerminalError
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

ZONE = isos.get("PJM").tz  # the market clock, from the ISO table
API = "https://api.pjm.com/api/v1"
API_HOST = urlsplit(API).netloc
LMP_URL = f"{API}/rt_unverified_fivemin_lmps"
LOAD_URL = f"{API}/inst_load"
KEY_HEADER = "Ocp-Apim-Subscription-Key"

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

LMP_REQUIRED = ("datetime_beginning_utc", "pnode_id", "pnode_name", "total_lmp_rt")
LMP_COMPONENTS = {
    "energy": "system_energy_price_rt",
    "congestion": "congestion_price_rt",
    "loss": "marginal_loss_price_rt",
}
LOAD_REQUIRED = ("datetime_beginning_utc", "area", "instantaneous_load")


class MissingApiKey(TerminalError):
    """PJM's Data Miner answers nothing without a subscription key: skip PJM, log once."""


def utc_window(now: datetime, since: datetime | None = None) -> str:
    """Data Miner's range filter, 'YYYY-MM-DDTHH:MMtoYYYY-MM-DDTHH:MM', on the UTC field."""
    end = now.astimezone(UTC).replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % 5)
    start = end - LOOKBACK
    if since is not None and since < start:
        start = max(since.astimezone(UTC).replace(second=0, microsecond=0), end - MAX_CATCHUP)
    return f"{start:%Y-%m-%dT%H:%M}to{end:%Y-%m-%dT%H:%M}"


def _naive(text: Any, what: str) -> datetime:
    if not isinstance(text, str):
        raise FormatError(f"{what}: expected text, got {text!r}")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"{what}: bad time {text!r}") from None


def _utc(item: dict[str, Any]) -> datetime:
    """datetime_beginning_utc, cross-checked against datetime_beginning_ept when the item has it."""
    value = _naive(item["datetime_beginning_utc"], "datetime_beginning_utc")
    value = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if item.get("datetime_beginning_ept") is not None:
        ept = _naive(item["datetime_beginning_ept"], "datetime_beginning_ept").replace(tzinfo=None)
        if value.astimezone(ZONE).replace(tzinfo=None) != ept:
            raise FormatError(
                f"datetime_beginning_utc {item['datetime_beginning_utc']} and datetime_beginning_ept "
                f"{item['datetime_beginning_ept']} name different instants"
            )
    return value


def _required(item: dict[str, Any], names: Sequence[str]) -> None:
    for name in names:
        if name not in item:
            raise FormatError(f"no field {name!r}; item has {', '.join(sorted(item))}")


def _name(item: dict[str, Any], field: str) -> str:
    name = item[field]
    if not isinstance(name, str) or not name.strip():
        raise FormatError(f"{field}: expected a name, got {name!r}")
    return name.strip()


class PjmSource(IsoSource):
    iso: ClassVar[str] = "PJM"
    may_be_empty: ClassVar[frozenset[str]] = frozenset({"lmp", "load"})  # a window with no rows yet

    @property
    def hubs(self) -> dict[int, str]:
        return {pnode: name for name, pnode in HUB_IDS.items() if name in self.facts.hubs}

    # -- fetch -----------------------------------------------------------------------------

    def request(self, dataset: str, now: datetime, since: datetime | None = None) -> Request:
        """The first page's request for `now` (the rest come from the `next` links)."""
        params = {
            "rowCount": str(ROW_COUNT),
            "startRow": "1",
            "sort": "datetime_beginning_utc",
            "order": "Asc",
            "datetime_beginning_utc": utc_window(now, since),
        }
        if dataset == "lmp":
            url = LMP_URL
            if not self.include_nodes:
                params["pnode_id"] = ";".join(str(i) for i in (*self.hubs, *ZONES))
        elif dataset == "load":
            url = LOAD_URL
        else:
            raise ValueError(f"PJM has no dataset {dataset!r}")
        return Request(url, params, {KEY_HEADER: self.credentials.get("api_key", "")})

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if not self.credentials.get("api_key"):
            raise MissingApiKey(
                f"PJM {dataset}: no Data Miner subscription key (credentials['api_key']); "
                "PJM is skipped until one is configured"
            )
        first = self.request(dataset, now, since)
        responses = [http.get(first)]
        while len(responses) < MAX_PAGES:
            nxt = _next_link(responses[-1])
            if nxt is None:
                return responses
            where = urlsplit(nxt)
            if where.scheme != "https" or where.netloc.lower() != API_HOST:
                raise self.error(dataset, responses[-1].url, f"next link {nxt!r} leaves https://{API_HOST}: refused")
            # The next link is a complete URL (query string included), sent as given.
            responses.append(http.get(Request(nxt, {}, first.headers)))
        raise self.error(dataset, responses[-1].url, f"still a next link after {MAX_PAGES} pages")

    # -- parse -----------------------------------------------------------------------------

    def prepare(self, dataset: str, responses: Sequence[Response]) -> dict[int, list[Any]]:
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
            if _next_href(doc) is None:  # the chain ends here
                if isinstance(total, int) and total != got:
                    raise FormatError(f"got {got} items of totalRows {total} (a page missing?)", resp.url)
                total = None
        if total is not None:
            raise FormatError("the last page still has a next link (a page missing?)", responses[-1].url)
        return items

    def _rows_lmp(self, resp: Response, items: dict[int, list[Any]]) -> list[Any]:
        return items[id(resp)]

    _rows_load = _rows_lmp

    def _read_lmp(self, item: Any, resp: Response) -> dict[str, Any] | None:
        if not isinstance(item, dict):
            raise FormatError("item is not an object")
        _required(item, LMP_REQUIRED)
        pnode = item["pnode_id"]
        if isinstance(pnode, bool) or not isinstance(pnode, int):
            raise FormatError(f"pnode_id: expected an integer, got {pnode!r}")
        if pnode in self.hubs:
            kind = "hub"
        elif pnode in ZONES:
            kind = "zone"
        elif self.include_nodes:
            kind = "node"
        else:
            return None
        parts = {k: formats.number(item[f], f) if item.get(f) is not None else None for k, f in LMP_COMPONENTS.items()}
        return self.tick(
            resp,
            "lmp",
            location=_name(item, "pnode_name"),
            location_type=kind,
            start=_utc(item),  # interval BEGINNING
            lmp=formats.number(item["total_lmp_rt"], "total_lmp_rt"),
            energy=parts["energy"],
            congestion=parts["congestion"],
            loss=parts["loss"],
        )

    def _read_load(self, item: Any, resp: Response) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise FormatError("item is not an object")
        _required(item, LOAD_REQUIRED)
        area = _name(item, "area")
        at = _utc(item)  # a reading: filed under the 5-minute interval that holds it
        return self.tick(
            resp,
            "load",
            location=area,
            location_type="system" if area == self.facts.system else "zone",
            start=at - timedelta(minutes=at.minute % 5, seconds=at.second, microseconds=at.microsecond),
            load_mw=formats.number(item["instantaneous_load"], "instantaneous_load"),
        )


def _next_link(resp: Response) -> str | None:
    if resp.status != 200:
        return None  # parse reports it
    try:
        return _next_href(formats.json_document(resp.body))
    except formats.FormatError:
        return None


def _next_href(doc: Any) -> str | None:
    links = (doc.get("links") if isinstance(doc, dict) else None) or []
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None

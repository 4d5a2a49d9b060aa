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
Eastern ``datetime_beginning_ept``. gridtape reads only the UTC field and filters requests on
it too (each poll asks for the last hour, so revisions land and a missed poll heals), so neither DST day needs special handling: the repeated 01:00 EPT hour is two distinct
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

published_at: items carry no publication time; the response's Last-Modified when sent (Data
Miner stamps it with the answer's own time), else the fetch time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from gridtape.contract import tick
from gridtape.errors import TerminalError
from gridtape.timeutil import interval_beginning
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response

API = "https://api.pjm.com/api/v1"
LMP_URL = f"{API}/rt_unverified_fivemin_lmps"
LOAD_URL = f"{API}/inst_load"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
MARKET = "RT5"

HUBS: dict[int, str] = {
    51217: "EASTERN HUB",
    116013751: "ATSI GEN HUB",
    35010337: "DOMINION HUB",
    34497151: "OHIO HUB",
    34497127: "AEP-DAYTON HUB",
    34497125: "AEP GEN HUB",
    33092315: "CHICAGO HUB",
    33092313: "CHICAGO GEN HUB",
    33092311: "N ILLINOIS HUB",
    4669664: "WESTERN HUB",
    51288: "WEST INT HUB",
    51287: "NEW JERSEY HUB",
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
SYSTEM_AREA = "PJM RTO"

ROW_COUNT = 50000  # Data Miner's largest page
MAX_PAGES = 50  # a window is at most a few pages; more means a paging loop
LOOKBACK = timedelta(hours=1)  # re-read the last hour: revisions win, a missed poll heals

LMP_REQUIRED = ("datetime_beginning_utc", "pnode_id", "pnode_name", "total_lmp_rt")
LMP_COMPONENTS = {
    "energy": "system_energy_price_rt",
    "congestion": "congestion_price_rt",
    "loss": "marginal_loss_price_rt",
}
LOAD_REQUIRED = ("datetime_beginning_utc", "area", "instantaneous_load")


class MissingApiKey(TerminalError):
    """PJM's Data Miner answers nothing without a subscription key: skip PJM, log once."""


def utc_window(now: datetime) -> str:
    """Data Miner's range filter, 'YYYY-MM-DDTHH:MMtoYYYY-MM-DDTHH:MM', on the UTC field."""
    end = now.astimezone(UTC).replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % 5)
    start = end - LOOKBACK
    return f"{start:%Y-%m-%dT%H:%M}to{end:%Y-%m-%dT%H:%M}"


def _utc(text: Any) -> datetime:
    if not isinstance(text, str):
        raise formats.FormatError(f"datetime_beginning_utc: expected text, got {text!r}")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise formats.FormatError(f"datetime_beginning_utc: bad time {text!r}") from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=UTC)


class PjmSource(IsoSource):
    iso: ClassVar[str] = "PJM"
    min_poll_interval_s: ClassVar[float] = 60.0
    # Data Miner's non-member limit is 6 requests a minute per key.
    requests_per_second: ClassVar[float] = 0.1

    # -- fetch -----------------------------------------------------------------------------

    def request(self, dataset: str, now: datetime) -> Request:
        """The first page's request for `now` (the rest come from the `next` links)."""
        params = {
            "rowCount": str(ROW_COUNT),
            "startRow": "1",
            "sort": "datetime_beginning_utc",
            "order": "Asc",
            "datetime_beginning_utc": utc_window(now),
        }
        if dataset == "lmp":
            url = LMP_URL
            if not self.include_nodes:
                params["pnode_id"] = ";".join(str(i) for i in (*HUBS, *ZONES))
        elif dataset == "load":
            url = LOAD_URL
        else:
            raise ValueError(f"PJM has no dataset {dataset!r}")
        return Request(url, params, {KEY_HEADER: self.credentials.get("api_key", "")})

    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        if not self.credentials.get("api_key"):
            raise MissingApiKey(
                f"PJM {dataset}: no Data Miner subscription key (credentials['api_key']); "
                "PJM is skipped until one is configured"
            )
        first = self.request(dataset, now)
        responses = [http.get(first)]
        while len(responses) < MAX_PAGES:
            nxt = self._next_link(dataset, responses[-1])
            if nxt is None:
                return responses
            # The next link is a complete URL (query string included), sent as given.
            responses.append(http.get(Request(nxt, {}, first.headers)))
        raise self.error(dataset, responses[-1].url, f"still a next link after {MAX_PAGES} pages")

    def _next_link(self, dataset: str, resp: Response) -> str | None:
        if resp.status != 200:
            return None  # parse reports it
        try:
            links = formats.json_document(resp.body).get("links") or []
        except (formats.FormatError, AttributeError):
            return None
        for link in links:
            if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
                return str(link["href"])
        return None

    # -- parse -----------------------------------------------------------------------------

    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        if dataset not in ("lmp", "load"):
            raise ValueError(f"PJM has no dataset {dataset!r}")
        pages = [(resp, self._items(dataset, resp)) for resp in responses]
        self._check_complete(dataset, pages)
        out: dict[tuple[str, datetime], dict[str, Any]] = {}
        for resp, items in pages:
            for n, item in enumerate(items):
                try:
                    made = self._lmp(item, resp) if dataset == "lmp" else self._load(item, resp)
                except formats.FormatError as exc:
                    raise self.error(dataset, resp.url, f"item {n}: {exc}") from None
                if made is not None:
                    key, record = made
                    out[key] = record  # a later page or reading for the same interval wins
        return sorted(out.values(), key=lambda t: (t["interval_start"], t["location"]))

    def _items(self, dataset: str, resp: Response) -> list[dict[str, Any]]:
        try:
            if resp.status != 200:
                raise formats.FormatError(f"HTTP {resp.status}")
            doc = formats.json_document(resp.body)
            if not isinstance(doc, dict):
                raise formats.FormatError(f"expected a JSON object, got {type(doc).__name__}")
            items = formats.path(doc, "items")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise formats.FormatError("items is not a list of objects")
            return items
        except formats.FormatError as exc:
            raise self.error(dataset, resp.url, str(exc)) from None

    def _check_complete(self, dataset: str, pages: list[tuple[Response, list[dict[str, Any]]]]) -> None:
        """Each chain of pages (a first page, then the pages its `next` links led to) must hold
        totalRows items in all: a lost page is an error, not a silent gap."""
        total: Any = None
        got = 0
        for resp, items in pages:
            if total is None:
                total = formats.json_document(resp.body).get("totalRows")
                got = 0
            got += len(items)
            if self._next_link(dataset, resp) is None:  # the chain ends here
                if isinstance(total, int) and total != got:
                    raise self.error(dataset, resp.url, f"got {got} items of totalRows {total} (a page missing?)")
                total = None
        if total is not None:
            raise self.error(dataset, pages[-1][0].url, "the last page still has a next link (a page missing?)")

    def _lmp(self, item: dict[str, Any], resp: Response) -> tuple[tuple[str, datetime], dict[str, Any]] | None:
        for name in LMP_REQUIRED:
            if name not in item:
                raise formats.FormatError(f"no field {name!r}; item has {', '.join(sorted(item))}")
        pnode = item["pnode_id"]
        if isinstance(pnode, bool) or not isinstance(pnode, int):
            raise formats.FormatError(f"pnode_id: expected an integer, got {pnode!r}")
        if pnode in HUBS:
            kind = "hub"
        elif pnode in ZONES:
            kind = "zone"
        elif self.include_nodes:
            kind = "node"
        else:
            return None
        name = item["pnode_name"]
        if not isinstance(name, str) or not name.strip():
            raise formats.FormatError(f"pnode_name: expected a name, got {name!r}")
        start, end = interval_beginning(_utc(item["datetime_beginning_utc"]), 5)
        parts = {k: formats.number(item[f], f) if item.get(f) is not None else None for k, f in LMP_COMPONENTS.items()}
        return (name, start), tick(
            iso=self.iso,
            market=MARKET,
            dataset="lmp",
            location=name.strip(),
            location_type=kind,
            interval_start=start,
            interval_end=end,
            lmp=formats.number(item["total_lmp_rt"], "total_lmp_rt"),
            energy=parts["energy"],
            congestion=parts["congestion"],
            loss=parts["loss"],
            published_at=formats.published_at(resp.headers, resp.fetched_at),
            ingested_at=resp.fetched_at,
            source=resp.url,
        )

    def _load(self, item: dict[str, Any], resp: Response) -> tuple[tuple[str, datetime], dict[str, Any]]:
        for name in LOAD_REQUIRED:
            if name not in item:
                raise formats.FormatError(f"no field {name!r}; item has {', '.join(sorted(item))}")
        area = item["area"]
        if not isinstance(area, str) or not area.strip():
            raise formats.FormatError(f"area: expected a name, got {area!r}")
        at = _utc(item["datetime_beginning_utc"])
        start, end = interval_beginning(at - timedelta(minutes=at.minute % 5, seconds=at.second), 5)
        return (area, start), tick(
            iso=self.iso,
            market=MARKET,
            dataset="load",
            location=area.strip(),
            location_type="system" if area.strip() == SYSTEM_AREA else "zone",
            interval_start=start,
            interval_end=end,
            load_mw=formats.number(item["instantaneous_load"], "instantaneous_load"),
            published_at=formats.published_at(resp.headers, resp.fetched_at),
            ingested_at=resp.fetched_at,
            source=resp.url,
        )

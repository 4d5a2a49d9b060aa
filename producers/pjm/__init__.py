"""PJM: 5-minute LMP, day-ahead hourly LMP and instantaneous load from Data Miner 2 (api.pjm.com).

Feeds and endpoints (a free subscription key, sent as the Ocp-Apim-Subscription-Key header):
- lmp, live: ``rt_unverified_fivemin_lmps``, PJM's live 5-minute LMPs (no ``type`` field);
  history: ``rt_fivemin_hrl_lmps``, the settled (verified) 5-minute LMPs, a day or so later,
  one operating day by ``datetime_beginning_ept`` range, ``row_is_current=TRUE`` (what
  gridstatus get_lmp(REAL_TIME_5_MIN) reads for past days).
- dam, live and history: ``da_hrl_lmps`` (day-ahead hourly; posted about 13:30 Eastern for the
  next day, isos: posts_at). A poll asks for the current operating day and, from posts_at on,
  the next one; history asks for one day (gridstatus get_lmp(DAY_AHEAD_HOURLY) does the same).
- load, live and history: ``inst_load``, instantaneous load by area (21 transmission zones, UG,
  the three regions and the RTO), every 5 minutes. Data Miner keeps it about 30 days
  (gridstatus get_load: "Must be in last 30 days"); older days are only in the hourly
  ``hrl_load_metered``, which gridtape does not read (no hourly PJM load feed in the table).
Every response is one JSON envelope: ``items``, ``totalRows``, and ``links`` whose ``next`` link
(present while rows remain) is followed until it is gone; parse tells the endpoint (and so the
field names) from the response's URL (producers.pjm.api.endpoint).

Clock (what each time label means; evidence):
- lmp (both endpoints) and dam: ``datetime_beginning_utc`` is the interval BEGINNING in UTC
  (naive text), ``datetime_beginning_ept`` the same instant on the Eastern wall clock. PJM labels
  hours by their beginning, so the DA hour "00:00" is 00:00-01:00 (no hour-ending shift).
  Evidence: the field names; the real da_hrl_lmps capture (../shared/iso-samples/pjm) asked
  for ept 2026-06-09T00:00to2026-06-09T23:59 and got UTC 04:00 .. next day 03:00, 24 hours
  beginning at 00:00 EDT; the real rt_unverified capture's 7 intervals 18:40-19:10 UTC;
  gridstatus sets Interval Start = datetime_beginning_utc, End = Start + 5 / 60 minutes.
  gridtape reads the UTC field and refuses an item whose EPT field, when present, names
  another instant; a DST day needs no special case (the repeated 01:00 EPT hour is two UTC
  hours, the skipped one has no rows: 23 / 25 DA hours, 276 / 300 five-minute intervals).
- load: ``datetime_beginning_utc`` of inst_load is the instant of a READING, not an interval.
  gridtape's rule for instantaneous readings: a reading at T is only known at T, so it is filed
  as the interval ENDING at T (the 5-minute boundary at or after T; interval_end = T on the
  grid), never before it existed. gridstatus (get_load) rounds T to the minute and calls it the
  interval START: gridtape files the same reading 5 minutes later on purpose.
  History asks for ept 00:00 of the day through 00:00 of the next (the reading that ends the
  day's last interval) and keeps the day's intervals only.

Fields: ``pnode_id``, ``pnode_name`` and ``total_lmp_rt`` / ``total_lmp_da`` are required; the
components ``system_energy_price_*``, ``congestion_price_*``, ``marginal_loss_price_*``
(total = energy + congestion + loss) are stored when returned, null when not (the real captures
asked for the total only). Hubs and zones are told apart by pnode id (the unverified feed has
no ``type``): the 12 trading hubs and the transmission zones (plus the PJM-RTO and MID-ATL/APS
aggregates, typed zone) are requested by id; with include_nodes the request is unfiltered and
every other pnode is a ``node``. Data Miner serves rows older than ~186 days (5-minute) or
~731 days (day-ahead) from an archive that ignores row filters (gridstatus
_get_pjm_archive_date): a backfill that far back downloads every pnode (not capped here).

Load: the area ``PJM RTO`` is the ``system`` tick; every other area, regions included, is a
``zone`` (regions and the RTO are sums of zones: do not add them up).

Transport: the ``next`` link comes from the response body, so it is followed only to PJM's API
host over https (anything else is a SourceError and is never asked): the key must not travel
anywhere else. A redirect to another host drops it too (producers.transport). After an outage
(the cursor `since` before the hour a poll re-reads) the lmp/load window reaches back to the
cursor, at most MAX_CATCHUP. published_at: the response's Last-Modified when sent, else the fetch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from gridtape.errors import TerminalError
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError
from producers.pjm import api
from producers.pjm.api import (
    DA_LMP_URL,
    HUB_IDS,
    KEY_HEADER,
    LMP_URL,
    LOAD_URL,
    ROW_COUNT,
    SETTLED_LMP_URL,
    ZONE,
    ZONES,
)

__all__ = ["DA_LMP_URL", "HUB_IDS", "LMP_URL", "LOAD_URL", "SETTLED_LMP_URL", "ZONES", "MissingApiKey", "PjmSource"]

LOAD_FIELDS = "datetime_beginning_utc,area,instantaneous_load"


class MissingApiKey(TerminalError):
    """PJM's Data Miner answers nothing without a subscription key: skip PJM, log once."""


def price_fields(suffix: str) -> str:
    parts = ("total_lmp", "system_energy_price", "congestion_price", "marginal_loss_price")
    return ",".join(("datetime_beginning_utc", "pnode_id", "pnode_name", *(f"{p}_{suffix}" for p in parts)))


class PjmSource(IsoSource):
    iso: ClassVar[str] = "PJM"
    may_be_empty: ClassVar[frozenset[str]] = frozenset({"lmp", "load"})  # a window with no rows yet
    archives: ClassVar[frozenset[str]] = frozenset({"lmp", "load", "dam"})

    @property
    def hubs(self) -> dict[int, str]:
        return {pnode: name for name, pnode in HUB_IDS.items() if name in self.facts.hubs}

    # -- requests --------------------------------------------------------------------------

    def _request(self, url: str, window: tuple[str, str], extra: dict[str, str] | None = None) -> Request:
        params = {"rowCount": str(ROW_COUNT), "startRow": "1", "sort": "datetime_beginning_utc", "order": "Asc"}
        params[window[0]] = window[1]
        params.update(extra or {})
        if url != LOAD_URL and not self.include_nodes:
            params["pnode_id"] = ";".join(str(i) for i in (*self.hubs, *ZONES))
        return Request(url, params, {KEY_HEADER: self.credentials.get("api_key", "")})

    def request(self, dataset: str, now: datetime, since: datetime | None = None) -> Request:
        """The first page's request of a live poll at `now` (the rest come from `next` links)."""
        if dataset == "dam":
            today = now.astimezone(ZONE).date()
            posted = now.astimezone(ZONE).time() >= time.fromisoformat(self.facts.feed("dam").posts_at or "00:00")
            days = api.ept_days(today, today + timedelta(days=1) if posted else today)
            return self._request(DA_LMP_URL, ("datetime_beginning_ept", days), self._settled("da"))
        if dataset not in ("lmp", "load"):
            raise ValueError(f"PJM has no dataset {dataset!r}")
        return self._request(
            LMP_URL if dataset == "lmp" else LOAD_URL, ("datetime_beginning_utc", api.utc_window(now, since))
        )

    def history_request(self, dataset: str, day: date) -> Request:
        """The first page's request for operating day `day` of `dataset`'s archive."""
        if dataset == "load":
            days = api.ept_days(day, day, through_midnight=True)
            return self._request(LOAD_URL, ("datetime_beginning_ept", days), {"fields": LOAD_FIELDS})
        if dataset not in ("lmp", "dam"):
            raise ValueError(f"PJM has no dataset {dataset!r}")
        url, suffix = (SETTLED_LMP_URL, "rt") if dataset == "lmp" else (DA_LMP_URL, "da")
        return self._request(url, ("datetime_beginning_ept", api.ept_days(day, day)), self._settled(suffix))

    @staticmethod
    def _settled(suffix: str) -> dict[str, str]:
        # the latest version of each row only (these endpoints keep every version_nbr)
        return {"fields": price_fields(suffix), "row_is_current": "TRUE"}

    # -- fetch -----------------------------------------------------------------------------

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._need_key(dataset)
        return self._pages(dataset, http, self.request(dataset, now, since))

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self._need_key(dataset)
        return self._pages(dataset, http, self.history_request(dataset, day))

    def _need_key(self, dataset: str) -> None:
        if not self.credentials.get("api_key"):
            raise MissingApiKey(
                f"PJM {dataset}: no Data Miner subscription key (credentials['api_key']); "
                "PJM is skipped until one is configured"
            )

    def _pages(self, dataset: str, http: HttpClient, first: Request) -> list[Response]:
        return api.follow(http, first, lambda url, why: self.error(dataset, url, why))

    # -- parse -----------------------------------------------------------------------------

    def prepare(self, dataset: str, responses: Sequence[Response]) -> dict[int, list[Any]]:
        return api.pages(responses)

    def _rows_lmp(self, resp: Response, items: dict[int, list[Any]]) -> list[Any]:
        return self._rows("lmp", resp, items)

    def _rows_dam(self, resp: Response, items: dict[int, list[Any]]) -> list[Any]:
        return self._rows("dam", resp, items)

    def _rows_load(self, resp: Response, items: dict[int, list[Any]]) -> list[Any]:
        page = self._rows("load", resp, items)
        days = api.operating_day(resp.url)  # a history response: keep its operating day only
        return [(item, days) for item in page]

    @staticmethod
    def _rows(feed: str, resp: Response, items: dict[int, list[Any]]) -> list[Any]:
        """The page's items; another feed's endpoint is unreadable here, and a past day's
        archive with no row is missing (not yet settled, or past Data Miner's retention:
        inst_load about 30 days), never an empty day."""
        api.endpoint(feed, resp.url)
        days = api.operating_day(resp.url)
        if days is not None and not items[id(resp)]:
            raise FormatError(f"no {feed} rows for {days[0]}..{days[1]}: not in Data Miner (yet, or any more)")
        return items[id(resp)]

    def _read_lmp(self, item: Any, resp: Response) -> dict[str, Any] | None:
        return self._read_price("lmp", item, resp)

    def _read_dam(self, item: Any, resp: Response) -> dict[str, Any] | None:
        return self._read_price("dam", item, resp)

    def _read_price(self, feed: str, item: Any, resp: Response) -> dict[str, Any] | None:
        if not isinstance(item, dict):
            raise FormatError("item is not an object")
        suffix = api.PRICE_SUFFIX[feed]
        api.required(item, (*api.LMP_REQUIRED, f"total_lmp_{suffix}"))
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
        parts = {}
        for key, prefix in (("energy", "system_energy_price"), ("congestion", "congestion_price")):
            parts[key] = self._optional(item, f"{prefix}_{suffix}")
        return self.tick(
            resp,
            feed,
            location=api.name(item, "pnode_name"),
            location_type=kind,
            start=api.utc(item),  # interval BEGINNING
            lmp=formats.number(item[f"total_lmp_{suffix}"], f"total_lmp_{suffix}"),
            energy=parts["energy"],
            congestion=parts["congestion"],
            loss=self._optional(item, f"marginal_loss_price_{suffix}"),
        )

    @staticmethod
    def _optional(item: dict[str, Any], field: str) -> float | None:
        return formats.number(item[field], field) if item.get(field) is not None else None

    def _read_load(self, row: Any, resp: Response) -> dict[str, Any] | None:
        item, days = row
        if not isinstance(item, dict):
            raise FormatError("item is not an object")
        api.required(item, api.LOAD_REQUIRED)
        area = api.name(item, "area")
        end = api.ceil5(api.utc(item))  # a reading: the interval it ENDS (known only at T)
        if days is not None and not days[0] <= (end - api.FIVE).astimezone(ZONE).date() <= days[1]:
            return None  # the reading at the day's first midnight ends the day before
        return self.tick(
            resp,
            "load",
            location=area,
            location_type="system" if area == self.facts.system else "zone",
            end=end,
            load_mw=formats.number(item["instantaneous_load"], "instantaneous_load"),
        )

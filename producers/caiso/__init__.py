"""CAISO: real-time and day-ahead LMP from OASIS, system demand from Today's Outlook, TAC-area
actual load from OASIS; live and from the archives (history()).

Per feed and format, what the time label means and how gridtape reads it:
lmp  OASIS PRC_INTVL_LMP (market RTM, 5-minute real-time dispatch), live and history (the same
     query for one Pacific operating day, as gridstatus' get_lmp_real_time_5_min does).
     INTERVALSTARTTIME_GMT / INTERVALENDTIME_GMT are explicit UTC bounds: read as given.
     LMP = MCE + MCC + MCL + MGHG; MGHG has no field in the tick contract, so energy +
     congestion + loss equals lmp only where MGHG is 0 (all California nodes and hubs).
     OASIS answers an error (1000 no data yet, 1015 busy, ...) with a 200 and a zip holding an
     XML report instead of a CSV: that is a SourceError. OASIS allows about one request per
     5 s (the ISO table's rate limit; the fetch layer keeps it) and answers 429 beyond that.
     After an outage (the cursor `since` older than the two-hour window) the window reaches
     back to the cursor, at most MAX_CATCHUP (one hour for an all-nodes query).
dam  OASIS PRC_LMP (market DAM, version 12: gridstatus' lmp_day_ahead_hourly), hourly, value
     column MW. Rows carry explicit GMT bounds (an hour each; 23 on 2025-03-09, 25 on
     2025-11-02) and OPR_HR, the hour ending (HE01 = 00:00-01:00 Pacific), which is checked
     against the GMT start (start = hour ending - 1 h) on 24-hour days. A poll reads the current
     operating day and, from posts_at (13:00 Pacific, the IFM publication) the next one too,
     in one query; after an outage it reaches back to the cursor's day, at most a week.
load Today's Outlook demand.csv: ``outlook/current/demand.csv`` live and
     ``outlook/history/YYYYMMDD/demand.csv`` for past days (gridstatus' get_load reads both),
     5-minute CAISO system demand, ``Time`` as HH:MM only; the day is the Pacific date at
     fetch time (current) or the date in the address (history: ``gridtape parse --url``).
     ``Current demand`` is an instantaneous reading, and the rule for those is that a reading
     stamped T is the interval ENDING at T (it is only known at T: filing it at the start
     would put a value before it existed). Evidence that CAISO means the end too: in the
     dated history files of the family (``outlook/history/20260311/rtm_forecast_7day.csv``,
     a real copy in iso-samples) the hourly day-ahead forecast changes value on the row
     after each full hour, so HE01 covers the rows 00:05..01:00 and the first row of a day
     (00:00) carries the previous day's last value; gridstatus reads ``Time`` as interval end
     in that file (and, differently, as the start in demand.csv). Day D's file therefore ends
     at 23:55: history() also reads day D+1's file, whose 00:00 row ends day D.
     OASIS SLD_FCST (market_run_id ACTUAL: gridstatus' get_load_hourly) gives the hourly actual
     load per TAC area with explicit GMT bounds (an hourly integrated value, not a reading):
     location_type "zone" ticks of the table's hourly (RTH) load feed for the TAC areas of the
     CAISO balancing area, live over the last 24 hours and in history() per operating day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.caiso import oasis, outlook
from producers.caiso.oasis import DLAPS, TAC_AREAS
from producers.caiso.oasis import TIME as OASIS_TIME
from producers.caiso.oasis import URL as OASIS_URL
from producers.caiso.outlook import CURRENT_URL as DEMAND_URL
from producers.formats import FormatError

__all__ = ["DEMAND_URL", "DLAPS", "OASIS_TIME", "OASIS_URL", "TAC_AREAS", "CaisoSource", "location_type"]

ZONE = oasis.ZONE  # the market clock, from the ISO table
# How far back each lmp poll asks: two hours, so one missed poll (or a late OASIS
# publication) is filled by the next. OASIS caps an all-nodes query at one hour.
LOOKBACK = timedelta(hours=2)
ALL_NODES_LOOKBACK = timedelta(hours=1)
MAX_CATCHUP = timedelta(hours=24)  # after an outage: one query back to the cursor, at most this
MAX_DAM_CATCHUP = timedelta(days=7)
ZONE_LOOKBACK = timedelta(hours=24)  # TAC-area actuals: what each load poll asks OASIS for


def location_type(node: str) -> str:
    return formats.location_type(node, hub="TH_", zone="DLAP_")


class CaisoSource(IsoSource):
    iso: ClassVar[str] = "CAISO"
    archives: ClassVar[frozenset[str]] = frozenset({"lmp", "load", "dam"})

    @property
    def zonal_load(self) -> bool:
        """Whether the ISO table has the hourly load feed the TAC-area ticks belong to."""
        return any(f.market == "RTH" for f in self.facts.feeds_named("load"))

    @property
    def nodes(self) -> tuple[str, ...] | None:
        return None if self.include_nodes else self.facts.hubs + DLAPS

    # -- fetch -------------------------------------------------------------------------------
    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset == "lmp":
            return [http.get(self.lmp_request(now, since))]
        if dataset == "load":
            return [http.get(r) for r in self.load_requests(now)]
        if dataset == "dam":
            return [http.get(self.dam_request(now, since))]
        raise ValueError(f"CAISO has no dataset {dataset!r}")

    def lmp_request(self, now: datetime, since: datetime | None = None) -> Request:
        end = _floor(now, 5)
        if self.include_nodes:
            start = furthest = end - ALL_NODES_LOOKBACK
        else:
            start, furthest = end - LOOKBACK, end - MAX_CATCHUP
        if since is not None and since < start:
            start = max(_floor(since, 5), furthest)
        return oasis.request("PRC_INTVL_LMP", start, end, self.nodes)

    @staticmethod
    def load_request(now: datetime) -> Request:
        return outlook.current_request(now)

    def load_requests(self, now: datetime) -> list[Request]:
        requests = [outlook.current_request(now)]
        if self.zonal_load:
            end = _floor(now, 60)
            requests.append(oasis.request("SLD_FCST", end - ZONE_LOOKBACK, end))
        return requests

    def dam_request(self, now: datetime, since: datetime | None = None) -> Request:
        """Today's operating day and, once posted (posts_at, Pacific), tomorrow's."""
        local = now.astimezone(ZONE)
        today = local.date()
        posted = time.fromisoformat(self.facts.feed("dam").posts_at or "23:59")
        last = today + timedelta(days=1) if local.time() >= posted else today
        first = today
        if since is not None:
            first = max(min(since.astimezone(ZONE).date(), today), today - MAX_DAM_CATCHUP)
        return oasis.request("PRC_LMP", oasis.midnight(first), oasis.midnight(last + timedelta(days=1)), self.nodes)

    # -- history -----------------------------------------------------------------------------
    def history_requests(self, dataset: str, day: date) -> list[Request]:
        start, end = oasis.midnight(day), oasis.midnight(day + timedelta(days=1))
        if dataset == "lmp":
            if not self.include_nodes:
                return [oasis.request("PRC_INTVL_LMP", start, end, self.nodes)]
            hours = int((end - start) / timedelta(hours=1))  # OASIS: an hour per all-nodes query
            return [
                oasis.request("PRC_INTVL_LMP", start + timedelta(hours=h), start + timedelta(hours=h + 1), None)
                for h in range(hours)
            ]
        if dataset == "dam":
            return [oasis.request("PRC_LMP", start, end, self.nodes)]
        if dataset == "load":
            # Day D's file ends at 23:55 (its 00:00 row ends day D-1): D+1's first row ends D.
            requests = [outlook.history_request(day), outlook.history_request(day + timedelta(days=1))]
            if self.zonal_load:
                requests.append(oasis.request("SLD_FCST", start, end))
            return requests
        raise NotImplementedError(f"CAISO keeps no archive gridtape reads for {dataset}")

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        return [http.get(r) for r in self.history_requests(dataset, day)]

    # -- lmp and dam -------------------------------------------------------------------------
    def _rows_lmp(self, response: Response, context: Any) -> Iterable[Any]:
        return oasis.price_groups(response, "PRC_INTVL_LMP")

    def _read_lmp(self, item: Any, response: Response) -> dict[str, Any]:
        return self._price(item, response, "lmp", 5)

    def _rows_dam(self, response: Response, context: Any) -> Iterable[Any]:
        return oasis.price_groups(response, "PRC_LMP")

    def _read_dam(self, item: Any, response: Response) -> dict[str, Any] | None:
        return self._price(item, response, "dam", 60)

    def _ticks_lmp(self, response: Response, context: Any) -> list[dict[str, Any]] | None:
        return self._price_ticks(response, "PRC_INTVL_LMP", "lmp", 5)

    def _ticks_dam(self, response: Response, context: Any) -> list[dict[str, Any]] | None:
        return self._price_ticks(response, "PRC_LMP", "dam", 60)

    def _price_ticks(self, response: Response, query: str, feed: str, minutes: int) -> list[dict[str, Any]] | None:
        """The price groups by column (oasis.price_table): None when a row is odd."""
        found = oasis.price_table(response, query, minutes)
        if found is None:
            return None
        nodes, starts, values = found
        kind_of = {node: location_type(node) for node in set(nodes)}
        kinds = list(map(kind_of.__getitem__, nodes))
        return self.ticks(response, feed, locations=nodes, location_types=kinds, starts=starts, values=values)

    def _price(self, item: Any, response: Response, feed: str, minutes: int) -> dict[str, Any]:
        node, start, parts = oasis.price_parts(item, minutes)
        return self.tick(
            response,
            feed,
            location=node,
            location_type=location_type(node),
            start=start,
            lmp=parts["LMP"],
            energy=parts["MCE"],
            congestion=parts["MCC"],
            loss=parts["MCL"],
        )

    # -- load --------------------------------------------------------------------------------
    def _rows_load(self, response: Response, context: Any) -> list[Any]:
        if oasis.report_of(response) == "SLD_FCST" or not outlook.is_outlook(response):
            if not self.zonal_load:
                raise FormatError("TAC-area load needs an hourly (RTH) load feed in the ISO table")
            return list(oasis.load_rows(response))
        return list(outlook.walls_of(response))

    def _read_load(self, item: Any, response: Response) -> dict[str, Any] | None:
        if isinstance(item, dict):
            found = oasis.load_parts(item)
            if found is None:
                return None
            area, start, mw = found
            return self.tick(
                response, "load", market="RTH", location=area, location_type="zone", start=start, load_mw=mw
            )
        mw_text, wall, repeated = item
        if not isinstance(wall, datetime):
            raise FormatError(f"Time {wall!r} is not HH:MM")
        if not mw_text:
            return None  # a future interval, or one of the skipped spring hour
        try:
            end = local_to_utc(wall, ZONE, repeated=repeated)  # Time marks the interval END
        except ValueError as exc:
            raise FormatError(str(exc)) from None
        mw = formats.number(mw_text, f"Current demand at {wall:%H:%M}")
        return self.tick(response, "load", location=self.facts.system, location_type="system", end=end, load_mw=mw)


def _floor(now: datetime, minutes: int) -> datetime:
    now = now.astimezone(UTC)
    total = now.hour * 60 + now.minute
    floored = total - total % minutes
    return now.replace(hour=floored // 60, minute=floored % 60, second=0, microsecond=0)

"""NYISO: real-time (RTD) 5-minute zonal LBMP and real-time actual load, from mis.nyiso.com.

Endpoints (public, no key):
- lmp: ``/public/realtime/realtime_zone_lbmp.csv`` (the newest RTD interval only) and the
  day file ``/public/csv/realtime/YYYYMMDDrealtime_zone.csv`` (every interval of the day so far)
  with columns "Time Stamp","Name","PTID","LBMP ($/MWHr)","Marginal Cost Losses ($/MWHr)",
  "Marginal Cost Congestion ($/MWHr)".
- load: ``/public/csv/pal/YYYYMMDDpal.csv`` with "Time Stamp","Time Zone","Name","PTID","Load".

Time conventions (verified against the real files in ../shared/iso-samples and gridstatus):
- Every time stamp is Eastern prevailing wall-clock time, "MM/DD/YYYY HH:MM:SS".
- LBMP time stamps mark the interval END (RTD prices the 5 minutes that end at the stamp);
  a day file runs 00:05 .. 24:00 (written as next day 00:00:00).
- pal time stamps are instantaneous readings at 00:00 .. 23:55. gridstatus treats them as
  instants; gridtape labels the reading at T as the 5-minute interval BEGINNING at T, so each
  day file's 288 readings stay inside its own day.
- Fall-back day: pal carries a "Time Zone" column (EDT/EST) that names the occurrence. The
  LBMP files do not: the repeated stamps (01:00 .. 01:55) come in file order, so per zone the
  first occurrence is EDT and the second EST. The one-row current file is resolved against
  the time it was fetched (its interval cannot end after it was fetched).
- Off-cycle stamps (RTD-CAM corrective runs, e.g. 00:07:34) are left out: the RT5 series is
  the regular 5-minute RTD grid. Their prices are folded into NYISO's own time-weighted
  hourly figures, not into a 5-minute interval gridtape could key.

Prices: NYISO publishes LBMP = energy + losses - congestion, i.e. its "Marginal Cost
Congestion" carries the opposite sign to PJM's and SPP's congestion component (gridstatus
computes energy = LBMP - losses + congestion for the same reason). gridtape stores
congestion = -(published congestion) so that lmp = energy + congestion + loss holds for every
ISO, and energy = LBMP - losses + published congestion.

The day file for today also carries RTC (15-minute advisory) rows after the newest RTD
interval; rows later than the interval in realtime_zone_lbmp.csv are dropped as not yet
dispatched.

Locations: the 11 load zones are ``zone``; the external proxy buses H Q (Hydro-Québec),
NPX (ISO-NE), O H (Ontario) and PJM are ``interface``. NYISO has no trading hubs. Load is
published per zone; the ``NYISO`` system total is the sum of the 11 zones, emitted only for a
time stamp where all 11 are present. include_nodes changes nothing here: NYISO publishes
generator-bus prices in a separate file (realtime_gen), not in the zonal response.

published_at: the files carry no publication time; the response's Last-Modified (when the
static file was last written) is used when sent, else the fetch time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from gridtape.contract import tick
from gridtape.timeutil import EASTERN, interval_beginning, interval_ending, local_to_utc
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response

BASE = "http://mis.nyiso.com/public"
LMP_CURRENT_URL = f"{BASE}/realtime/realtime_zone_lbmp.csv"
MARKET = "RT5"
INTERVAL = timedelta(minutes=5)

ZONES: frozenset[str] = frozenset(
    {"CAPITL", "CENTRL", "DUNWOD", "GENESE", "HUD VL", "LONGIL", "MHK VL", "MILLWD", "N.Y.C.", "NORTH", "WEST"}
)
PROXIES: frozenset[str] = frozenset({"H Q", "NPX", "O H", "PJM"})
SYSTEM = "NYISO"

TS = "Time Stamp"
LMP_COLUMNS = (
    TS,
    "Name",
    "PTID",
    "LBMP ($/MWHr)",
    "Marginal Cost Losses ($/MWHr)",
    "Marginal Cost Congestion ($/MWHr)",
)
PAL_COLUMNS = (TS, "Time Zone", "Name", "PTID", "Load")
# Just after local midnight the previous day's file is still being completed (its last
# interval ends at 24:00), so polls in the first minutes of a day read both day files.
DAY_OVERLAP = timedelta(minutes=20)


def lmp_day_url(day: datetime) -> str:
    return f"{BASE}/csv/realtime/{day:%Y%m%d}realtime_zone.csv"


def pal_day_url(day: datetime) -> str:
    return f"{BASE}/csv/pal/{day:%Y%m%d}pal.csv"


def _wall(text: str) -> datetime:
    return datetime.strptime(text, "%m/%d/%Y %H:%M:%S")


def _on_grid(wall: datetime) -> bool:
    return wall.second == 0 and wall.minute % 5 == 0


class NyisoSource(IsoSource):
    iso: ClassVar[str] = "NYISO"
    min_poll_interval_s: ClassVar[float] = 60.0
    requests_per_second: ClassVar[float] = 2.0

    # -- fetch -----------------------------------------------------------------------------

    def _days(self, now: datetime) -> list[datetime]:
        local = now.astimezone(EASTERN)
        earlier = (now - DAY_OVERLAP).astimezone(EASTERN)
        return [earlier, local] if earlier.date() != local.date() else [local]

    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        if dataset == "lmp":
            # The one-interval file first: it says which interval RTD last dispatched.
            out = [http.get(Request(LMP_CURRENT_URL))]
            urls = [lmp_day_url(d) for d in self._days(now)]
        elif dataset == "load":
            out = []
            urls = [pal_day_url(d) for d in self._days(now)]
        else:
            raise ValueError(f"NYISO has no dataset {dataset!r}")
        for url in urls:
            resp = http.get(Request(url))
            # A day file that does not exist yet (404 in the first minutes of a day) is not an error.
            if resp.status == 404 and url == urls[-1] and len(urls) > 1:
                continue
            out.append(resp)
        return out

    # -- parse -----------------------------------------------------------------------------

    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        if dataset == "lmp":
            return self._parse_lmp(responses)
        if dataset == "load":
            return self._parse_load(responses)
        raise ValueError(f"NYISO has no dataset {dataset!r}")

    def _records(self, dataset: str, resp: Response, columns: Sequence[str]) -> list[dict[str, str]]:
        try:
            if resp.status != 200:
                raise formats.FormatError(f"HTTP {resp.status}")
            formats.check_body(resp.body)
            return formats.csv_records(formats.decode(resp.body), columns)
        except formats.FormatError as exc:
            raise self.error(dataset, resp.url, str(exc)) from None

    def _parse_lmp(self, responses: Sequence[Response]) -> list[dict[str, Any]]:
        cutoff: datetime | None = None  # end of the newest RTD interval
        parsed: dict[tuple[str, datetime], dict[str, Any]] = {}
        for resp in responses:
            rows = self._records("lmp", resp, LMP_COLUMNS)
            current = resp.url.split("?")[0] == LMP_CURRENT_URL
            seen: dict[tuple[str, datetime], int] = {}
            for n, row in enumerate(rows, start=2):
                try:
                    wall = _wall(row[TS])
                except ValueError:
                    raise self.error("lmp", resp.url, f"row {n}: bad {TS} {row[TS]!r}") from None
                name = row["Name"]
                if name not in ZONES and name not in PROXIES:
                    # The zonal file has a fixed roster; a new name is a format change to look at.
                    raise self.error("lmp", resp.url, f"row {n}: unknown zone or proxy bus {name!r}")
                if not _on_grid(wall):
                    continue
                if current:
                    try:
                        end = self._latest_end(wall, resp.fetched_at)
                    except formats.FormatError as exc:
                        raise self.error("lmp", resp.url, f"row {n}: {exc}") from None
                else:
                    occurrence = seen.get((name, wall), 0)
                    seen[(name, wall)] = occurrence + 1
                    end = self._utc("lmp", resp.url, wall, repeated=occurrence > 0)
                try:
                    lbmp = formats.number(row["LBMP ($/MWHr)"], "LBMP ($/MWHr)")
                    loss = formats.number(row["Marginal Cost Losses ($/MWHr)"], "Marginal Cost Losses ($/MWHr)")
                    mcc = formats.number(row["Marginal Cost Congestion ($/MWHr)"], "Marginal Cost Congestion ($/MWHr)")
                except formats.FormatError as exc:
                    raise self.error("lmp", resp.url, f"row {n} ({name}): {exc}") from None
                start, end = interval_ending(end, 5)
                if (name, start) in parsed:
                    continue  # the newest-interval file (read first) and the day file agree on it
                parsed[(name, start)] = tick(
                    iso=self.iso,
                    market=MARKET,
                    dataset="lmp",
                    location=name,
                    location_type="zone" if name in ZONES else "interface",
                    interval_start=start,
                    interval_end=end,
                    lmp=lbmp,
                    # NYISO's congestion sign is flipped (LBMP = energy + losses - congestion).
                    energy=round(lbmp - loss + mcc, 6),
                    congestion=-mcc if mcc else 0.0,
                    loss=loss,
                    published_at=formats.published_at(resp.headers, resp.fetched_at),
                    ingested_at=resp.fetched_at,
                    source=resp.url,
                )
                if current:
                    cutoff = end if cutoff is None else max(cutoff, end)
        out = [t for (_, start), t in parsed.items() if cutoff is None or start + INTERVAL <= cutoff]
        return sorted(out, key=lambda t: (t["interval_start"], t["location"]))

    def _latest_end(self, wall: datetime, fetched_at: datetime) -> datetime:
        """The newest-interval file has no zone column: of the (at most two) UTC readings of
        its wall time, the interval is the latest one that had ended when it was fetched."""
        try:
            candidates = {local_to_utc(wall, EASTERN, repeated=flag) for flag in (False, True)}
        except ValueError as exc:  # a wall time inside the skipped spring hour
            raise formats.FormatError(str(exc)) from None
        ended = [c for c in candidates if c <= fetched_at + timedelta(minutes=1)]
        return max(ended) if ended else min(candidates)

    def _utc(self, dataset: str, url: str, wall: datetime, *, repeated: bool) -> datetime:
        try:
            return local_to_utc(wall, EASTERN, repeated=repeated)
        except ValueError as exc:  # a wall time inside the skipped spring hour
            raise self.error(dataset, url, str(exc)) from None

    def _parse_load(self, responses: Sequence[Response]) -> list[dict[str, Any]]:
        parsed: dict[tuple[str, datetime], dict[str, Any]] = {}
        zone_mw: dict[datetime, dict[str, float]] = {}
        origin: dict[datetime, Response] = {}
        for resp in responses:
            rows = self._records("load", resp, PAL_COLUMNS)
            for n, row in enumerate(rows, start=2):
                try:
                    wall = _wall(row[TS])
                except ValueError:
                    raise self.error("load", resp.url, f"row {n}: bad {TS} {row[TS]!r}") from None
                zone_flag = row["Time Zone"]
                if zone_flag not in ("EST", "EDT"):
                    raise self.error("load", resp.url, f"row {n}: Time Zone {zone_flag!r} is neither EST nor EDT")
                name = row["Name"]
                if name not in ZONES:
                    raise self.error("load", resp.url, f"row {n}: unknown load zone {name!r}")
                if not _on_grid(wall):
                    continue
                # EST in the repeated hour is its second (standard-time) occurrence.
                at = self._utc("load", resp.url, wall, repeated=zone_flag == "EST")
                try:
                    mw = formats.number(row["Load"], "Load")
                except formats.FormatError as exc:
                    raise self.error("load", resp.url, f"row {n} ({name}): {exc}") from None
                start, end = interval_beginning(at, 5)
                parsed[(name, start)] = self._load_tick(name, "zone", start, end, mw, resp)
                zone_mw.setdefault(start, {})[name] = mw
                origin[start] = resp
        for start, by_zone in zone_mw.items():
            if set(by_zone) == ZONES:
                total = round(sum(by_zone.values()), 3)
                parsed[(SYSTEM, start)] = self._load_tick(
                    SYSTEM, "system", start, start + INTERVAL, total, origin[start]
                )
        return sorted(parsed.values(), key=lambda t: (t["interval_start"], t["location"]))

    def _load_tick(
        self, name: str, kind: str, start: datetime, end: datetime, mw: float, resp: Response
    ) -> dict[str, Any]:
        return tick(
            iso=self.iso,
            market=MARKET,
            dataset="load",
            location=name,
            location_type=kind,
            interval_start=start,
            interval_end=end,
            load_mw=mw,
            published_at=formats.published_at(resp.headers, resp.fetched_at),
            ingested_at=resp.fetched_at,
            source=resp.url,
        )

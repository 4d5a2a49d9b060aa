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

Fetching: every lmp poll reads the one-interval file and today's day file (and yesterday's in
the first minutes of a day); after an outage (the poller's cursor `since` on an earlier day)
every day file since the cursor's day too, at most MAX_CATCHUP_DAYS back. All over https.

published_at: the files carry no publication time; the response's Last-Modified (when the
static file was last written) is used when sent, else the fetch time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from gridtape import isos
from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

ZONE = isos.get("NYISO").tz  # the market clock, from the ISO table
BASE = "https://mis.nyiso.com/public"
LMP_CURRENT_URL = f"{BASE}/realtime/realtime_zone_lbmp.csv"
INTERVAL = timedelta(minutes=5)

# The eleven load zones are the ISO table's "hubs" (NYISO trades at its zones).
PROXIES: frozenset[str] = frozenset({"H Q", "NPX", "O H", "PJM"})

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
MAX_CATCHUP_DAYS = 3  # after an outage, day files this far back at most (older: backfill)


def lmp_day_url(day: datetime | date) -> str:
    return f"{BASE}/csv/realtime/{day:%Y%m%d}realtime_zone.csv"


def pal_day_url(day: datetime | date) -> str:
    return f"{BASE}/csv/pal/{day:%Y%m%d}pal.csv"


def _wall(text: str) -> datetime:
    return datetime.strptime(text, "%m/%d/%Y %H:%M:%S")


def _on_grid(wall: datetime) -> bool:
    return wall.second == 0 and wall.minute % 5 == 0


def _is_current(response: Response) -> bool:
    return urlsplit(response.url).path == urlsplit(LMP_CURRENT_URL).path


class NyisoSource(IsoSource):
    iso: ClassVar[str] = "NYISO"
    # A day file just begun (or holding only advisory rows past the newest RTD interval) is
    # not an error: the next poll reads it again.
    may_be_empty: ClassVar[frozenset[str]] = frozenset({"lmp", "load"})

    @property
    def zones(self) -> frozenset[str]:
        return frozenset(self.facts.hubs)

    # -- fetch -----------------------------------------------------------------------------

    @staticmethod
    def _days(now: datetime, since: datetime | None) -> tuple[list[date], int]:
        """The day files to read, oldest first, and how many of them only heal an outage."""
        today = now.astimezone(ZONE).date()
        first = (now - DAY_OVERLAP).astimezone(ZONE).date()
        extra = 0
        if since is not None:
            catchup = max(since.astimezone(ZONE).date(), today - timedelta(days=MAX_CATCHUP_DAYS))
            extra = max(0, (first - catchup).days)
            first = min(first, catchup)
        return [first + timedelta(days=n) for n in range((today - first).days + 1)], extra

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        days, extra = self._days(now, since)
        if dataset == "lmp":
            # The one-interval file first: it says which interval RTD last dispatched.
            out = [http.get(Request(LMP_CURRENT_URL))]
            urls = [lmp_day_url(d) for d in days]
        elif dataset == "load":
            out = []
            urls = [pal_day_url(d) for d in days]
        else:
            raise ValueError(f"NYISO has no dataset {dataset!r}")
        for n, url in enumerate(urls):
            resp = http.get(Request(url))
            # A day file that does not exist yet (404 in the first minutes of a day) is not an
            # error, nor is an older one read only to heal an outage (NYISO archives old days
            # elsewhere): what it would have held is backfill's.
            if resp.status == 404 and ((url == urls[-1] and len(urls) > 1) or n < extra):
                continue
            out.append(resp)
        return out

    # -- lmp -------------------------------------------------------------------------------

    def prepare(self, dataset: str, responses: Sequence[Response]) -> datetime | None:
        """lmp: the end of the newest RTD interval (from the one-interval file): the day file's
        later rows are RTC advisories, not dispatched prices."""
        cutoff: datetime | None = None
        for resp in responses:
            if dataset != "lmp" or not _is_current(resp):
                continue
            for _, end in self._rows_lmp(resp, None):
                if isinstance(end, datetime):
                    cutoff = end if cutoff is None else max(cutoff, end)
        return cutoff

    def _records(self, resp: Response, columns: Sequence[str]) -> list[dict[str, str]]:
        if resp.status != 200:
            raise FormatError(f"HTTP {resp.status}", resp.url)
        formats.check_body(resp.body)
        return formats.csv_records(formats.decode(resp.body), columns)

    def _rows_lmp(self, resp: Response, cutoff: datetime | None) -> list[tuple[dict[str, str], datetime | str]]:
        """(row, UTC interval end) for the rows on the 5-minute grid; the end is the reason
        instead where the row's time cannot be read."""
        current = _is_current(resp)
        out: list[tuple[dict[str, str], datetime | str]] = []
        seen: dict[tuple[str, datetime], int] = {}
        for n, row in enumerate(self._records(resp, LMP_COLUMNS), start=2):
            name = row["Name"]
            if name not in self.zones and name not in PROXIES:
                # The zonal file has a fixed roster; a new name is a format change to look at.
                raise FormatError(f"row {n}: unknown zone or proxy bus {name!r}", resp.url)
            try:
                wall = _wall(row[TS])
            except ValueError:
                out.append((row, f"bad {TS} {row[TS]!r}"))
                continue
            if not _on_grid(wall):
                continue  # an RTD-CAM corrective run
            if current:
                out.append((row, self._latest_end(wall, resp.fetched_at)))
                continue
            occurrence = seen.get((name, wall), 0)  # the fall-back hour's stamps, in file order
            seen[(name, wall)] = occurrence + 1
            out.append((row, self._utc(wall, repeated=occurrence > 0)))
        if cutoff is not None:
            out = [(row, end) for row, end in out if not isinstance(end, datetime) or end <= cutoff]
        return out

    def _read_lmp(self, item: tuple[dict[str, str], datetime | str], resp: Response) -> dict[str, Any]:
        row, end = item
        if not isinstance(end, datetime):
            raise FormatError(end)
        name = row["Name"]
        lbmp = formats.number(row["LBMP ($/MWHr)"], "LBMP ($/MWHr)")
        loss = formats.number(row["Marginal Cost Losses ($/MWHr)"], "Marginal Cost Losses ($/MWHr)")
        mcc = formats.number(row["Marginal Cost Congestion ($/MWHr)"], "Marginal Cost Congestion ($/MWHr)")
        return self.tick(
            resp,
            "lmp",
            location=name,
            location_type="zone" if name in self.zones else "interface",
            end=end,  # LBMP time stamps mark the interval END
            lmp=lbmp,
            # NYISO's congestion sign is flipped (LBMP = energy + losses - congestion).
            energy=round(lbmp - loss + mcc, 6),
            congestion=-mcc if mcc else 0.0,
            loss=loss,
        )

    def _latest_end(self, wall: datetime, fetched_at: datetime) -> datetime | str:
        """The newest-interval file has no zone column: of the (at most two) UTC readings of
        its wall time, the interval is the latest one that had ended when it was fetched."""
        try:
            candidates = {local_to_utc(wall, ZONE, repeated=flag) for flag in (False, True)}
        except ValueError as exc:  # a wall time inside the skipped spring hour
            return str(exc)
        ended = [c for c in candidates if c <= fetched_at + timedelta(minutes=1)]
        return max(ended) if ended else min(candidates)

    @staticmethod
    def _utc(wall: datetime, *, repeated: bool) -> datetime | str:
        try:
            return local_to_utc(wall, ZONE, repeated=repeated)
        except ValueError as exc:  # a wall time inside the skipped spring hour
            return str(exc)

    # -- load ------------------------------------------------------------------------------

    def _rows_load(self, resp: Response, context: Any) -> list[dict[str, str]]:
        rows = self._records(resp, PAL_COLUMNS)
        for n, row in enumerate(rows, start=2):
            if row["Name"] not in self.zones:
                raise FormatError(f"row {n}: unknown load zone {row['Name']!r}", resp.url)
        return rows

    def _read_load(self, row: dict[str, str], resp: Response) -> dict[str, Any] | None:
        try:
            wall = _wall(row[TS])
        except ValueError:
            raise FormatError(f"bad {TS} {row[TS]!r}") from None
        flag = row["Time Zone"]
        if flag not in ("EST", "EDT"):
            raise FormatError(f"Time Zone {flag!r} is neither EST nor EDT")
        if not _on_grid(wall):
            return None
        # EST in the repeated hour is its second (standard-time) occurrence. A reading at T is
        # filed under the interval BEGINNING at T.
        start = self._utc(wall, repeated=flag == "EST")
        if not isinstance(start, datetime):
            raise FormatError(start)
        mw = formats.number(row["Load"], "Load")
        return self.tick(resp, "load", location=row["Name"], location_type="zone", start=start, load_mw=mw)

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """lmp: where the one-interval file and a day file both hold an interval, the one-interval
        file's tick wins (it is put last; the later tick of a key wins). load: the NYISO system
        total, for each interval where all eleven zones are present."""
        if dataset != "load":
            return sorted(ticks, key=lambda t: urlsplit(t["source"]).path == urlsplit(LMP_CURRENT_URL).path)
        by_start: dict[str, dict[str, dict[str, Any]]] = {}
        for t in ticks:
            by_start.setdefault(t["interval_start"], {})[t["location"]] = t
        totals = [
            {
                **zones[max(zones)],
                "location": self.facts.system,
                "location_type": "system",
                "load_mw": round(sum(z["load_mw"] for z in zones.values()), 3),
            }
            for zones in by_start.values()
            if set(zones) == self.zones
        ]
        return [*ticks, *totals]

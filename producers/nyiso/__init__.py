"""NYISO: real-time (RTD) 5-minute zonal LBMP, real-time actual load (pal), day-ahead hourly
zonal LBMP, live from mis.nyiso.com and for past days from its monthly archives.

Endpoints (public, no key), every one a day file ``/public/csv/<folder>/YYYYMMDD<stem>.csv`` and,
per month, an archive ``/public/csv/<folder>/YYYYMM01<stem>_csv.zip`` of those day files:
- lmp: ``/public/realtime/realtime_zone_lbmp.csv`` (the newest RTD interval only) and
  ``realtime/YYYYMMDDrealtime_zone.csv``: "Time Stamp","Name","PTID","LBMP ($/MWHr)",
  "Marginal Cost Losses ($/MWHr)","Marginal Cost Congestion ($/MWHr)".
- load: ``pal/YYYYMMDDpal.csv``: "Time Stamp","Time Zone","Name","PTID","Load".
- dam: ``damlbmp/YYYYMMDDdamlbmp_zone.csv`` (``damlbmp_gen`` for generator buses, read with
  include_nodes), the lmp columns; posted by 11:00 Eastern for the next day (isos: posts_at).

Time labels (Eastern prevailing wall time; evidence: the real files in
../shared/iso-samples/nyiso and gridstatus's DATASET_INTERVAL_MAP, which reads realtime as
"end", damlbmp as "start" and pal as "instantaneous"):
- realtime LBMP "MM/DD/YYYY HH:MM:SS" = interval END: a day file runs 00:05 .. 24:00 (written
  as next day 00:00:00); pyiso's real lmp.csv starts at 00:15 for the 00:10-00:15 interval.
- damlbmp "MM/DD/YYYY HH:MM" = hour BEGINNING: a day file runs 00:00 .. 23:00 (23 rows per
  location on the spring day, 25 on the fall day).
- pal "MM/DD/YYYY HH:MM:SS" = an instantaneous reading at 00:00 .. 23:55. gridtape's rule for
  instantaneous readings: the reading stamped T is the interval ENDING at T (it exists only
  at T; filing it at the start would put a value before it was measured, a look-ahead in a
  backtest, and it lines up with the interval-ending prices). So a day file's 00:00 reading
  ends the previous day's last interval, and a day's 24:00 reading is in the next day's file.
- Fall-back day: pal's "Time Zone" column (EDT/EST) names the occurrence. The LBMP files have
  none: the repeated stamps come in file order, so per location the first is EDT and the
  second EST. The one-row current file is resolved against the time it was fetched.
- Off-cycle stamps (RTD-CAM corrective runs, e.g. 00:07:34) are left out: the RT5 series is the
  regular 5-minute RTD grid.

Prices: NYISO publishes LBMP = energy + losses - congestion (its congestion sign is flipped
against PJM's and SPP's; gridstatus flips it too). gridtape stores congestion = -(published)
so that lmp = energy + congestion + loss holds for every ISO.

Today's realtime day file also carries RTC (15-minute advisory) rows after the newest RTD
interval; rows later than the interval in realtime_zone_lbmp.csv are dropped.

Locations: the 11 load zones are ``zone``; the proxy buses H Q, NPX, O H and PJM ``interface``;
damlbmp_gen's generator buses ``node``. The ``NYISO`` system load is the sum of the 11 zones,
for a time stamp where all 11 are present. The real-time zonal file has no nodes.

Fetching: lmp reads the one-interval file and today's day file (yesterday's too just after
midnight; after an outage every day file since the cursor, at most MAX_CATCHUP_DAYS); dam reads
today's file and, from posts_at on, tomorrow's.

History (history()): like gridstatus, the day file for the last 7 days and the month's archive
before that. The response's address gets the operating day as a fragment (``#2025-11-02``):
parse then reads only that day's (and the next day's) archive members and keeps only the
intervals starting on that day; load also reads the next day's file, whose 00:00 reading ends
the day's last interval.

published_at: the response's Last-Modified when sent, else the fetch time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from gridtape import contract
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError
from producers.nyiso.files import (
    CONGESTION,
    DAY_FILES_KEPT,
    FILES,
    LBMP,
    LMP_COLUMNS,
    LMP_CURRENT_URL,
    LOSSES,
    PAL_COLUMNS,
    TS,
    ZONE,
    dam_day_url,
    day_url,
    is_current,
    is_nodal,
    lmp_day_url,
    month_url,
    on_grid,
    operating_day,
    pal_day_url,
    price_values,
    prices,
    records,
    table,
    to_utc,
    wall,
)

__all__ = ["LMP_CURRENT_URL", "NyisoSource", "dam_day_url", "lmp_day_url", "pal_day_url"]

PROXIES: frozenset[str] = frozenset({"H Q", "NPX", "O H", "PJM"})
# Just after local midnight the previous day's file is still being completed (its last
# interval ends at 24:00), so polls in the first minutes of a day read both day files.
DAY_OVERLAP = timedelta(minutes=20)
MAX_CATCHUP_DAYS = 3  # after an outage, day files this far back at most (older: backfill)

Row = tuple[dict[str, str], datetime | str]  # a row and its UTC interval bound, or why it has none


def _today() -> date:
    return datetime.now(ZONE).date()


class NyisoSource(IsoSource):
    iso: ClassVar[str] = "NYISO"
    # A day file just begun (or holding only advisory rows past the newest RTD interval) is
    # not an error: the next poll reads it again.
    may_be_empty: ClassVar[frozenset[str]] = frozenset({"lmp", "load"})
    archives: ClassVar[frozenset[str]] = frozenset(FILES)
    today: Callable[[], date] = staticmethod(_today)  # history(): which days still have day files

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
        if dataset == "dam":
            return self._fetch_dam(http, now)
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
            # error, nor is an older one read only to heal an outage (backfill reads those).
            if resp.status == 404 and ((url == urls[-1] and len(urls) > 1) or n < extra):
                continue
            out.append(resp)
        return out

    def _fetch_dam(self, http: HttpClient, now: datetime) -> list[Response]:
        """Today's day-ahead file and, once NYISO posts it (posts_at), tomorrow's."""
        local = now.astimezone(ZONE)
        posts_at = datetime.strptime(self.facts.feed("dam").posts_at or "23:59", "%H:%M").time()
        days = [local.date()] + ([local.date() + timedelta(days=1)] if local.time() >= posts_at else [])
        out: list[Response] = []
        for n, d in enumerate(days):
            for nodes in (False, True) if self.include_nodes else (False,):
                resp = http.get(Request(dam_day_url(d, nodes)))
                if resp.status == 404 and n > 0:
                    continue  # tomorrow's not posted yet (NYISO runs late): the next poll asks again
                out.append(resp)
        return out

    # -- history ---------------------------------------------------------------------------

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        """Operating day `day` of `dataset`: its day file for the last DAY_FILES_KEPT days, else
        the month's archive (as gridstatus reads them); load also the next day's (its 00:00
        reading ends the day). Each address gets `#day` (see files.operating_day)."""
        if dataset not in self.archives:
            raise NotImplementedError(f"NYISO keeps no archive gridtape reads for {dataset}")
        folder, stem = FILES[dataset]
        days = [day, day + timedelta(days=1)] if dataset == "load" else [day]
        out: list[Response] = []
        asked: set[str] = set()
        for n, d in enumerate(days):
            recent = d >= self.today() - DAY_FILES_KEPT
            url = day_url(folder, stem, d) if recent else month_url(folder, stem, d)
            if url in asked:
                continue  # the month's archive already holds the next day
            asked.add(url)
            resp = self.archive(http, url) if not recent else http.get(Request(url))
            if resp.status == 404 and n > 0:
                continue  # the next day not begun yet
            out.append(replace(resp, url=f"{resp.url}#{day}"))
        return out

    # -- lmp and dam -----------------------------------------------------------------------

    def prepare(self, dataset: str, responses: Sequence[Response]) -> datetime | None:
        """lmp: the end of the newest RTD interval (from the one-interval file): the day file's
        later rows are RTC advisories, not dispatched prices."""
        cutoff: datetime | None = None
        for resp in responses:
            if dataset != "lmp" or not is_current(resp):
                continue
            for _, end in self._rows_lmp(resp, None):
                if isinstance(end, datetime):
                    cutoff = end if cutoff is None else max(cutoff, end)
        return cutoff

    def _stamped(self, resp: Response, *, nodes: bool = False) -> Iterator[Row]:
        """(row, its wall-clock stamp or why it has none) for every row of a price file."""
        for n, row in enumerate(records(resp, LMP_COLUMNS), start=2):
            name = row["Name"]
            if not nodes and name not in self.zones and name not in PROXIES:
                # The zonal file has a fixed roster; a new name is a format change to look at.
                raise FormatError(f"row {n}: unknown zone or proxy bus {name!r}", resp.url)
            try:
                stamp: datetime | str = wall(row[TS])
            except ValueError:
                stamp = f"bad {TS} {row[TS]!r}"
            yield row, stamp

    def _priced_rows(self, resp: Response, minutes: int, *, nodes: bool = False) -> list[Row]:
        """(row, UTC wall time of its stamp) for the rows on the feed's grid; the repeated
        fall-back hour's stamps come twice per location, in file order (EDT, then EST)."""
        out: list[Row] = []
        seen: dict[tuple[str, datetime], int] = {}
        for row, stamp in self._stamped(resp, nodes=nodes):
            if not isinstance(stamp, datetime):
                out.append((row, stamp))
            elif on_grid(stamp, minutes):  # off the grid: an RTD-CAM corrective run
                occurrence = seen.get((row["Name"], stamp), 0)
                seen[(row["Name"], stamp)] = occurrence + 1
                out.append((row, to_utc(stamp, repeated=occurrence > 0)))
        return out

    def _priced_ticks(
        self, resp: Response, dataset: str, minutes: int, *, cutoff: datetime | None = None, nodes: bool = False
    ) -> list[dict[str, Any]] | None:
        """_priced_rows and _read_<dataset> by column: the same ticks, or None when a row is odd
        (a bad stamp or number, a name off the roster): the row path then says which and why."""
        cells = table(resp, LMP_COLUMNS)
        names, texts = cells["Name"], cells[TS]
        zones = self.zones
        if not nodes and not zones.union(PROXIES).issuperset(names):
            return None
        try:
            walls = {text: wall(text) for text in set(texts)}
            lbmp, loss, mcc = (list(map(float, cells[c])) for c in (LBMP, LOSSES, CONGESTION))
        except ValueError:
            return None
        if not all(map(math.isfinite, itertools.chain(lbmp, loss, mcc))):
            return None
        on = {text for text, stamp in walls.items() if on_grid(stamp, minutes)}
        keep = [n for n, text in enumerate(texts) if text in on]
        where = [names[n] for n in keep]
        stamps = [walls[texts[n]] for n in keep]
        repeated = [False] * len(keep)
        if len(set(zip(where, stamps, strict=True))) < len(keep):  # the fall-back day: a stamp's second reading
            seen: set[tuple[str, datetime]] = set()
            for n, key in enumerate(zip(where, stamps, strict=True)):
                repeated[n] = key in seen
                seen.add(key)
        readings = set(zip(stamps, repeated, strict=True))
        utc = {key: t for key in readings if isinstance(t := to_utc(key[0], repeated=key[1]), datetime)}
        if len(utc) < len(readings):  # a stamp in the skipped spring hour
            return None
        times = [utc[key] for key in zip(stamps, repeated, strict=True)]
        if cutoff is not None:  # today's later rows are RTC advisories (prepare)
            early = [n for n, t in enumerate(times) if t <= cutoff]
            keep, where, times = [keep[n] for n in early], [where[n] for n in early], [times[n] for n in early]
        kinds = ["node"] * len(where) if nodes else ["zone" if name in zones else "interface" for name in where]
        values = [price_values(lbmp[n], loss[n], mcc[n]) for n in keep]
        if dataset == "lmp":  # LBMP stamps mark the interval END, damlbmp's its BEGINNING
            return self.ticks(resp, dataset, locations=where, location_types=kinds, ends=times, values=values)
        return self.ticks(resp, dataset, locations=where, location_types=kinds, starts=times, values=values)

    def _rows_lmp(self, resp: Response, cutoff: datetime | None) -> list[Row]:
        """(row, UTC interval end): LBMP stamps mark the interval END."""
        if is_current(resp):
            out: list[Row] = []
            for row, stamp in self._stamped(resp):
                if not isinstance(stamp, datetime):
                    out.append((row, stamp))
                elif on_grid(stamp):
                    out.append((row, self._latest_end(stamp, resp.fetched_at)))
        else:
            out = self._priced_rows(resp, 5)
        if cutoff is not None:
            out = [(row, end) for row, end in out if not isinstance(end, datetime) or end <= cutoff]
        return out

    def _ticks_lmp(self, resp: Response, cutoff: datetime | None) -> list[dict[str, Any]] | None:
        # the one-interval file is a few rows: the row path reads it
        return None if is_current(resp) else self._priced_ticks(resp, "lmp", 5, cutoff=cutoff)

    def _read_lmp(self, item: Row, resp: Response) -> dict[str, Any]:
        row, end = item
        if not isinstance(end, datetime):
            raise FormatError(end)
        kind = "zone" if row["Name"] in self.zones else "interface"
        return self.tick(resp, "lmp", location=row["Name"], location_type=kind, end=end, **prices(row))

    def wanted(self, dataset: str, response: Response) -> bool:
        """Generator-bus prices only with include_nodes."""
        return self.include_nodes or not is_nodal(response)

    def _rows_dam(self, resp: Response, context: Any) -> list[Row]:
        """(row, UTC interval start): damlbmp stamps mark the hour BEGINNING."""
        return self._priced_rows(resp, 60, nodes=is_nodal(resp))

    def _ticks_dam(self, resp: Response, context: Any) -> list[dict[str, Any]] | None:
        return self._priced_ticks(resp, "dam", 60, nodes=is_nodal(resp))

    def _read_dam(self, item: Row, resp: Response) -> dict[str, Any]:
        row, start = item
        nodal = is_nodal(resp)
        if not isinstance(start, datetime):
            raise FormatError(start)
        name = row["Name"]
        kind = "node" if nodal else "zone" if name in self.zones else "interface"
        return self.tick(resp, "dam", location=name, location_type=kind, start=start, **prices(row))

    @staticmethod
    def _latest_end(stamp: datetime, fetched_at: datetime) -> datetime | str:
        """The newest-interval file has no zone column: of the (at most two) UTC readings of
        its wall time, the interval is the latest one that had ended when it was fetched."""
        candidates = {to_utc(stamp, repeated=flag) for flag in (False, True)}
        times = [c for c in candidates if isinstance(c, datetime)]
        if not times:
            return str(next(iter(candidates)))
        ended = [c for c in times if c <= fetched_at + timedelta(minutes=1)]
        return max(ended) if ended else min(times)

    # -- load ------------------------------------------------------------------------------

    def _rows_load(self, resp: Response, context: Any) -> list[dict[str, str]]:
        rows = records(resp, PAL_COLUMNS)
        for n, row in enumerate(rows, start=2):
            if row["Name"] not in self.zones:
                raise FormatError(f"row {n}: unknown load zone {row['Name']!r}", resp.url)
        return rows

    def _read_load(self, row: dict[str, str], resp: Response) -> dict[str, Any] | None:
        try:
            stamp = wall(row[TS])
        except ValueError:
            raise FormatError(f"bad {TS} {row[TS]!r}") from None
        flag = row["Time Zone"]
        if flag not in ("EST", "EDT"):
            raise FormatError(f"Time Zone {flag!r} is neither EST nor EDT")
        if not on_grid(stamp):
            return None
        # EST in the repeated hour is its second (standard-time) occurrence. An instantaneous
        # reading at T is filed as the interval ENDING at T (module docstring).
        end = to_utc(stamp, repeated=flag == "EST")
        if not isinstance(end, datetime):
            raise FormatError(end)
        mw = formats.number(row["Load"], "Load")
        return self.tick(resp, "load", location=row["Name"], location_type="zone", end=end, load_mw=mw)

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """History: only the operating day's intervals. lmp: the one-interval file's tick wins
        an interval a day file holds too (it is put last; the later tick of a key wins). load:
        the NYISO system total, for each interval where all eleven zones are present."""
        ticks = [t for t in ticks if _on_operating_day(t)]
        if dataset != "load":
            current = {
                url: urlsplit(url).path == urlsplit(LMP_CURRENT_URL).path for url in {t["source"] for t in ticks}
            }
            return sorted(ticks, key=lambda t: current[t["source"]])
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


def _on_operating_day(t: dict[str, Any]) -> bool:
    day = operating_day(t["source"])
    return day is None or contract.parse_ts(t["interval_start"]).astimezone(ZONE).date() == day

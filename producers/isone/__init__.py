"""ISO-NE: five-minute LMPs, five-minute system and zonal load, day-ahead hourly LMPs, live and
for past days, from ISO Express's CSVs (www.iso-ne.com).

The ``/transform/csv/`` addresses answer 403 unless the session already holds the cookie a
normal ISO Express page sets: every fetch and history() first GETs a report page (the fetch
layer keeps one cookie session per ISO), as gridstatus does for every ISO-NE file.

Every file is ISO-NE's record-typed CSV (files.data_rows). Per feed and format, what the time
label means (Eastern prevailing wall time, no offset and no DST flag unless said):
lmp   ``fiveminlmp/current?type=prelim`` (live; the newest hour): ``Local Time`` = interval
      BEGINNING (gridstatus reads it as Interval Start; ISO-NE's web services label the same
      prices ``BeginDate``), ``Location ID``/``Name``/``Type``, ``Locational Marginal Price`` =
      ``Energy Component`` + ``Congestion Component`` + ``Loss Component``.
      ``static-transform/csv/histRpts/5min-rt-prelim/lmp_5min_YYYYMMDD_HH-HH.csv`` (history:
      six four-hour files a day, 00-04 ... 20-24, as gridstatus reads past days): ``Local
      Time`` is a time of day, interval BEGINNING; the date is only in the address (files.
      hist_day); no location name, so the hub and the zones are named from their Location ID.
load  ``fiveminutesystemload?start=D&end=D`` (live and history): ``Date/Time`` = interval
      BEGINNING (gridstatus: Interval Start = Time), ``Native Load`` (MW, without Asset
      Related Demand; the real hourly sample in ../shared shows Load = NativeLoad + ArdDemand).
      ``fiveminuteestimatedzonalload?start=D&end=D``: the eight load zones (IDs 4001-4008),
      one row per zone and five minutes, interval BEGINNING (the web services name the field
      interval_begin_date), about 1-2 hours behind real time. Its column names are not
      documented publicly, so its cells are read by position (time, zone ID, zone name, load)
      and a zone ID whose name does not match ISO-NE's location list refuses the row.
dam   ``static-transform/csv/histRpts/da-lmp/WW_DALMP_ISO_YYYYMMDD.csv`` (live and history,
      posted the day before by posts_at): ``Date`` + ``Hour Ending`` 01..24, so interval_start
      = hour ending - 1 h; the spring day has no "03" (23 hours), the fall day repeats hour
      ending 02 as "02X" (the EST pass; gridstatus reads it the same way): 25 hours.
The fall-back hour of the five-minute files carries no marker, so each location's rows are
read in file order (producers.formats.wall_clock_series).
After an outage, load reads every day file since the poller's cursor (at most
MAX_CATCHUP_DAYS back); the lmp ``current`` file holds only the newest hour: a longer lmp gap
is backfill's (history()).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response, Values
from producers.formats import FormatError
from producers.isone.files import (
    COOKIE_PAGE,
    DA_COLUMNS,
    HIST_BLOCKS,
    HIST_LMP_COLUMNS,
    HUB_AND_ZONES,
    LMP_COLUMNS,
    LMP_URL,
    LOAD_COLUMNS,
    LOAD_URL,
    LOCATION_TYPES,
    LOSS,
    ZONAL_URL,
    ZONE,
    da_url,
    data_records,
    data_rows,
    hist_day,
    hist_lmp_url,
    kind,
    type_by_name,
    wall,
)

__all__ = ["COOKIE_PAGE", "LMP_URL", "LOAD_URL", "LOCATION_TYPES", "ZONAL_URL", "IsoneSource", "da_url", "hist_lmp_url"]

# In the first minutes of a day the new day's load file holds almost nothing: fetch
# yesterday's too, so its last intervals are not lost. The zonal estimates run 1-2 h behind.
LOAD_YESTERDAY_UNTIL = timedelta(minutes=15)
ZONAL_YESTERDAY_UNTIL = timedelta(hours=3)
MAX_CATCHUP_DAYS = 2  # after an outage, load day files this far back (older: backfill)
HOUR_ENDING = re.compile(r"0[1-9]|1\d|2[0-4]|02X")
Row = tuple[dict[str, str], datetime | str]  # a row and its UTC interval start, or why it has none


class IsoneSource(IsoSource):
    iso: ClassVar[str] = "ISONE"
    may_be_empty: ClassVar[frozenset[str]] = frozenset({"load"})  # a day file in its first minutes
    archives: ClassVar[frozenset[str]] = frozenset({"lmp", "load", "dam"})

    # -- fetch -------------------------------------------------------------------------------
    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset not in self.datasets:
            raise ValueError(f"ISO-NE has no dataset {dataset!r}")
        http.get(Request(COOKIE_PAGE))  # sets the session cookie the CSV endpoints require
        normal = self.data_requests(dataset, now)
        today = f"{now.astimezone(ZONE):%Y%m%d}"
        out = []
        for request in self.data_requests(dataset, now, since):
            resp = http.get(request)
            # a day read only to heal an outage, or tomorrow's day-ahead file not posted yet
            if resp.status == 404 and (request not in normal or (dataset == "dam" and today not in request.url)):
                continue
            out.append(resp)
        return out

    @staticmethod
    def data_requests(dataset: str, now: datetime, since: datetime | None = None) -> list[Request]:
        local = now.astimezone(ZONE)
        if dataset == "lmp":
            return [Request(LMP_URL, {"type": "prelim"})]
        if dataset == "dam":
            from gridtape import isos

            posts_at = datetime.strptime(isos.get("ISONE").feed("dam").posts_at or "23:59", "%H:%M").time()
            days = [local.date()] + ([local.date() + timedelta(days=1)] if local.time() >= posts_at else [])
            return [Request(da_url(d)) for d in days]

        def days_from(back: timedelta) -> list[date]:
            first = (local - back).date() if local - local.replace(hour=0, minute=0, second=0) < back else local.date()
            if since is not None:  # after an outage: every day file since the cursor's day
                first = max(min(first, since.astimezone(ZONE).date()), local.date() - timedelta(days=MAX_CATCHUP_DAYS))
            return [first + timedelta(days=n) for n in range((local.date() - first).days + 1)]

        return [
            *(_by_day(LOAD_URL, d) for d in days_from(LOAD_YESTERDAY_UNTIL)),
            *(_by_day(ZONAL_URL, d) for d in days_from(ZONAL_YESTERDAY_UNTIL)),
        ]

    # -- history -----------------------------------------------------------------------------
    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        """Operating day `day`: the six historical five-minute LMP files, the system and zonal
        five-minute load by date, the day-ahead file (what gridstatus reads for past days)."""
        requests = {
            "lmp": [Request(hist_lmp_url(day, block)) for block in HIST_BLOCKS],
            "load": [_by_day(LOAD_URL, day), _by_day(ZONAL_URL, day)],
            "dam": [Request(da_url(day))],
        }.get(dataset)
        if requests is None:
            raise NotImplementedError(f"ISO-NE keeps no archive gridtape reads for {dataset}")
        http.get(Request(COOKIE_PAGE))
        return [http.get(r) for r in requests]

    # -- lmp ---------------------------------------------------------------------------------
    def _rows_lmp(self, response: Response, context: Any) -> list[Row]:
        if kind(response.url) == "current":
            return _by_location(data_records(response.body, LMP_COLUMNS), "Location Name", wall, response)
        day = hist_day(response.url)  # the rows hold a time of day: the date is in the address
        rows = data_records(response.body, (*HIST_LMP_COLUMNS, LOSS))
        return _by_location(rows, "Location ID", lambda text: _on_day(day, text), response)

    def _read_lmp(self, item: Row, response: Response) -> dict[str, Any] | None:
        row, start = item
        if "Location Name" in row:
            name, location_type = row["Location Name"], LOCATION_TYPES.get(row["Location Type"], "node")
        else:  # a historical file: the hub and zones by ID; it names no node
            name = HUB_AND_ZONES.get(row["Location ID"], "")
            location_type = type_by_name(name)
        if location_type == "node" and (not self.include_nodes or not name):
            return None
        return self.tick(
            response, "lmp", location=name, location_type=location_type, start=_start(start), **_prices(row, name)
        )

    # -- dam ---------------------------------------------------------------------------------
    def _rows_dam(self, response: Response, context: Any) -> list[Row]:
        out: list[Row] = []
        for row in data_records(response.body, (*DA_COLUMNS, LOSS)):
            label = row["Hour Ending"]
            try:
                day = wall(row["Date"], ("%m/%d/%Y", "%Y-%m-%d"))
                if not HOUR_ENDING.fullmatch(label):
                    raise ValueError("expected 01..24 or 02X")
                hour = int(label.removesuffix("X"))
                # hour ending h starts at h - 1; "02X" is the repeated (standard-time) 01:00 hour
                out.append((row, local_to_utc(day + timedelta(hours=hour - 1), ZONE, repeated=label == "02X")))
            except (ValueError, FormatError) as exc:
                out.append((row, f"bad Date/Hour Ending {row['Date']!r} {label!r}: {exc}"))
        return out

    def _read_dam(self, item: Row, response: Response) -> dict[str, Any] | None:
        row, start = item
        name, location_type = row["Location Name"], LOCATION_TYPES.get(row["Location Type"], "node")
        if location_type == "node" and not self.include_nodes:
            return None
        return self.tick(
            response, "dam", location=name, location_type=location_type, start=_start(start), **_prices(row, name)
        )

    # -- load --------------------------------------------------------------------------------
    def _rows_load(self, response: Response, context: Any) -> list[Row]:
        if kind(response.url) == "system":
            return _by_location(data_records(response.body, LOAD_COLUMNS), None, wall, response)
        header, data = data_rows(response.body)
        if len(header) < 5:
            raise FormatError(f"zonal load header has {len(header)} cells, expected time, zone ID, name, load")
        rows = [dict(zip(("Date/Time", "Zone ID", "Zone Name", "Native Load"), r[1:5], strict=True)) for r in data]
        return _by_location(rows, "Zone ID", wall, response)

    def _read_load(self, item: Row, response: Response) -> dict[str, Any]:
        row, start = item
        mw = formats.number(row["Native Load"], f"load at {row['Date/Time']}")
        if "Zone ID" not in row:
            return self.tick(
                response, "load", location=self.facts.system, location_type="system", start=_start(start), load_mw=mw
            )
        name = HUB_AND_ZONES.get(row["Zone ID"], "")
        if type_by_name(name) != "zone" or name != row["Zone Name"]:
            raise FormatError(f"zone ID {row['Zone ID']!r} is not ISO-NE's {row['Zone Name']!r} (columns moved?)")
        return self.tick(response, "load", location=name, location_type="zone", start=_start(start), load_mw=mw)


def _by_day(url: str, day: date) -> Request:
    return Request(url, {"start": f"{day:%Y%m%d}", "end": f"{day:%Y%m%d}"})


def _on_day(day: date, text: str) -> datetime:
    """A historical file's time of day ("HH:MM" or "HH:MM:SS"; a full date-time is read as is)."""
    return wall(text if " " in text else f"{day:%Y-%m-%d} {text}")


def _by_location(
    rows: list[dict[str, str]], column: str | None, read: Callable[[str], datetime], response: Response
) -> list[Row]:
    """Each row with its UTC interval start, each location's rows in file order (see
    formats.wall_clock_series), or the time text of a row that is not a date-time at all."""
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row[column] if column else "", []).append(row)
    out: list[Row] = []
    for group in groups.values():
        time_column = "Date/Time" if "Date/Time" in group[0] else "Local Time"
        walls: list[datetime | None] = []
        for row in group:
            try:
                walls.append(read(row[time_column]))
            except FormatError:
                walls.append(None)
        starts = iter(formats.wall_clock_series([w for w in walls if w is not None], ZONE, response.fetched_at, 5))
        out += [(row, next(starts) if w is not None else row[time_column]) for row, w in zip(group, walls, strict=True)]
    return out


def _start(value: datetime | str) -> datetime:
    if isinstance(value, str):
        raise FormatError(f"{value!r} is not a local date-time")
    return value  # every ISO-NE label read here is (or is turned into) the interval BEGINNING


def _prices(row: dict[str, str], name: str) -> Values:
    return Values(
        lmp=formats.number(row["Locational Marginal Price"], f"{name} LMP"),
        energy=formats.number(row["Energy Component"], f"{name} energy"),
        congestion=formats.number(row["Congestion Component"], f"{name} congestion"),
        loss=formats.number(row[LOSS], f"{name} loss"),
    )

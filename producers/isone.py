"""ISO-NE: preliminary five-minute LMPs and five-minute system load from ISO Express CSVs.

Both come from ``www.iso-ne.com/transform/csv/...``, which answers 403 unless the session
already holds the cookie a normal ISO Express page sets: every fetch first GETs a report page
(the fetch layer keeps one cookie session per ISO), then the CSV.

The CSVs are ISO-NE's record-typed format: every row starts with a record type,
``"C"`` comment/title rows, ``"H"`` header rows (the first holds the column names, a second
holds units), ``"D"`` data rows, and a closing ``"T"`` (or ``"C"``) trailer; a file whose last
row is a data row was cut off.

lmp   ``fiveminlmp/current?type=prelim``: ``Local Time`` (interval BEGINNING, Eastern
      prevailing time, no offset and no DST flag), ``Location ID``, ``Location Name``,
      ``Location Type`` (HUB, LOAD ZONE, NETWORK NODE, EXT. NODE, ...), ``Locational Marginal
      Price`` = ``Energy Component`` + ``Congestion Component`` + ``Loss Component``.
load  ``fiveminutesystemload?start=YYYYMMDD&end=YYYYMMDD`` (the Eastern operating day):
      ``Date/Time`` (interval BEGINNING, Eastern prevailing), ``Native Load`` (MW; what
      ISO-NE reports as system load, i.e. without Asset Related Demand such as pumping).
The fall-back hour's wall times carry no marker, so each location's rows are read in file
order (producers.formats.wall_clock_series).
The same data from ISO-NE's (authenticated) Web Services, in live-derived examples
(api-evangelist/iso-new-england, 2026-07-27), labels intervals by ``BeginDate``, has
LmpTotal = Energy + Congestion + Loss at two decimals for the same location IDs, names and
types, and LoadMw = NativeLoad + ArdDemand; the real hourly load sample in ../shared shows the
same split (Load = NativeLoad + ArdDemand).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from gridtape.contract import tick
from gridtape.timeutil import EASTERN, interval_beginning
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

COOKIE_PAGE = "https://www.iso-ne.com/isoexpress/web/reports/operations/-/tree/gen-fuel-mix"
LMP_URL = "https://www.iso-ne.com/transform/csv/fiveminlmp/current"
LOAD_URL = "https://www.iso-ne.com/transform/csv/fiveminutesystemload"
LMP_COLUMNS = (
    "Local Time",
    "Location ID",
    "Location Name",
    "Location Type",
    "Locational Marginal Price",
    "Energy Component",
    "Congestion Component",
    "Loss Component",
)
LOAD_COLUMNS = ("Date/Time", "Native Load")
LOCATION_TYPES = {"HUB": "hub", "LOAD ZONE": "zone"}  # every other type is a node
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
# In the first minutes of a day the new day's load file holds almost nothing: fetch
# yesterday's too, so its last intervals are not lost.
LOAD_YESTERDAY_UNTIL = timedelta(minutes=15)


class IsoneSource(IsoSource):
    iso: ClassVar[str] = "ISONE"
    min_poll_interval_s: ClassVar[float] = 60.0
    requests_per_second: ClassVar[float] = 1.0

    # -- fetch -------------------------------------------------------------------------------
    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        if dataset not in self.datasets:
            raise ValueError(f"ISO-NE has no dataset {dataset!r}")
        http.get(Request(COOKIE_PAGE))  # sets the session cookie the CSV endpoints require
        return [http.get(r) for r in self.data_requests(dataset, now)]

    @staticmethod
    def data_requests(dataset: str, now: datetime) -> list[Request]:
        if dataset == "lmp":
            return [Request(LMP_URL, {"type": "prelim"})]
        local = now.astimezone(EASTERN)
        days = [local.date()]
        if local - local.replace(hour=0, minute=0, second=0, microsecond=0) < LOAD_YESTERDAY_UNTIL:
            days.insert(0, local.date() - timedelta(days=1))
        return [Request(LOAD_URL, {"start": f"{d:%Y%m%d}", "end": f"{d:%Y%m%d}"}) for d in days]

    # -- parse -------------------------------------------------------------------------------
    def _parse_lmp(self, response: Response) -> list[dict[str, Any]]:
        by_location: dict[str, list[dict[str, str]]] = {}
        for row in data_records(response.body, LMP_COLUMNS):
            by_location.setdefault(row["Location Name"], []).append(row)
        ticks = []
        for name, rows in by_location.items():
            kind = LOCATION_TYPES.get(rows[0]["Location Type"], "node")
            if kind == "node" and not self.include_nodes:
                continue
            starts = formats.wall_clock_series([_wall(r["Local Time"]) for r in rows], EASTERN, response.fetched_at, 5)
            for start, row in zip(starts, rows, strict=True):
                begin, end = interval_beginning(start, 5)
                ticks.append(
                    tick(
                        iso=self.iso,
                        market="RT5",
                        dataset="lmp",
                        location=name,
                        location_type=kind,
                        interval_start=begin,
                        interval_end=end,
                        lmp=formats.number(row["Locational Marginal Price"], f"{name} LMP"),
                        energy=formats.number(row["Energy Component"], f"{name} energy"),
                        congestion=formats.number(row["Congestion Component"], f"{name} congestion"),
                        loss=formats.number(row["Loss Component"], f"{name} loss"),
                        published_at=response.fetched_at,  # the CSV carries no publication time
                        ingested_at=response.fetched_at,
                        source=response.url,
                    )
                )
        if not ticks:
            raise FormatError("no hub or load zone prices")
        return sorted(ticks, key=lambda t: (t["interval_start"], t["location"]))

    def _parse_load(self, response: Response) -> list[dict[str, Any]]:
        rows = data_records(response.body, LOAD_COLUMNS)
        starts = formats.wall_clock_series([_wall(r["Date/Time"]) for r in rows], EASTERN, response.fetched_at, 5)
        return [
            tick(
                iso=self.iso,
                market="RT5",
                dataset="load",
                location="ISONE",
                location_type="system",
                interval_start=start,
                interval_end=start + timedelta(minutes=5),
                load_mw=formats.number(row["Native Load"], f"Native Load at {row['Date/Time']}"),
                published_at=response.fetched_at,
                ingested_at=response.fetched_at,
                source=response.url,
            )
            for start, row in zip(starts, rows, strict=True)
        ]


def data_records(body: bytes, required: Sequence[str]) -> list[dict[str, str]]:
    """The "D" rows of an ISO-NE record-typed CSV as dicts keyed by the first "H" row.
    Exact repeats of a data row are dropped (ISO-NE files have carried them)."""
    formats.check_body(body)
    rows = formats.csv_rows(formats.decode(body))
    kinds = [row[0].strip() for row in rows]
    if "H" not in kinds:
        raise FormatError("no header (H) row")
    if kinds[-1] not in ("T", "C"):
        raise FormatError(f"last row is a {kinds[-1]!r} row, not the trailer (truncated file)")
    header = [c.strip() for c in rows[kinds.index("H")]]
    unknown = sorted(set(kinds) - {"C", "H", "D", "T"})
    if unknown:
        raise FormatError(f"unknown record type(s) {unknown}")
    seen: set[tuple[str, ...]] = set()
    data = []
    for row in rows:
        key = tuple(c.strip() for c in row)
        if key[0] == "D" and key not in seen:
            seen.add(key)
            data.append(row)
    return formats.records(header, data, required)


def _wall(text: str) -> datetime:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise FormatError(f"{text!r} is not a local date-time")

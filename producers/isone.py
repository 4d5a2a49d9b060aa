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
After an outage, load reads every day file since the poller's cursor (at most
MAX_CATCHUP_DAYS back). The lmp ``current`` file holds only the newest hour or so, and the
dated five-minute LMP files are not read yet: an lmp gap longer than that is backfill's.
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

from gridtape import isos
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

ZONE = isos.get("ISONE").tz  # the market clock, from the ISO table
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
MAX_CATCHUP_DAYS = 2  # after an outage, load day files this far back (older: backfill)


class IsoneSource(IsoSource):
    iso: ClassVar[str] = "ISONE"
    may_be_empty: ClassVar[frozenset[str]] = frozenset({"load"})  # a day file in its first minutes

    # -- fetch -------------------------------------------------------------------------------
    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset not in self.datasets:
            raise ValueError(f"ISO-NE has no dataset {dataset!r}")
        http.get(Request(COOKIE_PAGE))  # sets the session cookie the CSV endpoints require
        normal = self.data_requests(dataset, now)
        out = []
        for request in self.data_requests(dataset, now, since):
            resp = http.get(request)
            if resp.status == 404 and request not in normal:
                continue  # a day read only to heal an outage is not there: backfill's
            out.append(resp)
        return out

    @staticmethod
    def data_requests(dataset: str, now: datetime, since: datetime | None = None) -> list[Request]:
        if dataset == "lmp":
            return [Request(LMP_URL, {"type": "prelim"})]
        local = now.astimezone(ZONE)
        first = local.date()
        if local - local.replace(hour=0, minute=0, second=0, microsecond=0) < LOAD_YESTERDAY_UNTIL:
            first -= timedelta(days=1)
        if since is not None:  # after an outage: every day file since the cursor's day
            first = max(min(first, since.astimezone(ZONE).date()), local.date() - timedelta(days=MAX_CATCHUP_DAYS))
        days = [first + timedelta(days=n) for n in range((local.date() - first).days + 1)]
        return [Request(LOAD_URL, {"start": f"{d:%Y%m%d}", "end": f"{d:%Y%m%d}"}) for d in days]

    # -- parse -------------------------------------------------------------------------------
    def _rows_lmp(self, response: Response, context: Any) -> list[tuple[dict[str, str], datetime | str]]:
        by_location: dict[str, list[dict[str, str]]] = {}
        for row in data_records(response.body, LMP_COLUMNS):
            by_location.setdefault(row["Location Name"], []).append(row)
        out = []
        for rows in by_location.values():
            out += _series(rows, "Local Time", response.fetched_at)
        return out

    def _read_lmp(self, item: tuple[dict[str, str], datetime | str], response: Response) -> dict[str, Any] | None:
        row, start = item
        name = row["Location Name"]
        kind = LOCATION_TYPES.get(row["Location Type"], "node")
        if kind == "node" and not self.include_nodes:
            return None
        return self.tick(
            response,
            "lmp",
            location=name,
            location_type=kind,
            start=_start(start),
            lmp=formats.number(row["Locational Marginal Price"], f"{name} LMP"),
            energy=formats.number(row["Energy Component"], f"{name} energy"),
            congestion=formats.number(row["Congestion Component"], f"{name} congestion"),
            loss=formats.number(row["Loss Component"], f"{name} loss"),
        )

    def _rows_load(self, response: Response, context: Any) -> list[tuple[dict[str, str], datetime | str]]:
        return _series(data_records(response.body, LOAD_COLUMNS), "Date/Time", response.fetched_at)

    def _read_load(self, item: tuple[dict[str, str], datetime | str], response: Response) -> dict[str, Any]:
        row, start = item
        return self.tick(
            response,
            "load",
            location=self.facts.system,
            location_type="system",
            start=_start(start),
            load_mw=formats.number(row["Native Load"], f"Native Load at {row['Date/Time']}"),
        )


def _series(
    rows: list[dict[str, str]], column: str, fetched_at: datetime
) -> list[tuple[dict[str, str], datetime | str]]:
    """Each row with its UTC interval start (one location's rows, in file order: see
    formats.wall_clock_series), or the time text a row has that is not a date-time at all."""
    walls: list[datetime | None] = []
    for row in rows:
        try:
            walls.append(_wall(row[column]))
        except FormatError:
            walls.append(None)
    readable = [w for w in walls if w is not None]
    starts = iter(formats.wall_clock_series(readable, ZONE, fetched_at, 5))
    return [(row, next(starts) if wall is not None else row[column]) for row, wall in zip(rows, walls, strict=True)]


def _start(value: datetime | str) -> datetime:
    if isinstance(value, str):
        raise FormatError(f"{value!r} is not a local date-time")
    return value  # Local Time and Date/Time mark the interval BEGINNING


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

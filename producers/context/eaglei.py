"""DOE EAGLE-I county customer outages: the yearly files eaglei_outages_<YEAR>.csv (ORNL,
"A dataset of recorded electricity outages by United States county 2014-2022", Scientific Data;
published on figshare, later years added), parsed into gridtape.context.CUSTOMERS_OUT records.

Format (checked against the ORNL data descriptor and the published reads of the files, e.g.
pandas.read_csv("eaglei_outages_2017.csv") showing
"fips_code,county,state,sum,run_start_time" / "9013,Tolland,Connecticut,1.0,2017-01-01 13:15:00"):
- one row per county and 15-minute run in which the county had customers out (no row: none
  reported out, or not covered: EAGLE-I writes no zero rows, so absence is unknown, not zero);
- fips_code: the county FIPS code as an integer (leading zero dropped: 9013 = 09013);
  county: county name without "County"; state: the state's full name;
- customers out: column `sum` in the older years (a float, "1.0"), `customers_out` in the
  newer ones; a leading unnamed index column appears in some years. Columns are found by name;
- run_start_time: "YYYY-MM-DD HH:MM:SS", UTC, the start of the 15-minute collection run.
No real file is available offline: the seeded generator (tools/recordings/context_eaglei.py)
writes this layout. The figshare download addresses are per-file ids, so the year files are
read from EAGLEI_BASE_URL/eaglei_outages_<YEAR>.csv, a folder holding them under their own
names (env GRIDTAPE_EAGLEI_URL; the replay tree answers the default).

A yearly file is hundreds of MB: _rows_customers reads it as a csv stream over the (gzip or
plain) body and keeps only rows of the requested UTC days (`days`), comparing the time text
before parsing anything else. County -> (ISO, zone): gridtape/counties.py; an unmapped county
keeps iso/zone null and is counted in `unmapped` (FIPS -> (county, state, rows)).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Final

from gridtape import contract, counties
from gridtape.context import CUSTOMERS_OUT
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response

PROVIDER: Final = "eaglei"
KIND: Final = "customers"
FEED: Final = "customers"
EAGLEI_BASE_URL: Final = "https://eagle-i.doe.gov/data/county"
INTERVAL: Final = timedelta(minutes=15)
COUNT_COLUMNS: Final = ("customers_out", "sum")  # newer years, older years
REQUIRED: Final = ("fips_code", "county", "state", "run_start_time")


def base_url() -> str:
    return os.environ.get("GRIDTAPE_EAGLEI_URL", EAGLEI_BASE_URL).rstrip("/")


def year_url(year: int) -> str:
    return f"{base_url()}/eaglei_outages_{year}.csv"


class EagleiSource(IsoSource):
    """Not one ISO's: every county of the file, placed by the mapping table. `iso` names the
    provider in errors and the fetch layer; `days` (UTC dates) limits what a parse keeps."""

    iso: ClassVar[str] = "EAGLEI"
    archives: ClassVar[frozenset[str]] = frozenset({FEED})

    def __init__(
        self, include_nodes: bool = False, credentials: Any = None, days: Iterable[date] | None = None
    ) -> None:
        super().__init__(include_nodes, credentials)
        self.days = frozenset(d.isoformat() for d in days) if days is not None else None
        self.table = counties.load()
        self.unmapped: dict[str, tuple[str, str, int]] = {}

    @property
    def datasets(self) -> tuple[str, ...]:
        return (FEED,)

    @property
    def requests_per_second(self) -> float:
        return 1.0

    @property
    def min_poll_interval_s(self) -> float:
        return 900.0

    def record_contract(self, dataset: str) -> contract.RecordContract:
        return CUSTOMERS_OUT

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        """No live feed: EAGLE-I publishes yearly files (`gridtape backfill --dataset customers`).
        A live provider plugs in as another source writing the same CUSTOMERS_OUT records."""
        raise self.error(dataset, year_url(now.year), "EAGLE-I has no live feed; backfill its yearly files")

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        return [http.get(Request(year_url(day.year)))]

    # -- parse -----------------------------------------------------------------------------
    def _rows_customers(self, response: Response, context: Any) -> Iterator[tuple[list[str], dict[str, int]]]:
        stream: Any = io.BytesIO(response.body)
        if response.body[:2] == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=stream)
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        header = [h.strip().lower() for h in next(reader, [])]
        cols = _columns(header)
        at = cols["run_start_time"]
        for row in reader:
            if not row:
                continue
            if self.days is not None and len(row) > at and row[at][:10] not in self.days:
                continue  # another day of the year: skipped before any parsing (a short row is refused)
            yield row, cols

    def _read_customers(self, item: tuple[list[str], dict[str, int]], response: Response) -> dict[str, Any]:
        row, cols = item
        if len(row) != cols["width"]:
            raise ValueError(f"{len(row)} columns, the header has {cols['width']}")
        fips = row[cols["fips_code"]].strip()
        if not fips.isdigit() or len(fips) > 5:
            raise ValueError(f"fips_code {fips!r} is not a county FIPS code")
        fips = fips.zfill(5)
        count = float(row[cols["count"]])
        if not count.is_integer():
            raise ValueError(f"customers out {count!r} is not a whole number")
        start = datetime.strptime(row[cols["run_start_time"]].strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        name, state = row[cols["county"]].strip(), row[cols["state"]].strip()
        place = self.table.get(fips)
        if place is None:
            _, _, n = self.unmapped.get(fips, (name, state, 0))
            self.unmapped[fips] = (name, state, n + 1)
        return {
            "provider": PROVIDER,
            "fips": fips,
            "county": name,
            "state": state,
            "iso": place.iso if place else None,
            "zone": place.zone if place else None,
            "interval_start": contract.format_ts(start),
            "interval_end": contract.format_ts(start + INTERVAL),
            "customers_out": int(count),
            "published_at": contract.format_ts(formats.published_at(response.headers, response.fetched_at)),
            "ingested_at": contract.format_ts(response.fetched_at),
            "source": response.url,
            "revision": None,
        }


def _columns(header: list[str]) -> dict[str, int]:
    """Column positions by name; FormatError (the whole file refused) when one is missing."""
    missing = [c for c in REQUIRED if c not in header]
    count = next((c for c in COUNT_COLUMNS if c in header), None)
    if missing or count is None:
        need = [*missing, *([] if count else ["customers_out|sum"])]
        raise formats.FormatError(f"not an EAGLE-I outage file: no column {', '.join(need)} in {header[:8]}")
    return {**{c: header.index(c) for c in REQUIRED}, "count": header.index(count), "width": len(header)}

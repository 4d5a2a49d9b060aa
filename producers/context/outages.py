"""What the generation-outage sources (outages_pjm, outages_ercot, outages_caiso) share: the
feed name, the OUTAGE record built from one response, the hours of an operating day, and an
.xlsx report's sheet.

Rows of one area never hold a sum of other rows of that area: the kinds an ISO splits its MW
into (planned / maintenance / forced, planned / forced) are published without a "total" row,
so the enrichment may add up the fuels and kinds of one (area, hour). An ISO that does not
split (ERCOT) publishes kind "total" alone. The system area is the ISO's whole footprint; its
rows are not the sum of the zone rows gridtape also publishes (an ISO's zones may not cover it).
Every record is hourly: the enrichment joins on (ISO, zone, hour)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Final

from gridtape import context, contract, isos
from gridtape.contract import RecordContract
from producers import formats
from producers.base import IsoSource, Response
from producers.formats import FormatError

FEED: Final = "outage"
HOUR: Final = timedelta(hours=1)


def day_bounds(iso: str, day: date) -> tuple[datetime, datetime]:
    """The ISO's operating day `day` (its market clock) as UTC instants [start, end)."""
    tz = isos.get(iso).tz
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)


def worksheet(body: bytes, sheet: str) -> Any:
    """Sheet `sheet` of the .xlsx workbook `body`, opened read-only (cell values, not formulas)."""
    import openpyxl  # pinned with the project; imported here so the other sources never need it

    try:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile / KeyError / InvalidFileException alike
        raise FormatError(f"not an .xlsx workbook ({type(exc).__name__}: {exc})") from None
    if sheet not in book.sheetnames:
        raise FormatError(f"no sheet {sheet}; sheets {book.sheetnames}")
    return book[sheet]


def hours(start: datetime, end: datetime) -> Iterator[datetime]:
    """The UTC hour starts in [start, end) (23 or 25 of them on a DST day)."""
    t = start
    while t < end:
        yield t
        t += HOUR


class OutageSource(IsoSource):
    """A generation-outage source for one ISO (subclasses set `iso`)."""

    archives: ClassVar[frozenset[str]] = frozenset({FEED})

    @property
    def datasets(self) -> tuple[str, ...]:
        return (FEED,)

    def record_contract(self, dataset: str) -> RecordContract:
        return context.OUTAGE

    def _feed(self, dataset: str) -> None:
        if dataset != FEED:
            raise NotImplementedError(f"{type(self).__name__} has no feed {dataset!r} (only {FEED!r})")

    def outage(
        self,
        response: Response,
        *,
        area: str,
        area_type: str,
        fuel: str,
        kind: str,
        start: datetime,
        end: datetime,
        mw: float,
        published_at: datetime | None = None,
    ) -> dict[str, Any]:
        """One OUTAGE record with its provenance (published_at: the ISO's own time where it
        gives one, else the response's Last-Modified, else the fetch)."""
        published = published_at or formats.published_at(response.headers, response.fetched_at)
        return {
            "iso": self.iso,
            "area": area,
            "area_type": area_type,
            "fuel": fuel,
            "kind": kind,
            "interval_start": contract.format_ts(start),
            "interval_end": contract.format_ts(end),
            "outage_mw": mw,
            "published_at": contract.format_ts(published),
            "ingested_at": contract.format_ts(response.fetched_at),
            "source": response.url,
            "revision": None,
        }


def hourly_copies(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A record over several hours as one record per hour, each with the same MW."""
    start = contract.parse_ts(record["interval_start"])
    end = contract.parse_ts(record["interval_end"])
    return [
        {**record, "interval_start": contract.format_ts(h), "interval_end": contract.format_ts(h + HOUR)}
        for h in hours(start, end)
    ]

"""MISO's daily forecast and actual load report, ``marketreports/YYYYMMDD_df_al.xls`` (an Excel
97 workbook, sheet ``Sheet1``), split into one item per (hour, area). Its clock is in the package
docstring (producers/miso/__init__.py).

Layout (as gridstatus reads it): title lines, then a header row whose first cell is
``Market Day``: ``Market Day, HourEnding`` and, per area (LRZ1, LRZ2_7, LRZ3_5, LRZ4, LRZ6,
LRZ8_9_10, MISO), ``<area> MTLF (MWh)`` and ``<area> ActualLoad (MWh)``. Until 2026-04-26 the
header was row 5 (index 4); since the file of 2026-04-27 it is row 7, with blank columns from
merged cells. Rows without an hour (blank lines, the footer) and repeated header rows are not
data. The file dated D holds the actual load of D-1 and the forecast of D-1 .. D+5: forecast
rows have no ActualLoad.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from typing import Any

from producers import formats
from producers.formats import FormatError
from producers.miso.reports import REPORTS

SHEET = "Sheet1"
DAY_COLUMN, HOUR_COLUMN = "Market Day", "HourEnding"
FORECAST, ACTUAL = " MTLF (MWh)", " ActualLoad (MWh)"
TOTAL = "MISO"  # the area column of MISO's own total
_NAME = re.compile(r"/(\d{8})_df_al\.xls$")
_TEXT_DAYS = ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S")


def url(file_day: date) -> str:
    """The report dated `file_day` (it holds the actual load of the day before)."""
    return f"{REPORTS}/{file_day:%Y%m%d}_df_al.xls"


def holding(day: date) -> str:
    """The report holding the actual load of operating day `day`: the one dated the day after."""
    return url(day + timedelta(days=1))


def is_report(address: str) -> bool:
    return _NAME.search(address.split("?")[0]) is not None


def _workbook_rows(body: bytes) -> tuple[list[list[Any]], int]:
    """Sheet1's cells as (ctype, value) rows, and the workbook's date mode."""
    import xlrd  # lazily: only the load poll and backfill read workbooks (the poller's cold start)

    formats.check_body(body)
    try:
        # xlrd writes its warnings to a logfile (stdout by default): keep them out of `gridtape parse`
        book = xlrd.open_workbook(file_contents=body, on_demand=True, logfile=io.StringIO(), verbosity=0)
        if SHEET not in book.sheet_names():
            raise FormatError(f"no sheet {SHEET!r} (sheets: {', '.join(book.sheet_names())})")
        sheet = book.sheet_by_name(SHEET)
        rows = [[(c.ctype, c.value) for c in sheet.row(n)] for n in range(sheet.nrows)]
    except FormatError:
        raise
    except Exception as exc:  # xlrd raises many types on a truncated or foreign file
        raise FormatError(f"not a readable .xls workbook ({type(exc).__name__}: {exc})") from None
    return rows, book.datemode


def _text(cell: tuple[int, Any]) -> str:
    return str(cell[1]).strip() if cell[1] is not None else ""


def zone_hours(body: bytes) -> list[dict[str, Any]]:
    """Every (data row, area) of the report: its Market Day and HourEnding cells, the area and
    its ActualLoad cell, as (ctype, value) pairs read one by one later (a bad cell refuses one
    item). Raises FormatError when the workbook, its header or an area's columns are missing."""
    rows, datemode = _workbook_rows(body)
    starts = [n for n, row in enumerate(rows) if row and _text(row[0]) == DAY_COLUMN]
    if not starts:
        raise FormatError(f"no header row starting {DAY_COLUMN!r} (columns renamed?)")
    header = {_text(c): k for k, c in enumerate(rows[starts[0]]) if _text(c)}  # blank (merged) columns dropped
    if HOUR_COLUMN not in header:
        raise FormatError(f"no {HOUR_COLUMN!r} column (renamed?)")
    areas = [name.removesuffix(FORECAST) for name in header if name.endswith(FORECAST)]
    lost = [a for a in areas if a + ACTUAL not in header]
    if lost or TOTAL not in areas:
        raise FormatError(f"no ActualLoad column for {', '.join(lost) or TOTAL} (columns renamed?)")
    if len(areas) != sum(1 for n in header if n.endswith(ACTUAL)):
        raise FormatError("ActualLoad columns without a matching MTLF column (columns renamed?)")
    day = header[DAY_COLUMN]
    out: list[dict[str, Any]] = []
    for row in rows[starts[0] + 1 :]:
        hour = row[header[HOUR_COLUMN]] if header[HOUR_COLUMN] < len(row) else (0, "")
        if not _text(hour) or _text(hour) == HOUR_COLUMN:
            continue  # a blank line, the footer, a repeated header
        for area in areas:
            k = header[area + ACTUAL]
            actual = row[k] if k < len(row) else (0, "")
            out.append({"area": area, "day": row[day], "hour": hour, "actual": actual, "mode": datemode})
    if not out:
        raise FormatError("the report has a header but no rows")
    return out


def market_day(cell: tuple[int, Any], datemode: int) -> date:
    """A Market Day cell: an Excel date, or a date as text."""
    import xlrd

    ctype, value = cell
    if ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate_as_datetime(value, datemode).date()
    if ctype == xlrd.XL_CELL_TEXT:
        for fmt in _TEXT_DAYS:
            try:
                return datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                continue
    raise FormatError(f"Market Day {value!r} is not a date")


def hour_ending(cell: tuple[int, Any]) -> int:
    """An HourEnding cell, 1..24 (EST all year: every market day has 24 hours)."""
    value = formats.number(cell[1], "HourEnding")
    if value != int(value) or not 1 <= value <= 24:
        raise FormatError(f"HourEnding {cell[1]!r} is not an hour 1..24")
    return int(value)


def actual_load(cell: tuple[int, Any], what: str) -> float | None:
    """An ActualLoad cell: None when empty (a forecast-only row), else a number."""
    if cell[1] is None or (isinstance(cell[1], str) and not cell[1].strip()):
        return None
    return formats.number(cell[1], what)

"""MISO market reports (docs.misoenergy.org/marketreports/): the day-ahead ex-post LMP CSV and
the weekly real-time five-minute LMP zip, split into rows. The clock of each is in the package
docstring (producers/miso/__init__.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from producers import formats
from producers.formats import FormatError

REPORTS = "https://docs.misoenergy.org/marketreports"
HOURS = tuple(f"HE {h}" for h in range(1, 25))  # EST all year: every market day has 24 hours
DA_COLUMNS = ("Node", "Type", "Value", *HOURS)
DA_VALUES = ("LMP", "MCC", "MLC")
WEEKLY_COLUMNS = ("MKTHOUR_EST", "PNODENAME", "LMP", "CON_LMP", "LOSS_LMP")
WEEKLY_TIME = "%m/%d/%Y %H:%M"
_DA_NAME = re.compile(r"/(\d{8})_da_expost_lmp\.csv$")


def da_url(day: date) -> str:
    return f"{REPORTS}/{day:%Y%m%d}_da_expost_lmp.csv"


def weekly_url(day: date) -> str:
    """The weekly file holding `day`: the one dated two weeks after the Monday of its week
    (file dated M holds the market days M-14 .. M-8, as gridstatus reads it)."""
    monday = day - timedelta(days=day.weekday())
    return f"{REPORTS}/{monday + timedelta(days=14):%Y%m%d}_5MIN_LMP.zip"


def is_weekly(url: str) -> bool:
    return url.split("?")[0].endswith("_5MIN_LMP.zip")


def da_day(url: str) -> date:
    """The operating day of a day-ahead file: only in its name (gridtape parse --url)."""
    found = _DA_NAME.search(url.split("?")[0])
    if not found:
        raise FormatError(f"{url} is not a YYYYMMDD_da_expost_lmp.csv address: its operating day is unknown")
    return datetime.strptime(found.group(1), "%Y%m%d").date()


@dataclass(frozen=True, slots=True)
class DaHour:
    """One node's hour of a day-ahead file: its three value rows, read at column `hour`."""

    node: str
    type: str
    hour: int  # hour ending, 1..24
    values: dict[str, dict[str, str]]  # "LMP" | "MCC" | "MLC" -> the row


def table(text: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """A report's table: title lines before the header (found by its first column), a
    one-cell footer line after the rows (dropped); anything else malformed is an error."""
    rows = formats.csv_rows(text)
    starts = [n for n, row in enumerate(rows) if row[0].strip() == columns[0]]
    if not starts:
        raise FormatError(f"no header row starting {columns[0]!r} (columns renamed?)")
    header, body = rows[starts[0]], rows[starts[0] + 1 :]
    if body and len(body[-1]) == 1:
        body = body[:-1]  # the report's footer line
    if not body:
        raise FormatError("the report has a header but no rows")
    return formats.records([h.strip() for h in header], body, columns)


def da_hours(body: bytes) -> list[DaHour]:
    """A day-ahead file's hours per node: the LMP, MCC and MLC rows of a node together."""
    formats.check_body(body)
    by_node: dict[str, dict[str, dict[str, str]]] = {}
    for row in table(formats.decode(body), DA_COLUMNS):
        by_node.setdefault(row["Node"], {})[row["Value"]] = row
    out: list[DaHour] = []
    for node, values in by_node.items():
        kind = next(iter(values.values()))["Type"]
        out.extend(DaHour(node, kind, hour, values) for hour in range(1, 25))
    return out


def weekly_rows(body: bytes) -> list[dict[str, str]]:
    members = formats.zip_members(body)
    if len(members) != 1:
        raise FormatError(f"the weekly zip holds {len(members)} files, not one CSV")
    (data,) = members.values()
    formats.check_body(data)
    return table(formats.decode(data), WEEKLY_COLUMNS)

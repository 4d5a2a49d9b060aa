"""SPP's file addresses and clocks: where each feed's files live on the portal's file browser,
and how their time columns are read (see the package docstring for the evidence)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from gridtape import isos
from producers import formats

ZONE = isos.get("SPP").tz  # the market clock, from the ISO table
PORTAL = "https://portal.spp.org"
DOWNLOAD = f"{PORTAL}/file-browser-api/download"
LMP_URL = f"{DOWNLOAD}/rtbm-lmp-by-location"
DAM_URL = f"{DOWNLOAD}/da-lmp-by-settlement-location"
STLF_URL = f"{DOWNLOAD}/stlf-vs-actual"
LATEST_PATH = "/RTBM-LMP-SL-latestInterval.csv"
LOAD_URL = f"{PORTAL}/chart-api/load-forecast/asFile"
INTERVAL = timedelta(minutes=5)
HOUR = timedelta(hours=1)

_ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$")
# The operating day in a By_Day file name: RTBM-LMP-DAILY-SL-20250309.csv, DA-LMP-SL-202503090100.csv
_DAILY_DAY = re.compile(r"(?:RTBM-LMP-DAILY-SL|DA-LMP-SL)-(\d{8})(?:0100)?\.csv")


def interval_path(end_utc: datetime) -> str:
    """The file-browser path of the 5-minute file for the interval ending at `end_utc`."""
    start = (end_utc - INTERVAL).astimezone(ZONE)  # unambiguous: from UTC, fold is set
    label = start.replace(tzinfo=None) + INTERVAL  # hour-ending wall label: 24:00 -> next day 00:00
    suffix = "d" if start.fold else ""  # fold=1: the second pass through the repeated hour
    return f"/{start:%Y}/{start:%m}/By_Interval/{start:%d}/RTBM-LMP-SL-{label:%Y%m%d%H%M}{suffix}.csv"


def daily_lmp_path(day: date) -> str:
    """The RTBM By_Day file of operating day `day`: every 5-minute interval that starts on it."""
    return f"/{day:%Y}/{day:%m}/By_Day/RTBM-LMP-DAILY-SL-{day:%Y%m%d}.csv"


def dam_path(day: date) -> str:
    """The day-ahead By_Day file of operating day `day` (named after its first hour ending, 01:00)."""
    return f"/{day:%Y}/{day:%m}/By_Day/DA-LMP-SL-{day:%Y%m%d}0100.csv"


def stlf_path(stamp_utc: datetime) -> str:
    """The STLF-vs-actual file stamped `stamp_utc` (a 5-minute instant): named after its
    Central wall time, in the folder of that date and the hour AFTER the stamp's hour (as the
    portal and gridstatus have it; 23:xx files sit in folder 00 of the same date). The second
    pass through the repeated fall-back hour carries a ``d`` suffix."""
    local = stamp_utc.astimezone(ZONE)
    suffix = "d" if local.fold else ""
    return f"/{local:%Y}/{local:%m}/{local:%d}/{(local.hour + 1) % 24:02d}/OP-STLF-{local:%Y%m%d%H%M}{suffix}.csv"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC start and end of Central operating day `day` (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time(), ZONE).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), ZONE).astimezone(UTC)


def steps(first: datetime, last: datetime, step: timedelta) -> list[datetime]:
    """first, first + step, ... up to and including last."""
    return [first + n * step for n in range(int((last - first) / step) + 1)]


def day_of(url: str) -> date | None:
    """The operating day a By_Day file's name carries (None for other files)."""
    found = _DAILY_DAY.search(url)
    return datetime.strptime(found.group(1), "%Y%m%d").date() if found else None


def operating_day(t: datetime) -> date:
    """The Central operating day an interval ending at `t` (UTC) belongs to."""
    return (t - INTERVAL).astimezone(ZONE).date()


def gmt(text: str, column: str = "GMTIntervalEnd") -> datetime:
    """A GMT time column: 'MM/DD/YYYY HH:MM:SS' in SPP's files; ISO 8601 with Z accepted too."""
    text = text.strip()
    if _ISO_Z.match(text):
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    try:
        return datetime.strptime(text, "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise formats.FormatError(f"{column}: bad time {text!r}") from None


def interval_end(row: dict[str, str], column: str = "GMTIntervalEnd") -> datetime:
    """The GMT interval END, cross-checked against the redundant Central wall time in Interval
    where the file has one: two fields that disagree mean one of them is wrong. An Interval in
    another layout is not checked (the GMT column is the one gridtape relies on)."""
    end = gmt(row[column], column)
    try:
        local = datetime.strptime(row.get("Interval", "").strip(), "%m/%d/%Y %H:%M:%S")
    except ValueError:
        return end
    if end.astimezone(ZONE).replace(tzinfo=None) != local:
        raise formats.FormatError(f"Interval {row['Interval']} (Central) and {column} {row[column]} disagree")
    return end

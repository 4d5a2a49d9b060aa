"""NYISO's files: addresses (live day files, monthly archives), columns, wall-clock stamps, and
which archive members a response stands for. Pure functions; the IsoSource is in __init__."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from gridtape import isos
from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import Response, Values
from producers.formats import FormatError

ZONE = isos.get("NYISO").tz  # the market clock, from the ISO table
BASE = "https://mis.nyiso.com/public"
LMP_CURRENT_URL = f"{BASE}/realtime/realtime_zone_lbmp.csv"

TS = "Time Stamp"
LBMP, LOSSES, CONGESTION = "LBMP ($/MWHr)", "Marginal Cost Losses ($/MWHr)", "Marginal Cost Congestion ($/MWHr)"
LMP_COLUMNS = (TS, "Name", "PTID", LBMP, LOSSES, CONGESTION)
PAL_COLUMNS = (TS, "Time Zone", "Name", "PTID", "Load")
# NYISO's older files cut the congestion header short; gridstatus reads both spellings too.
OLD_CONGESTION = "Marginal Cost Congestion ($/MWH"

# feed -> (folder under /public/csv/, file stem): a day file is <folder>/YYYYMMDD<stem>.csv, a
# month's archive <folder>/YYYYMM01<stem>_csv.zip holding one YYYYMMDD<stem>.csv per day.
FILES = {"lmp": ("realtime", "realtime_zone"), "load": ("pal", "pal"), "dam": ("damlbmp", "damlbmp_zone")}
DAM_NODES = ("damlbmp", "damlbmp_gen")
# gridstatus reads a day file for the last 7 days and the month's archive before that.
DAY_FILES_KEPT = timedelta(days=7)

_DAY_FRAGMENT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MEMBER = re.compile(r"^(\d{8})([A-Za-z_]+)\.csv$")


def day_url(folder: str, stem: str, day: date) -> str:
    return f"{BASE}/csv/{folder}/{day:%Y%m%d}{stem}.csv"


def month_url(folder: str, stem: str, day: date) -> str:
    return f"{BASE}/csv/{folder}/{day:%Y%m01}{stem}_csv.zip"


def lmp_day_url(day: datetime | date) -> str:
    return day_url(*FILES["lmp"], day)


def pal_day_url(day: datetime | date) -> str:
    return day_url(*FILES["load"], day)


def dam_day_url(day: datetime | date, nodes: bool = False) -> str:
    return day_url(*(DAM_NODES if nodes else FILES["dam"]), day)


def is_current(response: Response) -> bool:
    return urlsplit(response.url).path == urlsplit(LMP_CURRENT_URL).path


def is_nodal(response: Response) -> bool:
    return urlsplit(response.url).path.rsplit("/", 1)[-1][8:].startswith("damlbmp_gen")


@lru_cache(maxsize=64)
def operating_day(url: str) -> date | None:
    """The operating day a history response was fetched for: history() appends it to the
    address as a fragment (``...#2025-11-02``; never sent to NYISO), and parse keeps only that
    day's intervals. None for live responses and plain files: every interval is kept."""
    fragment = urlsplit(url).fragment
    if not fragment:
        return None
    if not _DAY_FRAGMENT.match(fragment):
        raise FormatError(f"address fragment {fragment!r} is not an operating day (YYYY-MM-DD)", url)
    return date.fromisoformat(fragment)


def texts(response: Response) -> list[str]:
    """The CSV texts a response holds: the body of a day file; the day files of a monthly
    archive (with an operating day in the address, that day's file and, of the next day's,
    only the rows stamped 00:00: a pal reading at 00:00 ends the day before's last interval)."""
    if response.status != 200:
        raise FormatError(f"HTTP {response.status}", response.url)
    if not urlsplit(response.url).path.endswith("_csv.zip"):
        formats.check_body(response.body)
        return [formats.decode(response.body)]
    members = formats.zip_members(response.body)
    day = operating_day(response.url)
    if day is None:
        return [formats.decode(members[m]) for m in sorted(members)]
    by_day = {hit.group(1): m for m in members if (hit := _MEMBER.match(m.rsplit("/", 1)[-1]))}
    out = []
    # the next month's archive is read for the next day's 00:00 readings only
    if urlsplit(response.url).path.rsplit("/", 1)[-1][:6] == f"{day:%Y%m}":
        if f"{day:%Y%m%d}" not in by_day:
            raise FormatError(f"the archive holds no file for {day}", response.url)
        out.append(formats.decode(members[by_day[f"{day:%Y%m%d}"]]))
    following = by_day.get(f"{day + timedelta(days=1):%Y%m%d}")
    if following is not None:
        header, *lines = formats.decode(members[following]).splitlines()
        midnight = f'"{day + timedelta(days=1):%m/%d/%Y} 00:00'
        out.append("\n".join([header, *(line for line in lines if line.startswith(midnight))]))
    return out


def records(response: Response, columns: tuple[str, ...]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for text in texts(response):
        out.extend(formats.csv_records(_renamed(text, columns), columns))
    return out


def table(response: Response, names: tuple[str, ...]) -> dict[str, list[str]]:
    """records() by column: name -> every row's cell (the same rows, the same errors)."""
    out: dict[str, list[str]] = {name: [] for name in names}
    for text in texts(response):
        rows = formats.csv_rows(_renamed(text, names))
        if not rows:
            raise FormatError("CSV has no header")
        for name, cells in formats.columns([h.strip() for h in rows[0]], rows[1:], names).items():
            out[name].extend(cells)
    return out


def _renamed(text: str, columns: tuple[str, ...]) -> str:
    """NYISO's older files' congestion header, spelled as the newer ones spell it."""
    if CONGESTION in columns and OLD_CONGESTION in text[:400] and CONGESTION not in text[:400]:
        return text.replace(f'"{OLD_CONGESTION}"', f'"{CONGESTION}"', 1)
    return text


@lru_cache(maxsize=4096)  # a day file repeats each stamp once per location
def wall(text: str) -> datetime:
    """ "MM/DD/YYYY HH:MM:SS" (real-time files) or "MM/DD/YYYY HH:MM" (day-ahead files)."""
    try:
        return datetime.strptime(text, "%m/%d/%Y %H:%M:%S")
    except ValueError:
        return datetime.strptime(text, "%m/%d/%Y %H:%M")


def on_grid(stamp: datetime, minutes: int = 5) -> bool:
    return stamp.second == 0 and stamp.minute % minutes == 0


@lru_cache(maxsize=4096)
def to_utc(stamp: datetime, *, repeated: bool) -> datetime | str:
    """UTC of a wall time, or the reason it has none (inside the skipped spring hour)."""
    try:
        return local_to_utc(stamp, ZONE, repeated=repeated)
    except ValueError as exc:
        return str(exc)


def prices(row: dict[str, str]) -> Values:
    return price_values(
        formats.number(row[LBMP], LBMP),
        formats.number(row[LOSSES], LOSSES),
        formats.number(row[CONGESTION], CONGESTION),
    )


def price_values(lbmp: float, loss: float, mcc: float) -> Values:
    """A tick's prices from LBMP, marginal losses and NYISO's marginal congestion (mcc), whose
    sign is flipped (LBMP = energy + losses - congestion)."""
    return Values(lmp=lbmp, energy=round(lbmp - loss + mcc, 6), congestion=-mcc if mcc else 0.0, loss=loss)

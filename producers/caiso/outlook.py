"""CAISO Today's Outlook ``demand.csv``: the current day's file and the dated history files.

Both carry ``Time`` as HH:MM only: the operating day is the Pacific date at fetch time for
``outlook/current/demand.csv`` and is named only in the address of
``outlook/history/YYYYMMDD/demand.csv`` (``gridtape parse --url``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from gridtape import isos
from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import Request, Response

ZONE = isos.get("CAISO").tz
CURRENT_URL = "https://www.caiso.com/outlook/current/demand.csv"
HISTORY_URL = "https://www.caiso.com/outlook/history/{day:%Y%m%d}/demand.csv"
COLUMNS = ("Time", "Current demand")
_HISTORY_DAY = re.compile(r"/outlook/history/(\d{8})/demand\.csv")

Wall = tuple[str, datetime | str, bool]  # (Current demand, local wall time of the interval end, repeated)


def current_request(now: datetime) -> Request:
    # The CDN serves a stale copy of the same URL; the cache buster is the poll time.
    return Request(CURRENT_URL, {"_": str(int(now.timestamp()))}, volatile_params=("_",))


def history_request(day: date) -> Request:
    return Request(HISTORY_URL.format(day=day))


def is_outlook(response: Response) -> bool:
    return "/outlook/" in response.url or not response.body.startswith(b"PK")


def day_of(response: Response) -> date | None:
    """The operating day a history file's address names (None: the current file)."""
    found = _HISTORY_DAY.search(response.url)
    if not found:
        return None
    try:
        return datetime.strptime(found.group(1), "%Y%m%d").date()
    except ValueError:
        raise formats.FormatError(f"{found.group(1)} in the address is not a date") from None


def walls_of(response: Response) -> list[Wall]:
    """Every row as (Current demand, wall time of its interval end, repeated), on the day the
    address names, else the Pacific date at fetch time (the current file rolls over at Pacific
    midnight; one whose newest actual lies in the future is still yesterday's)."""
    formats.check_body(response.body)
    rows = formats.csv_records(formats.decode(response.body), COLUMNS)
    named = day_of(response)
    if named is not None:
        return _walls(rows, datetime(named.year, named.month, named.day))
    day = response.fetched_at.astimezone(ZONE).date()
    walls = _walls(rows, datetime(day.year, day.month, day.day))
    ends = [local_to_utc(w, ZONE, repeated=r) for mw, w, r in walls if mw and isinstance(w, datetime) and _ok(w, r)]
    if ends and max(ends) > response.fetched_at + timedelta(minutes=5):
        prev = day - timedelta(days=1)  # just after Pacific midnight the CDN still serves yesterday's
        walls = _walls(rows, datetime(prev.year, prev.month, prev.day))
    return walls


def _walls(rows: list[dict[str, str]], day: datetime) -> list[Wall]:
    """Rows are in time order: a wall time seen again is the second pass through the fall-back
    hour; a time earlier than the one before it (a trailing 00:00) belongs to the next day."""
    out: list[Wall] = []
    seen: set[datetime] = set()
    previous: datetime | None = None
    for row in rows:
        text = row["Time"]
        try:
            hour, minute = (int(p) for p in text.split(":"))
            wall = day.replace(hour=hour, minute=minute)
        except ValueError:
            out.append((row["Current demand"], text, False))
            continue
        if previous is not None and wall < previous and wall not in seen:
            day += timedelta(days=1)
            wall += timedelta(days=1)
        repeated = wall in seen
        seen.add(wall)
        previous = wall
        out.append((row["Current demand"], wall, repeated))
    return out


def _ok(wall: datetime, repeated: bool) -> bool:
    try:
        local_to_utc(wall, ZONE, repeated=repeated)
    except ValueError:
        return False
    return True

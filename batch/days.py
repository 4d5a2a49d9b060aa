"""Operating days. The curated and warehouse `date` of a tick is the ISO's *local* calendar
day of its interval_start (the day a trader means), while raw landing partitions by the UTC
date of interval_start (all Firehose can compute). Both mappings live here, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from gridtape import isos
from gridtape.timeutil import intervals_in_local_day


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def day_range(start: date, end: date) -> list[date]:
    """Inclusive range of days."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def raw_dates_for(days: list[date]) -> list[date]:
    """UTC raw partitions that can hold intervals of these local days. Every US ISO is
    UTC-4..UTC-8, so local day D starts on UTC day D and ends on UTC day D+1."""
    wanted = set()
    for d in days:
        wanted.add(d)
        wanted.add(d + timedelta(days=1))
    return sorted(wanted)


def local_day_bounds(iso: str, day: date) -> tuple[datetime, datetime]:
    """[start, end) of the ISO's local day in UTC."""
    zone = isos.get(iso).tz
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def expected_intervals(iso: str, day: date, minutes: int = 5) -> int:
    """288, or 276 / 300 on the ISO's spring / fall DST day (never for MISO's fixed EST)."""
    return intervals_in_local_day(datetime(day.year, day.month, day.day), isos.get(iso).tz, minutes)


def previous_day(when: datetime) -> date:
    """The operating day a nightly run at `when` (UTC) compacts: the UTC day before. The
    schedule fires after 09:00 UTC, when every US ISO's local day has ended."""
    return (when.astimezone(UTC) - timedelta(days=1)).date()

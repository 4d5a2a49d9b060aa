"""ISO clocks -> UTC. Every ISO publishes local wall-clock times (or UTC) with its own
interval-beginning / interval-ending convention; these helpers are the only place that
knows how to turn them into UTC intervals, including the two DST days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")  # ISO-NE, NYISO, PJM
CENTRAL = ZoneInfo("America/Chicago")  # ERCOT, SPP
PACIFIC = ZoneInfo("America/Los_Angeles")  # CAISO
EST = timezone(timedelta(hours=-5), "EST")  # MISO publishes fixed EST all year


def local_to_utc(naive: datetime, zone: ZoneInfo | timezone, *, repeated: bool | None = None) -> datetime:
    """A naive local wall-clock time -> UTC.

    In the repeated hour of the fall-back day a wall time happens twice: `repeated=True`
    means the second (standard-time) occurrence, False the first (daylight). ISOs say which
    with a flag (ERCOT's RepeatedHourFlag/DSTFlag, NYISO's EST/EDT column, an hour ending
    "02*"); with repeated=None the first occurrence is taken. Wall times that do not exist
    (the skipped spring hour) raise ValueError rather than shifting silently.
    """
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    if isinstance(zone, timezone):
        return naive.replace(tzinfo=zone).astimezone(UTC)
    aware = naive.replace(tzinfo=zone, fold=1 if repeated else 0)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise ValueError(f"{naive.isoformat()} does not exist in {zone.key} (spring-forward gap)")
    return aware.astimezone(UTC)


def with_offset(text: str) -> datetime:
    """'2024-11-03T01:00:00-05:00' (ISO 8601 with an offset, or Z) -> aware UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return value.astimezone(UTC)


def interval_ending(end_utc: datetime, minutes: int) -> tuple[datetime, datetime]:
    """(start, end) for a time stamp that marks the interval END."""
    return end_utc - timedelta(minutes=minutes), end_utc


def interval_beginning(start_utc: datetime, minutes: int) -> tuple[datetime, datetime]:
    """(start, end) for a time stamp that marks the interval START."""
    return start_utc, start_utc + timedelta(minutes=minutes)


def intervals_in_local_day(day: datetime, zone: ZoneInfo, minutes: int = 5) -> int:
    """How many intervals a local calendar day has: 288 five-minute intervals normally, 276
    on the spring-forward day, 300 on the fall-back day."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = start + timedelta(days=1)
    end = datetime(end.year, end.month, end.day, tzinfo=zone)
    seconds = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    return int(seconds // (minutes * 60))

"""The wire's one time format: UTC, ISO 8601 with a trailing Z (``2024-11-03T06:05:00Z``;
milliseconds only when non-zero), so Spark, DuckDB, Redshift and a browser all parse it the same
way. gridtape.contract re-exports these for every record's timestamp fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

# [0-9], not \d: Python's \d also matches other scripts' digits. Matched whole (fullmatch), so a
# trailing newline is refused too.
TS_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"
_TS_RE: Final = re.compile(TS_PATTERN)


@lru_cache(maxsize=65536)  # a response repeats each interval time once per location
def format_ts(value: datetime) -> str:
    """UTC datetime -> wire string. Naive datetimes are refused: every time must know its zone."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: gridtape stores only zone-aware UTC times")
    value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(value: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a UTC ISO 8601 time ending in Z")
    return parse_text(value)


@lru_cache(maxsize=65536)  # every tick of an interval carries the same few times
def parse_text(value: str) -> datetime:
    """parse_ts for a value already known to be a str (the contract's fast path)."""
    if not _TS_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a UTC ISO 8601 time ending in Z")
    return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)

"""Which days a nightly run compacts and loads: its own operating day, plus every day within
HORIZON before it that received raw records since the last run that loaded everything it
planned (late data: an ISO revising yesterday's prices, a backfill, a feed that caught up).

Firehose writes no markers, so "received records" is read from the raw/ listing itself: an
object whose LastModified is after the last run's start (minus OVERLAP, for multipart uploads
stamped with their start time) is new. Raw partitions by the UTC date of interval_start, and
every US ISO's local day D spans UTC dates D and D+1, so a new object under date=D can hold
records of local days D-1 and D. A candidate that turns out to hold no rows at all is
compacted (an empty manifest) but not loaded or checked. Re-running days is idempotent, so
erring towards more days only costs time.

The watermark is the warehouse table nightly_runs (one row per run that loaded every planned
day, written last), so it works the same on Redshift and on the local DuckDB file. A first
run (no row yet) treats every raw object as new, within the horizon.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlglot
from sqlglot import exp

from batch import warehouse

HORIZON = timedelta(days=7)  # late data older than this waits for a manual run: gridtape batch --date D
OVERLAP = timedelta(minutes=15)
_RAW_DATE = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def candidate_days(
    objects: Iterable[dict[str, Any]],
    since: datetime | None,
    target: date,
    horizon: timedelta = HORIZON,
    overlap: timedelta = OVERLAP,
) -> list[date]:
    """Pure: the run's day plus the local days of raw objects modified after `since - overlap`,
    within [target - horizon, target] (a day after the run's own is not over yet)."""
    first = target - timedelta(days=horizon.days)
    days = {target}
    for obj in objects:
        if since is not None and _aware(obj["LastModified"]) <= _aware(since) - overlap:
            continue
        m = _RAW_DATE.search(obj["Key"])
        if not m:
            continue
        raw_date = date.fromisoformat(m.group(1))
        days |= {d for d in (raw_date - timedelta(days=1), raw_date) if first <= d <= target}
    return sorted(days)


def raw_dates(target: date, horizon: timedelta = HORIZON) -> list[date]:
    """The raw UTC partitions that can hold records of the days a run may take."""
    return [target - timedelta(days=i) for i in range(horizon.days, -2, -1)]


def watermark(ex: warehouse.Executor) -> datetime | None:
    """The start of the last nightly run that loaded every day it planned."""
    rows = ex.query(sqlglot.parse_one("SELECT MAX(started_at) AS started_at FROM nightly_runs", read="redshift"))
    value = rows[0]["started_at"] if rows else None
    if value is None:
        return None
    return _aware(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def record_run(ex: warehouse.Executor, started_at: datetime, target: date, days: Sequence[date]) -> None:
    """Advance the watermark: the run that started at `started_at` loaded `days`."""

    def ts(value: datetime) -> exp.Expr:
        return exp.cast(exp.Literal.string(f"{_aware(value):%Y-%m-%d %H:%M:%S.%f}"), "TIMESTAMP")

    row = exp.tuple_(
        ts(started_at),
        ts(datetime.now(UTC)),
        exp.cast(exp.Literal.string(target.isoformat()), "DATE"),
        exp.convert(",".join(d.isoformat() for d in days)[:4096]),
    )
    insert = exp.insert(
        exp.Values(expressions=[row]), "nightly_runs", columns=["started_at", "finished_at", "trade_date", "days"]
    )
    ex.run([insert])


def plan(
    ex: warehouse.Executor,
    raw_objects: Iterable[dict[str, Any]],
    target: date,
    horizon: timedelta = HORIZON,
    overlap: timedelta = OVERLAP,
) -> list[date]:
    """The days the run for `target` compacts and loads (see the module doc)."""
    return candidate_days(raw_objects, watermark(ex), target, horizon, overlap)


def parse_started_at(text: str) -> datetime:
    """Step Functions' $$.Execution.StartTime ('2024-11-04T09:30:00.123Z') -> aware UTC."""
    return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))

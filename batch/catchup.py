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

A backfill (producers/backfill) writes days of any age and leaves a mark per (ISO, feed,
operating day) under gridtape.landing.MARKS_PREFIX (listed with the raw objects). A marked day
is compacted and loaded by every run until one loads it: a mark is cleared, without being
deleted, once a run that started more than OVERLAP after the mark's LastModified recorded the
day among the days it loaded (nightly_runs.days). A backfill that writes the day again moves
LastModified on, so the day is marked again; a failed run records nothing and clears nothing.

The watermark is the warehouse table nightly_runs (one row per run that loaded every planned
day, written last), so it works the same on Redshift and on the local DuckDB file. A first
run (no row yet) treats every raw object as new, within the horizon.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlglot
from sqlglot import exp

from batch import warehouse
from gridtape import landing

HORIZON = timedelta(days=7)  # late data older than this waits for a manual run: gridtape batch --date D
OVERLAP = timedelta(minutes=15)
_RAW_DATE = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/")
# (started_at, the days it loaded) of a nightly run that loaded every day it planned.
Run = tuple[datetime, Collection[date]]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def candidate_days(
    objects: Iterable[dict[str, Any]],
    since: datetime | None,
    target: date,
    horizon: timedelta = HORIZON,
    overlap: timedelta = OVERLAP,
    runs: Sequence[Run] = (),
) -> list[date]:
    """Pure: the run's day, the local days of raw objects modified after `since - overlap`
    within [target - horizon, target] (a day after the run's own is not over yet), and every
    marked day up to `target` that none of `runs` loaded (marked_days)."""
    first = target - timedelta(days=horizon.days)
    days = {target}
    objects = list(objects)
    days |= {d for d in marked_days(objects, runs, overlap) if d <= target}
    for obj in objects:
        if not landing.is_raw(obj["Key"]):
            continue
        if since is not None and _aware(obj["LastModified"]) <= _aware(since) - overlap:
            continue
        m = _RAW_DATE.search(obj["Key"])
        if not m:
            continue
        raw_date = date.fromisoformat(m.group(1))
        days |= {d for d in (raw_date - timedelta(days=1), raw_date) if first <= d <= target}
    return sorted(days)


def marked_days(objects: Iterable[dict[str, Any]], runs: Sequence[Run], overlap: timedelta = OVERLAP) -> list[date]:
    """Pure: the days of the backfill marks among `objects` that are still pending: no run that
    started more than `overlap` after the mark was written loaded the day (any age: a backfill
    of last year is loaded like yesterday)."""
    out = set()
    for obj in objects:
        day = landing.mark_day(obj["Key"])
        if day is None:
            continue
        written = _aware(obj["LastModified"])
        if not any(day in loaded and _aware(started) - overlap > written for started, loaded in runs):
            out.add(day)
    return sorted(out)


def check_scope(objects: Iterable[dict[str, Any]], day: date, target: date) -> set[tuple[str, str]] | None:
    """Pure: what the checks of a loaded `day` cover. Everything (None) for the run's own day and
    for a day no backfill marked; for a day a backfill marked, only the (ISO, feed) pairs it
    backfilled: the other feeds of an old day were checked on its own night, or were never
    collected at all, and a backfill of SPP prices must not fail the night on ERCOT's load."""
    if day == target:
        return None
    marked = {(iso, feed) for d, iso, feed in filter(None, (landing.parse_mark(o["Key"]) for o in objects)) if d == day}
    return marked or None


def runs_since(ex: warehouse.Executor, since: datetime) -> list[Run]:
    """The completed runs that started after `since`, with the days each loaded (a list cut
    short by the column's width loses its last days: those are loaded again, never skipped)."""
    at = f"{_aware(since):%Y-%m-%d %H:%M:%S.%f}"  # formatted from a datetime: no quoting to escape
    stmt = sqlglot.parse_one(
        f"SELECT started_at, days FROM nightly_runs WHERE started_at > CAST('{at}' AS TIMESTAMP)", read="redshift"
    )
    out: list[Run] = []
    for row in ex.query(stmt):
        value = row["started_at"]
        started = _aware(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))
        loaded = set()
        for text in str(row["days"] or "").split(","):
            try:
                loaded.add(date.fromisoformat(text))
            except ValueError:
                continue
        out.append((started, loaded))
    return out


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
    """The days the run for `target` compacts and loads (see the module doc); `raw_objects` is
    manifests.Store.raw_objects(), marks included."""
    objects = list(raw_objects)
    marks = [_aware(o["LastModified"]) for o in objects if landing.mark_day(o["Key"]) is not None]
    runs = runs_since(ex, min(marks) - overlap) if marks else []
    return candidate_days(objects, watermark(ex), target, horizon, overlap, runs)


def parse_started_at(text: str) -> datetime:
    """Step Functions' $$.Execution.StartTime ('2024-11-04T09:30:00.123Z') -> aware UTC."""
    return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))

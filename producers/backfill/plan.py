"""The pure half of a backfill: which days, which ticks belong to a day, which revision each
backfilled tick gets, where it lands. No network, no clock, no AWS.

How a backfilled version competes with a polled one (compaction keeps, per natural key, the
highest revision, then the latest published_at, then ingested_at: batch/transforms.py): a
backfilled tick is one more version of its key, numbered the way the poller numbers its own,
against the version that wins today (`known`: the winner among the records already in raw for
the day's partitions, and, for intervals the poller still tracks, its state table):
- no version yet: revision 0;
- the same values as the winner: the winner's revision (a re-backfill writes the same
  records again, and nothing the warehouse shows changes);
- other values (the archive holds a later, e.g. settled, price): the winner's revision + 1,
  so the archive's value wins, and a later poll that sees the ISO revise again numbers its
  version after it (the backfill marks its versions in the state table: producers/backfill/run.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gridtape import contract, isos
from producers.state import Key, Published, content_hash


def operating_days(start: date, end: date) -> list[date]:
    """[start, end], inclusive."""
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def day_bounds(iso: str, day: date) -> tuple[datetime, datetime]:
    """[start, end) of operating day `day` on the ISO's market clock, in UTC (23 or 25 hours
    on the DST days)."""
    zone = isos.get(iso).tz
    nxt = day + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return start.astimezone(UTC), datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)


def of_day(iso: str, day: date, ticks: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The ticks whose interval starts within the operating day, and how many did not (an
    archive file that also holds a neighbouring day's first or last interval): each interval
    belongs to exactly one day's objects, so two days never write one key."""
    lo, hi = day_bounds(iso, day)
    inside = [t for t in ticks if lo <= contract.parse_ts(t["interval_start"]) < hi]
    return inside, len(ticks) - len(inside)


def utc_dates(iso: str, day: date) -> list[date]:
    """The raw partitions (UTC dates) an operating day's intervals can land in."""
    lo, hi = day_bounds(iso, day)
    return sorted({lo.date(), (hi - timedelta(microseconds=1)).date()})


def by_partition(ticks: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """UTC date of interval_start -> ticks (the landing layout's partition key)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for t in ticks:
        out.setdefault(t["interval_start"][:10], []).append(t)
    return out


def latest_order(t: Mapping[str, Any]) -> tuple[int, str, str]:
    """Compaction's "latest wins" order (batch/transforms.latest_first), as a sort key."""
    rev = t.get("revision")
    return (-1 if rev is None else int(rev), str(t.get("published_at") or ""), str(t.get("ingested_at") or ""))


def winners(records: Iterable[Mapping[str, Any]], keys: set[Key] | None = None) -> dict[Key, Published]:
    """Per natural key (of `keys`, when given), the version compaction would keep, as
    (values hash, revision; a record without a revision counts as -1)."""
    best: dict[Key, Mapping[str, Any]] = {}
    for r in records:
        try:
            key = contract.natural_key(dict(r))
        except (KeyError, TypeError):
            continue  # a broken line is compaction's to reject
        if keys is not None and key not in keys:
            continue
        if key not in best or latest_order(r) > latest_order(best[key]):
            best[key] = r
    return {k: Published(content_hash(r), latest_order(r)[0]) for k, r in best.items()}


def known(*sources: Mapping[Key, Published]) -> dict[Key, Published]:
    """The highest revision of each key over several sources (raw, the state table)."""
    out: dict[Key, Published] = {}
    for source in sources:
        for key, p in source.items():
            if key not in out or p.revision > out[key].revision:
                out[key] = p
    return out


def revise(ticks: Sequence[dict[str, Any]], before: Mapping[Key, Published]) -> tuple[list[dict[str, Any]], int]:
    """Copies of the ticks stamped with their revision (see the module doc), and how many of
    them change what wins (new keys and new values)."""
    out, changed = [], 0
    for t in ticks:
        prior = before.get(contract.natural_key(t))
        if prior is None:
            rev = 0
        elif prior.hash == content_hash(t):
            rev = max(prior.revision, 0)
        else:
            rev = prior.revision + 1
        changed += prior is None or prior.hash != content_hash(t)
        out.append(dict(t, revision=rev))
    return sorted(out, key=lambda t: (t["interval_start"], t["market"], t["location"])), changed


def eta(done: int, left: int, elapsed_s: float) -> float | None:
    """Seconds left at the pace so far (None before the first day)."""
    return None if done <= 0 else elapsed_s / done * left

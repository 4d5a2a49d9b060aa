"""The pure steps of a poll: check what a parser produced (beyond the contract, which the
parse skeleton checks), plan what to publish with which revision, find where the cursor
goes. No network, no clock, no AWS."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers import rhythm
from producers.base import MAX_REFUSED_SHARE, Refused, Response, excerpt
from producers.state import Key, Published, content_hash


@dataclass(frozen=True)
class Checked:
    ticks: list[dict[str, Any]]
    refused: list[Refused]


@dataclass(frozen=True)
class Plan:
    new: list[dict[str, Any]]  # revision 0
    revised: list[dict[str, Any]]  # the last published revision + 1
    unchanged: int

    @property
    def to_send(self) -> list[dict[str, Any]]:
        return self.new + self.revised


def check(iso: str, dataset: str, url: str, ticks: Iterable[dict[str, Any]]) -> Checked:
    """This poll's checks of ticks the parse skeleton already validated against the contract
    (IsoSource.parse_rows: not done again here).

    Both values are refused when one interval comes with two different ones (neither can be
    trusted); exact duplicates collapse. A tick of another ISO or dataset is a bug in the
    module: SourceError."""
    out: dict[Key, dict[str, Any]] = {}
    conflicting: set[Key] = set()
    refused: list[Refused] = []
    # `dataset` is the feed's name; its ticks carry the contract's dataset (dam feeds lmp ticks).
    feeds = isos.get(iso).feeds_named(dataset)
    carried = {f.dataset for f in feeds} or {dataset}
    markets = {f.market for f in feeds}
    for i, t in enumerate(ticks):
        if t["iso"] != iso or t["dataset"] not in carried or (markets and t["market"] not in markets):
            what = f"{t['iso']} {t['dataset']} {t.get('market')}"
            raise SourceError(iso, dataset, url, f"tick #{i} is {what}, not {iso} {dataset}")
        key = contract.natural_key(t)
        seen = out.get(key)
        if key in conflicting or (seen is not None and content_hash(seen) != content_hash(t)):
            conflicting.add(key)
            refused.append(Refused(t["source"], f"two different values for the interval {key}", excerpt(t)))
            continue
        out[key] = t
    for key in conflicting:
        first = out.pop(key)
        refused.append(Refused(first["source"], f"two different values for the interval {key}", excerpt(first)))
    return Checked(list(out.values()), refused)


def too_many_refused(iso: str, dataset: str, url: str, good: int, refused: Sequence[Refused]) -> SourceError | None:
    """Past MAX_REFUSED_SHARE of the rows refused, the response as a whole is suspect."""
    total = good + len(refused)
    if not refused or len(refused) <= MAX_REFUSED_SHARE * total:
        return None
    return SourceError(
        iso,
        dataset,
        url,
        f"{len(refused)} of {total} rows refused (more than {MAX_REFUSED_SHARE:.0%}); first: {refused[0].reason}",
    )


def nothing_tracked(
    iso: str,
    dataset: str,
    url: str,
    ticks: Sequence[Any],
    responses: Sequence[Response],
    *,
    may_be_empty: bool,
    cursor: str | None,
    now: datetime,
) -> SourceError | None:
    """0 ticks where the tracked hubs should be: renamed hubs or renumbered pnodes look exactly
    like this, and must not pass for "nothing new". It is an error when the ISO answered with
    data and none of it became a tick, or, for a dataset whose window may hold nothing yet
    (IsoSource.may_be_empty), when its newest published interval is older than stale_after().
    (Answers without data, e.g. a 404 for a file not published yet, are nothing new;
    DataAgeSeconds watches those.)"""
    if ticks:
        return None
    row = isos.get(iso)
    carried = {f.dataset for f in row.feeds_named(dataset)} or {dataset}
    tracked = ", ".join(row.hubs if "lmp" in carried else (row.system,))
    if may_be_empty:
        age = None if cursor is None else now - contract.parse_ts(cursor)
        if age is None or age <= stale_after(iso, dataset):
            return None
        why = f"no tick for {age} since the newest interval ({cursor})"
    else:
        answered = [r for r in responses if 200 <= r.status < 300 and r.body.strip()]
        if not answered:
            return None
        why = f"{len(answered)} response(s) with data gave no tick"
    return SourceError(iso, dataset, url, f"{why}: none of {tracked} (renamed hubs or renumbered pnodes?)")


def stale_after(iso: str, dataset: str) -> timedelta:
    """How old the feed's newest published interval may grow: three of its shortest intervals,
    never under 15 minutes; a day-ahead feed (dam) is stale when tomorrow's results are still
    missing a margin after posts_at (rhythm.dam_stale_after: a negative age)."""
    row = isos.get(iso)
    if (dam := rhythm.day_ahead(row, dataset)) is not None:
        return rhythm.dam_stale_after(dam)
    minutes = min(f.minutes for f in row.feeds_named(dataset))
    return max(timedelta(minutes=15), timedelta(minutes=3 * minutes))


def plan(ticks: Sequence[dict[str, Any]], published: Mapping[Key, Published]) -> Plan:
    """New keys get revision 0, changed values the last published revision + 1 (copies of the
    ticks, stamped): the revision wins downstream whatever the ISO's or our clocks say."""
    new, revised, unchanged = [], [], 0
    for t in ticks:
        before = published.get(contract.natural_key(t))
        if before is None:
            new.append(dict(t, revision=0))
        elif before.hash != content_hash(t):
            revised.append(dict(t, revision=before.revision + 1))
        else:
            unchanged += 1
    return Plan(new, revised, unchanged)


def cursor_of(iso: str, dataset: str, ticks: Iterable[Mapping[str, Any]], now: datetime) -> str | None:
    """Where this poll's ticks put the feed's cursor: the newest complete interval; for a
    day-ahead feed, the end of the newest day published (tomorrow's results are complete when
    posted, and the rhythm and the staleness check need to know they are in)."""
    if rhythm.day_ahead(isos.get(iso), dataset) is not None:
        ends = [contract.parse_ts(t["interval_end"]) for t in ticks]
        return contract.format_ts(max(ends)) if ends else None
    return newest_complete(ticks, now)


def newest_complete(ticks: Iterable[Mapping[str, Any]], now: datetime) -> str | None:
    """The end of the newest interval that has ended by `now` (forecasts and day-ahead
    intervals of tomorrow are not complete yet), as a wire timestamp."""
    ends = [contract.parse_ts(t["interval_end"]) for t in ticks]
    done = [e for e in ends if e <= now]
    return contract.format_ts(max(done)) if done else None


def later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if contract.parse_ts(a) >= contract.parse_ts(b) else b


def empty_bodies(responses: Sequence[Response]) -> Response | None:
    """A 2xx with no bytes is never data (a truncated transfer or a broken endpoint)."""
    return next((r for r in responses if 200 <= r.status < 300 and not r.body.strip()), None)

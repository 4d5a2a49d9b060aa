"""The backfill loop: operating day by operating day, archive -> ticks -> raw landing layout ->
mark -> cursor, beside the live stream (a year must not flood it).

Per day, in this order (what makes a killed backfill resume without duplicating anything):
1. fetch the day's archived responses (IsoSource.history) through the ISO's FetchLayer: the
   poller's rate limit, retries and throttling; a 404 (or no response) is a missing day;
2. parse them as saved files (parse_rows(live=False)), check them as a poll does; refused rows
   go to the quarantine, and so does the body of a day that fails as a whole (the day is then
   failed: its cursor stays, the run goes on with the next day);
3. keep the day's own intervals, number each tick's revision (producers/backfill/plan.py);
4. write one object per UTC partition at the day's deterministic key (a re-write replaces it);
   for intervals the poller still tracks, under the feed's lease, also record the versions in
   the state table so the poller's next revision comes after them;
5. mark the day for the nightly compaction and load;
6. advance the day's cursor. A crash before 6 redoes the day next time: same keys, same records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypedDict, Unpack

from gridtape import config, contract
from gridtape.errors import SourceError
from producers.backfill import plan
from producers.backfill.store import Cursors, RawStore
from producers.base import IsoSource, Refused, Response
from producers.http import FetchError, FetchLayer, RecordingError
from producers.poller import steps
from producers.quarantine import Quarantine
from producers.state import RETENTION_S, Lease, StateStore

log = logging.getLogger("producers.backfill")

LEASE_WAIT_S = 120.0  # a poll holds the feed's lease for seconds; more than this means something is stuck
FAILED = frozenset({"failed", "missing", "unsupported"})
# What a bug in one ISO module's history() or parser raises: it fails that day, not the run.
_MODULE_BUGS = (NotImplementedError, ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError)
# What fails one day (it is quarantined and the run goes on): the archive, its content, a module bug.
DAY_FAILURES = (FetchError, SourceError, RecordingError, *_MODULE_BUGS)


class BackfillError(SourceError):
    """A day the archive could not give (missing, or a lease the poller would not free)."""


@dataclass
class DayResult:
    iso: str
    feed: str
    day: str
    status: str = "pending"  # done | already_done | failed | missing | unsupported
    rows: int = 0  # ticks written for the day
    changed: int = 0  # of those, new keys or new values (the rest re-state what wins already)
    refused: int = 0
    outside: int = 0  # ticks of a neighbouring day in the day's files (left to that day)
    error: str | None = None
    url: str | None = None
    quarantined: str | None = None
    objects: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Progress(Protocol):
    def start(self, iso: str, feed: str, total: int, already: int) -> None: ...

    def day(self, result: DayResult) -> None: ...

    def finish(self) -> None: ...


class Walk(TypedDict, total=False):
    """How a day-by-day backfill (ticks, context) walks its days: `redo` the days whose cursor
    says done (else they are skipped), report to `progress`, run `at_day(day)` before each day is
    fetched (a replay sets its clock there)."""

    redo: bool
    progress: Progress | None
    at_day: Callable[[date], None] | None


class _Quiet:
    def start(self, iso: str, feed: str, total: int, already: int) -> None:
        pass

    def day(self, result: DayResult) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass(frozen=True)
class Sinks:
    """The AWS side of a backfill: cursors and poller state (one table), raw bucket, quarantine."""

    cursors: Cursors
    raw: RawStore
    state: StateStore
    quarantine: Quarantine

    @classmethod
    def from_config(cls, names: config.Names | None = None) -> Sinks:
        names = names or config.names()
        return cls(
            cursors=Cursors(names.poller_state_table),
            raw=RawStore(names.raw_bucket),
            state=StateStore(names.poller_state_table),
            quarantine=Quarantine(names.raw_bucket),
        )


def backfill(
    source: IsoSource,
    feed: str,
    days: list[date],
    http: FetchLayer,
    sinks: Sinks,
    *,
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    **walk: Unpack[Walk],
) -> list[DayResult]:
    """Backfill `days` of one ISO's feed, walked as `walk` says. Never raises for one day's
    problem (see DayResult); AWS errors (the sinks) do raise."""
    iso = source.iso
    if feed not in source.archives:
        why = f"{iso} keeps no archive gridtape reads for {feed} (it reads: {', '.join(sorted(source.archives)) or 'none'})"
        return [DayResult(iso, feed, d.isoformat(), "unsupported", error=why) for d in days]
    return each_day(
        iso,
        feed,
        days,
        sinks,
        lambda day, r: _one_day(source, feed, day, http, sinks, r, wall_clock(), sleep),
        **walk,
    )


def each_day(
    iso: str,
    feed: str,
    days: list[date],
    sinks: Sinks,
    one_day: Callable[[date, DayResult], None],
    **walk: Unpack[Walk],
) -> list[DayResult]:
    """The loop of every day-by-day backfill (ticks, context): `one_day(day, result)` for each day
    whose cursor is not done (every day with `redo`), after `at_day(day)`; the others are
    already_done. Results sorted by day."""
    progress = walk.get("progress") or _Quiet()
    at_day = walk.get("at_day")
    done = set() if walk.get("redo") else sinks.cursors.done(iso, feed, days)
    results = [DayResult(iso, feed, d.isoformat(), "already_done") for d in days if d in done]
    progress.start(iso, feed, len(days) - len(done), len(done))
    try:
        for day in (d for d in days if d not in done):
            if at_day is not None:
                at_day(day)
            result = DayResult(iso, feed, day.isoformat())
            one_day(day, result)
            results.append(result)
            progress.day(result)
    finally:
        progress.finish()
    return sorted(results, key=lambda r: r.day)


def _one_day(
    source: IsoSource,
    feed: str,
    day: date,
    http: FetchLayer,
    sinks: Sinks,
    r: DayResult,
    now: datetime,
    sleep: Callable[[float], None],
) -> None:
    iso = source.iso
    http.begin_poll()
    try:
        if (responses := archived(source, feed, day, http, r)) is None:
            log.warning("%s %s %s: %s%s", iso, feed, day, r.error, f" at {r.url}" if r.url else "")
            return
        url = http.redact(responses[-1].url)
        parsed = source.parse_rows(feed, responses, live=False)  # an archive: any age
        checked = steps.check(iso, feed, url, parsed.ticks)  # the feed name: dam carries lmp ticks
        refused = [*parsed.refused, *checked.refused]
        if (problem := steps.too_many_refused(iso, feed, url, len(checked.ticks), refused)) is not None:
            raise problem
        ticks, r.outside = plan.of_day(iso, day, checked.ticks)
        if not ticks:
            raise SourceError(iso, feed, url, f"{len(checked.ticks)} tick(s), none of operating day {day}")
        r.refused = len(refused)
        if refused:
            r.quarantined = _quarantine_rows(sinks, http, iso, feed, refused)
        _write(iso, feed, day, ticks, sinks, r, now, sleep)
    except DAY_FAILURES as exc:
        _fail(r, sinks, http, exc)


def archived(source: IsoSource, feed: str, day: date, http: FetchLayer, r: DayResult) -> list[Response] | None:
    """Step 1: the day's archived responses; None when the archive has no such day (a 404 or no
    response: `r` then says missing). An empty body raises, as it fails a poll."""
    responses = source.history(feed, day, http)
    missing = next((x for x in responses if x.status == 404), None)
    if not responses or missing is not None:
        r.status, r.url = "missing", http.redact(missing.url) if missing else None
        r.error = f"no archive of {day} ({'HTTP 404' if missing else 'no file'})"
        return None
    if (empty := steps.empty_bodies(responses)) is not None:
        raise SourceError(source.iso, feed, http.redact(empty.url), f"empty body (HTTP {empty.status})")
    return responses


def _write(
    iso: str,
    feed: str,
    day: date,
    ticks: list[dict[str, Any]],
    sinks: Sinks,
    r: DayResult,
    now: datetime,
    sleep: Callable[[float], None],
) -> None:
    keys = {contract.natural_key(t) for t in ticks}
    in_raw = plan.winners(sinks.raw.records(iso, plan.utc_dates(iso, day)), keys)
    tracked = max(contract.parse_ts(t["interval_end"]) for t in ticks) > now - timedelta(seconds=RETENTION_S)
    lease = _lease(sinks.state, iso, feed, sleep) if tracked else None
    try:
        polled = sinks.state.published(ticks) if lease is not None else {}
        stamped, r.changed = plan.revise(ticks, plan.known(in_raw, polled))
        r.objects = sinks.raw.write(iso, feed, day, plan.by_partition(stamped), plan.utc_dates(iso, day))
        if lease is not None:
            sinks.state.mark_published(stamped, lease)
    finally:
        if lease is not None:
            sinks.state.release_lease(lease)
    sinks.raw.mark(iso, feed, day, len(stamped), r.objects)
    sinks.cursors.advance(iso, feed, day, len(stamped), r.objects)
    r.status, r.rows = "done", len(stamped)
    log.info("%s %s %s: %d ticks (%d new or revised) -> %s", iso, feed, day, r.rows, r.changed, ", ".join(r.objects))


def _lease(state: StateStore, iso: str, feed: str, sleep: Callable[[float], None]) -> Lease:
    """The feed's poller lease: revisions of intervals the poller tracks are numbered by one
    writer at a time. A poll holds it for seconds; wait that out."""
    waited = 0.0
    while (lease := state.acquire_lease(iso, feed)) is None:
        if waited >= LEASE_WAIT_S:
            raise BackfillError(iso, feed, "-", f"the poller's lease stayed taken for {waited:.0f} s")
        sleep(1.0)
        waited += 1.0
    return lease


def _quarantine_rows(sinks: Sinks, http: FetchLayer, iso: str, feed: str, refused: list[Refused]) -> str | None:
    rows = [Refused(http.redact(x.url), http.redact(x.reason), http.redact(x.row)) for x in refused]
    try:
        return sinks.quarantine.save_rows(iso=iso, dataset=feed, refused=rows).uri
    except Exception as exc:  # losing the evidence must not hold back the good rows
        log.error("%s %s: could not quarantine %d refused rows: %s", iso, feed, len(rows), exc)
        return None


def _fail(r: DayResult, sinks: Sinks, http: FetchLayer, exc: Exception) -> None:
    """The day failed: say why, and keep the body to blame (as the poller does)."""
    r.status = "failed"
    r.error = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
    blamed = _blamed(http, exc)
    r.url = http.redact(blamed.url) if blamed else getattr(exc, "url", None)
    if isinstance(exc, FetchError):
        body, status, headers = exc.body, exc.status, exc.headers
    elif blamed is not None:
        body, status, headers = blamed.body, blamed.status, blamed.headers
    else:
        body, status, headers = b"", None, {}
    try:
        r.quarantined = sinks.quarantine.save(
            iso=r.iso,
            dataset=r.feed,
            url=r.url or "-",
            status=status,
            reason=r.error,
            body=body,
            headers=headers,
            error_type=type(exc).__name__,
            fetched_at=blamed.fetched_at if blamed else None,
        ).uri
    except Exception as qexc:  # losing the evidence must not hide the original failure
        log.error("%s %s %s: could not quarantine: %s", r.iso, r.feed, r.day, qexc)
    log.error("%s %s %s: failed: %s (%s)", r.iso, r.feed, r.day, r.error, r.url or "-")


def _blamed(http: FetchLayer, exc: Exception) -> Response | None:
    named = getattr(exc, "url", None)
    match = next((x for x in http.responses if named and named in (x.url, http.redact(x.url))), None)
    return match or (http.responses[-1] if http.responses else None)


def summary(results: list[DayResult]) -> Mapping[str, Any]:
    """Counts and the failed days, for the command's last lines."""
    failed = [r for r in results if r.failed]
    return {
        "days": len(results),
        "done": sum(r.status == "done" for r in results),
        "already_done": sum(r.status == "already_done" for r in results),
        "failed": len(failed),
        "rows": sum(r.rows for r in results),
        "failed_days": [f"{r.iso} {r.feed} {r.day}: {r.status}: {r.error}" for r in failed],
    }

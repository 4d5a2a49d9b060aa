"""One poll of one ISO dataset: lease -> fetch -> parse -> check -> plan -> publish -> mark ->
cursor and status, all fenced by the lease.

The order is what makes "exactly once per version, never lose data" hold:
- The lease (with a fencing token) is taken first; every state write after it is conditional
  on the token, so a poller that overran its lease cannot mark, move the cursor or publish on.
- A response that fails to fetch or parse as a whole publishes NOTHING, is quarantined with
  its reason, and leaves the conditional-request validators uncommitted, so the next poll
  fetches it in full again. Single rows the contract refuses are quarantined (one object per
  poll, reasons counted) and the good rows are published, unless too many were refused.
- Only ticks whose value hash differs from the state table's are published, stamped with their
  revision; a tick is marked published only after Kinesis confirmed it, so a failed or partly
  failed publish is completed by the next poll. The cursor moves only after a full publish.
- Every failure is caught here, per ISO and dataset, logged with ISO, dataset, URL and reason,
  counted in a metric, left in the state table for `gridtape status` and returned in the
  PollSummary; the other ISOs' polls carry on. (A crash between Kinesis accepting a batch and
  the state write sends that batch again: at-least-once at that one boundary, which
  downstream dedup on the natural key and revision absorbs.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from gridtape import config, contract
from gridtape.errors import SourceError, TransientError
from producers.base import IsoSource, Refused
from producers.http import FetchError, FetchLayer, RecordingError, ResponseRefused
from producers.poller import steps
from producers.poller.metrics import MemoryMetrics, MetricSink, emit
from producers.publish import KinesisPublisher, PublishError
from producers.quarantine import Quarantine
from producers.state import Lease, Outcome, StateError, StateStore

log = logging.getLogger("producers.poller")

# busy: another poller holds the lease and is doing this very poll.
OK_STATUSES = frozenset({"published", "nothing_new", "not_modified", "busy"})
# skipped: could not poll at all (missing key, denied secret): a failure, not a quiet skip.
FAILED_STATUSES = frozenset({"failed", "skipped"})


class BudgetSpent(TransientError):
    """The invocation's time budget ran out before this step."""


@dataclass
class PollSummary:
    iso: str
    dataset: str
    now: str
    status: str = "pending"  # published | nothing_new | not_modified | busy | failed | skipped
    label: str = ""
    responses: int = 0
    bytes: int = 0
    parsed: int = 0  # good ticks
    refused: int = 0  # rows refused one by one
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    published: int = 0
    error: str | None = None
    url: str | None = None
    quarantined: str | None = None  # the whole response, when it was refused
    responses_refused: int = 0
    rows_quarantined: str | None = None  # the object holding this poll's refused rows
    cursor: str | None = None  # end of the newest complete interval published (after this poll)
    data_age_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sinks:
    """The AWS side of a poll: the state table, the ticks stream, the quarantine bucket."""

    state: StateStore
    publisher: KinesisPublisher
    quarantine: Quarantine
    metrics: MetricSink = field(default_factory=MemoryMetrics)

    @classmethod
    def from_config(cls, names: config.Names | None = None, metrics: MetricSink | None = None) -> Sinks:
        names = names or config.names()
        return cls(
            state=StateStore(names.poller_state_table),
            publisher=KinesisPublisher(names.ticks_stream),
            quarantine=Quarantine(names.raw_bucket),
            metrics=metrics or MemoryMetrics(),
        )


def poll(
    source: IsoSource,
    dataset: str,
    http: FetchLayer,
    sinks: Sinks,
    now: datetime,
    label: str = "",
    deadline: float | None = None,
) -> PollSummary:
    """Poll one ISO dataset once. Never raises for a problem of this ISO: see PollSummary.
    `deadline` (time.monotonic()) bounds the invocation; the fetch layer holds it too."""
    s = PollSummary(iso=source.iso, dataset=dataset, now=contract.format_ts(now), label=label)
    http.begin_poll()
    lease: Lease | None = None
    try:
        _in_budget(deadline, "polling")
        lease = sinks.state.acquire_lease(s.iso, dataset)
        if lease is None:
            s.status, s.error = "busy", "another poller holds the lease for this ISO and dataset"
            log.info("%s %s: %s", s.iso, dataset, s.error, extra=_extra(s))
        else:
            s.cursor = lease.feed.cursor
            http.validators.seed(lease.feed.validators)
            _run(source, dataset, http, sinks, now, s, lease, deadline)
    except (FetchError, SourceError, RecordingError) as exc:
        _fail(s, sinks, http, exc, now)
    except (PublishError, StateError, BudgetSpent) as exc:  # not the response's fault: nothing to quarantine
        s.status, s.error = "failed", str(exc)
        log.error("%s %s: %s", s.iso, dataset, exc, extra=_extra(s))
    except Exception as exc:  # a bug in one ISO's module must not stop the others
        _fail(s, sinks, http, exc, now)
    finally:
        s.responses = len(http.exchanges)
        s.bytes = sum(e.bytes for e in http.exchanges)
        if lease is not None:
            settle(sinks, lease, s, http.validators.to_store() if s.ok else None)
        if s.ok:  # validators only once what they validate is published and recorded
            http.commit()
        else:
            http.discard()
        _age(s, now)
        emit(sinks.metrics, s)
    return s


def _run(
    source: IsoSource,
    dataset: str,
    http: FetchLayer,
    sinks: Sinks,
    now: datetime,
    s: PollSummary,
    lease: Lease,
    deadline: float | None,
) -> None:
    iso = source.iso
    since = contract.parse_ts(lease.feed.cursor) if lease.feed.cursor else None
    try:
        responses = source.fetch(dataset, http, now, since=since)
    except Exception:
        if not http.unseen:
            raise
        responses = []  # a 304 without a body (seeded validator) may have confused the module
    if http.unseen and (not responses or not http.all_not_modified()):
        # Validators from the state table got 304s with no body here while the rest changed:
        # fetch those again in full (a cold poller only; a warm one holds the bodies).
        http.validators.forget_seeds()
        http.begin_poll()
        responses = source.fetch(dataset, http, now, since=since)
    s.url = http.redact(responses[-1].url) if responses else None
    if http.all_not_modified():
        s.status = "not_modified"
        log.info("%s %s: not modified since the last poll", iso, dataset, extra=_extra(s))
        return
    if (empty := steps.empty_bodies(responses)) is not None:
        raise SourceError(iso, dataset, http.redact(empty.url), f"empty body (HTTP {empty.status})")
    url = s.url or ""
    parsed = source.parse_rows(dataset, responses)
    checked = steps.check(iso, dataset, url, parsed.ticks)
    refused = [*parsed.refused, *checked.refused]
    ticks = checked.ticks
    for problem in (
        steps.too_many_refused(iso, dataset, url, len(ticks), refused),
        steps.nothing_tracked(
            iso,
            dataset,
            url,
            ticks,
            responses,
            may_be_empty=dataset in source.may_be_empty,
            cursor=lease.feed.cursor,
            now=now,
        ),
    ):
        if problem is not None:
            raise problem
    s.parsed, s.refused = len(ticks), len(refused)
    if refused:
        _quarantine_rows(s, sinks, http, refused, now)
    p = steps.plan(ticks, sinks.state.published(ticks))
    s.new, s.revised, s.unchanged = len(p.new), len(p.revised), p.unchanged

    def delivered(records: list[Mapping[str, Any]]) -> None:
        sinks.state.mark_published(records, lease)  # LeaseLost here stops the publisher
        s.published += len(records)

    if p.to_send:
        _in_budget(deadline, "publishing")
        sinks.publisher.publish(p.to_send, on_delivered=delivered)
    s.status = "published" if s.published else "nothing_new"
    s.cursor = steps.later(s.cursor, steps.cursor_of(iso, dataset, ticks, now))
    log.info(
        "%s %s: %d parsed, %d refused, %d new, %d revised, %d unchanged, %d published",
        iso, dataset, s.parsed, s.refused, s.new, s.revised, s.unchanged, s.published, extra=_extra(s),
    )  # fmt: skip


def settle(sinks: Sinks, lease: Lease, s: PollSummary, validators: Any = None) -> None:
    """Leave the poll's outcome (and its conditional-request validators) in the feed item and
    free the lease (one fenced write)."""
    outcome = Outcome(
        status=s.status,
        error=s.error if s.failed else None,
        rows_quarantined=s.refused,
        responses_quarantined=s.responses_refused,
        cursor=s.cursor if s.ok else None,
        validators=validators if s.ok else None,
    )
    try:
        if s.status == "pending":  # interrupted (Ctrl-C) mid-poll: nothing to record
            sinks.state.release_lease(lease)
        else:
            sinks.state.record(lease, outcome)
    except StateError as exc:  # the poll's own result stands; say why the table lags behind
        log.error("%s %s: could not record the poll's outcome: %s", s.iso, s.dataset, exc, extra=_extra(s))
        if s.ok:
            s.status, s.error = "failed", str(exc)
    if not s.ok:
        s.cursor = lease.feed.cursor


def unpolled(sinks: Sinks, iso: str, dataset: str, now: datetime, status: str, error: str) -> PollSummary:
    """A dataset that could not be polled at all (no key, module does not load): counted,
    and left in the state table like any other outcome."""
    s = PollSummary(iso, dataset, contract.format_ts(now), status, error=error)
    try:
        lease = sinks.state.acquire_lease(iso, dataset)
        if lease is not None:
            s.cursor = lease.feed.cursor
            settle(sinks, lease, s)
    except StateError as exc:
        log.error("%s %s: could not record the poll's outcome: %s", iso, dataset, exc)
    _age(s, now)
    emit(sinks.metrics, s)
    return s


def _quarantine_rows(s: PollSummary, sinks: Sinks, http: FetchLayer, refused: list[Refused], now: datetime) -> None:
    # The row excerpt of a tick holds its source URL too: redact all three.
    rows = [Refused(http.redact(r.url), http.redact(r.reason), http.redact(r.row)) for r in refused]
    try:
        s.rows_quarantined = sinks.quarantine.save_rows(iso=s.iso, dataset=s.dataset, refused=rows, poll_now=now).uri
    except Exception as exc:  # losing the evidence must not hold back the good rows
        log.error("%s %s: could not quarantine %d refused rows: %s", s.iso, s.dataset, len(rows), exc)
    log.warning(
        "%s %s: %d row(s) refused, e.g. %s%s",
        s.iso, s.dataset, len(rows), rows[0].reason,
        f"; quarantined at {s.rows_quarantined}" if s.rows_quarantined else "", extra=_extra(s),
    )  # fmt: skip


def _fail(s: PollSummary, sinks: Sinks, http: FetchLayer, exc: Exception, now: datetime) -> None:
    """Log, quarantine the offending body, and record why, naming ISO, dataset, URL and reason."""
    # A refused answer is what the quarantine alarm is for; an ISO that is down or slow (retries
    # spent, time budget gone) is a poll error, its last answer kept all the same.
    refused = not isinstance(exc, FetchError) or isinstance(exc, ResponseRefused)
    s.status, s.responses_refused = "failed", int(refused)
    url, status, body, headers = _offending(http, exc)
    reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
    s.url, s.error = url, reason
    try:
        q = sinks.quarantine.save(
            iso=s.iso,
            dataset=s.dataset,
            url=url,
            status=status,
            reason=reason,
            body=body,
            headers=headers,
            error_type=type(exc).__name__,
            fetched_at=next((r.fetched_at for r in http.responses if http.redact(r.url) == url), None),
            poll_now=now,
        )
        s.quarantined = q.uri
    except Exception as qexc:  # losing the evidence must not hide the original failure
        log.error("%s %s: could not quarantine the body from %s: %s", s.iso, s.dataset, url, qexc)
    where = f"; raw body quarantined at {s.quarantined}" if s.quarantined else ""
    unexpected = not isinstance(exc, FetchError | SourceError | RecordingError)
    log.error(
        "%s %s: %s from %s: %s%s",
        s.iso, s.dataset, "fetch failed" if isinstance(exc, FetchError) else "bad source", url, reason, where,
        extra=_extra(s), exc_info=exc if unexpected else None,
    )  # fmt: skip


def _offending(http: FetchLayer, exc: Exception) -> tuple[str, int | None, bytes, Mapping[str, str]]:
    """(url, status, body, headers) of the response to blame: the one the error names, else the
    last one fetched, else (a fetch that never got an answer) nothing but the URL."""
    if isinstance(exc, FetchError):
        return exc.url, exc.status, exc.body, exc.headers
    named = getattr(exc, "url", None)
    responses = http.responses
    match = next((r for r in responses if named and named in (r.url, http.redact(r.url))), None)
    if match is None and responses:
        match = responses[-1]
    if match is not None:
        return http.redact(match.url), match.status, match.body, match.headers
    return (
        http.redact(named) if named else (http.exchanges[-1].url if http.exchanges else "<no request>"),
        None,
        b"",
        {},
    )


def _in_budget(deadline: float | None, step: str) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise BudgetSpent(f"time budget spent before {step}; the next scheduled poll carries on")


def _age(s: PollSummary, now: datetime) -> None:
    if s.cursor:
        s.data_age_s = (now - contract.parse_ts(s.cursor)).total_seconds()


def _extra(s: PollSummary) -> dict[str, Any]:
    return {"poll": {k: v for k, v in s.as_dict().items() if v not in (None, "", 0)}}

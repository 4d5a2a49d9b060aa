"""One poll of one ISO dataset: fetch -> parse -> validate -> dedup -> publish -> mark published.

The order is what makes "exactly once per version, never lose data" hold:
- A response that fails to fetch, parse or validate publishes NOTHING (all or nothing per
  poll), is quarantined with its reason, and leaves the conditional-request validators
  uncommitted, so the next poll fetches it in full again.
- Only ticks whose value hash differs from the state table's are published (new keys, and
  revisions of keys already sent); a tick is marked published only after Kinesis confirmed
  it, so a failed or partly failed publish is completed by the next poll.
- Every failure is caught here, per ISO and dataset, logged with ISO, dataset, URL and reason,
  counted in a metric and returned in the PollSummary; the other ISOs' polls carry on.
  (A crash between Kinesis accepting a batch and the state write would send that batch again:
  at-least-once at that one boundary, which downstream dedup on the natural key absorbs.)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from gridtape import config, contract
from gridtape.errors import ContractError, GridtapeError, SourceError
from producers import registry
from producers.base import IsoSource, Response
from producers.http import FetchError, FetchLayer, RecordingError, Recordings, live, replay
from producers.publish import KinesisPublisher, PublishError
from producers.quarantine import Quarantine
from producers.state import StateError, StateStore, content_hash

log = logging.getLogger(__name__)

OK_STATUSES = frozenset({"published", "nothing_new", "not_modified"})


class MetricSink(Protocol):
    def add(self, name: str, value: float, *, iso: str, dataset: str) -> None: ...


class MemoryMetrics:
    """Counts metrics in memory (CLI and tests); Lambda uses powertools (producers.handler)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, value: float, *, iso: str, dataset: str) -> None:
        with self._lock:
            key = (name, iso, dataset)
            self.values[key] = self.values.get(key, 0.0) + value

    def total(self, name: str, iso: str | None = None) -> float:
        return sum(v for (n, i, _d), v in self.values.items() if n == name and (iso is None or i == iso))


@dataclass
class PollSummary:
    iso: str
    dataset: str
    now: str
    status: str = "pending"  # published | nothing_new | not_modified | failed | skipped
    label: str = ""
    responses: int = 0
    bytes: int = 0
    parsed: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    published: int = 0
    error: str | None = None
    url: str | None = None
    quarantined: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sinks:
    """The AWS side of a poll: the state table, the ticks stream, the quarantine bucket."""

    state: StateStore
    publisher: KinesisPublisher
    quarantine: Quarantine
    metrics: MetricSink = field(default_factory=MemoryMetrics)
    use_lease: bool = True

    @classmethod
    def from_config(cls, names: config.Names | None = None, metrics: MetricSink | None = None) -> Sinks:
        names = names or config.names()
        return cls(
            state=StateStore(names.poller_state_table),
            publisher=KinesisPublisher(names.ticks_stream),
            quarantine=Quarantine(names.raw_bucket),
            metrics=metrics or MemoryMetrics(),
        )


@dataclass(frozen=True)
class Plan:
    new: list[dict[str, Any]]
    revised: list[dict[str, Any]]
    unchanged: int

    @property
    def to_send(self) -> list[dict[str, Any]]:
        return self.new + self.revised


# --- pure steps ---------------------------------------------------------------------------


def check(iso: str, dataset: str, url: str, ticks: Iterable[Any]) -> list[dict[str, Any]]:
    """Validate every tick against the contract and this poll; collapse exact duplicates.
    Any bad tick rejects the whole parse (SourceError): never publish part of a response."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for i, t in enumerate(ticks):
        try:
            contract.validate(t)
        except ContractError as exc:
            raise SourceError(iso, dataset, url, f"tick #{i} breaks the contract: {exc}") from exc
        if t["iso"] != iso or t["dataset"] != dataset:
            raise SourceError(iso, dataset, url, f"tick #{i} is {t['iso']} {t['dataset']}, not {iso} {dataset}")
        key = contract.natural_key(t)
        seen = out.get(key)
        if seen is not None and content_hash(seen) != content_hash(t):
            raise SourceError(iso, dataset, url, f"two different values for the same interval {key}")
        out[key] = t
    return list(out.values())


def plan(ticks: Sequence[dict[str, Any]], published: Mapping[tuple[str, ...], str]) -> Plan:
    new, revised, unchanged = [], [], 0
    for t in ticks:
        before = published.get(contract.natural_key(t))
        if before is None:
            new.append(t)
        elif before != content_hash(t):
            revised.append(t)
        else:
            unchanged += 1
    return Plan(new, revised, unchanged)


def empty_bodies(responses: Sequence[Response]) -> Response | None:
    """A 2xx with no bytes is never data (a truncated transfer or a broken endpoint)."""
    return next((r for r in responses if 200 <= r.status < 300 and not r.body.strip()), None)


# --- one poll -----------------------------------------------------------------------------


def poll(
    source: IsoSource, dataset: str, http: FetchLayer, sinks: Sinks, now: datetime, label: str = ""
) -> PollSummary:
    """Poll one ISO dataset once. Never raises for a problem of this ISO: see PollSummary."""
    iso = source.iso
    s = PollSummary(iso=iso, dataset=dataset, now=contract.format_ts(now), label=label)
    http.begin_poll()
    try:
        _run(source, dataset, http, sinks, now, s)
    except (FetchError, SourceError, RecordingError) as exc:
        _fail(s, sinks, http, exc, now)
    except (PublishError, StateError) as exc:
        s.status, s.error = "failed", str(exc)
        log.error("%s %s: %s", iso, dataset, exc, extra=_extra(s))
    except Exception as exc:  # a bug in one ISO's module must not stop the others
        _fail(s, sinks, http, exc, now)
    finally:
        s.responses = len(http.exchanges)
        s.bytes = sum(e.bytes for e in http.exchanges)
        if s.ok:
            http.commit()
        else:
            http.discard()
        _emit(sinks.metrics, s)
    return s


def _run(source: IsoSource, dataset: str, http: FetchLayer, sinks: Sinks, now: datetime, s: PollSummary) -> None:
    iso = source.iso
    responses = source.fetch(dataset, http, now)
    s.url = responses[-1].url if responses else None
    if http.all_not_modified():
        s.status = "not_modified"
        log.info("%s %s: not modified since the last poll", iso, dataset, extra=_extra(s))
        return
    if (empty := empty_bodies(responses)) is not None:
        raise SourceError(iso, dataset, http.redact(empty.url), f"empty body (HTTP {empty.status})")
    ticks = check(iso, dataset, http.redact(s.url or ""), source.parse(dataset, responses))
    s.parsed = len(ticks)
    if not ticks:
        s.status = "nothing_new"
        return
    token = sinks.state.acquire_lease(iso, dataset) if sinks.use_lease else "no-lease"
    if token is None:
        s.status, s.error = "skipped", "another poller holds the lease for this ISO and dataset"
        log.warning("%s %s: skipped, %s", iso, dataset, s.error, extra=_extra(s))
        return
    try:
        p = plan(ticks, sinks.state.published_hashes(ticks))
        s.new, s.revised, s.unchanged = len(p.new), len(p.revised), p.unchanged

        def delivered(records: list[Mapping[str, Any]]) -> None:
            sinks.state.mark_published(records)
            s.published += len(records)

        if p.to_send:
            sinks.publisher.publish(p.to_send, on_delivered=delivered)
        s.status = "published" if s.published else "nothing_new"
        log.info(
            "%s %s: %d parsed, %d new, %d revised, %d unchanged, %d published",
            iso, dataset, s.parsed, s.new, s.revised, s.unchanged, s.published, extra=_extra(s),
        )  # fmt: skip
    finally:
        if sinks.use_lease:
            sinks.state.release_lease(iso, dataset, token)


def _fail(s: PollSummary, sinks: Sinks, http: FetchLayer, exc: Exception, now: datetime) -> None:
    """Log, quarantine the offending body, and record why, naming ISO, dataset, URL and reason."""
    s.status = "failed"
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
        sinks.metrics.add("QuarantineFailed", 1, iso=s.iso, dataset=s.dataset)
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
    return named or (http.exchanges[-1].url if http.exchanges else "<no request>"), None, b"", {}


def _emit(metrics: MetricSink, s: PollSummary) -> None:
    def add(name: str, value: float) -> None:
        metrics.add(name, value, iso=s.iso, dataset=s.dataset)

    add("PollSucceeded" if s.ok else "PollFailed", 1)
    if s.status == "not_modified":
        add("NotModified", 1)
    if s.status == "failed":
        add("Quarantined", 1 if s.quarantined else 0)
    for name, value in (
        ("TicksParsed", s.parsed),
        ("TicksNew", s.new),
        ("TicksRevised", s.revised),
        ("TicksUnchanged", s.unchanged),
        ("TicksPublished", s.published),
        ("BytesFetched", s.bytes),
    ):
        add(name, value)


def _extra(s: PollSummary) -> dict[str, Any]:
    return {"poll": {k: v for k, v in s.as_dict().items() if v not in (None, "", 0)}}


# --- many ISOs ----------------------------------------------------------------------------


class LivePoller:
    """Live polling of several ISOs, keeping one FetchLayer (HTTP session, rate limiter,
    conditional-request validators) per ISO across polls, as a warm Lambda container does."""

    def __init__(self, isos: Sequence[str], sinks: Sinks, include_nodes: bool | None = None) -> None:
        self.isos = list(isos)
        self.sinks = sinks
        self.include_nodes = include_nodes
        self._sources: dict[str, IsoSource] = {}
        self._http: dict[str, FetchLayer] = {}
        self._last: dict[str, datetime] = {}
        self._told: set[str] = set()

    def poll_iso(self, iso: str, now: datetime | None = None) -> list[PollSummary]:
        now = now or datetime.now(UTC)
        try:
            source = self._source(iso)
        except registry.MissingCredentials as exc:
            if iso not in self._told:  # one clear line, not one a minute
                log.warning("%s", exc)
                self._told.add(iso)
            return [PollSummary(iso, "*", contract.format_ts(now), "skipped", error=str(exc))]
        except registry.RegistryError as exc:
            log.error("%s", exc)
            self.sinks.metrics.add("PollFailed", 1, iso=iso, dataset="*")
            return [PollSummary(iso, "*", contract.format_ts(now), "failed", error=str(exc))]
        http = self._http[iso]
        return [poll(source, dataset, http, self.sinks, now) for dataset in source.datasets]

    def poll_once(self, now: datetime | None = None, only_due: bool = False) -> list[PollSummary]:
        out: list[PollSummary] = []
        for iso in self.isos:
            t = now or datetime.now(UTC)
            if only_due and not self._due(iso, t):
                continue
            self._last[iso] = t
            out.extend(self.poll_iso(iso, t))
        return out

    def run(
        self,
        interval_s: float,
        stop: threading.Event,
        max_cycles: int | None = None,
        on_cycle: Callable[[list[PollSummary]], None] | None = None,
    ) -> int:
        """Poll every interval (each ISO no more often than its min_poll_interval_s) until stop
        is set or max_cycles ran; returns the number of cycles."""
        cycles = 0
        while not stop.is_set() and (max_cycles is None or cycles < max_cycles):
            started = datetime.now(UTC)
            summaries = self.poll_once(started, only_due=True)
            if on_cycle:
                on_cycle(summaries)
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                break
            spent = (datetime.now(UTC) - started).total_seconds()
            stop.wait(max(0.0, interval_s - spent))
        return cycles

    def _due(self, iso: str, now: datetime) -> bool:
        last = self._last.get(iso)
        source = self._sources.get(iso)
        min_gap = source.min_poll_interval_s if source else 0.0
        return last is None or (now - last).total_seconds() >= min_gap - 1.0

    def _source(self, iso: str) -> IsoSource:
        if iso not in self._sources:
            source = registry.create(iso, include_nodes=self.include_nodes)
            self._sources[iso] = source
            self._http[iso] = live(iso, source.requests_per_second, secrets=tuple(source.credentials.values()))
        return self._sources[iso]


# --- Lambda -------------------------------------------------------------------------------

_WARM: dict[str, LivePoller] = {}  # survives between invocations of a warm Lambda container


class PollFailed(GridtapeError):
    """At least one dataset of the ISO failed this minute. Raised after every dataset ran and
    the metrics were recorded, so the Lambda's Errors metric (and its alarm) sees it."""


def lambda_poll(event: Mapping[str, Any] | None, metrics: MetricSink) -> dict[str, Any]:
    """One scheduled poll of the function's ISO (event {"iso": ...} or GRIDTAPE_ISO)."""
    iso_text = (event or {}).get("iso") or os.environ.get(config.ENV_ISO, "")
    isos = registry.parse_isos(str(iso_text))
    if len(isos) != 1:
        raise registry.RegistryError(f"a poller Lambda polls one ISO, got {iso_text!r}")
    iso = isos[0]
    if iso not in _WARM:
        _WARM[iso] = LivePoller([iso], Sinks.from_config(metrics=metrics))
    summaries = _WARM[iso].poll_once()
    failed = [s for s in summaries if s.status == "failed"]
    if failed:
        raise PollFailed("; ".join(f"{s.iso} {s.dataset}: {s.error}" for s in failed))
    return {"iso": iso, "polls": [s.as_dict() for s in summaries]}


def find_recordings(replay_dir: Path, iso: str) -> Path | None:
    """DIR/<iso>/manifest.json (a tree of recordings) or DIR/manifest.json (one ISO's)."""
    nested = replay_dir / iso.lower()
    if (nested / "manifest.json").is_file():
        return nested
    if (replay_dir / "manifest.json").is_file():
        try:
            if Recordings.load(replay_dir).iso == iso:
                return replay_dir
        except RecordingError:
            return replay_dir  # let the caller report what is wrong with it
    return None


def poll_replay(
    replay_dir: Path, isos: Sequence[str], sinks: Sinks | None = None, include_nodes: bool | None = None
) -> list[PollSummary]:
    """Run every recorded poll of every ISO through the live code path, answering HTTP from
    the recordings; each poll's clock is its recorded `now`. Used by the demo and the tests."""
    sinks = sinks or Sinks.from_config()
    out: list[PollSummary] = []
    for iso in isos:
        now = datetime.now(UTC)
        where = find_recordings(Path(replay_dir), iso)
        if where is None:
            out.append(
                PollSummary(
                    iso, "*", contract.format_ts(now), "skipped", error=f"no recordings for {iso} in {replay_dir}"
                )
            )
            log.warning("%s: no recordings in %s, skipped", iso, replay_dir)
            continue
        try:
            recordings = Recordings.load(where)
            source = registry.create(iso, include_nodes=include_nodes, replay=True)
        except (RecordingError, registry.RegistryError) as exc:
            log.error("%s", exc)
            sinks.metrics.add("PollFailed", 1, iso=iso, dataset="*")
            out.append(PollSummary(iso, "*", contract.format_ts(now), "failed", error=str(exc)))
            continue
        clock = _Clock(now)
        http = replay(recordings, clock=clock)
        for rec in recordings.polls:
            clock.value = rec.now
            out.append(poll(source, rec.dataset, http, sinks, rec.now, label=rec.label))
    return out


class _Clock:
    """The replay's notion of now: each recorded poll's own time, so fetched_at (and the
    ingested_at parsers derive from it) come out as they did when recorded."""

    def __init__(self, value: datetime) -> None:
        self.value = value

    def __call__(self) -> datetime:
        return self.value


def summary_table(summaries: Sequence[PollSummary]) -> str:
    rows = [
        f"{'iso':<6} {'dataset':<7} {'status':<12} {'parsed':>6} {'new':>5} {'rev':>4} {'same':>5} {'sent':>5}  detail"
    ]
    for s in summaries:
        detail = s.error or s.label or ""
        if s.quarantined:
            detail += f" -> {s.quarantined}"
        rows.append(
            f"{s.iso:<6} {s.dataset:<7} {s.status:<12} {s.parsed:>6} {s.new:>5} {s.revised:>4} {s.unchanged:>5} "
            f"{s.published:>5}  {detail}"
        )
    return "\n".join(rows)

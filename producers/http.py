"""The fetch layer every ISO module talks to (producers.base.HttpClient), live or replayed.

One FetchLayer per ISO owns, once for all ISOs: the User-Agent, timeouts, retries with
exponential backoff on 429/5xx and network errors (honouring Retry-After), the ISO's rate
limit, conditional requests (ETag / Last-Modified), and a log of what each poll fetched.
Where the bytes come from is a Transport: a requests.Session (live) or a directory of
recorded responses (replay), so the demo and the tests run the very same code with no network.

Status handling, as an ISO module sees it: 2xx and 4xx come back as a Response (a 404 often
just means "not published yet", which the ISO module knows how to handle); 429, 5xx, timeouts
and connection errors are retried and, once the retries are spent, raise FetchError.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from gridtape.errors import TerminalError, TransientError
from producers.base import Request, Response
from producers.formats import http_date

USER_AGENT = "gridtape/0.1 (+https://github.com/gridtape/gridtape)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 4
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 20.0
# A poller runs every minute: a server asking us to come back later than this is treated as
# "not now" (FetchError) rather than blocking the poll for longer than its schedule.
RETRY_AFTER_MAX_S = 60.0

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


class FetchError(TransientError):
    """The ISO could not be reached or kept failing (429/5xx/timeout) after the retries.
    Carries what it did answer, if anything, so the body can be quarantined."""

    def __init__(
        self, iso: str, url: str, reason: str, status: int | None = None, body: bytes = b"", headers: Any = None
    ) -> None:
        self.iso = iso
        self.url = url
        self.reason = reason
        self.status = status
        self.body = body
        self.headers: Mapping[str, str] = dict(headers or {})
        super().__init__(f"{iso} fetch {url}: {reason}")


class RecordingError(TerminalError):
    """A replay directory or manifest is missing or malformed."""


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    body: bytes
    headers: Mapping[str, str]


class Transport(Protocol):
    """Moves one GET over the wire (or out of a recording). Raises TimeoutError or
    ConnectionError for network failures; never retries (the FetchLayer does)."""

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> RawResponse: ...


def full_url(url: str, params: Mapping[str, str]) -> str:
    """The URL with its query string, as requests would send it (Response.url)."""
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({k: str(v) for k, v in params.items()})}"


# --- live ---------------------------------------------------------------------------------


class RequestsTransport:
    """One requests.Session per ISO: connection reuse (keep-alive, TLS sessions) across polls.
    urllib3's own retries are off: retrying is the FetchLayer's job, so Retry-After, backoff and
    the sleep are in one place and testable without waiting."""

    def __init__(self, connect_timeout: float = CONNECT_TIMEOUT_S) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self._requests = requests
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=0, pool_connections=2, pool_maxsize=4)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.connect_timeout = connect_timeout

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> RawResponse:
        requests = self._requests
        try:
            resp = self.session.get(
                url, params=dict(params), headers=dict(headers), timeout=(self.connect_timeout, timeout)
            )
            return RawResponse(resp.status_code, resp.content, dict(resp.headers))
        except requests.Timeout as exc:
            raise TimeoutError(f"timed out ({type(exc).__name__})") from exc
        except requests.RequestException as exc:  # DNS, refused, reset, TLS, chunked-encoding errors
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self.session.close()


# --- replay -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedPoll:
    dataset: str
    now: datetime
    label: str


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    url: str
    params: Mapping[str, str]
    path: Path
    status: int
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Recordings:
    """One ISO's manifest.json: the polls to replay and the responses to answer them with."""

    iso: str
    root: Path
    polls: tuple[RecordedPoll, ...]
    responses: tuple[RecordedResponse, ...]

    @classmethod
    def load(cls, directory: Path) -> Recordings:
        manifest = directory / "manifest.json"
        try:
            doc = json.loads(manifest.read_text())
        except FileNotFoundError:
            raise RecordingError(f"no recordings: {manifest} does not exist") from None
        except (OSError, ValueError) as exc:
            raise RecordingError(f"{manifest}: not readable JSON ({exc})") from None
        try:
            polls = tuple(
                RecordedPoll(p["dataset"], _utc(p["now"]), str(p.get("label", ""))) for p in doc.get("polls", [])
            )
            responses = tuple(
                RecordedResponse(
                    url=r["url"],
                    params={str(k): str(v) for k, v in (r.get("params") or {}).items()},
                    path=directory / r["file"],
                    status=int(r.get("status", 200)),
                    headers={str(k): str(v) for k, v in (r.get("headers") or {}).items()},
                )
                for r in doc["responses"]
            )
            iso = str(doc["iso"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordingError(f"{manifest}: malformed manifest ({type(exc).__name__}: {exc})") from None
        missing = [r.path.name for r in responses if not r.path.is_file()]
        if missing:
            raise RecordingError(f"{manifest}: recorded file(s) missing: {', '.join(missing[:5])}")
        return cls(iso=iso, root=directory, polls=polls, responses=responses)


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"poll time {text!r} has no zone")
    return value.astimezone(UTC)


class ReplayTransport:
    """Answers GETs from recordings, matched on url + params (volatile params ignored).

    A request nobody recorded gets a 404, as a live server would answer for a file that is not
    there, so the ISO module's own missing-data handling runs. When several recordings share a
    key (the same URL answered differently over time) they are served in manifest order, and
    the last keeps answering."""

    def __init__(self, recordings: Recordings) -> None:
        self.recordings = recordings
        # url -> [(params, responses recorded for exactly those params)]
        self._by_url: dict[str, list[tuple[dict[str, str], list[RecordedResponse]]]] = {}
        for r in recordings.responses:
            groups = self._by_url.setdefault(r.url, [])
            group = next((g for p, g in groups if p == dict(r.params)), None)
            if group is None:
                groups.append((dict(r.params), [r]))
            else:
                group.append(r)
        self.volatile: tuple[str, ...] = ()  # the current request's cache busters, set by the FetchLayer
        self.unmatched: list[str] = []

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> RawResponse:
        def stable(p: Mapping[str, str]) -> dict[str, str]:
            return {k: str(v) for k, v in p.items() if k not in self.volatile}

        wanted = stable(params)
        queue = next((g for p, g in self._by_url.get(url, []) if stable(p) == wanted), None)
        if not queue:
            self.unmatched.append(full_url(url, params))
            return RawResponse(404, b"Not Found (no recording for this request)", {"Content-Type": "text/plain"})
        rec = queue.pop(0) if len(queue) > 1 else queue[0]
        return RawResponse(rec.status, rec.path.read_bytes(), dict(rec.headers))


# --- the layer ISO modules see ------------------------------------------------------------


class RateLimiter:
    """At most `rate` requests per second, spaced evenly (ISOs throttle bursts, not averages)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for the next slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            wait = max(0.0, self._next - now)
            self._next = max(now, self._next) + self.interval
        if wait:
            self._sleep(wait)
        return wait


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request as the poll saw it (for logs, metrics and quarantine)."""

    url: str
    status: int
    bytes: int
    attempts: int
    not_modified: bool


@dataclass
class _Cached:
    etag: str | None
    last_modified: str | None
    response: RawResponse


class _Retry(Exception):
    """Internal: this attempt failed in a retryable way."""

    def __init__(
        self,
        reason: str,
        status: int | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After is either delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = http_date(value)
    return None if when is None else max(0.0, (when - now).total_seconds())


class FetchLayer:
    """producers.base.HttpClient for one ISO (see the module docstring)."""

    def __init__(
        self,
        iso: str,
        transport: Transport,
        *,
        requests_per_second: float = 1.0,
        timeout: float = READ_TIMEOUT_S,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base: float = BACKOFF_BASE_S,
        backoff_max: float = BACKOFF_MAX_S,
        retry_after_max: float = RETRY_AFTER_MAX_S,
        clock: Clock = lambda: datetime.now(UTC),
        sleep: Sleep = time.sleep,
        limiter: RateLimiter | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.iso = iso
        self.transport = transport
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.clock = clock
        self.sleep = sleep
        self.limiter = limiter if limiter is not None else RateLimiter(requests_per_second, sleep=sleep)
        self.secrets = tuple(s for s in secrets if s)
        self.exchanges: list[Exchange] = []
        self.responses: list[Response] = []  # this poll's, for quarantine when parsing fails
        # Conditional requests: validators and the body they validate, per full URL. A validator
        # only becomes usable after commit(), i.e. once the poll that fetched it has published
        # what it parsed: a 304 must never hide data that failed to parse or publish.
        self._cache: dict[str, _Cached] = {}
        self._pending: dict[str, _Cached] = {}

    # HttpClient
    def get(self, request: Request) -> Response:
        url = full_url(request.url, request.params)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", **request.headers}
        cached = self._cache.get(url)
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        if isinstance(self.transport, ReplayTransport):
            self.transport.volatile = request.volatile_params
        attempts = 0

        def attempt() -> RawResponse:
            nonlocal attempts
            attempts += 1
            self.limiter.acquire()
            try:
                raw = self.transport.send(request.url, request.params, headers, self.timeout)
            except TimeoutError as exc:
                raise _Retry(f"timed out after {self.timeout:g} s ({exc})") from exc
            except ConnectionError as exc:
                raise _Retry(f"connection failed ({exc})") from exc
            if raw.status in RETRY_STATUSES:
                after = retry_after_seconds(_header(raw.headers, "Retry-After"), self.clock())
                raise _Retry(f"HTTP {raw.status}", raw.status, raw.body, raw.headers, after)
            return raw

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts) | _stop_on_long_retry_after(self.retry_after_max),
            wait=self._wait,
            retry=retry_if_exception_type(_Retry),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            raw = retrying(attempt)
        except _Retry as exc:
            self.exchanges.append(Exchange(self.redact(url), exc.status or 0, len(exc.body), attempts, False))
            reason = exc.reason
            if exc.retry_after is not None and exc.retry_after > self.retry_after_max:
                reason += f", server asks to retry after {exc.retry_after:g} s"
            raise FetchError(
                self.iso, self.redact(url), f"{reason} ({attempts} attempt(s))", exc.status, exc.body, exc.headers
            ) from None

        not_modified = raw.status == 304 and cached is not None
        if not_modified:
            assert cached is not None
            raw = cached.response  # nothing new: the body we already parsed and published
        elif 200 <= raw.status < 300:
            etag, modified = _header(raw.headers, "ETag"), _header(raw.headers, "Last-Modified")
            if etag or modified:
                self._pending[url] = _Cached(etag, modified, raw)
        self.exchanges.append(Exchange(self.redact(url), raw.status, len(raw.body), attempts, not_modified))
        response = Response(url=url, status=raw.status, body=raw.body, headers=raw.headers, fetched_at=self.clock())
        self.responses.append(response)
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.retry_after is not None:
            return exc.retry_after
        backoff = min(self.backoff_max, self.backoff_base * 2 ** (state.attempt_number - 1))
        return backoff * random.uniform(0.5, 1.0)  # jitter: seven pollers must not retry in step

    # poll bookkeeping, called by the poller
    def begin_poll(self) -> None:
        self.exchanges = []
        self.responses = []
        self._pending = {}

    def all_not_modified(self) -> bool:
        """True when the poll made requests and every one was answered 304."""
        return bool(self.exchanges) and all(e.not_modified for e in self.exchanges)

    def commit(self) -> None:
        """The poll published everything it parsed: its validators may now be sent."""
        self._cache.update(self._pending)
        self._pending = {}

    def discard(self) -> None:
        self._pending = {}

    def redact(self, text: str) -> str:
        """Never log or store an API key that travels in a URL."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if close:
            close()


class _stop_on_long_retry_after(stop_base):
    """Stop at once when the server's Retry-After exceeds what a one-minute poller can wait."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return isinstance(exc, _Retry) and exc.retry_after is not None and exc.retry_after > self.limit


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lower = name.lower()
    for k, v in headers.items():
        if k.lower() == lower:
            return v
    return None


def live(iso: str, requests_per_second: float, secrets: tuple[str, ...] = ()) -> FetchLayer:
    return FetchLayer(iso, RequestsTransport(), requests_per_second=requests_per_second, secrets=secrets)


def replay(recordings: Recordings, clock: Clock) -> FetchLayer:
    """Replay: same layer, no rate limiting and no real sleeping (a recorded 503 stays a 503,
    so waiting for it would only slow the demo down)."""
    return FetchLayer(
        recordings.iso,
        ReplayTransport(recordings),
        clock=clock,
        sleep=lambda _s: None,
        limiter=RateLimiter(0),
    )

"""The fetch layer every ISO module talks to (producers.base.HttpClient), live or replayed.

One FetchLayer per ISO owns, once for all ISOs: the User-Agent, timeouts, retries with
exponential backoff on 429/5xx and network errors (honouring Retry-After), the ISO's rate
limit, a time budget (set_deadline), conditional requests (ETag / Last-Modified), https only
(live and replay), and a log of what each poll fetched. Where the bytes come from is a
Transport (producers.transport: requests, with size caps and redirect rules; producers.replay:
recorded responses), so the demo and the tests run the very same code with no network.

Status handling, as an ISO module sees it: 2xx and 4xx come back as a Response (a 404 often
just means "not published yet", which the ISO module knows how to handle); 429, 5xx, timeouts
and connection errors are retried and, once the retries (or the time budget) are spent, raise
FetchError; what the transport refuses (too large, a downgrade) raises ResponseRefused (a
FetchError) at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from gridtape.errors import TransientError
from producers.base import Request, Response
from producers.conditional import Validators
from producers.formats import http_date
from producers.ratelimit import BUDGET_EXHAUSTED, BudgetExhausted, RateLimiter
from producers.replay import RecordedPoll, RecordedResponse, RecordingError, Recordings, ReplayTransport
from producers.transport import RawResponse, RequestsTransport, Transport, TransportRefusal, full_url

__all__ = [
    "FetchError",
    "FetchLayer",
    "RateLimiter",
    "RawResponse",
    "RecordedPoll",
    "RecordedResponse",
    "RecordingError",
    "Recordings",
    "ReplayTransport",
    "RequestsTransport",
    "ResponseRefused",
    "Transport",
    "full_url",
    "live",
    "replay",
]

USER_AGENT = "gridtape/0.1 (+https://github.com/gridtape/gridtape)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
READ_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 4
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 20.0
# A poller runs every minute: a server asking us to come back later than this is treated as
# "not now" (FetchError) rather than blocking the poll for longer than its schedule.
RETRY_AFTER_MAX_S = 60.0

Clock = Callable[[], datetime]
Monotonic = Callable[[], float]
Sleep = Callable[[float], None]


class FetchError(TransientError):
    """The ISO could not be reached or kept failing (429/5xx/timeout) after the retries, the
    time budget ran out, or the transport refused the answer. Carries what the ISO did answer,
    if anything, so the body can be quarantined."""

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


class ResponseRefused(FetchError):
    """The fetch layer refused what the ISO answered (too large, a zip bomb, a downgrade to
    http): a bad response, counted as quarantined like a body that does not parse."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request as the poll saw it (for logs, metrics and quarantine)."""

    url: str
    status: int
    bytes: int
    attempts: int
    not_modified: bool


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
        monotonic: Monotonic = time.monotonic,
        https_only: bool = False,
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
        self.monotonic = monotonic
        self.limiter = limiter if limiter is not None else RateLimiter(requests_per_second, monotonic, sleep)
        self.https_only = https_only
        self.deadline: float | None = None
        self.secrets = tuple(s for s in secrets if s)
        self.exchanges: list[Exchange] = []
        self.responses: list[Response] = []  # this poll's, for quarantine when parsing fails
        self.unseen: list[str] = []  # this poll's 304s to seeded validators (no body to hand on)
        self.validators = Validators()  # conditional requests (producers.conditional)

    def set_deadline(self, monotonic_deadline: float | None) -> None:
        """No GET may wait past this point of the monotonic clock (None: no budget). A retry,
        Retry-After or rate-limit wait that would pass it raises FetchError ("time budget
        exhausted") instead of sleeping, and each attempt's read timeout is cut to what is left."""
        self.deadline = monotonic_deadline

    def _left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.monotonic()

    # HttpClient
    def get(self, request: Request) -> Response:
        url = full_url(request.url, request.params)
        if self.https_only and urlsplit(request.url).scheme != "https":
            raise ResponseRefused(self.iso, self.redact(url), "refused: not an https URL")
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", **request.headers}
        # Validators belong to the resource, not to a cache buster that changes on every call.
        resource = full_url(request.url, {k: v for k, v in request.params.items() if k not in request.volatile_params})
        cached = self.validators.lookup(resource)
        headers.update(self.validators.headers(cached))
        if isinstance(self.transport, ReplayTransport):
            self.transport.volatile = request.volatile_params
        attempts = 0

        def attempt() -> RawResponse:
            nonlocal attempts
            attempts += 1
            self.limiter.acquire(self.deadline)
            left = self._left()
            if left is not None and left <= 0:
                raise BudgetExhausted(BUDGET_EXHAUSTED)
            timeout = self.timeout if left is None else min(self.timeout, left)
            try:
                raw = self.transport.send(request.url, request.params, headers, timeout)
            except TimeoutError as exc:
                raise _Retry(f"timed out after {timeout:g} s ({exc})") from exc
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
        except (BudgetExhausted, TransportRefusal) as exc:
            last = exc.__cause__ if isinstance(exc.__cause__, _Retry) else _Retry(str(exc))
            self.exchanges.append(Exchange(self.redact(url), last.status or 0, len(last.body), attempts, False))
            error = ResponseRefused if isinstance(exc, TransportRefusal) else FetchError
            raise error(
                self.iso, self.redact(url), f"{exc} ({attempts} attempt(s))", last.status, last.body, last.headers
            ) from None
        except _Retry as exc:
            self.exchanges.append(Exchange(self.redact(url), exc.status or 0, len(exc.body), attempts, False))
            reason = exc.reason
            if exc.retry_after is not None and exc.retry_after > self.retry_after_max:
                reason += f", server asks to retry after {exc.retry_after:g} s"
            raise FetchError(
                self.iso, self.redact(url), f"{reason} ({attempts} attempt(s))", exc.status, exc.body, exc.headers
            ) from None

        not_modified = raw.status == 304 and cached is not None
        if not_modified and cached is not None and cached.response is not None:
            raw = cached.response  # nothing new: the body we already parsed and published
        elif not_modified:
            self.unseen.append(resource)  # a seeded validator: "nothing new", but no body here
        elif 200 <= raw.status < 300:
            self.validators.fetched(resource, _header(raw.headers, "ETag"), _header(raw.headers, "Last-Modified"), raw)
        self.exchanges.append(Exchange(self.redact(url), raw.status, len(raw.body), attempts, not_modified))
        response = Response(url=url, status=raw.status, body=raw.body, headers=raw.headers, fetched_at=self.clock())
        self.responses.append(response)
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.retry_after is not None:
            wait = exc.retry_after
        else:
            backoff = min(self.backoff_max, self.backoff_base * 2 ** (state.attempt_number - 1))
            wait = backoff * random.uniform(0.5, 1.0)  # jitter: seven pollers must not retry in step
        left = self._left()
        stopping = state.attempt_number >= self.max_attempts or (
            isinstance(exc, _Retry) and exc.retry_after is not None and exc.retry_after > self.retry_after_max
        )  # tenacity asks for the wait before it checks stop: no budget verdict on the last try
        if left is not None and wait >= left and not stopping:
            reason = exc.reason if isinstance(exc, _Retry) else "failed"
            raise BudgetExhausted(
                f"{BUDGET_EXHAUSTED}: {reason}, and waiting {wait:.1f} s would pass the deadline"
            ) from exc
        return wait

    # poll bookkeeping, called by the poller
    def begin_poll(self) -> None:
        self.exchanges = []
        self.responses = []
        self.unseen = []
        self.validators.begin_poll()

    def all_not_modified(self) -> bool:
        """True when the poll made requests and every one was answered 304."""
        return bool(self.exchanges) and all(e.not_modified for e in self.exchanges)

    def commit(self) -> None:
        """The poll published everything it parsed: its validators may now be sent."""
        self.validators.commit()

    def discard(self) -> None:
        self.validators.discard()

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
    return FetchLayer(
        iso, RequestsTransport(), requests_per_second=requests_per_second, secrets=secrets, https_only=True
    )


def replay(recordings: Recordings, clock: Clock) -> FetchLayer:
    """Replay: same layer, no rate limiting and no real sleeping (a recorded 503 stays a 503,
    so waiting for it would only slow the demo down)."""
    return FetchLayer(
        recordings.iso,
        ReplayTransport(recordings),
        clock=clock,
        sleep=lambda _s: None,
        limiter=RateLimiter(0),
        https_only=True,
    )

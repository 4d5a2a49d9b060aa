"""The backfill's terminal progress, and its fetches: through the ISO's FetchLayer, so the
poller's rate limit, retries and throttling apply to every archive request."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, date, datetime

from producers.backfill import TerminalProgress, backfill
from producers.backfill.run import DayResult
from producers.http import FetchLayer, RawResponse
from producers.ratelimit import RateLimiter
from tests.producers.conftest import Resources
from tests.producers.test_backfill import sinks
from tests.producers.test_backfill_fake import FakeArchive, archive_url, day_csv


def _result(day: str, rows: int, status: str = "done") -> DayResult:
    return DayResult("SPP", "lmp", day, status, rows=rows)


def test_progress_prints_a_line_per_day_off_a_terminal() -> None:
    out, ticks = io.StringIO(), iter([0.0, 10.0, 20.0])
    p = TerminalProgress(out, tty=False, clock=lambda: next(ticks))
    p.start("SPP", "lmp", total=3, already=1)
    p.day(_result("2024-06-01", 576))
    p.day(_result("2024-06-02", 0, "missing"))
    p.finish()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("SPP lmp: 1 day(s) already done")
    assert "1/3 days, 2 left, 576 rows, ETA 20s" in lines[1]
    assert "2/3 days, 1 left, 576 rows, 1 failed, ETA 10s" in lines[2] and "missing" in lines[2]


def test_progress_updates_one_line_on_a_terminal() -> None:
    out = io.StringIO()
    p = TerminalProgress(out, tty=True, clock=lambda: 0.0)
    p.start("SPP", "lmp", total=2, already=0)
    p.day(_result("2024-06-01", 1))
    p.day(_result("2024-06-02", 1))
    p.finish()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.count("\n") == 1 and text.endswith("\n")


class Flaky:
    """An archive server that throttles (429 with Retry-After) or fails (503) before it answers."""

    def __init__(self, bodies: dict[str, bytes], failures: list[RawResponse]) -> None:
        self.bodies, self.failures, self.calls = bodies, failures, 0

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> RawResponse:
        self.calls += 1
        if self.failures:
            return self.failures.pop(0)
        body = self.bodies.get(url)
        return RawResponse(200, body, {"Content-Type": "text/csv"}) if body else RawResponse(404, b"", {})


def fetch_layer(transport: Flaky, rate: float, waits: list[float]) -> FetchLayer:
    clock = [0.0]

    def sleep(s: float) -> None:
        waits.append(s)
        clock[0] += s

    return FetchLayer(
        "SPP",
        transport,
        clock=lambda: datetime(2024, 7, 1, tzinfo=UTC),
        sleep=sleep,
        monotonic=lambda: clock[0],
        limiter=RateLimiter(rate, clock=lambda: clock[0], sleep=sleep),
        backoff_base=0.5,
    )


def test_archive_requests_are_retried_throttled_and_paced_like_polls(resources: Resources) -> None:
    wanted = [date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3)]
    throttled = RawResponse(429, b"slow down", {"Retry-After": "7"})
    unavailable = RawResponse(503, b"", {})
    transport = Flaky({archive_url("lmp", d): day_csv(d) for d in wanted}, [throttled, unavailable])
    waits: list[float] = []
    results = backfill(FakeArchive(), "lmp", wanted, fetch_layer(transport, 0.5, waits), sinks(resources))
    assert [r.status for r in results] == ["done"] * 3
    assert transport.calls == 5  # two retried failures, then one request per day
    assert 7.0 in waits  # the server's Retry-After is honoured
    assert len([w for w in waits if abs(w - 2.0) < 1e-6]) >= 2  # 0.5 requests/s: two seconds between requests


def test_an_archive_that_keeps_failing_fails_its_day_with_the_reason(resources: Resources) -> None:
    transport = Flaky({}, [RawResponse(503, b"down", {})] * 10)
    waits: list[float] = []
    results = backfill(FakeArchive(), "lmp", [date(2024, 6, 1)], fetch_layer(transport, 0, waits), sinks(resources))
    assert results[0].status == "failed" and "HTTP 503" in (results[0].error or "")
    assert results[0].quarantined  # the last answer kept for a human

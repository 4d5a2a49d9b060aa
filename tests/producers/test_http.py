"""The fetch layer against a real HTTP server on 127.0.0.1 (scripted answers), and replay."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from producers import http
from producers.base import Request

NOW = datetime(2025, 6, 10, 18, 42, tzinfo=UTC)


class Script:
    """What the server answers, in order (the last answer repeats), and what it was asked."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], bytes, float]] = []
        self.seen: list[dict[str, Any]] = []

    def then(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, delay: float = 0) -> Script:
        self.answers.append((status, headers or {}, body, delay))
        return self


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            script.seen.append({"path": self.path, "headers": dict(self.headers)})
            status, headers, body, delay = script.answers.pop(0) if len(script.answers) > 1 else script.answers[0]
            if delay:
                time.sleep(delay)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", script
    srv.shutdown()
    srv.server_close()


def layer(sleeps: list[float] | None = None, **kw: Any) -> http.FetchLayer:
    sink = sleeps if sleeps is not None else []
    kw.setdefault("limiter", http.RateLimiter(0))
    return http.FetchLayer("TESTISO", http.RequestsTransport(), clock=lambda: NOW, sleep=sink.append, **kw)


def test_ok_sends_user_agent_and_returns_full_url(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(200, b"a,b\n1,2\n", {"Content-Type": "text/csv"})
    resp = layer().get(Request(f"{base}/prices", params={"market": "RT5", "day": "2025-06-10"}))
    assert resp.status == 200 and resp.body == b"a,b\n1,2\n"
    assert resp.url == f"{base}/prices?market=RT5&day=2025-06-10"
    assert resp.fetched_at == NOW
    assert (
        script.seen[0]["headers"]["User-Agent"]
        == http.USER_AGENT
        == "gridtape/0.1 (+https://github.com/gridtape/gridtape)"
    )


def test_5xx_is_retried_with_backoff_then_succeeds(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(502, b"<html>bad gateway</html>").then(503).then(200, b"ok")
    sleeps: list[float] = []
    fl = layer(sleeps, backoff_base=1.0)
    assert fl.get(Request(f"{base}/x")).body == b"ok"
    assert len(script.seen) == 3
    # exponential with jitter in [0.5, 1.0] of 1 s, then 2 s
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0
    assert fl.exchanges[-1].attempts == 3


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(server: tuple[str, Script], status: int) -> None:
    base, script = server
    script.then(status, b"slow down", {"Retry-After": "7"}).then(200, b"ok")
    sleeps: list[float] = []
    assert layer(sleeps).get(Request(f"{base}/x")).body == b"ok"
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(429, b"", {"Retry-After": "Tue, 10 Jun 2025 18:42:12 GMT"}).then(200, b"ok")
    sleeps: list[float] = []
    layer(sleeps).get(Request(f"{base}/x"))
    assert sleeps == [12.0]


def test_retry_after_beyond_a_poll_interval_gives_up_at_once(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(429, b"quota", {"Retry-After": "3600"})
    sleeps: list[float] = []
    with pytest.raises(http.FetchError) as err:
        layer(sleeps).get(Request(f"{base}/x"))
    assert sleeps == [] and len(script.seen) == 1
    assert err.value.status == 429 and "3600" in err.value.reason and err.value.iso == "TESTISO"


def test_persistent_5xx_raises_fetch_error_with_body(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(500, b"<html><body>Internal error</body></html>", {"Content-Type": "text/html"})
    with pytest.raises(http.FetchError) as err:
        layer(max_attempts=3).get(Request(f"{base}/lmp"))
    assert len(script.seen) == 3
    assert err.value.status == 500 and b"Internal error" in err.value.body
    assert err.value.url == f"{base}/lmp" and "HTTP 500 (3 attempt(s))" in str(err.value)


def test_4xx_is_returned_not_retried(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(404, b"no such file")
    resp = layer().get(Request(f"{base}/missing.csv"))
    assert resp.status == 404 and len(script.seen) == 1


def test_timeout_is_retried_then_raised(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(200, b"late", delay=1.0)
    with pytest.raises(http.FetchError) as err:
        layer(timeout=0.2, max_attempts=2).get(Request(f"{base}/slow"))
    assert "timed out" in err.value.reason and err.value.status is None
    assert len(script.seen) == 2


def test_connection_refused_is_a_fetch_error() -> None:
    with pytest.raises(http.FetchError) as err:
        layer(max_attempts=2).get(Request("http://127.0.0.1:9/nothing"))
    assert "connection failed" in err.value.reason


def test_conditional_request_only_after_commit_and_304_returns_cached_body(server: tuple[str, Script]) -> None:
    base, script = server
    validators = {"ETag": '"v1"', "Last-Modified": "Tue, 10 Jun 2025 18:40:00 GMT"}
    script.then(200, b"v1 body", validators).then(200, b"v1 body", validators).then(304)
    fl = layer()
    req = Request(f"{base}/feed")

    fl.begin_poll()
    fl.get(req)
    fl.discard()  # that poll failed to publish: its validators must not suppress the data
    fl.begin_poll()
    fl.get(req)
    assert "If-None-Match" not in script.seen[1]["headers"]
    fl.commit()

    fl.begin_poll()
    resp = fl.get(req)
    assert script.seen[2]["headers"]["If-None-Match"] == '"v1"'
    assert script.seen[2]["headers"]["If-Modified-Since"] == "Tue, 10 Jun 2025 18:40:00 GMT"
    assert resp.status == 200 and resp.body == b"v1 body"
    assert fl.all_not_modified()


def test_rate_limiter_spaces_requests_evenly() -> None:
    t = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        t[0] += s

    rl = http.RateLimiter(2.0, clock=lambda: t[0], sleep=sleep)
    for _ in range(4):
        rl.acquire()
    assert slept == [0.5, 0.5, 0.5]


def test_secrets_are_redacted_from_urls(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(500)
    with pytest.raises(http.FetchError) as err:
        layer(max_attempts=1, secrets=("s3cr3t",)).get(Request(f"{base}/x", params={"key": "s3cr3t"}))
    assert "s3cr3t" not in str(err.value) and "key=***" in err.value.url


def test_retry_after_parsing() -> None:
    assert http.retry_after_seconds("120", NOW) == 120
    assert http.retry_after_seconds("Tue, 10 Jun 2025 18:41:00 GMT", NOW) == 0  # in the past
    assert http.retry_after_seconds("soon", NOW) is None
    assert http.retry_after_seconds(None, NOW) is None


# --- replay -------------------------------------------------------------------------------


def write_recordings(root: Path, responses: list[dict[str, Any]], files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (root / name).write_bytes(body)
    manifest = {"iso": "CAISO", "polls": [{"dataset": "lmp", "now": "2025-06-10T18:42:00Z", "label": "t"}]}
    manifest["responses"] = responses
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_replay_matches_url_and_params_ignoring_volatile(tmp_path: Path) -> None:
    rec = write_recordings(
        tmp_path,
        [
            {
                "url": "https://iso.example/a",
                "params": {"day": "1", "_": "111"},
                "file": "a.csv",
                "status": 200,
                "headers": {"Content-Type": "text/csv"},
            },
        ],
        {"a.csv": b"x,y\n"},
    )
    recordings = http.Recordings.load(rec)
    assert recordings.iso == "CAISO" and recordings.polls[0].now == NOW
    fl = http.replay(recordings, clock=lambda: NOW)
    resp = fl.get(Request("https://iso.example/a", params={"day": "1", "_": "999"}, volatile_params=("_",)))
    assert resp.status == 200 and resp.body == b"x,y\n" and resp.headers["Content-Type"] == "text/csv"
    assert resp.fetched_at == NOW
    # not volatile: must match exactly
    assert fl.get(Request("https://iso.example/a", params={"day": "2", "_": "1"}, volatile_params=("_",))).status == 404


def test_replay_unrecorded_request_is_404_and_noted(tmp_path: Path) -> None:
    recordings = http.Recordings.load(write_recordings(tmp_path, [], {}))
    fl = http.replay(recordings, clock=lambda: NOW)
    assert fl.get(Request("https://iso.example/nothing")).status == 404
    assert fl.transport.unmatched == ["https://iso.example/nothing"]  # type: ignore[attr-defined]


def test_replay_serves_repeated_recordings_in_order_and_retries_recorded_5xx(tmp_path: Path) -> None:
    rec = write_recordings(
        tmp_path,
        [
            {"url": "https://iso.example/a", "file": "err.html", "status": 503},
            {"url": "https://iso.example/a", "file": "v1.csv", "status": 200},
            {"url": "https://iso.example/a", "file": "v2.csv", "status": 200},
        ],
        {"err.html": b"<html>busy</html>", "v1.csv": b"v1", "v2.csv": b"v2"},
    )
    fl = http.replay(http.Recordings.load(rec), clock=lambda: NOW)
    assert fl.get(Request("https://iso.example/a")).body == b"v1"  # the 503 was retried
    assert fl.get(Request("https://iso.example/a")).body == b"v2"
    assert fl.get(Request("https://iso.example/a")).body == b"v2"  # the last one keeps answering


def test_replay_manifest_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(http.RecordingError, match="does not exist"):
        http.Recordings.load(tmp_path / "nope")
    write_recordings(tmp_path, [{"url": "https://iso.example/a", "file": "gone.csv"}], {})
    with pytest.raises(http.RecordingError, match=r"gone\.csv"):
        http.Recordings.load(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(http.RecordingError, match="not readable JSON"):
        http.Recordings.load(tmp_path)


def test_a_seeded_validator_is_sent_and_its_304_is_marked_bodiless(server: tuple[str, Script]) -> None:
    """Validators from the state table (a cold process): sent, and a 304 to them is flagged,
    since there is no body behind it to hand to the parser. Cache busters do not matter."""
    from producers.conditional import url_key

    base, script = server
    script.then(304)
    fl = layer()
    fl.validators.seed({url_key(f"{base}/feed?day=1"): ('"d1"', None)})
    fl.begin_poll()
    resp = fl.get(Request(f"{base}/feed", params={"day": "1", "_": "123"}, volatile_params=("_",)))
    assert script.seen[0]["headers"]["If-None-Match"] == '"d1"'
    assert resp.status == 304 and fl.unseen == [f"{base}/feed?day=1"] and fl.all_not_modified()
    assert fl.validators.to_store() == {url_key(f"{base}/feed?day=1"): ('"d1"', None)}


def test_validators_outlive_the_process_and_a_304_costs_no_parse_and_no_publish(
    server: tuple[str, Script], resources: Any
) -> None:
    from producers.poller import MemoryMetrics, poll
    from tests.producers import fakes

    base, script = server
    body = fakes.csv_body("lmp", fakes.hour_rows())
    script.then(200, body, {"ETag": '"d1"'}).then(304)

    class Source(fakes.FakeSource):
        pass

    Source.base = base
    t = datetime(2025, 6, 10, 19, 1, tzinfo=UTC)
    metrics = MemoryMetrics()
    sinks = resources.sinks(metrics)

    def cold() -> http.FetchLayer:  # a new process each time: nothing cached in memory
        return http.FetchLayer("SPP", http.RequestsTransport(), clock=lambda: t, limiter=http.RateLimiter(0))

    first = poll(Source(), "lmp", cold(), sinks, t)
    assert first.status == "published" and first.published == len(fakes.hour_rows())
    second = poll(Source(), "lmp", cold(), sinks, t.replace(minute=2))
    assert script.seen[1]["headers"].get("If-None-Match") == '"d1"'
    assert (second.status, second.parsed, second.published) == ("not_modified", 0, 0)
    assert metrics.total("PollsNotModified", "SPP", "lmp") == 1
    assert len(resources.stream_records()) == first.published


def test_a_cold_poll_that_is_partly_304_fetches_again_in_full(server: tuple[str, Script], resources: Any) -> None:
    """Two files, one unchanged (304 to a stored validator: no body here) and one changed: the
    poll must still parse both, so it fetches them again without validators."""
    from producers.base import HttpClient, Response
    from producers.poller import poll
    from tests.producers import fakes

    base, script = server
    north = fakes.csv_body("lmp", fakes.hour_rows(locations=("HUB_N",)))
    south = fakes.csv_body("lmp", fakes.hour_rows(locations=("HUB_S",)))
    south2 = south.replace(b",20.0\n", b",99.0\n")
    script.then(200, north, {"ETag": '"n"'}).then(200, south, {"ETag": '"s"'})
    script.then(304).then(200, south2, {"ETag": '"s2"'})
    script.then(200, north, {"ETag": '"n"'}).then(200, south2, {"ETag": '"s2"'})

    class Two(fakes.FakeSource):
        def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
            return [http.get(Request(f"{base}/{dataset}.csv", params={"part": p})) for p in ("n", "s")]

    t = datetime(2025, 6, 10, 19, 1, tzinfo=UTC)

    def cold() -> http.FetchLayer:
        return http.FetchLayer("SPP", http.RequestsTransport(), clock=lambda: t, limiter=http.RateLimiter(0))

    sinks = resources.sinks()
    assert poll(Two(), "lmp", cold(), sinks, t).published == 24
    second = poll(Two(), "lmp", cold(), sinks, t.replace(minute=2))
    assert [s["headers"].get("If-None-Match") for s in script.seen[2:]] == ['"n"', '"s"', None, None]
    assert (second.status, second.parsed, second.revised, second.new) == ("published", 24, 1, 0)

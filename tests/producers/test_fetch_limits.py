"""What the fetch layer and the formats refuse before parsing: a time budget per poll, bodies
and archives past their size caps (in bounded memory), JSON nested too deep, http, and an API
key travelling to another host."""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile
from typing import Any

import pytest

from producers import formats, http, transport
from producers.base import Request
from tests.producers import test_http
from tests.producers.test_http import NOW, Script, layer

server = test_http.server  # the scripted HTTP server fixture

GB = 1.1e9
PEAK_LIMIT = 300 * 1024 * 1024


class Clock:
    """A monotonic clock that only moves when the layer sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def budget_layer(clock: Clock, rate: float = 0.0, **kw: Any) -> http.FetchLayer:
    return http.FetchLayer(
        "TESTISO",
        http.RequestsTransport(),
        clock=lambda: NOW,
        sleep=clock.sleep,
        monotonic=clock,
        limiter=http.RateLimiter(rate, clock, clock.sleep),
        **kw,
    )


# --- the time budget ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_a_retry_after_past_the_deadline_is_not_waited_for(server: tuple[str, Script], status: int) -> None:
    base, script = server
    script.then(status, b"slow down", {"Retry-After": "60"}).then(200, b"ok")
    clock = Clock()
    fl = budget_layer(clock)
    fl.set_deadline(clock() + 55)  # the Lambda's budget
    with pytest.raises(http.FetchError) as err:
        fl.get(Request(f"{base}/x"))
    assert "time budget exhausted" in err.value.reason and err.value.status == status
    assert clock.slept == [] and len(script.seen) == 1
    assert isinstance(err.value, http.TransientError)


def test_waits_within_the_deadline_still_happen_and_no_deadline_changes_nothing(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(503, b"", {"Retry-After": "7"}).then(200, b"ok")
    clock = Clock()
    fl = budget_layer(clock)
    fl.set_deadline(clock() + 55)
    assert fl.get(Request(f"{base}/x")).body == b"ok" and clock.slept == [7.0]
    script.answers.clear()
    script.then(503, b"", {"Retry-After": "60"}).then(200, b"ok")
    fl.set_deadline(None)
    assert fl.get(Request(f"{base}/x")).body == b"ok" and clock.slept == [7.0, 60.0]


def test_backoff_that_would_pass_the_deadline_gives_up(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(502)
    clock = Clock()
    fl = budget_layer(clock, backoff_base=10.0)
    fl.set_deadline(clock() + 12)  # the first backoff (5..10 s) fits, the second (10..20 s) does not
    with pytest.raises(http.FetchError, match="time budget exhausted"):
        fl.get(Request(f"{base}/x"))
    assert len(clock.slept) == 1 and len(script.seen) == 2


def test_a_rate_limit_slot_past_the_deadline_sends_nothing(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(200, b"ok")
    clock = Clock()
    fl = budget_layer(clock, rate=0.1)  # one request every 10 s
    fl.set_deadline(clock() + 5)
    fl.get(Request(f"{base}/a"))
    with pytest.raises(http.FetchError, match="time budget exhausted"):
        fl.get(Request(f"{base}/b"))
    assert [s["path"] for s in script.seen] == ["/a"] and clock.slept == []


def test_a_spent_budget_fails_before_sending(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(200, b"ok")
    clock = Clock()
    fl = budget_layer(clock)
    fl.set_deadline(clock() - 1)
    with pytest.raises(http.FetchError, match="time budget exhausted"):
        fl.get(Request(f"{base}/x"))
    assert script.seen == []


# --- https only ---------------------------------------------------------------------------


def test_live_and_replay_layers_refuse_plain_http() -> None:
    fl = http.live("NYISO", 1.0)
    with pytest.raises(http.ResponseRefused, match="not an https URL"):
        fl.get(Request("http://mis.nyiso.com/public/realtime/realtime_zone_lbmp.csv"))
    assert fl.https_only and http.replay(http.Recordings("X", NOW_DIR, (), ()), lambda: NOW).https_only


NOW_DIR = __import__("pathlib").Path(".")


# --- size caps ----------------------------------------------------------------------------


def gzip_bomb(total: float = GB) -> bytes:
    """A multi-member gzip body (valid HTTP gzip) that inflates to `total` bytes of zeros."""
    member = gzip.compress(b"\0" * (10 << 20), 9)
    return member * int(total // (10 << 20) + 1)


def test_a_gzip_bomb_is_refused_while_streaming_in_bounded_memory(server: tuple[str, Script]) -> None:
    base, script = server
    bomb = gzip_bomb()
    assert len(bomb) < 1.5e6
    script.then(200, bomb, {"Content-Encoding": "gzip", "Content-Type": "text/csv"})
    tracemalloc.start()
    try:
        with pytest.raises(http.ResponseRefused, match="expands past"):
            layer().get(Request(f"{base}/bomb.csv"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"


def test_gzip_bodies_are_decoded_and_oversized_bodies_refused(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(200, gzip.compress(b"a,b\n1,2\n"), {"Content-Encoding": "gzip"})
    assert layer().get(Request(f"{base}/x")).body == b"a,b\n1,2\n"
    script.answers.clear()
    script.then(200, b"x" * 5000)
    small = http.FetchLayer("T", transport.RequestsTransport(max_body=1000), limiter=http.RateLimiter(0))
    with pytest.raises(http.ResponseRefused, match="larger than 1,000"):
        small.get(Request(f"{base}/big"))


def overlapping_zip_bomb(lie: bool = False) -> bytes:
    """~25 KB: 55 central-directory entries all pointing at one 20 MiB member of zeros (1.1 GB
    in all); with `lie`, every entry declares 10 bytes instead."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("a.csv", b"\0" * (20 << 20))
    data = buf.getvalue()
    cd_at = struct.unpack("<I", data[-6:-2])[0]
    local, cd = bytearray(data[:cd_at]), data[cd_at:-22]
    if lie:
        local[22:26] = struct.pack("<I", 10)
        cd = cd[:24] + struct.pack("<I", 10) + cd[28:]
    n = int(GB // (20 << 20)) + 1
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(cd) * n, len(local), 0)
    return bytes(local) + cd * n + end


@pytest.mark.parametrize("lie", [False, True], ids=["honest sizes", "lying sizes"])
def test_a_zip_bomb_is_refused_in_bounded_memory(lie: bool) -> None:
    bomb = overlapping_zip_bomb(lie)
    assert len(bomb) < 150_000
    tracemalloc.start()
    try:
        with pytest.raises(formats.FormatError):
            formats.zip_members(bomb, limit=1_000_000_000 if not lie else formats.MAX_MEMBER_BYTES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"


def test_zip_members_keep_to_their_limits() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.csv", b"x" * 2000)
    with pytest.raises(formats.FormatError, match="more than 1,000"):
        formats.zip_members(buf.getvalue(), limit=1000)
    assert formats.zip_members(buf.getvalue(), limit=2000) == {"a.csv": b"x" * 2000}


def test_json_nested_too_deep_or_with_nan_is_refused() -> None:
    assert formats.json_depth(b'{"a": [1, {"b": "[[[[["}]}') == 3
    with pytest.raises(formats.FormatError, match="nests 40 levels"):
        formats.json_document(b"[" * 40 + b"]" * 40)
    with pytest.raises(formats.FormatError, match="NaN"):
        formats.json_document(b'{"x": NaN}')


# --- keys stay on their host --------------------------------------------------------------


def test_a_redirect_to_another_host_drops_the_key_and_the_same_host_keeps_it(server: tuple[str, Script]) -> None:
    base, script = server
    port = base.rsplit(":", 1)[1]
    script.then(302, b"", {"Location": "/same"}).then(302, b"", {"Location": f"http://localhost:{port}/other"})
    script.then(200, b"ok")
    got = layer().get(Request(f"{base}/start", headers={"Ocp-Apim-Subscription-Key": "k3y", "X-Extra": "1"}))
    assert got.body == b"ok"
    seen = [(s["path"], s["headers"].get("Host", "").split(":")[0], s["headers"].get("Ocp-Apim-Subscription-Key"))
            for s in script.seen]  # fmt: skip
    assert seen == [("/start", "127.0.0.1", "k3y"), ("/same", "127.0.0.1", "k3y"), ("/other", "localhost", None)]
    assert "X-Extra" not in script.seen[2]["headers"] and script.seen[2]["headers"]["User-Agent"] == http.USER_AGENT


def test_a_redirect_from_https_down_to_http_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    t = transport.RequestsTransport()
    monkeypatch.setattr(t, "_one", lambda *a: (301, b"", {}, "http://api.pjm.com/api/v1/x"))
    with pytest.raises(transport.TransportRefusal, match="down to http"):
        t.send("https://api.pjm.com/api/v1/x", {}, {"Ocp-Apim-Subscription-Key": "k"}, 1.0)


def test_redirect_headers_rule() -> None:
    h = {"Ocp-Apim-Subscription-Key": "k", "User-Agent": "ua", "If-None-Match": '"v"'}
    assert transport.redirect_headers(h, "https://api.pjm.com/a", "https://API.pjm.com/b") == h
    assert transport.redirect_headers(h, "https://api.pjm.com/a", "https://cdn.example/b") == {"User-Agent": "ua"}


def test_a_decoded_body_no_longer_claims_its_encoding(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(200, gzip.compress(b"x,y\n"), {"Content-Encoding": "gzip", "ETag": '"e"'})
    got = layer().get(Request(f"{base}/x"))
    assert got.body == b"x,y\n" and "Content-Encoding" not in got.headers and got.headers["ETag"] == '"e"'

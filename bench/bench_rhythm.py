"""Publication-to-Kinesis latency of the poller: each feed on its rhythm (producers.rhythm:
fast conditional GETs while an interval is due) against the peer, every ISO polled once a
minute (the schedule before issue 11).

A local fake ISO server (http.server) publishes each ISO's real-time feeds (lmp, load; the
table's interval grid and lag_s, each interval posted lag_s - 20 s .. lag_s + 40 s after it
ends, the same draws for both sides) on a compressed clock: SCALE simulated seconds per real
second, injected into the poller (its clock, waits and rate limiters). The real poller (lease,
conditional GETs, validators, plan, Kinesis publisher) runs against it through a transport that
maps each ISO host to 127.0.0.1, publishing to Kinesis on the moto emulator. Latency: from the
moment the server posts an interval to the moment Kinesis accepted its tick, in simulated
seconds (the poller's own processing time is scaled up with it, which only penalises us).
The ISO formats are the bench's own JSON (parsing speed is bench_producers' business); the
day-ahead feeds post once a day and are left out.
"""

from __future__ import annotations

import json
import os
import random
import socket
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import Result

SCALE = float(os.environ.get("GRIDTAPE_BENCH_RHYTHM_SCALE", "10"))  # simulated seconds per real second
SIM_MINUTES = float(os.environ.get("GRIDTAPE_BENCH_RHYTHM_MINUTES", "25"))  # both sides run at once
WARMUP = timedelta(minutes=2)  # intervals posted before this are the first poll's backlog, not latency
KEEP = 3  # intervals each response holds (the newest ones)


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.start = start
        self.r0 = time.perf_counter()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.perf_counter() - self.r0) * SCALE)


class Feeds:
    """What the fake ISOs have posted by a given simulated time (deterministic draws)."""

    def __init__(self, codes: Sequence[str], seed: int = 11) -> None:
        from gridtape import isos

        self.seed = seed
        self.grid = {
            (c, name): min(isos.get(c).feeds_named(name), key=lambda f: f.minutes)
            for c in codes
            for name in ("lmp", "load")
        }

    def lag(self, code: str, name: str, end: datetime) -> float:
        """The same draw for an interval whoever asks first (both sides see the same ISO)."""
        return self.grid[(code, name)].lag_s + random.Random(f"{self.seed}{code}{name}{end.isoformat()}").uniform(
            -20, 40
        )

    def ends(self, code: str, name: str, start: datetime, stop: datetime) -> list[datetime]:
        minutes = self.grid[(code, name)].minutes
        end = start.replace(second=0, microsecond=0) - timedelta(minutes=start.minute % minutes)
        out = []
        while end <= stop:
            out.append(end)
            end += timedelta(minutes=minutes)
        return out

    def posted(self, code: str, name: str, now: datetime) -> list[datetime]:
        """Interval ends posted by `now`, newest last (the newest KEEP)."""
        minutes = self.grid[(code, name)].minutes
        step = timedelta(minutes=minutes)
        end = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % minutes)
        out: list[datetime] = []
        while len(out) < KEEP:
            if end + timedelta(seconds=self.lag(code, name, end)) <= now:
                out.append(end)
            end -= step
        return sorted(out)

    def post_time(self, code: str, name: str, end: datetime) -> datetime:
        return end + timedelta(seconds=self.lag(code, name, end))


def serve(feeds: Feeds, clock: SimClock) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            _, host, name = urlsplit(self.path).path.split("/")[:3]
            code = host.split(".")[0].upper()
            ends = feeds.posted(code, name, clock())
            etag = f'"{ends[-1]:%Y%m%dT%H%M}"'
            if self.headers.get("If-None-Match") == etag:
                self.reply(304, {"ETag": etag})
                return
            body = json.dumps([{"end": f"{e:%Y-%m-%dT%H:%M:%SZ}", "v": 20 + e.minute / 5} for e in ends]).encode()
            self.reply(200, {"Content-Type": "application/json", "ETag": etag, "Content-Length": str(len(body))}, body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def source_class(code: str) -> type:
    from producers.base import HttpClient, IsoSource, Request, Response

    class BenchSource(IsoSource):
        iso = code

        @property
        def datasets(self) -> tuple[str, ...]:
            return ("lmp", "load")

        def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
            return [http.get(Request(f"https://{code.lower()}.bench.invalid/{dataset}"))]

        def _rows_lmp(self, r: Response, _context: Any) -> list[dict[str, Any]]:
            return list(json.loads(r.body))

        _rows_load = _rows_lmp

        def _read_lmp(self, row: Mapping[str, Any], r: Response) -> dict[str, Any]:
            end = datetime.fromisoformat(row["end"].replace("Z", "+00:00"))
            return self.tick(
                r, "lmp", location=self.facts.hubs[0], location_type="hub", end=end, market=self._m("lmp"), lmp=row["v"]
            )

        def _read_load(self, row: Mapping[str, Any], r: Response) -> dict[str, Any]:
            end = datetime.fromisoformat(row["end"].replace("Z", "+00:00"))
            return self.tick(
                r,
                "load",
                location=self.facts.system,
                location_type="system",
                end=end,
                market=self._m("load"),
                load_mw=9000 + row["v"],
            )

        def _m(self, name: str) -> str:
            return min(self.facts.feeds_named(name), key=lambda f: f.minutes).market

    return BenchSource


class LocalTransport:
    """https://<iso>.bench.invalid/<feed> -> the fake server on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        from producers.transport import RequestsTransport

        self.port = port
        self.inner = RequestsTransport()

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> Any:
        parts = urlsplit(url)
        return self.inner.send(f"http://127.0.0.1:{self.port}/{parts.netloc}{parts.path}", params, headers, timeout)


def _resources(env: str) -> Any:
    from gridtape import aws, config
    from producers import state

    names = config.names(env)
    aws.client("kinesis").create_stream(StreamName=names.ticks_stream, ShardCount=2)
    aws.client("kinesis").get_waiter("stream_exists").wait(StreamName=names.ticks_stream, WaiterConfig={"Delay": 0.2})
    state.create_table(names.poller_state_table)
    aws.client("s3").create_bucket(Bucket=names.raw_bucket)
    return names


def measure(codes: Sequence[str], rhythm_mode: bool) -> dict[str, list[float]]:
    """Per ISO: seconds (simulated) from post to Kinesis for every interval after the warm-up."""
    from producers.http import FetchLayer
    from producers.poller import LivePoller, Sinks
    from producers.publish import KinesisPublisher

    clock = SimClock(datetime.now(UTC).replace(microsecond=0))
    feeds = Feeds(codes)
    srv = serve(feeds, clock)
    port = srv.server_address[1]
    names = _resources(f"bench{'r' if rhythm_mode else 'f'}{port}")
    arrived: dict[tuple[str, str, str], datetime] = {}

    class Timed(KinesisPublisher):
        def publish(self, records: Sequence[Mapping[str, Any]], on_delivered: Any = None, **kw: Any) -> Any:
            def seen(ok: list[Mapping[str, Any]]) -> None:
                t = clock()
                for r in ok:
                    arrived.setdefault((r["iso"], r["dataset"], r["interval_end"]), t)
                if on_delivered:
                    on_delivered(ok)

            return super().publish(records, seen, **kw)

    base = Sinks.from_config(names)
    sinks = Sinks(base.state, Timed(names.ticks_stream), base.quarantine)

    def factory(iso: str, _nodes: bool | None) -> tuple[Any, FetchLayer]:
        src = source_class(iso)()
        return src, FetchLayer(
            iso, LocalTransport(port), requests_per_second=src.requests_per_second * SCALE, clock=clock
        )

    live = LivePoller(list(codes), sinks, factory=factory, clock=clock, wait=lambda stop, s: stop.wait(s / SCALE))
    stop = threading.Event()
    started = clock()
    runner = threading.Thread(
        target=(lambda: live.run_rhythm(stop)) if rhythm_mode else (lambda: live.run(60.0, stop)), daemon=True
    )
    runner.start()
    time.sleep(SIM_MINUTES * 60 / SCALE)
    stop.set()
    runner.join(30)
    ended = clock()
    srv.shutdown()
    srv.server_close()
    out: dict[str, list[float]] = {c: [] for c in codes}
    for code, name in feeds.grid:
        for end in feeds.ends(code, name, started - timedelta(hours=1), ended):
            posted = feeds.post_time(code, name, end)
            if posted < started + WARMUP or posted > ended - timedelta(minutes=1.5):
                continue  # the first poll's backlog; or too close to the end to have been polled
            got = arrived.get((code, name, f"{end:%Y-%m-%dT%H:%M:%SZ}"))
            # never arrived: counted as the whole rest of the run (a miss must not flatter)
            out[code].append(max(0.0, ((got or ended) - posted).total_seconds()))
    return out


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run() -> list[Result]:
    from app.stack import emulator
    from gridtape import aws, isos

    codes = list(isos.CODES)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "emu"
        home.mkdir()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        emu = emulator.start(home=home, port=port)
        aws.use_emulator(emu.url)
        try:
            # Both sides at once, each with its own fake ISO server, clock and stream: the same
            # simulated window and the same load on both, in half the wall time.
            with ThreadPoolExecutor(2) as pool:
                ours_f, peer_f = pool.submit(measure, codes, True), pool.submit(measure, codes, False)
                ours, peer = ours_f.result(), peer_f.result()
        finally:
            emulator.stop(home)
    results: list[Result] = []
    note = f"simulated s, clock x{SCALE:g}, {SIM_MINUTES:g} simulated minutes, both sides at once"
    for label, q in (("p50", 0.5), ("p95", 0.95)):
        a = _pct([v for vs in ours.values() for v in vs], q)
        b = _pct([v for vs in peer.values() for v in vs], q)
        results.append(
            Result(
                f"rhythm post->Kinesis {label}, all ISOs",
                round(a, 1),
                "s",
                "fixed 1-min poll",
                round(b, 1),
                round(a / b, 3) if b else None,
                note,
            )
        )
    quick = [c for c in codes if _fast(c)]
    a95 = _pct([v for c in quick for v in ours[c]], 0.95)
    b95 = _pct([v for c in quick for v in peer[c]], 0.95)
    slow = ", ".join(c for c in codes if c not in quick)
    results.append(
        Result(
            "rhythm post->Kinesis p95, ISOs polled fast",
            round(a95, 1),
            "s",
            "fixed 1-min poll",
            round(b95, 1),
            round(a95 / b95, 3) if b95 else None,
            f"{', '.join(quick)} (not {slow}: one poll a minute by its etiquette)",
        )
    )
    for code in codes:
        a, b = ours[code], peer[code]
        results.append(
            Result(
                f"rhythm post->Kinesis p95 {code}",
                round(_pct(a, 0.95), 1),
                "s",
                "fixed 1-min poll",
                round(_pct(b, 0.95), 1),
                None,
                f"p50 {_pct(a, 0.5):.1f} vs {_pct(b, 0.5):.1f} s; {len(a)}/{len(b)} intervals"
                + ("; etiquette: one poll a minute" if not _fast(code) else ""),
            )
        )
    return results


def _fast(code: str) -> bool:
    from gridtape import isos
    from producers import rhythm

    return rhythm.can_poll_fast(isos.get(code))


if __name__ == "__main__":
    for r in run():
        print(r)

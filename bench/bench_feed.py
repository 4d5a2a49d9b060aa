"""Trader feed latency: PutRecords of a tick -> the update arriving at a Server-Sent Events
client of the dashboard's app, through emulator Kinesis, the KCL-shaped driver (lease table in
emulator DynamoDB, checkpoint per batch), the record processor, LiveFeed and the hub.

* ours: `gridtape feed`'s service as it runs (driver idle 0.25 s between empty reads), one SSE
  client reading /events; per tick, from the moment PutRecords returns to the moment its
  `ticks` event is parsed by the client.
* peer: the floor under it: a bare boto3 GetRecords loop on the same stream with the same idle
  time between empty reads, per tick from PutRecords returning to GetRecords returning it.
  ours/peer is what the feed's processing, checkpointing and fan-out add.

Ticks go one at a time, spaced by a random 0.1-0.4 s so they do not line up with the polls.
"""

from __future__ import annotations

import json
import math
import random
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from harness import Result  # noqa: E402

SAMPLES = 80
WARMUP = 5
IDLE_S = 0.25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _tick(i: int) -> dict[str, Any]:
    from gridtape import contract

    start = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(minutes=5 * i)
    now = datetime.now(UTC).replace(microsecond=0)
    # the value names the sample
    return contract.interval_tick(
        "PJM", "RT5", "lmp", "WESTERN HUB", start, 1000.0 + i, published_at=now, source="bench", revision=0
    )


def _sse_client(url: str, seen: dict[float, float], stop: threading.Event, ready: threading.Event) -> None:
    import requests

    with requests.get(url, stream=True, timeout=(5, 30)) as resp:
        event = ""
        for line in resp.iter_lines(decode_unicode=True):
            raw = str(line)
            if stop.is_set():
                return
            if raw.startswith("event: "):
                event = raw[7:]
                ready.set()
            elif raw.startswith("data: ") and event == "ticks":
                now = time.perf_counter()
                for p in json.loads(raw[6:]):
                    if p.get("k") == "price":
                        seen.setdefault(p["v"], now)


def _raw_reader(stream: str, seen: dict[float, float], stop: threading.Event) -> None:
    from gridtape import aws

    kinesis = aws.client("kinesis")
    iterators = {
        s["ShardId"]: kinesis.get_shard_iterator(StreamName=stream, ShardId=s["ShardId"], ShardIteratorType="LATEST")[
            "ShardIterator"
        ]
        for s in kinesis.list_shards(StreamName=stream)["Shards"]
    }
    while not stop.is_set():
        busy = False
        for shard, it in iterators.items():
            resp = kinesis.get_records(ShardIterator=it, Limit=10_000)
            now = time.perf_counter()
            for rec in resp["Records"]:
                seen.setdefault(json.loads(rec["Data"])["lmp"], now)
                busy = True
            iterators[shard] = resp["NextShardIterator"]
        if not busy:
            stop.wait(IDLE_S)


def measure(work: Path) -> tuple[list[float], list[float]]:
    from app.local.feed_service import FeedService
    from app.stack import emulator
    from gridtape import aws, config, contract, kinesis

    home = work / "emu"
    home.mkdir()
    emu = emulator.start(home=home, port=_free_port())
    aws.use_emulator(emu.url)
    names = config.names("bench")
    client = aws.client("kinesis")
    for stream, shards in ((names.ticks_stream, 2), (names.analytics_stream, 1)):
        client.create_stream(StreamName=stream, ShardCount=shards)
        client.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    service = FeedService(names, port=_free_port(), warehouse=work / "none.duckdb", notify=False, idle_s=IDLE_S)
    ours: dict[float, float] = {}
    peer: dict[float, float] = {}
    put_at: dict[float, float] = {}
    stop = threading.Event()
    ready = threading.Event()
    try:
        service.start()
        threads = [
            threading.Thread(target=_sse_client, args=(service.url + "/events", ours, stop, ready), daemon=True),
            threading.Thread(target=_raw_reader, args=(names.ticks_stream, peer, stop), daemon=True),
        ]
        for thread in threads:
            thread.start()
        ready.wait(30)
        writer = kinesis.Writer(names.ticks_stream)
        rng = random.Random(11)
        for i in range(SAMPLES + WARMUP):
            t = _tick(i)
            writer.put([kinesis.Entry(contract.dumps(t).encode(), f"PJM:{i}")])
            put_at[t["lmp"]] = time.perf_counter()
            time.sleep(rng.uniform(0.1, 0.4))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (len(ours) < len(put_at) or len(peer) < len(put_at)):
            time.sleep(0.1)
    finally:
        stop.set()
        service.stop()
        emulator.stop(home)
    samples = sorted(put_at)[WARMUP:]
    return (
        [ours[v] - put_at[v] for v in samples if v in ours],
        [peer[v] - put_at[v] for v in samples if v in peer],
    )


def run() -> list[Result]:
    import os
    import shutil

    work = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    os.environ.setdefault("GRIDTAPE_HOME", str(work / "home"))
    try:
        ours, peer = measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = []
    for q, label in ((0.5, "p50"), (0.95, "p95")):
        a, b = _pct(ours, q) * 1000, _pct(peer, q) * 1000
        out.append(
            Result(
                f"feed latency {label} (PutRecords->SSE client)",
                round(a, 1),
                "ms",
                "bare GetRecords poll",
                round(b, 1),
                round(a / b, 3) if b else None,
                f"{len(ours)}/{SAMPLES} ticks seen by the SSE client, {len(peer)} by the bare reader; "
                f"emulator Kinesis, {IDLE_S}s idle between empty reads on both sides",
            )
        )
    return out


if __name__ == "__main__":
    for r in run():
        print(r)

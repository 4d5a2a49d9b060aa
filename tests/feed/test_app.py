"""The web app: page and vendored assets offline, SSE with ids and Last-Event-ID resume,
history through the injected loader, /ingest for the KCL processes."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from feed.app import STATIC, make_app, make_ingest_app
from feed.live import LiveFeed
from tests.feed.helpers import tick


async def next_event(resp: ClientResponse) -> dict[str, str]:
    """The next SSE event (comments and retry lines skipped)."""
    event: dict[str, str] = {}
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), 5)).decode().rstrip("\n")
        if not line:
            if "event" in event:
                return event
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(": ")
        event[key] = value


def run(body: Callable[[TestClient, LiveFeed], Awaitable[None]], history: Any = None) -> None:
    async def main() -> None:
        live = LiveFeed()
        client = TestClient(TestServer(make_app(live, history, beat_s=0.05, keepalive_s=0.2)))
        await client.start_server()
        try:
            await body(client, live)
        finally:
            await client.close()

    asyncio.run(main())


def test_the_page_and_its_assets_are_served_without_any_outside_host() -> None:
    async def body(client: TestClient, live: LiveFeed) -> None:
        page = await (await client.get("/")).text()
        refs = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert refs and all(r.startswith("/static/") for r in refs), refs
        for ref in refs:
            resp = await client.get(ref)
            assert resp.status == 200, ref
        js = (STATIC / "app.js").read_text() + (STATIC / "style.css").read_text()
        assert not re.search(r"https?://", js)

    run(body)


def test_events_carry_ids_and_a_reconnect_gets_exactly_what_it_missed() -> None:
    async def body(client: TestClient, live: LiveFeed) -> None:
        resp = await client.get("/events")
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        first = await next_event(resp)
        assert first["event"] == "snapshot" and json.loads(first["data"])["headline"]["PJM"] == "WESTERN HUB"
        live.ingest("tick", [tick("PJM", "WESTERN HUB", 12.5)])
        ticks = await next_event(resp)
        while ticks["event"] != "ticks":
            ticks = await next_event(resp)
        assert json.loads(ticks["data"])[0]["v"] == 12.5
        seen = ticks["id"]
        resp.close()
        # Disconnected: three more batches arrive meanwhile.
        for i in range(1, 4):
            live.ingest("tick", [tick("PJM", "WESTERN HUB", 12.5 + i, i)])
        again = await client.get("/events", headers={"Last-Event-ID": seen})
        missed: list[float] = []
        while len(missed) < 3:
            e = await next_event(again)
            assert e["event"] != "snapshot"
            if e["event"] == "ticks":
                missed.append(json.loads(e["data"])[0]["v"])
        assert missed == [13.5, 14.5, 15.5]
        again.close()
        # An id from another process (the feed restarted) gets a snapshot, not a silent gap.
        other = await client.get("/events", headers={"Last-Event-ID": "0123abc-99"})
        snap = await next_event(other)
        assert snap["event"] == "snapshot"
        assert [p["v"] for p in json.loads(snap["data"])["points"] if p["k"] == "price"] == [12.5, 13.5, 14.5, 15.5]
        other.close()

    run(body)


def test_health_beats_reach_an_idle_page() -> None:
    async def body(client: TestClient, live: LiveFeed) -> None:
        resp = await client.get("/events")
        assert (await next_event(resp))["event"] == "snapshot"
        beat = await next_event(resp)
        assert beat["event"] == "health" and set(json.loads(beat["data"])) >= {"PJM", "SPP"}
        resp.close()

    run(body)


def test_history_uses_the_injected_loader_and_checks_hours() -> None:
    asked = []

    def history(hours: float) -> dict[str, Any]:
        asked.append(hours)
        return {"points": [{"k": "load", "iso": "PJM", "t": "2025-01-01T00:00:00Z", "v": 1.0}], "volatility": []}

    async def body(client: TestClient, live: LiveFeed) -> None:
        assert (await (await client.get("/api/history?hours=3")).json())["points"][0]["v"] == 1.0
        assert (await client.get("/api/history?hours=lots")).status == 400
        assert asked == [3.0]

    run(body, history)


def test_ingest_is_a_separate_app_and_takes_processor_batches() -> None:
    async def body(client: TestClient, live: LiveFeed) -> None:
        assert (await client.post("/ingest", json={"kind": "tick", "records": []})).status in (404, 405)
        internal = TestClient(TestServer(make_ingest_app(live)))
        await internal.start_server()
        try:
            batch = {"kind": "tick", "records": [tick("SPP", "SPPNORTH_HUB", 7.0)]}
            assert (await internal.post("/ingest", json=batch)).status == 200
            assert (await internal.post("/ingest", json={"kind": "gossip", "records": []})).status == 400
        finally:
            await internal.close()
        health = await (await client.get("/api/health")).json()
        assert health["health"]["SPP"]["ticks"] == 1 and health["counts"]["tick"] == 1

    run(body)

"""The feed's web app (aiohttp): the dashboard page, Server-Sent Events and the history API.

GET  /               the dashboard (feed/static: no CDN, the chart library is vendored)
GET  /events         text/event-stream: snapshot, ticks, volatility, health, alert events,
                     each with an `id:`; a reconnecting browser sends Last-Event-ID and gets
                     what it missed (feed/hub.py); `?since=ID` does the same for a first connect
GET  /api/history    ?hours=N (default 6): the last N hours from the warehouse
GET  /api/enrichment  ?iso=&hub=&hours=N (default 48): one hub's hourly price beside outage MW,
                     customers out and weather (feed/enrichment.py); hub '' = the headline hub
GET  /api/snapshot   the live state as a new page gets it
GET  /api/health     per-ISO feed health and record counts (the container's health check)

and, as a separate app served on a loopback port only (make_ingest_app):

POST /ingest         {"kind": "tick"|"volatility", "records": [...]}: batches from the KCL's
                     record processors (one process per shard on AWS)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from feed.alerts import Alert
from feed.live import LiveFeed
from feed.records import CONTRACTS

log = logging.getLogger(__name__)

STATIC: Final = Path(__file__).with_name("static")
LIVE: Final = web.AppKey("live", LiveFeed)
HISTORY: Final = web.AppKey("history", object)
_LOOPBACK: Final = {"127.0.0.1", "::1"}

History = Callable[[float], dict[str, Any]]
Enrichment = Callable[[str, str, float], dict[str, Any]]  # (iso, hub, hours) -> the panel's answer


def offload(fn: Callable[[Alert], Any]) -> Callable[[Alert], None]:
    """A notifier that runs a blocking fn (an SNS publish) off the event loop, logging failures."""

    def notify(alert: Alert) -> None:
        def run() -> None:
            try:
                fn(alert)
            except Exception:
                log.exception("alert notification failed: %s", alert.message)

        asyncio.get_running_loop().run_in_executor(None, run)

    return notify


def make_app(
    live: LiveFeed,
    history: History | None = None,
    *,
    enrichment: Enrichment | None = None,
    beat_s: float = 5.0,
    retry_ms: int = 1000,
    keepalive_s: float = 15.0,
) -> web.Application:
    app = web.Application()
    app[LIVE] = live
    app[HISTORY] = history
    # A warehouse history carries its warehouse's enrichment loader; an explicit one wins.
    enrich = enrichment or getattr(history, "enrichment", None)

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def events(request: web.Request) -> web.StreamResponse:
        last = request.headers.get("Last-Event-ID") or request.query.get("since")
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await resp.prepare(request)
        initial, sub = live.hub.open(last)
        try:
            await resp.write(f"retry: {retry_ms}\n\n".encode())
            for event in initial:
                await resp.write(event.encode())
            while True:
                try:
                    following = await asyncio.wait_for(sub.next(), timeout=keepalive_s)
                except TimeoutError:
                    await resp.write(b": keep-alive\n\n")  # proxies close silent connections
                    continue
                if following is None:
                    break
                await resp.write(following.encode())
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            sub.close()
        return resp

    async def api_history(request: web.Request) -> web.Response:
        try:
            hours = float(request.query.get("hours", "6"))
        except ValueError:
            raise web.HTTPBadRequest(text="hours must be a number") from None
        if history is None:
            return web.json_response({"points": [], "volatility": [], "note": "no history source"})
        loop = asyncio.get_running_loop()
        return web.json_response(await loop.run_in_executor(None, history, hours))

    async def api_enrichment(request: web.Request) -> web.Response:
        from feed.enrichment import BadRequest, empty, resolve

        q = request.query
        try:
            hours = float(q.get("hours", "48"))
            iso, hub = resolve(q.get("iso", "PJM"), q.get("hub", ""))
        except (ValueError, BadRequest) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        if enrich is None:
            return web.json_response(empty(iso, hub, "no warehouse to read context from"))
        loop = asyncio.get_running_loop()
        return web.json_response(await loop.run_in_executor(None, enrich, iso, hub, hours))

    async def api_snapshot(request: web.Request) -> web.Response:
        return web.json_response({"last_event_id": live.hub.last_id, **live.snapshot()})

    async def api_health(request: web.Request) -> web.Response:
        return web.json_response({"health": live.health_view(), "counts": live.counts, "clients": live.hub.subscribers})

    async def beat(app: web.Application) -> Any:
        async def loop() -> None:
            while True:
                await asyncio.sleep(beat_s)
                try:
                    live.check()
                except Exception:
                    log.exception("feed health beat failed")

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def close_streams(app: web.Application) -> None:
        live.hub.close_all()

    app.router.add_get("/", index)
    app.router.add_get("/events", events)
    app.router.add_get("/api/history", api_history)
    app.router.add_get("/api/enrichment", api_enrichment)
    app.router.add_get("/api/snapshot", api_snapshot)
    app.router.add_get("/api/health", api_health)
    app.router.add_static("/static", STATIC)
    app.cleanup_ctx.append(beat)
    app.on_shutdown.append(close_streams)
    return app


def make_ingest_app(live: LiveFeed) -> web.Application:
    """POST /ingest for the record processors running beside the app (AWS container): bind it to
    127.0.0.1 only. The records were validated by the processor; loopback is checked again."""

    async def ingest(request: web.Request) -> web.Response:
        if request.remote not in _LOOPBACK:
            raise web.HTTPForbidden(text="ingest is for the feed's own record processors")
        body = await request.json()
        kind = body.get("kind")
        if kind not in CONTRACTS or not isinstance(body.get("records"), list):
            raise web.HTTPBadRequest(text="expected {kind: tick|volatility, records: [...]}")
        live.ingest(kind, body["records"])
        return web.json_response({"ok": len(body["records"])})

    app = web.Application(client_max_size=64 * 1024**2)  # a full GetRecords batch (10,000 records)
    app.router.add_post("/ingest", ingest)
    return app


async def start(app: web.Application, host: str = "127.0.0.1", port: int = 8080) -> web.AppRunner:
    """Serve app on host:port; returns the runner (await runner.cleanup() to stop)."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True, shutdown_timeout=2.0).start()
    return runner


class WarehouseHistory:
    """history(hours) and enrichment(iso, hub, hours) of one local warehouse file; `read` reads
    the enrichment rows of a range (feed/enrichment.py ReadRows; default plain SQL)."""

    def __init__(self, path: Path, read: Any = None) -> None:
        self.path = path
        self.read = read

    def __call__(self, hours: float) -> dict[str, Any]:
        from feed.history import load_history

        return load_history(self.path, hours)

    def enrichment(self, iso: str, hub: str, hours: float) -> dict[str, Any]:
        from feed.enrichment import load_enrichment

        return load_enrichment(self.path, iso, hub, hours, read=self.read)


def warehouse_history(path: Path, read: Any = None) -> History:
    return WarehouseHistory(path, read)

"""The trader feed on one machine: the web app (feed/app.py) on an asyncio loop in one thread,
the KCL-shaped driver (app/local/feed_driver.py) in another, joined by the sink that hands each
processed batch to the loop. `gridtape feed`, the browser test and the benchmark start it.

On AWS the same LiveFeed and app run in the feed's container and amazon-kclpy's
MultiLangDaemon runs the processors, which post their batches to /ingest (feed/README.md).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from app.local.feed_driver import FeedDriver, streams_for
from feed import alerts
from feed.app import make_app, offload, warehouse_history
from feed.app import start as serve_app
from feed.live import LiveFeed
from gridtape import config

log = logging.getLogger(__name__)


ENRICHMENT_QUERIES: Final = ("price_vs_outages", "price_vs_temperature")


def querypack_rows(con: Any, iso: str, hub: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """feed/enrichment.py's ReadRows through the query pack (batch/queries): each query rendered
    for DuckDB and run on the feed's read-only connection (the nightly load keeps its write lock)."""
    from batch import querypack
    from gridtape.contract import format_ts

    hours = max(1, math.ceil((until - since) / timedelta(hours=1)))
    params = {"iso": iso, "hub": hub, "until": format_ts(until), "hours": str(hours)}
    merged: dict[Any, dict[str, Any]] = {}
    for name in ENRICHMENT_QUERIES:
        cur = con.execute(querypack.render(name, params).sql(dialect="duckdb"))
        names = [d[0] for d in cur.description]
        for row in cur.fetchall():
            values = dict(zip(names, row, strict=True))
            merged.setdefault(values["interval_start"], {}).update(values)
    zone = con.execute(  # the zone of the range's newest hour (the queries do not return it)
        "SELECT zone FROM enriched_prices WHERE iso = ? AND location = ? AND lmp IS NOT NULL"
        " AND interval_start < ? ORDER BY interval_start DESC LIMIT 1",
        [iso, hub, until.astimezone(UTC).replace(tzinfo=None)],
    ).fetchone()
    return [{**r, "zone": zone[0] if zone else None} for _, r in sorted(merged.items())]


@dataclass
class FeedService:
    names: config.Names
    host: str = "127.0.0.1"
    port: int = 8080
    rules: Path | None = None  # default: feed/alerts.toml
    warehouse: Path | None = None  # default: $GRIDTAPE_HOME/warehouse.duckdb
    # How the enrichment panel reads the warehouse (feed/enrichment.py ReadRows): the query pack.
    enrichment_rows: Any = querypack_rows
    worker_id: str | None = None
    idle_s: float = 0.25
    failover_s: float = 10.0
    beat_s: float = 5.0
    stale_after_s: float = 900.0
    retry_ms: int = 1000
    notify: bool = True
    live: LiveFeed | None = None
    driver: FeedDriver | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop_driver: threading.Event = field(default_factory=threading.Event)
    _stop_app: asyncio.Event | None = None
    _error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> FeedService:
        ready = threading.Event()
        loop_thread = threading.Thread(target=self._serve, args=(ready,), name="feed-app", daemon=True)
        loop_thread.start()
        if not ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"feed app did not start on {self.url}: {self._error!r}")
        assert self._loop is not None and self.live is not None
        loop, live = self._loop, self.live

        async def ingest(kind: Any, records: list[dict[str, Any]]) -> None:
            live.ingest(kind, records)

        def sink(kind: Any, records: list[dict[str, Any]]) -> None:
            # Wait until the batch is in the hub: the processor checkpoints right after, so a
            # crash in between must not lose what the checkpoint already covers.
            asyncio.run_coroutine_threadsafe(ingest(kind, records), loop).result(timeout=60)

        self.driver = FeedDriver(
            streams_for(self.names), sink, worker_id=self.worker_id, failover_s=self.failover_s, idle_s=self.idle_s
        )
        self.driver.ensure_tables()
        driver_thread = threading.Thread(
            target=self.driver.run, args=(self._stop_driver,), name="feed-driver", daemon=True
        )
        driver_thread.start()
        self._threads = [loop_thread, driver_thread]
        return self

    def _serve(self, ready: threading.Event) -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            self._loop = loop
            rules = alerts.load_rules(self.rules or alerts.DEFAULT_RULES)
            notify = offload(alerts.sns_publisher(self.names)) if self.notify else None
            self.live = LiveFeed(alerts.AlertEngine(rules, notify), stale_after_s=self.stale_after_s)
            history = warehouse_history(self.warehouse or config.home() / "warehouse.duckdb", self.enrichment_rows)
            app = make_app(self.live, history, beat_s=self.beat_s, retry_ms=self.retry_ms)
            self._stop_app = asyncio.Event()
            runner = await serve_app(app, self.host, self.port)
            ready.set()
            try:
                await self._stop_app.wait()
            finally:
                await runner.cleanup()

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
            ready.set()
            if not isinstance(exc, Exception):
                raise
            log.exception("feed app stopped")

    def stop(self, graceful: bool = True) -> None:
        """Stop the driver (graceful: processors checkpoint and leases are released; not
        graceful: as if the process were killed, leases stay until they fail over) and the app."""
        if self.driver is not None:
            self.driver.graceful = graceful
        self._stop_driver.set()
        for t in self._threads[1:]:  # the driver first: its last batches still reach the loop
            t.join(timeout=30)
        if self._loop is not None and self._stop_app is not None:
            self._loop.call_soon_threadsafe(self._stop_app.set)
        for t in self._threads[:1]:
            t.join(timeout=30)

    def __enter__(self) -> FeedService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""Entry points of the feed's container on AWS (feed/README.md):

  python -m feed.container serve [--port 8080]           the web app (dashboard, SSE, /ingest)
  python -m feed.container processor --kind tick          what amazon-kclpy's MultiLangDaemon runs
                                                          per shard (executableName)
  python -m feed.container properties --role ticks        the MultiLangDaemon's .properties file

The MultiLangDaemon speaks to a processor over its stdin/stdout, so the processor logs to
stderr only and hands each batch to the web app with an HTTP POST to /ingest on loopback. A
batch the app does not take (after retries) ends the processor process unchecked: the daemon
starts a new one at the last checkpoint, so nothing is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

import requests
from tenacity import retry, stop_after_attempt, wait_exponential

from feed.processor import FeedProcessor
from feed.records import KINDS, Kind
from gridtape import config

log = logging.getLogger("feed.container")

PROPERTIES = """\
# amazon-kclpy MultiLangDaemon: the feed's consumer of {stream}
executableName = python -m feed.container processor --kind {kind} --ingest {ingest}
streamName = {stream}
applicationName = {application}
initialPositionInStream = TRIM_HORIZON
regionName = {region}
AwsCredentialsProvider = DefaultCredentialsProvider
processingLanguage = python/3.12
failoverTimeMillis = 10000
idleTimeBetweenReadsInMillis = 250
maxRecords = 10000
"""


def properties(role: str, names: config.Names, ingest: str = "http://127.0.0.1:8081/ingest") -> str:
    stream = names.ticks_stream if role == "ticks" else names.analytics_stream
    return PROPERTIES.format(
        stream=stream,
        kind=KINDS[role],
        ingest=ingest,
        application=getattr(names, f"feed_{role}_lease_table"),  # the KCL application = its lease table
        region=config.region(),
    )


def http_sink(url: str, timeout: float = 10.0) -> Any:
    session = requests.Session()

    @retry(stop=stop_after_attempt(5), wait=wait_exponential(multiplier=0.2, max=5), reraise=True)
    def post(kind: Kind, records: list[dict[str, Any]]) -> None:
        session.post(url, json={"kind": kind, "records": records}, timeout=timeout).raise_for_status()

    def sink(kind: Kind, records: list[dict[str, Any]]) -> None:
        try:
            post(kind, records)
        except requests.RequestException as exc:
            log.error("feed app at %s did not take a batch (%s); exiting for a restart at the checkpoint", url, exc)
            raise SystemExit(1) from exc  # amazon-kclpy re-raises SystemExit; other errors it swallows

    return sink


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feed.container", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--host", default="0.0.0.0")  # the container port, behind the load balancer
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--ingest-port", type=int, default=8081)
    serve.add_argument("--rules", default=None)
    proc = sub.add_parser("processor")
    proc.add_argument("--kind", choices=sorted(set(KINDS.values())), required=True)
    proc.add_argument("--ingest", default="http://127.0.0.1:8081/ingest")
    props = sub.add_parser("properties")
    props.add_argument("--role", choices=sorted(KINDS), required=True)
    props.add_argument("--env", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)  # stdout belongs to the MultiLangDaemon
    if args.cmd == "properties":
        sys.stdout.write(properties(args.role, config.names(args.env)))
        return 0
    if args.cmd == "processor":
        from amazon_kclpy import kcl  # only in the container image (its jars come with it)

        kcl.KCLProcess(FeedProcessor(args.kind, http_sink(args.ingest))).run()
        return 0
    return asyncio.run(_serve(args.host, args.port, args.ingest_port, args.rules))


async def _serve(host: str, port: int, ingest_port: int, rules_path: str | None) -> int:
    import signal
    from pathlib import Path

    from feed import alerts
    from feed.app import make_app, make_ingest_app, offload, start
    from feed.live import LiveFeed

    rules = alerts.load_rules(Path(rules_path) if rules_path else alerts.DEFAULT_RULES)
    live = LiveFeed(alerts.AlertEngine(rules, offload(alerts.sns_publisher(config.names()))))
    runners = [
        await start(make_app(live, None), host, port),
        await start(make_ingest_app(live), "127.0.0.1", ingest_port),
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # ECS stops a task with SIGTERM
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

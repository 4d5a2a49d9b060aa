"""`gridtape feed`: the trader's live feed and dashboard on the embedded stack.

gridtape feed [--port P] [--for SECONDS]      consume ticks + analytics, serve http://127.0.0.1:P/

The consumer keeps its leases and checkpoints in the emulator's DynamoDB (the KCL's lease-table
shape), so stopping and restarting it resumes where it left off. Alert rules come from
feed/alerts.toml (or --rules FILE); firing alerts go to the page and the SNS alerts topic.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from app.commands import command


def register(sub: Any) -> None:
    p = command(
        sub, "feed", "run the trader feed: live dashboard, Server-Sent Events and alerts (embedded stack)", __doc__
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.add_argument(
        "--for", dest="seconds", type=float, metavar="SECONDS", help="stop after this long (default: Ctrl-C)"
    )
    p.add_argument("--rules", type=Path, metavar="FILE", help="alert rules (TOML; default feed/alerts.toml)")
    p.add_argument("--warehouse", type=Path, metavar="FILE", help="DuckDB warehouse for history")
    p.add_argument("--stale-minutes", type=float, default=15.0, help="health turns stale after this (default 15)")
    p.add_argument("--no-sns", action="store_true", help="show alerts on the page only")
    p.set_defaults(func=_run)


# The query pack's answers to the dashboard's "Price vs context" panel, merged hour by hour.
def _run(args: argparse.Namespace) -> int:
    from app.local.feed_service import FeedService
    from app.stack import emulator
    from feed import alerts
    from gridtape import aws, config
    from gridtape.errors import GridtapeError

    if args.rules is not None:
        alerts.load_rules(args.rules)  # a bad rules file is one line and exit 1, before anything starts
    url = aws.endpoint_url() or config.emulator_url()
    emulator.require(url)
    aws.use_emulator(url)
    service = FeedService(
        config.names(args.env),
        host=args.host,
        port=args.port,
        rules=args.rules,
        warehouse=args.warehouse,
        stale_after_s=args.stale_minutes * 60,
        notify=not args.no_sns,
    )
    try:
        service.start()
    except RuntimeError as exc:
        raise GridtapeError(str(exc)) from None
    print(f"gridtape feed: dashboard at {service.url}/ (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait(args.seconds)
    finally:
        service.stop()
        if service.live is not None:
            print(f"gridtape feed: stopped; records {service.live.counts}", flush=True)
    return 0

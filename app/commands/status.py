"""`gridtape status`: per ISO and dataset, the newest interval published, its age, the last
poll's status and error, and how many rows and responses were quarantined, read from the
poller-state table of the embedded stack (or wherever AWS_ENDPOINT_URL points)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

ERROR_WIDTH = 70


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="per ISO and dataset: newest interval, its age, last error, quarantined")
    p.add_argument("--iso", default="all", help="one ISO, a comma-separated list, or all (default)")
    p.add_argument("--json", action="store_true", help="one JSON object per ISO and dataset instead of a table")
    p.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    from app.stack import emulator
    from gridtape import aws, config
    from gridtape import isos as iso_table
    from producers import registry
    from producers.state import StateStore

    isos = registry.parse_isos(args.iso)
    url = aws.endpoint_url() or config.emulator_url()
    emulator.require(url)
    aws.use_emulator(url)
    pairs = [(iso, dataset) for iso in isos for dataset in iso_table.get(iso).datasets]
    feeds = StateStore(config.names().poller_state_table).feeds(pairs)
    now = datetime.now(UTC)
    if args.json:
        for f in feeds:
            print(json.dumps({**asdict(f), "age_s": age_s(f.cursor, now)}))
    else:
        print(status_table(feeds, now))
    sys.stdout.flush()
    return 0


def age_s(cursor: str | None, now: datetime) -> float | None:
    from gridtape import contract

    return None if cursor is None else (now - contract.parse_ts(cursor)).total_seconds()


def human(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    if abs(s) < 120:
        return f"{s}s"
    if abs(s) < 7200:
        return f"{s // 60}m"
    if abs(s) < 172800:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d"


def status_table(feeds: Sequence[Any], now: datetime) -> str:
    """producers.state.FeedState rows -> one table: never polled, failing and stale feeds stand out."""
    rows = [
        f"{'iso':<6} {'dataset':<7} {'newest interval':<20} {'age':>6} {'last status':<13} {'q.rows':>6} "
        f"{'q.resp':>6}  last error"
    ]
    for f in feeds:
        error = "-"
        if f.last_error:
            text = f.last_error if len(f.last_error) <= ERROR_WIDTH else f.last_error[: ERROR_WIDTH - 3] + "..."
            error = f"{f.last_error_at or '?'} {text}"
        rows.append(
            f"{f.iso:<6} {f.dataset:<7} {f.cursor or '-':<20} {human(age_s(f.cursor, now)):>6} "
            f"{f.last_status or 'never polled':<13} {f.rows_quarantined:>6} {f.responses_quarantined:>6}  {error}"
        )
    return "\n".join(rows)

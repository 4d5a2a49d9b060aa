"""`gridtape land` and `gridtape batch`: the raw landing loop and the nightly run on the
embedded stack (pyspark is imported inside the command)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.commands import command
from app.stack import emulator
from gridtape import aws, config


def register(sub: Any) -> None:
    p = command(sub, "land", "deliver ticks from Kinesis to raw/ in S3 like Firehose (60 s / 64 MiB, gzip)")
    p.add_argument("--once", action="store_true", help="drain what is on the stream, flush and exit")
    p.set_defaults(func=_land)
    b = command(
        sub,
        "batch",
        "nightly compaction -> warehouse load -> data-quality checks for a day and the days that got late data",
    )
    b.add_argument("--date", default=None, help="local operating day YYYY-MM-DD (default: yesterday, UTC)")
    b.add_argument("--isos", default=None, help="comma-separated ISOs the checks expect (default: all seven)")
    b.add_argument(
        "--horizon-days",
        type=int,
        default=None,
        help="re-load days up to this many days before --date that received raw records since the last run (default 7)",
    )
    b.set_defaults(func=_batch)


def _connect() -> None:
    url = aws.endpoint_url() or config.emulator_url()
    emulator.require(url)
    aws.use_emulator(url)


def _land(args: argparse.Namespace) -> int:
    from app.local import landing as land

    _connect()
    names = config.names(args.env)
    if args.once:
        print(json.dumps(land.land_once(names)))
        return 0
    land.land_forever(names)
    return 0


def _batch(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from batch import catchup, nightly
    from batch import days as _days

    _connect()
    expected = [iso.strip().upper() for iso in args.isos.split(",")] if args.isos else None
    day = args.date or _days.previous_day(datetime.now(UTC)).isoformat()
    horizon = timedelta(days=args.horizon_days) if args.horizon_days is not None else catchup.HORIZON
    summary = nightly.run(day, names=config.names(args.env), expected=expected, horizon=horizon)
    print(json.dumps(summary, indent=2, default=str))
    return 0 if summary["status"] == "SUCCEEDED" else 1

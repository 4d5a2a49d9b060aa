"""`gridtape stream`: the volatility job, locally.

gridtape stream [--until-idle S | --max-batches N]      ticks stream -> analytics + curated
gridtape stream --from-dir DIR --max-files-per-trigger N --out FILE [--flush]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from app.commands import command


def register(sub: Any) -> None:
    p = command(sub, "stream", "run the volatility streaming job (embedded stack, or a folder of tick files)", __doc__)
    p.add_argument("--until-idle", type=float, metavar="SECONDS", help="stop after this long without new ticks")
    p.add_argument("--max-batches", type=int, metavar="N", help="stop after N micro-batches")
    p.add_argument("--trigger-seconds", type=float, default=1.0, help="micro-batch interval (default 1)")
    p.add_argument("--checkpoint", help="checkpoint folder (default $GRIDTAPE_HOME/checkpoints/volatility-ENV)")
    p.add_argument(
        "--window",
        action="append",
        metavar="MIN/SLIDE",
        help="window length/slide in minutes; repeatable (default 60/5 and 1440/60)",
    )
    p.add_argument("--watermark", type=int, default=15, metavar="MIN", help="watermark delay in minutes (default 15)")
    p.add_argument("--from-dir", type=Path, metavar="DIR", help="read tick JSON-lines files from DIR instead")
    p.add_argument("--max-files-per-trigger", type=int, default=1, metavar="N", help="with --from-dir (default 1)")
    p.add_argument("--out", type=Path, metavar="FILE", help="with --from-dir: volatility records as JSON lines")
    p.add_argument("--flush", action="store_true", help="with --from-dir: also emit windows still open at the end")
    p.set_defaults(func=_run)


def _params(args: argparse.Namespace) -> Any:
    from streaming.volatility import VolatilityParams, WindowSpec

    windows = tuple(WindowSpec.parse(w) for w in args.window) if args.window else VolatilityParams().windows
    return VolatilityParams(windows=windows, watermark_minutes=args.watermark)


def _run(args: argparse.Namespace) -> int:
    from gridtape.errors import GridtapeError

    try:
        params = _params(args)
    except ValueError as exc:
        raise GridtapeError(str(exc)) from None
    if args.from_dir is not None:
        if args.out is None:
            raise GridtapeError("--from-dir needs --out FILE")
        if not args.from_dir.is_dir():
            raise GridtapeError(f"--from-dir {args.from_dir}: not a folder")
        from gridtape.spark import local_session
        from streaming.job import QUIET, run_files

        counts = run_files(
            local_session("gridtape-stream", extra=QUIET),
            args.from_dir,
            args.out,
            params,
            max_files_per_trigger=args.max_files_per_trigger,
            flush=args.flush,
        )
        print(json.dumps(counts, sort_keys=True))
        return 0
    if args.flush or args.out:
        raise GridtapeError("--out and --flush go with --from-dir")

    from app.local.stream import run_kinesis
    from app.stack import emulator
    from gridtape import aws, config
    from gridtape.spark import local_session
    from streaming.job import QUIET

    url = aws.endpoint_url() or config.emulator_url()
    emulator.require(url)
    aws.use_emulator(url)
    counts = run_kinesis(
        local_session("gridtape-stream", extra=QUIET),
        params,
        names=config.names(args.env),
        checkpoint=args.checkpoint,
        max_batches=args.max_batches,
        until_idle_s=args.until_idle,
        trigger_seconds=args.trigger_seconds,
    )
    print(json.dumps(counts, sort_keys=True))
    return 0

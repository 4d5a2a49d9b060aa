"""`gridtape demo`: the pipeline end to end on the embedded stack, with replayed recordings.
Each stage issue adds its step here."""

from __future__ import annotations

import argparse
from typing import Any

from gridtape import stack


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the embedded stack and print a summary")
    p.add_argument("--keep", action="store_true", help="leave the emulator running afterwards")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    info = stack.up()
    try:
        print(f"stack {info.names.stack} up at {info.endpoint}")
        for row in stack.status():
            print(f"  {row['type']:<40} {row['name']}")
    finally:
        if info.started_emulator and not args.keep:
            stack.down()
    return 0

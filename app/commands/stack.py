"""`gridtape stack up|down|status`: the embedded AWS stack (emulator + deployed resources)."""

from __future__ import annotations

import argparse
from typing import Any

from app.stack.lifecycle import down, status, up
from gridtape import config


def register(sub: Any) -> None:
    p = sub.add_parser("stack", help="the embedded AWS stack: up | down | status")
    p.add_argument("action", choices=("up", "down", "status"))
    p.add_argument("--env", default=None, help=f"deployment name (default ${config.ENV_NAME} or dev)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.action == "up":
        info = up(env=args.env)
        how = "started" if info.started_emulator else "reused"
        print(f"emulator {how} at {info.endpoint}; stack {info.names.stack} deployed")
        for row in status(args.env):
            print(f"  {row['type']:<40} {row['name']}")
        return 0
    if args.action == "down":
        print("emulator stopped" if down() else "no emulator started by gridtape is running")
        return 0
    for row in status(args.env):
        print(f"{row['type']:<40} {row['name']}")
    return 0

"""`gridtape stack up|down|status`: the embedded AWS stack (emulator + deployed resources)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtape import aws, config, emulator


@dataclass(frozen=True, slots=True)
class StackInfo:
    endpoint: str
    started_emulator: bool
    names: config.Names


def up(home: Path | None = None, port: int | None = None, env: str | None = None) -> StackInfo:
    """Start (or reuse) the emulator, point boto3 at it, deploy the stack. Idempotent."""
    from gridtape import deploy

    home = home or config.home()
    emu = emulator.start(home=home, port=port)
    aws.use_emulator(emu.url)
    names = config.names(env)
    deploy.deploy(names)
    return StackInfo(endpoint=emu.url, started_emulator=emu.started_here, names=names)


def down(home: Path | None = None) -> bool:
    return emulator.stop(home)


def status(env: str | None = None) -> list[dict[str, Any]]:
    url = aws.endpoint_url() or config.emulator_url()
    emulator.require(url)
    aws.use_emulator(url)
    from gridtape import deploy

    return deploy.status(config.names(env))


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

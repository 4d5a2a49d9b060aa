"""The embedded AWS stack: the emulator plus the deployed template, up, down and listed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.stack import emulator
from gridtape import aws, config


@dataclass(frozen=True, slots=True)
class StackInfo:
    endpoint: str
    started_emulator: bool
    names: config.Names


def up(home: Path | None = None, port: int | None = None, env: str | None = None) -> StackInfo:
    """Start (or reuse) the emulator, point boto3 at it, deploy the stack. Idempotent."""
    from app.stack import deploy

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
    from app.stack import status as live

    return live.status(config.names(env))

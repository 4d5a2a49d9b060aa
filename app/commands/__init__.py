"""The `gridtape` subcommands, one module per area; app/cli.py registers them."""

from __future__ import annotations

import argparse
from typing import Any

from gridtape import config


def command(sub: Any, name: str, help: str, doc: str | None = None) -> argparse.ArgumentParser:
    """A subcommand with the --env option every command shares; --help shows `doc` as written."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=doc)
    p.add_argument("--env", default=None, help=f"deployment name (default ${config.ENV_NAME} or dev)")
    return p

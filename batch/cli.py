"""`gridtape` subcommands of batch/ (filled in by the batch issue)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    _ = (sub, argparse)

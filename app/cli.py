"""The `gridtape` console script. Each command module registers its own subcommands
(register(sub)) and imports its heavy dependencies (pyspark, boto3 clients) only inside the
command, so `gridtape --help` stays fast."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from app import demo
from app.commands import backfill, batch, feed, producers, query, stack, status, streaming
from gridtape.errors import GridtapeError

# The modules that add subcommands, in the order `gridtape --help` lists them.
COMMAND_MODULES = (stack, producers, backfill, status, streaming, batch, query, feed, demo)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not a usage block."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)  # docstrings as written
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gridtape", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # the libraries' INFO lines (credentials found, endpoint chosen) are noise here
        for noisy in ("botocore", "boto3", "urllib3", "py4j", "aws_lambda_powertools"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except GridtapeError as exc:
        print(f"gridtape: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gridtape: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

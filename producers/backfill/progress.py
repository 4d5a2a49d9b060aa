"""Backfill progress on a terminal: days done and left, rows, failures, ETA. One line that
updates in place on a TTY; a plain line per day otherwise (logs, CI, a pipe)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from producers.backfill.plan import eta
from producers.backfill.run import DayResult


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


class TerminalProgress:
    def __init__(
        self, stream: TextIO | None = None, tty: bool | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self._open = False

    def start(self, iso: str, feed: str, total: int, already: int) -> None:
        self.label, self.total, self.already = f"{iso} {feed}", total, already
        self.done = self.rows = self.failed = 0
        self.started = self.clock()
        if already:
            self._emit(f"{self.label}: {already} day(s) already done (cursor), {total} to go", final=True)

    def day(self, result: DayResult) -> None:
        self.done += 1
        self.rows += result.rows
        self.failed += result.failed
        left = self.total - self.done
        line = (
            f"{self.label}: {self.done}/{self.total} days, {left} left, {self.rows:,} rows"
            f"{f', {self.failed} failed' if self.failed else ''}, "
            f"ETA {duration(eta(self.done, left, self.clock() - self.started))}  [{result.day} {result.status}]"
        )
        self._emit(line, final=not self.tty)

    def finish(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def _emit(self, line: str, final: bool) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + line + ("\n" if final else ""))
            self._open = not final
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

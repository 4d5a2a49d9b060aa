"""`gridtape backfill`: past operating days from each ISO's archives, written straight into the
raw landing layout and marked for the nightly compaction and load (the live stream carries only
what is new). plan: the pure steps; store: cursors and raw bucket; run: the loop; objects: the
context backfills' raw objects and revisions; progress: the terminal line."""

from producers.backfill.plan import operating_days
from producers.backfill.progress import TerminalProgress
from producers.backfill.run import DayResult, Sinks, backfill, summary

__all__ = ["DayResult", "Sinks", "TerminalProgress", "backfill", "operating_days", "summary"]

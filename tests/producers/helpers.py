"""Helpers the context-source tests share (the ISO feed tests' are in iso_contract.py)."""

from __future__ import annotations

from datetime import date, datetime

from gridtape import contract
from producers import http
from producers.context import outages
from tools.recordings import context_outages


def replay_outages(iso: str, at: datetime) -> http.FetchLayer:
    """The committed outage recordings of `iso`, replayed with the clock at `at`."""
    return http.replay(http.Recordings.load(context_outages.folder(iso)), clock=lambda: at)


def outage_hours(iso: str, day: date) -> list[str]:
    """Every hour start of `iso`'s outage day `day` (23 or 25 on a DST day where it keeps DST)."""
    return [contract.format_ts(h) for h in outages.hours(*outages.day_bounds(iso, day))]

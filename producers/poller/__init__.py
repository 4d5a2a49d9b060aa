"""The poller: one poll of an ISO dataset (once), its pure steps (steps), its metrics
(metrics), the live schedule (loop), the replay of recordings (replay) and the Lambda entry
(entry, imported only by producers.handler: it loads powertools)."""

from producers.poller.loop import POLL_BUDGET_S, LivePoller
from producers.poller.metrics import MemoryMetrics, MetricSink
from producers.poller.once import OK_STATUSES, PollSummary, Sinks, poll
from producers.poller.replay import find_recordings, poll_replay
from producers.poller.steps import Checked, Plan, check, empty_bodies, plan

__all__ = [
    "OK_STATUSES",
    "POLL_BUDGET_S",
    "Checked",
    "LivePoller",
    "MemoryMetrics",
    "MetricSink",
    "Plan",
    "PollSummary",
    "Sinks",
    "check",
    "empty_bodies",
    "find_recordings",
    "plan",
    "poll",
    "poll_replay",
]

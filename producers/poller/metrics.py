"""Poll metrics: what each poll of an ISO dataset counts, under the names in gridtape.metrics
(namespace gridtape, dimensions Iso and Dataset), and where they go: memory (CLI, tests) or
CloudWatch EMF (the Lambda, producers.poller.entry)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from gridtape import metrics as names

if TYPE_CHECKING:
    from producers.poller.once import PollSummary


class MetricSink(Protocol):
    def add(self, name: str, value: float, *, iso: str, dataset: str) -> None: ...


class MemoryMetrics:
    """Counts metrics in memory (CLI and tests). DataAgeSeconds keeps its last value."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, value: float, *, iso: str, dataset: str) -> None:
        with self._lock:
            key = (name, iso, dataset)
            self.values[key] = value if name == names.DATA_AGE_S else self.values.get(key, 0.0) + value

    def total(self, name: str, iso: str | None = None, dataset: str | None = None) -> float:
        return sum(
            v
            for (n, i, d), v in self.values.items()
            if n == name and (iso is None or i == iso) and (dataset is None or d == dataset)
        )


def emit(sink: MetricSink, s: PollSummary) -> None:
    """Every counter on every poll (zeros too), so an alarm sees a data point each minute;
    DataAgeSeconds whenever the feed's newest published interval is known, so it keeps
    growing while polls fail."""

    def add(name: str, value: float) -> None:
        sink.add(name, value, iso=s.iso, dataset=s.dataset)

    add(names.TICKS_PARSED, s.parsed)
    add(names.TICKS_PUBLISHED, s.published)
    add(names.ROWS_QUARANTINED, s.refused)
    add(names.RESPONSES_QUARANTINED, s.responses_refused)
    add(names.POLL_ERRORS, 1 if s.status == "failed" else 0)
    add(names.POLL_SKIPPED, 1 if s.status == "skipped" else 0)
    add(names.POLLS_NOT_MODIFIED, 1 if s.status == "not_modified" else 0)
    if s.data_age_s is not None:
        add(names.DATA_AGE_S, s.data_age_s)

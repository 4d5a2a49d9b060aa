"""The poller Lambda (one function per ISO, EventBridge every minute; infra/gridtape.yaml points
Handler at producers.handler.handler and sets GRIDTAPE_ISO): powertools' structured logs, EMF
metrics per ISO and dataset, and the LivePoller kept warm between invocations. Each invocation
polls the feeds due now and stays for the fast windows that open within its minute (polls every
few seconds while a feed's next interval is due); with none, it returns at once."""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from gridtape import config
from gridtape import metrics as names
from gridtape.errors import GridtapeError
from producers import registry
from producers.poller.loop import LivePoller
from producers.poller.metrics import MetricSink
from producers.poller.once import Sinks

logger = Logger(service="gridtape-producers")
# The poller logs through the standard logging module; give those loggers powertools' JSON
# formatter so every line (with its `poll` summary) is one structured record in CloudWatch.
copy_config_to_registered_loggers(source_logger=logger, include={"producers", "producers.poller"})

_WARM: dict[str, LivePoller] = {}  # survives between invocations of a warm Lambda container


class PollFailed(GridtapeError):
    """A dataset of the ISO failed or could not be polled this minute. Raised after every
    dataset ran and the metrics were flushed, so the Lambda's Errors metric (and its alarm)
    sees it."""


class EmfMetrics:
    """MetricSink -> CloudWatch EMF, one document per ISO and dataset (a document carries one
    set of dimensions): namespace gridtape, dimensions Iso and Dataset."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)

    def add(self, name: str, value: float, *, iso: str, dataset: str) -> None:
        self.pending[(iso, dataset)].append((name, value))

    def flush(self) -> None:
        for (iso, dataset), values in self.pending.items():
            emf = EphemeralMetrics(namespace=names.NAMESPACE, service="")  # "": no service dimension
            emf.add_dimension(name=names.ISO, value=iso)
            emf.add_dimension(name=names.DATASET, value=dataset)
            for name, value in values:
                unit = MetricUnit.Seconds if name == names.DATA_AGE_S else MetricUnit.Count
                emf.add_metric(name=name, unit=unit, value=value)
            emf.flush_metrics()
        self.pending.clear()


def lambda_poll(event: Mapping[str, Any] | None, metrics: MetricSink) -> dict[str, Any]:
    """One scheduled poll of the function's ISO (event {"iso": ...} or GRIDTAPE_ISO)."""
    iso_text = (event or {}).get("iso") or os.environ.get(config.ENV_ISO, "")
    isos = registry.parse_isos(str(iso_text))
    if len(isos) != 1:
        raise registry.RegistryError(f"a poller Lambda polls one ISO, got {iso_text!r}")
    iso = isos[0]
    if iso not in _WARM:
        _WARM[iso] = LivePoller([iso], Sinks.from_config())
    poller = _WARM[iso]
    poller.sinks = dataclasses.replace(poller.sinks, metrics=metrics)  # this invocation's
    # Every feed due now, then the fast windows that open within this minute (producers.rhythm).
    summaries = poller.poll_window(iso)
    failed = [s for s in summaries if s.failed]
    if failed:
        raise PollFailed("; ".join(f"{s.iso} {s.dataset} {s.status}: {s.error}" for s in failed))
    return {"iso": iso, "polls": [s.as_dict() for s in summaries]}


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    sink = EmfMetrics()
    try:
        return lambda_poll(event, sink)
    finally:
        sink.flush()

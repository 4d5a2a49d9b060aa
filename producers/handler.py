"""The poller Lambda (one function per ISO, EventBridge every minute; infra/gridtape.yaml
points Handler at producers.handler.handler and sets GRIDTAPE_ISO). All the work is in
producers.poller; this module only wires in powertools' structured logs and EMF metrics.
The embedded stack calls the same poller functions in-process (`gridtape poll`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from producers import poller

logger = Logger(service="gridtape-producers")
metrics = Metrics(namespace="gridtape", service="producers")
# The poller logs through the standard logging module; give those loggers powertools' JSON
# formatter so every line (with its `poll` summary) is one structured record in CloudWatch.
copy_config_to_registered_loggers(source_logger=logger, include={"producers", "producers.poller"})


class PowertoolsMetrics:
    """poller.MetricSink -> CloudWatch EMF: namespace gridtape, dimensions service and iso."""

    def __init__(self, sink: Metrics) -> None:
        self.sink = sink

    def add(self, name: str, value: float, *, iso: str, dataset: str) -> None:
        unit = MetricUnit.Bytes if name.startswith("Bytes") else MetricUnit.Count
        if "iso" not in self.sink.dimension_set:  # dimensions are cleared at every flush
            self.sink.add_dimension(name="iso", value=iso)
        self.sink.add_metric(name=name, unit=unit, value=value)


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    return poller.lambda_poll(event, PowertoolsMetrics(metrics))

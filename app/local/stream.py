"""The volatility job on the embedded stack: streaming/'s query and sinks, fed by the local
Kinesis source (app.local.kinesis_source) instead of Glue's Kinesis connector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from gridtape import config
from streaming.job import QUIET, local_checkpoint, run_query, volatility_stream
from streaming.volatility import VolatilityParams


def run_kinesis(
    spark: Any,
    params: VolatilityParams | None = None,
    *,
    names: config.Names | None = None,
    checkpoint: str | None = None,
    max_batches: int | None = None,
    until_idle_s: float | None = None,
    trigger_seconds: float = 1.0,
    stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """The job against the ticks stream (emulator or AWS, wherever boto3 points): volatility
    records to the analytics stream and to Parquet in the curated bucket."""
    from app.local import kinesis_source
    from gridtape import aws
    from streaming.sinks import VolatilitySinks

    names = names or config.names()
    params = params or VolatilityParams()
    kinesis_source.register(spark)
    reader = spark.readStream.format(kinesis_source.NAME).option("stream_name", names.ticks_stream)
    endpoint = aws.endpoint_url()
    if endpoint:
        reader = reader.option("endpoint_url", endpoint)
    raw = reader.option("region", config.region()).load()
    sinks = VolatilitySinks(names.curated_bucket, names.analytics_stream)
    counts = run_query(
        volatility_stream(raw, params),
        sinks.write,
        checkpoint or local_checkpoint(f"volatility-{names.env}"),
        trigger_seconds=trigger_seconds,
        max_batches=max_batches,
        until_idle_s=until_idle_s,
        stop=stop,
    )
    result = counts.as_dict()
    result.update(
        {k: v for k, v in asdict(sinks.counts).items() if k != "per_batch"},
        analytics_stream=names.analytics_stream,
        curated_bucket=names.curated_bucket,
    )
    return result


def run_embedded(max_batches: int | None = None, until_idle_s: float | None = None) -> dict[str, Any]:
    """For the demo: the job over the embedded stack (boto3 already pointed at the emulator by
    `stack.up()`), bounded by max_batches or until_idle_s (default: 10 s without input)."""
    from gridtape.spark import local_session

    if max_batches is None and until_idle_s is None:
        until_idle_s = 10.0
    return run_kinesis(
        local_session("gridtape-stream", extra=QUIET), max_batches=max_batches, until_idle_s=until_idle_s
    )

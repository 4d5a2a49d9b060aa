"""AWS Glue 5.0 streaming job (Spark 3.5, Python 3.11): the volatility job on AWS.

Deployed to s3://<artifacts>/glue/streaming_job.py and run as job gridtape-<env>-volatility
(Command.Name gluestreaming). The job logic is the same code the local runner uses
(streaming.job.volatility_stream, streaming.sinks.VolatilitySinks); only the source differs:
Glue's own Kinesis source here, the Python data source locally.

Job arguments (DefaultArguments of the Glue job):
  --ticks_stream          name of the ticks Kinesis stream (or --ticks_stream_arn; one required)
  --analytics_stream      name of the analytics Kinesis stream (required)
  --curated_bucket        curated bucket: Parquet under volatility/, sink markers under
                          _sink_commits/ (required)
  --checkpoint_location   s3://... folder for Spark's checkpoint (required)
  --windows               window families MIN/SLIDE,comma-separated (default 60/5,1440/60)
  --watermark_minutes     watermark delay (default 15)
  --trigger_seconds       micro-batch interval (default 30)
  --metrics_namespace     CloudWatch namespace of StreamBatches (one per completed micro-batch: the
                          heartbeat), LateTicksDropped and FutureTicksDropped (default gridtape;
                          "" = off)
  --gridtape_env          accepted and ignored (resource names come in the arguments above)
  --additional-python-modules  the gridtape wheel (it contains the streaming package)
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gridtape import metrics

log = logging.getLogger("gridtape.volatility")

REQUIRED = ("analytics_stream", "curated_bucket", "checkpoint_location")


DEFAULT_WINDOWS = "60/5,1440/60"
DEFAULT_WATERMARK_MINUTES = 15
DEFAULT_TRIGGER_SECONDS = 30
DEFAULT_METRICS_NAMESPACE = metrics.NAMESPACE  # the namespace the job role may publish to


@dataclass(frozen=True, slots=True)
class GlueArgs:
    job_name: str
    ticks_stream: str  # a name or an ARN
    analytics_stream: str
    curated_bucket: str
    checkpoint_location: str
    windows: str = DEFAULT_WINDOWS
    watermark_minutes: int = DEFAULT_WATERMARK_MINUTES
    trigger_seconds: int = DEFAULT_TRIGGER_SECONDS
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE


def parse_args(argv: Sequence[str]) -> GlueArgs:
    """Glue passes `--name value` pairs (and some of its own, which are ignored)."""
    values: dict[str, str] = {}
    it = iter(argv)
    for token in it:
        if token.startswith("--"):
            values[token[2:]] = next(it, "")
    missing = [name for name in REQUIRED if not values.get(name)]
    if not (values.get("ticks_stream") or values.get("ticks_stream_arn")):
        missing.insert(0, "ticks_stream")
    if missing:
        raise SystemExit(f"glue_job: missing job arguments: {', '.join('--' + m for m in missing)}")
    return GlueArgs(
        job_name=values.get("JOB_NAME", "gridtape-volatility"),
        ticks_stream=values.get("ticks_stream_arn") or values["ticks_stream"],
        analytics_stream=values["analytics_stream"],
        curated_bucket=values["curated_bucket"],
        checkpoint_location=values["checkpoint_location"],
        windows=values.get("windows") or DEFAULT_WINDOWS,
        watermark_minutes=int(values.get("watermark_minutes") or DEFAULT_WATERMARK_MINUTES),
        trigger_seconds=int(values.get("trigger_seconds") or DEFAULT_TRIGGER_SECONDS),
        metrics_namespace=values.get("metrics_namespace", DEFAULT_METRICS_NAMESPACE),
    )


def params_of(args: GlueArgs) -> Any:
    from streaming.volatility import VolatilityParams, WindowSpec

    return VolatilityParams(
        windows=tuple(WindowSpec.parse(w.strip()) for w in args.windows.split(",") if w.strip()),
        watermark_minutes=args.watermark_minutes,
    )


def kinesis_options(stream: str, region: str = "") -> dict[str, str]:
    """Connection options of Glue's Kinesis source for the ticks stream (a name or an ARN)."""
    import os

    options = {
        "typeOfData": "kinesis",
        "classification": "json",
        "startingPosition": "TRIM_HORIZON",
        "inferSchema": "true",
    }
    if stream.startswith("arn:"):
        options["streamARN"] = stream
    else:
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        options["streamName"] = stream
        options["endpointUrl"] = f"https://kinesis.{region}.amazonaws.com"
    return options


def glue_ticks_as_raw(df: Any) -> Any:
    """Glue's Kinesis source with classification json parses records into inferred columns;
    re-serialise the tick fields into one JSON `data` column so the job parses them with the
    contract's schema, exactly as locally (inferred types - a price column inferred as long, a
    field absent from a micro-batch - never reach the transforms)."""
    from pyspark.sql import functions as F

    from gridtape.contract import TICK

    fields = [F.col(c) for c in df.columns if c in TICK.names]
    return df.select(F.to_json(F.struct(*fields)).alias("data"))


def progress_metrics(progress: dict[str, Any]) -> list[dict[str, Any]]:
    """CloudWatch MetricData for one completed micro-batch (its progress as a dict): the heartbeat
    the "streaming job not running" alarm watches, and the ticks dropped as late or future.
    Streaming job metrics carry no dimensions (gridtape/metrics.py)."""
    from streaming import guards
    from streaming.job import late_ticks

    future, _ = guards.dropped(progress)
    values = {
        metrics.STREAM_BATCHES: 1.0,
        metrics.LATE_TICKS_DROPPED: float(late_ticks(progress)),
        metrics.FUTURE_TICKS_DROPPED: float(future),
    }
    return [{"MetricName": name, "Value": value, "Unit": "Count"} for name, value in values.items()]


def progress_listener(namespace: str) -> Any:
    """Logs each micro-batch's dropped ticks and publishes progress_metrics to CloudWatch (once
    per batch id: a progress event repeated for the same batch is no new heartbeat)."""
    from pyspark.sql.streaming import StreamingQueryListener

    from streaming import guards
    from streaming.job import late_ticks

    class Progress(StreamingQueryListener):
        last_batch = -1

        def onQueryStarted(self, event: Any) -> None:
            log.info("volatility query %s started", event.id)

        def onQueryProgress(self, event: Any) -> None:
            progress = json.loads(event.progress.json)
            batch = int(progress.get("batchId", -1))
            if batch <= self.last_batch:
                return
            self.last_batch = batch
            late, (future, invalid) = late_ticks(progress), guards.dropped(progress)
            if late or future or invalid:
                log.warning(
                    "batch %s: ticks dropped: %d later than the watermark (%s), %d over %d days after now, %d invalid",
                    batch,
                    late,
                    progress.get("eventTime", {}).get("watermark"),
                    future,
                    guards.FUTURE_TOLERANCE.days,
                    invalid,
                )
            if namespace:
                import boto3

                boto3.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=progress_metrics(progress))

        def onQueryIdle(self, event: Any) -> None:
            pass

        def onQueryTerminated(self, event: Any) -> None:
            log.info("volatility query %s terminated: %s", event.id, event.exception)

    return Progress()


def main(argv: Sequence[str] | None = None) -> None:
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    from streaming.job import RunCounts, foreach_batch, volatility_stream
    from streaming.sinks import VolatilitySinks

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    glue = GlueContext(SparkContext.getOrCreate())
    spark = glue.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # every timestamp is UTC
    job = Job(glue)
    job.init(args.job_name, {"JOB_NAME": args.job_name})

    raw = glue.create_data_frame.from_options(
        connection_type="kinesis",
        connection_options=kinesis_options(args.ticks_stream),
        transformation_ctx="ticks",
    )
    out = volatility_stream(glue_ticks_as_raw(raw), params_of(args))
    spark.streams.addListener(progress_listener(args.metrics_namespace))
    sinks = VolatilitySinks(args.curated_bucket, args.analytics_stream)
    query = (
        out.writeStream.outputMode("append")
        .queryName("gridtape_volatility")
        .option("checkpointLocation", args.checkpoint_location)
        .foreachBatch(foreach_batch(sinks.write, RunCounts()))
        .trigger(processingTime=f"{args.trigger_seconds} seconds")
        .start()
    )
    query.awaitTermination()
    job.commit()


if __name__ == "__main__":
    main()

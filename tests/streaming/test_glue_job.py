"""The Glue script's contract with its CloudFormation resource, and its source adapter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gridtape.contract import dumps
from streaming import glue_job
from tests.streaming import reference, scenario

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "gridtape.yaml"


def _streaming_job_arguments() -> dict[str, str]:
    """DefaultArguments of the volatility Glue job in the deployed template (the same file)."""
    text = TEMPLATE.read_text()
    start = text.index("Name: !Sub gridtape-${EnvName}-volatility")
    args_block = text[text.index("DefaultArguments:", start) :].split("\n\n", 1)[0]
    return dict(re.findall(r"^\s+(--[\w-]+):\s*(.+)$", args_block, flags=re.M))


def test_template_passes_every_argument_the_script_needs() -> None:
    if not TEMPLATE.exists() or "gridtape-${EnvName}-volatility" not in TEMPLATE.read_text():
        pytest.skip("infra/gridtape.yaml has no volatility job yet")
    defaults = _streaming_job_arguments()
    argv: list[str] = ["--JOB_NAME", "gridtape-dev-volatility"]
    for name, value in defaults.items():
        argv += [name, value]
    args = glue_job.parse_args(argv)  # raises SystemExit naming what is missing
    assert "s3://" in args.checkpoint_location  # an S3 folder (a !Sub in the template)
    assert glue_job.params_of(args).watermark_minutes == 15


@pytest.mark.glue
def test_parse_args_names_what_is_missing() -> None:
    with pytest.raises(SystemExit, match="--ticks_stream"):
        glue_job.parse_args(["--analytics_stream", "a", "--curated_bucket", "b", "--checkpoint_location", "s3://c/"])
    args = glue_job.parse_args(
        [
            "--ticks_stream",
            "t",
            "--analytics_stream",
            "a",
            "--curated_bucket",
            "b",
            "--checkpoint_location",
            "s3://c/",
            "--windows",
            "60/5,240/15",
            "--watermark_minutes",
            "30",
            "--job-bookmark-option",
            "job-bookmark-disable",
        ]
    )
    assert [(w.minutes, w.slide_minutes) for w in glue_job.params_of(args).windows] == [(60, 5), (240, 15)]
    assert glue_job.kinesis_options("t", "us-west-2")["endpointUrl"] == "https://kinesis.us-west-2.amazonaws.com"
    assert glue_job.kinesis_options("arn:aws:kinesis:us-east-1:1:stream/t")["streamARN"].startswith("arn:")


@pytest.mark.glue
def test_progress_metrics_are_a_heartbeat_and_the_dropped_ticks() -> None:
    from gridtape import metrics

    progress = {
        "batchId": 7,
        "stateOperators": [{"operatorName": "applyInPandasWithState", "numRowsDroppedByWatermark": 3}],
        "observedMetrics": {"gridtape_tick_guard": {"future_dropped": 2, "invalid_dropped": 5}},
    }
    data = {m["MetricName"]: m for m in glue_job.progress_metrics(progress)}
    assert {n: m["Value"] for n, m in data.items()} == {
        metrics.STREAM_BATCHES: 1.0,
        metrics.LATE_TICKS_DROPPED: 3.0,
        metrics.FUTURE_TICKS_DROPPED: 2.0,
    }
    assert all("Dimensions" not in m and m["Unit"] == "Count" for m in data.values())
    quiet = {m["MetricName"]: m["Value"] for m in glue_job.progress_metrics({"batchId": 8})}
    assert quiet == {metrics.STREAM_BATCHES: 1.0, metrics.LATE_TICKS_DROPPED: 0.0, metrics.FUTURE_TICKS_DROPPED: 0.0}


@pytest.mark.glue
def test_progress_listener_publishes_once_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The listener the job registers: one PutMetricData per new batch id, none when off."""
    import json
    from types import SimpleNamespace

    import boto3

    calls: list[dict[str, Any]] = []
    client = SimpleNamespace(put_metric_data=lambda **kw: calls.append(kw))
    monkeypatch.setattr(boto3, "client", lambda name, *a, **k: client)
    listener = glue_job.progress_listener("gridtape")
    for batch in (0, 1, 1, 2):
        listener.onQueryProgress(SimpleNamespace(progress=SimpleNamespace(json=json.dumps({"batchId": batch}))))
    assert [c["Namespace"] for c in calls] == ["gridtape"] * 3
    off = glue_job.progress_listener("")
    off.onQueryProgress(SimpleNamespace(progress=SimpleNamespace(json=json.dumps({"batchId": 0}))))
    assert len(calls) == 3


@pytest.mark.spark
@pytest.mark.glue
def test_glue_inferred_columns_give_the_same_answer(spark: Any) -> None:
    """Glue's source infers a schema from the JSON (a price of whole dollars as a long, a field
    that is null throughout simply absent); re-serialising to `data` gives the same records."""
    from streaming.job import collect_records, volatility_stream
    from streaming.sinks import wire
    from streaming.volatility import VolatilityParams, WindowSpec

    ticks = [t for t in scenario.flat(scenario.batches()) if t["dataset"] == "lmp"][:120]
    for t in ticks:
        t["lmp"] = round(t["lmp"])  # whole dollars: JSON inference types the column as long
    inferred = spark.read.json(spark.sparkContext.parallelize([dumps(t) for t in ticks])).drop("energy", "loss")
    assert dict(inferred.dtypes)["lmp"] == "bigint"
    params = VolatilityParams(windows=(WindowSpec(60, 5),))
    got = [wire(r) for r in collect_records(volatility_stream(glue_job.glue_ticks_as_raw(inferred), params))]
    want, _ = reference.volatility([ticks], ((60, 5),), emit_all=True)
    reference.assert_matches(got, want)

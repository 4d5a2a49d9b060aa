"""statemachines/nightly.asl.json, as deployed in the emulator, executed by moto's Step
Functions interpreter.

What the interpreter really executes here: Choice, Pass, Fail, the Glue
`startJobRun.sync` integration (moto's Glue job run goes STARTING -> RUNNING -> SUCCEEDED
without running any code), the SNS `publish` integration (delivered to an SQS subscription),
and Retry (with its real sleeps) / Catch. The Lambda `invoke` integration is executed too,
but moto cannot run Lambda code without Docker: with its "lambda simple" backend the invoke
returns payloads the test queues. Those payloads have the shape batch.nightly.lambda_step
returns (checked below); the Lambda's own work (Redshift Data API) is covered by the
embedded run in test_pipeline.py, which runs the same SQL on DuckDB.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from batch import checks, handler
from batch.nightly import alerts_topic_arn
from gridtape import aws, config
from tests.batch.conftest import ASL, render_asl

pytestmark = pytest.mark.emulator

DAY = "2024-11-03"


def _moto(path: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(
        f"{aws.endpoint_url()}/moto-api/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=10).close()


@pytest.fixture(scope="module")
def machine(batch_stack: config.Names) -> Iterator[dict[str, Any]]:
    names = batch_stack
    sqs, sns = aws.client("sqs"), aws.client("sns")
    arn = f"arn:aws:states:{config.region()}:{names.account}:stateMachine:{names.nightly_state_machine}"
    # Lambda without Docker: moto's simple backend answers invokes with queued payloads. It
    # keeps its own function registry, so the warehouse function is registered there too.
    _moto("config", {"lambda": {"use_docker": False}})
    lam = aws.client("lambda")
    fn = f"gridtape-{names.env}-warehouse"
    try:
        lam.get_function(FunctionName=fn)
    except lam.exceptions.ResourceNotFoundException:
        lam.create_function(
            FunctionName=fn,
            Runtime="python3.11",
            Role=f"arn:aws:iam::{names.account}:role/gridtape-{names.env}-warehouse",
            Handler="batch.handler.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )
    url = sqs.create_queue(QueueName=f"{names.env}-sfn-alerts")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=alerts_topic_arn(names), Protocol="sqs", Endpoint=qarn)
    try:
        yield {"arn": arn, "queue": url, "names": names}
    finally:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        sqs.delete_queue(QueueUrl=url)
        _moto("config", {"lambda": {"use_docker": True}})


def _queue_lambda_results(names: config.Names, *payloads: dict[str, Any]) -> None:
    _moto(
        "static/lambda-simple/response",
        {"results": [json.dumps(p) for p in payloads], "region": config.region(), "account_id": names.account},
    )


def _execute(
    arn: str, payload: dict[str, Any], timeout_s: float = 120.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sfn = aws.client("stepfunctions")
    # A unique name per execution (moto would otherwise name every execution "None").
    name = f"test-{uuid.uuid4().hex[:12]}"
    ex = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + timeout_s
    while True:
        desc = sfn.describe_execution(executionArn=ex)
        if desc["status"] != "RUNNING":
            break
        assert time.monotonic() < deadline, f"execution still RUNNING after {timeout_s}s"
        time.sleep(0.25)
    events = sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]
    return desc, events


def _entered(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def _messages(queue: str) -> list[dict[str, Any]]:
    sqs = aws.client("sqs")
    out = []
    for _ in range(20):
        msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            break
        for m in msgs:
            env = json.loads(m["Body"])
            out.append({"subject": env.get("Subject"), **json.loads(env["Message"])})
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return out


def test_deployed_definition_is_the_file(machine: dict[str, Any]) -> None:
    desc = aws.client("stepfunctions").describe_state_machine(stateMachineArn=machine["arn"])
    assert json.loads(desc["definition"]) == json.loads(render_asl(machine["names"]))
    definition = json.loads(ASL.read_text())
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            assert state.get("Retry"), f"{name} has no Retry"
            assert all(r.get("JitterStrategy") == "FULL" and r.get("BackoffRate", 0) >= 2 for r in state["Retry"]), name
            assert state.get("Catch"), f"{name} has no Catch"


def _load_payload() -> dict[str, Any]:
    return {"date": DAY, "tables": {"prices": 2088, "load_mw": 2088}}


def test_success_path_from_the_schedule(machine: dict[str, Any]) -> None:
    names = machine["names"]
    resolved = handler.handler({"action": "previous_day", "scheduled_at": "2024-11-04T09:30:00Z"}, None)
    assert resolved == {"date": DAY}
    grid = checks.expected_grid("PJM", date(2024, 11, 3))
    probes: dict[str, list[dict[str, Any]]] = {
        "intervals": [{"iso": "PJM", "dataset": "lmp", "interval_start": t} for t in grid],
        "duplicates": [],
        "freshness": [
            {"iso": "PJM", "dataset": "lmp", "n": 300, "last_interval_end": grid[-1], "last_ingested": grid[-1]}
        ],
        "out_of_range": [],
    }
    ok = checks.CheckReport(DAY, checks.evaluate(date(2024, 11, 3), probes, [("PJM", "lmp")])).as_dict()
    assert ok["passed"]
    _queue_lambda_results(names, resolved, _load_payload(), ok)
    desc, events = _execute(machine["arn"], {"scheduled_at": "2024-11-04T09:30:00Z"})
    assert desc["status"] == "SUCCEEDED", [{k: v for k, v in e.items() if k.endswith("Details")} for e in events]
    assert _entered(events) == [
        "HasDate",
        "PreviousDay",
        "Compact",
        "GetCompactionRun",
        "CompactionFinished",
        "DropRunDetails",
        "Load",
        "Checks",
        "ChecksPassed",
        "NotifySuccess",
    ]
    (msg,) = _messages(machine["queue"])
    assert msg["status"] == "SUCCEEDED" and msg["date"] == DAY
    assert msg["subject"] == f"gridtape nightly {DAY} SUCCEEDED"
    assert msg["compaction"]["state"] == "SUCCEEDED" and msg["compaction"]["job_run_id"].startswith("jr_")
    assert msg["load"] == {"result": _load_payload()}


def test_failed_checks_fail_the_run_with_the_checks_message(machine: dict[str, Any]) -> None:
    names = machine["names"]
    day = date(2024, 11, 3)
    grid = checks.expected_grid("NYISO", day)
    probes: dict[str, list[dict[str, Any]]] = {
        "intervals": [{"iso": "NYISO", "dataset": "lmp", "interval_start": t} for t in grid[:168] + grid[180:]],
        "duplicates": [],
        "freshness": [
            {"iso": "NYISO", "dataset": "lmp", "n": 288, "last_interval_end": grid[-1], "last_ingested": grid[-1]}
        ],
        "out_of_range": [],
    }
    report = checks.CheckReport(DAY, checks.evaluate(day, probes, [("NYISO", "lmp")]))
    assert not report.passed
    _queue_lambda_results(names, _load_payload(), report.as_dict())
    desc, events = _execute(machine["arn"], {"date": DAY})
    assert desc["status"] == "FAILED"
    assert _entered(events)[-2:] == ["NotifyChecksFailed", "DataQualityFailed"]
    failed = next(e for e in events if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
    assert failed["error"] == "DataQualityFailed"
    assert "NYISO lmp missing_intervals" in failed["cause"]
    (msg,) = _messages(machine["queue"])
    assert msg["failed_step"] == "Checks" and msg["error"] == "DataQualityFailed"
    assert "NYISO lmp missing_intervals: 12 of 300 5-minute intervals missing" in msg["cause"]
    assert msg["failures"][0]["iso"] == "NYISO"


def test_task_failure_is_retried_per_policy_then_caught_and_reported(machine: dict[str, Any]) -> None:
    """Injected failure: a compaction run already in progress (a manual backfill) makes Glue
    refuse StartJobRun with ConcurrentRunsExceededException (the job allows one run)."""
    names = machine["names"]
    glue = aws.client("glue")
    policy = next(
        r
        for r in json.loads(ASL.read_text())["States"]["Compact"]["Retry"]
        if "Glue.ConcurrentRunsExceededException" in r["ErrorEquals"]
    )
    _moto(
        "state-manager/set-transition",
        {"model_name": "glue::job_run", "transition": {"progression": "manual", "times": 10**9}},
    )
    try:
        blocker = glue.start_job_run(JobName=names.compaction_job)["JobRunId"]
        desc, events = _execute(machine["arn"], {"date": DAY})
    finally:
        _moto("state-manager/unset-transition", {"model_name": "glue::job_run"})
    assert glue.get_job_run(JobName=names.compaction_job, RunId=blocker)["JobRun"]["JobRunState"] == "SUCCEEDED"

    assert desc["status"] == "FAILED"
    failures = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert len(failures) == 1 + policy["MaxAttempts"]  # the first attempt and every retry
    assert {f["error"] for f in failures} == {"Glue.ConcurrentRunsExceededException"}
    assert _entered(events) == ["HasDate", "Compact", "CompactFailed", "NotifyFailure", "Failed"]
    failed = next(e for e in events if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
    assert failed["error"] == "NightlyFailed"
    assert failed["cause"].startswith("Compact failed with Glue.ConcurrentRunsExceededException: ")
    (msg,) = _messages(machine["queue"])
    assert msg["status"] == "FAILED" and msg["date"] == DAY and msg["failed_step"] == "Compact"
    assert msg["error"] == "Glue.ConcurrentRunsExceededException"
    assert msg["cause"]
    assert msg["subject"] == f"gridtape nightly {DAY} FAILED in Compact"

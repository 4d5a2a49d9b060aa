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
from datetime import UTC, date, timedelta
from typing import Any

import pytest

from batch import catchup, checks, handler, nightly
from gridtape import aws, config, isos
from tests.batch.conftest import ASL, alerts_queue, render_asl

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
    try:
        with alerts_queue(names, f"{names.env}-sfn-alerts") as read:
            yield {"arn": arn, "messages": read, "names": names}
    finally:
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


def _tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] in ("Task", "Map"):
            yield name, state
        if state["Type"] == "Map":
            yield from _tasks(state["ItemProcessor"]["States"])


def test_deployed_definition_is_the_file(machine: dict[str, Any]) -> None:
    desc = aws.client("stepfunctions").describe_state_machine(stateMachineArn=machine["arn"])
    assert json.loads(desc["definition"]) == json.loads(render_asl(machine["names"]))
    definition = json.loads(ASL.read_text())
    for name, state in _tasks(definition["States"]):
        assert state.get("Catch"), f"{name} has no Catch"
        if state["Type"] == "Task":
            assert state.get("Retry"), f"{name} has no Retry"
            assert all(r.get("JitterStrategy") == "FULL" and r.get("BackoffRate", 0) >= 2 for r in state["Retry"]), name


def _plan(*days: str) -> dict[str, Any]:
    return {"date": days[-1], "days": list(days), "days_arg": ",".join(days), "started_at": "2024-11-04T09:30:00Z"}


def _load_payload(day: str = DAY, loaded: bool = True) -> dict[str, Any]:
    return {"date": day, "loaded": loaded, "tables": {"prices": 2088, "load_mw": 2088} if loaded else {}}


def _report(day: date, iso: str = "PJM", cut: slice | None = None) -> dict[str, Any]:
    """A day's check report for one hub of one ISO's RT5 prices (minus the `cut` positions)."""
    hub = isos.get(iso).hubs[0]
    grid = checks.expected_grid(iso, day)
    present = grid[: cut.start] + grid[cut.stop :] if cut else grid
    rows = [{"iso": iso, "dataset": "lmp", "market": "RT5", "interval_start": t} for t in present]
    probes: dict[str, list[dict[str, Any]]] = {
        "intervals": rows,
        "hub_intervals": [{**r, "location": hub} for r in rows],
        "duplicates": [],
        "freshness": [
            {
                "iso": iso,
                "dataset": "lmp",
                "market": "RT5",
                "n": len(present),
                "last_interval_end": grid[-1] + timedelta(minutes=5),
                "last_ingested": grid[-1],
            }
        ],
        "out_of_range": [],
    }
    target = checks.Target(iso, "lmp", "RT5", 5, hub)
    return checks.CheckReport(day.isoformat(), checks.evaluate(day, probes, [target])).as_dict()


def _scheduled(events: list[dict[str, Any]], kind: str = "lambda") -> list[dict[str, Any]]:
    """The parameters of every task of `kind` the execution scheduled, in order."""
    out = []
    for e in events:
        details = e.get("taskScheduledEventDetails")
        if details and details["resourceType"] == kind:
            out.append(json.loads(details["parameters"]))
    return out


def test_success_path_from_the_schedule(machine: dict[str, Any]) -> None:
    names = machine["names"]
    resolved = handler.handler({"action": "previous_day", "scheduled_at": "2024-11-04T09:30:00Z"}, None)
    assert resolved == {"date": DAY}
    ok = _report(date(2024, 11, 3))
    assert ok["passed"]
    _queue_lambda_results(names, resolved, _plan(DAY), _load_payload(), ok, nightly.combine([ok], DAY))
    desc, events = _execute(machine["arn"], {"scheduled_at": "2024-11-04T09:30:00Z"})
    assert desc["status"] == "SUCCEEDED", [{k: v for k, v in e.items() if k.endswith("Details")} for e in events]
    assert _entered(events) == [
        "HasDate",
        "PreviousDay",
        "Plan",
        "Compact",
        "GetCompactionRun",
        "CompactionFinished",
        "DropRunDetails",
        "LoadDays",
        "LoadDay",
        "Loaded",
        "CheckDay",
        "Finish",
        "ChecksPassed",
        "NotifySuccess",
    ]
    (msg,) = machine["messages"]()
    assert msg["status"] == "SUCCEEDED" and msg["date"] == DAY and msg["days"] == [DAY]
    assert msg["subject"] == f"gridtape nightly {DAY} SUCCEEDED"
    assert msg["compaction"]["state"] == "SUCCEEDED" and msg["compaction"]["job_run_id"].startswith("jr_")
    assert msg["loads"][0]["load"] == {"result": _load_payload()}


def test_late_days_are_compacted_loaded_and_recorded(machine: dict[str, Any]) -> None:
    """The plan brings back an earlier day with late records and a candidate without rows:
    Glue compacts all three, the Map loads each in order (checks only what it loaded), and
    Finish records every planned day (the next run's watermark)."""
    names = machine["names"]
    late, empty = "2024-10-30", "2024-11-02"
    reports = [_report(date(2024, 10, 30)), _report(date(2024, 11, 3))]
    _queue_lambda_results(
        names,
        _plan(late, empty, DAY),
        _load_payload(late),
        reports[0],
        _load_payload(empty, loaded=False),
        _load_payload(DAY),
        reports[1],
        nightly.combine(reports, DAY),
    )
    desc, events = _execute(machine["arn"], {"date": DAY})
    assert desc["status"] == "SUCCEEDED", [{k: v for k, v in e.items() if k.endswith("Details")} for e in events]
    entered = _entered(events)
    assert entered[entered.index("LoadDays") + 1 : entered.index("Finish")] == [
        "LoadDay", "Loaded", "CheckDay", "LoadDay", "Loaded", "NothingToLoad", "LoadDay", "Loaded", "CheckDay",
    ]  # fmt: skip
    (glue,) = _scheduled(events, "glue")
    assert glue["Arguments"]["--days"] == f"{late},{empty},{DAY}" and glue["Arguments"]["--date"] == DAY
    payloads = [p["Payload"] for p in _scheduled(events)]
    assert [(p["action"], p.get("date")) for p in payloads] == [
        ("plan", DAY), ("load", late), ("checks", late), ("load", empty), ("load", DAY), ("checks", DAY), ("finish", DAY),
    ]  # fmt: skip
    # The watermark is the execution's own start ($$.Execution.StartTime), not a Lambda clock.
    started = catchup.parse_started_at(payloads[0]["started_at"])
    assert abs(started - desc["startDate"].astimezone(UTC)) < timedelta(seconds=1)
    assert [d["day"] for d in payloads[-1]["days"]] == [late, empty, DAY]
    assert machine["messages"]()[0]["days"] == [late, empty, DAY]


def test_failed_checks_fail_the_run_with_the_checks_message(machine: dict[str, Any]) -> None:
    names = machine["names"]
    report = _report(date(2024, 11, 3), "NYISO", slice(168, 180))
    assert not report["passed"]
    _queue_lambda_results(names, _plan(DAY), _load_payload(), report, nightly.combine([report], DAY))
    desc, events = _execute(machine["arn"], {"date": DAY})
    assert desc["status"] == "FAILED"
    assert _entered(events)[-2:] == ["NotifyChecksFailed", "DataQualityFailed"]
    failed = next(e for e in events if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
    assert failed["error"] == "DataQualityFailed"
    assert "NYISO lmp RT5 [CAPITL] missing_intervals" in failed["cause"]
    (msg,) = machine["messages"]()
    assert msg["failed_step"] == "Checks" and msg["error"] == "DataQualityFailed"
    assert "NYISO lmp RT5 [CAPITL] missing_intervals: 12 of 300 5-minute intervals missing" in msg["cause"]
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
        _queue_lambda_results(names, _plan(DAY))
        desc, events = _execute(machine["arn"], {"date": DAY})
    finally:
        _moto("state-manager/unset-transition", {"model_name": "glue::job_run"})
    assert glue.get_job_run(JobName=names.compaction_job, RunId=blocker)["JobRun"]["JobRunState"] == "SUCCEEDED"

    assert desc["status"] == "FAILED"
    failures = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert len(failures) == 1 + policy["MaxAttempts"]  # the first attempt and every retry
    assert {f["error"] for f in failures} == {"Glue.ConcurrentRunsExceededException"}
    assert _entered(events) == ["HasDate", "Plan", "Compact", "CompactFailed", "NotifyFailure", "Failed"]
    failed = next(e for e in events if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
    assert failed["error"] == "NightlyFailed"
    assert failed["cause"].startswith("Compact failed with Glue.ConcurrentRunsExceededException: ")
    (msg,) = machine["messages"]()
    assert msg["status"] == "FAILED" and msg["date"] == DAY and msg["failed_step"] == "Compact"
    assert msg["error"] == "Glue.ConcurrentRunsExceededException"
    assert msg["cause"]
    assert msg["subject"] == f"gridtape nightly {DAY} FAILED in Compact"

"""The nightly run, twice over:

- `run(date)`: the embedded default (`gridtape batch --date D`): plan the days (D plus the
  days that received late raw records, batch/catchup.py) -> compaction of them all (local
  Spark) -> per day, load (DuckDB warehouse), context (batch/context.py: outages, weather,
  customers out and enriched_prices) and checks -> record the run -> SNS (the
  emulator), the same steps in the same order as statemachines/nightly.asl.json;
- `lambda_step(event)`: what the warehouse Lambda does for the state machine in AWS (the
  PreviousDay, Plan, LoadDay, CheckDay and Finish states), against Redshift through the Data API.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from batch import catchup, checks, compaction, context, manifests, warehouse
from batch import days as _days
from gridtape import aws, config, landing
from gridtape.errors import TerminalError

log = logging.getLogger(__name__)


def alerts_topic_arn(names: config.Names) -> str:
    return f"arn:aws:sns:{config.region()}:{names.account}:{names.alerts_topic}"


def _publish(names: config.Names, subject: str, message: dict[str, Any]) -> None:
    aws.client("sns").publish(
        TopicArn=alerts_topic_arn(names), Subject=subject[:100], Message=json.dumps(message, default=str)
    )


def combine(reports: Sequence[dict[str, Any]], target: str) -> dict[str, Any]:
    """Per-day check reports -> one verdict for the run (the shape the ASL's Finish selects)."""
    failed = [r for r in reports if not r["passed"]]
    checked = sum(int(r["checked"]) for r in reports)
    if failed:
        message = "\n".join(r["message"] for r in failed)
    else:
        days = ", ".join(r["trade_date"] for r in reports) or target
        message = f"gridtape data-quality checks for {days}: all {checked} passed"
    return {
        "trade_date": target,
        "days": [r["trade_date"] for r in reports],
        "passed": not failed,
        "message": message,
        "failures": [f for r in failed for f in r["failures"]],
        "checked": checked,
    }


def _wanted(day: date, target: date, rows: int) -> bool:
    """A late candidate without a single row held no records of that day: nothing to load."""
    return day == target or rows > 0


def run(
    day: date | str,
    *,
    names: config.Names | None = None,
    spark: Any = None,
    expected: list[str] | None = None,
    warehouse_path: Any = None,
    notify: bool = True,
    horizon: timedelta = catchup.HORIZON,
    overlap: timedelta = catchup.OVERLAP,
) -> dict[str, Any]:
    """Plan -> compaction -> load and checks per day -> record the run -> SNS; returns the
    summary. `expected`: the ISOs the checks expect (default: all). A failed step is reported
    on SNS with the step and cause, then re-raised; failed checks are reported and returned
    (summary["status"] == "FAILED"), not raised."""
    target = _days.parse_day(day) if isinstance(day, str) else day
    names = names or config.names()
    started_at = datetime.now(UTC)
    summary: dict[str, Any] = {"date": target.isoformat(), "status": "RUNNING"}
    step = "Plan"
    try:
        ex = warehouse.DuckDBExecutor(warehouse_path)
        try:
            warehouse.ensure_schema(ex)
            store = manifests.Store(names.raw_bucket, names.curated_bucket)
            objects = store.raw_objects(catchup.raw_dates(target, horizon))
            planned = catchup.plan(ex, objects, target, horizon, overlap)
            summary["planned"] = [d.isoformat() for d in planned]
            step = "Compact"
            if spark is None:
                from gridtape.spark import local_session

                spark = local_session("gridtape-nightly")
            result = compaction.compact(spark, names.raw_bucket, names.curated_bucket, planned)
            summary["compaction"] = result.as_dict()
            loaded = [d for d in planned if _wanted(d, target, result.per_day.get(d.isoformat(), 0))]
            summary["days"] = [d.isoformat() for d in loaded]
            loads, reports, enriched = {}, [], {}
            for d in planned:  # context for every planned day: a backfill may have marked only context
                if d in loaded:
                    step = "LoadDays"
                    warehouse.load_day(ex, names.curated_bucket, d, has_data=result.per_day.get(d.isoformat(), 0) > 0)
                    loads[d.isoformat()] = warehouse.table_counts(ex, d)
                step = "Context"
                enriched[d.isoformat()] = context.load_context(ex, names.raw_bucket, d, expected).as_dict()
                if d in loaded:
                    scope = catchup.check_scope(objects, d, target)
                    report = checks.run_checks(ex, d, expected, feeds=scope)
                    reports.append(checks.context_checks(ex, d, report, expected).as_dict())
            summary["loads"] = loads
            summary["context"] = enriched
            summary["load"] = {"tables": loads[target.isoformat()]}
            step = "Finish"
            catchup.record_run(ex, started_at, target, planned)
        finally:
            ex.close()
        summary["checks"] = combine(reports, target.isoformat())
    except Exception as exc:
        summary.update(status="FAILED", failed_step=step, error=type(exc).__name__, cause=str(exc))
        if notify:
            _publish(names, f"gridtape nightly {target} FAILED in {step}", summary)
        raise
    if summary["checks"]["passed"]:
        summary["status"] = "SUCCEEDED"
        subject = f"gridtape nightly {target} SUCCEEDED"
    else:
        summary.update(
            status="FAILED", failed_step="Checks", error="DataQualityFailed", cause=summary["checks"]["message"]
        )
        subject = f"gridtape nightly {target} FAILED: data-quality checks"
    if notify:
        _publish(names, subject, summary)
    return summary


def lambda_step(event: dict[str, Any]) -> dict[str, Any]:
    """The warehouse function's actions (see the Task states of nightly.asl.json)."""
    action = event.get("action")
    if action == "previous_day":
        when = datetime.fromisoformat(str(event["scheduled_at"]).replace("Z", "+00:00"))
        return {"date": _days.previous_day(when).isoformat()}
    day = _days.parse_day(str(event["date"]))
    ex = warehouse.DataApiExecutor(workgroup=event["workgroup"], database=event["database"])
    if action == "plan":
        warehouse.ensure_schema(ex)
        store = manifests.Store(raw_bucket=event["raw_bucket"], curated_bucket=event["curated_bucket"])
        planned = [d.isoformat() for d in catchup.plan(ex, store.raw_objects(catchup.raw_dates(day)), day)]
        return {
            "date": day.isoformat(),
            "days": planned,
            "days_arg": ",".join(planned),
            "started_at": event["started_at"],
        }
    if action == "load":
        target = _days.parse_day(str(event.get("target", event["date"])))
        store = manifests.Store(raw_bucket="", curated_bucket=event["curated_bucket"])
        manifest = manifests.read_manifest(store, day.isoformat())
        if manifest is None:
            raise TerminalError(
                f"no compacted data for {day}: {warehouse.manifest_url(event['curated_bucket'], day)} is missing"
            )
        if not _wanted(day, target, len(manifest["entries"])):
            return {"date": day.isoformat(), "loaded": False, "tables": {}}
        warehouse.load_day(ex, event["curated_bucket"], day, has_data=bool(manifest["entries"]))
        out = {"date": day.isoformat(), "loaded": True, "tables": warehouse.table_counts(ex, day)}
        if event.get("raw_bucket"):  # the LoadDay payload names it: the day's context too
            out["context"] = context.load_context(ex, event["raw_bucket"], day).as_dict()
        return out
    if action == "checks":
        scope = None
        if event.get("raw_bucket") and event.get("target"):
            store = manifests.Store(raw_bucket=event["raw_bucket"], curated_bucket="")
            marks = store.keys(event["raw_bucket"], landing.mark_key(day, "", "").rsplit("/", 1)[0] + "/")
            scope = catchup.check_scope(marks, day, _days.parse_day(str(event["target"])))
        return checks.context_checks(ex, day, checks.run_checks(ex, day, feeds=scope)).as_dict()
    if action == "finish":
        done = [r for r in event.get("days", []) if r.get("checks") is not None]
        catchup.record_run(
            ex,
            catchup.parse_started_at(event["started_at"]),
            day,
            [_days.parse_day(r["day"]) for r in event.get("days", [])],
        )
        return combine([r["checks"] for r in done], day.isoformat())
    raise TerminalError(f"unknown warehouse action {action!r}")

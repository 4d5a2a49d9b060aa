"""The nightly run, twice over:

- `run(date)`: the embedded default (`gridtape batch --date D`): compaction (local Spark) ->
  load (DuckDB warehouse) -> checks -> SNS (the emulator), the same steps in the same order
  as statemachines/nightly.asl.json;
- `lambda_step(event)`: what the warehouse Lambda does for the state machine in AWS (the
  PreviousDay, Load and Checks states), against Redshift through the Data API.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from batch import checks, compaction, warehouse
from batch import days as _days
from gridtape import aws, config
from gridtape.errors import TerminalError

log = logging.getLogger(__name__)


def alerts_topic_arn(names: config.Names) -> str:
    return f"arn:aws:sns:{config.region()}:{names.account}:{names.alerts_topic}"


def _publish(names: config.Names, subject: str, message: dict[str, Any]) -> None:
    aws.client("sns").publish(
        TopicArn=alerts_topic_arn(names), Subject=subject[:100], Message=json.dumps(message, default=str)
    )


def run(
    day: date | str,
    *,
    names: config.Names | None = None,
    spark: Any = None,
    expected: list[tuple[str, str]] | None = None,
    warehouse_path: Any = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Compaction -> load -> checks -> SNS for one day; returns the summary (incl. checks).
    A failed step is reported on SNS with the step and cause, then re-raised; failed checks
    are reported and returned (summary["status"] == "FAILED"), not raised."""
    day = _days.parse_day(day) if isinstance(day, str) else day
    names = names or config.names()
    summary: dict[str, Any] = {"date": day.isoformat(), "status": "RUNNING"}
    step = "Compact"
    try:
        if spark is None:
            from gridtape.spark import local_session

            spark = local_session("gridtape-nightly")
        result = compaction.compact(spark, names.raw_bucket, names.curated_bucket, [day])
        summary["compaction"] = result.as_dict()
        step = "Load"
        ex = warehouse.DuckDBExecutor(warehouse_path)
        try:
            warehouse.ensure_schema(ex)
            warehouse.load_day(ex, names.curated_bucket, day, has_data=result.rows > 0)
            summary["load"] = {"tables": warehouse.table_counts(ex, day)}
            step = "Checks"
            report = checks.run_checks(ex, day, expected)
        finally:
            ex.close()
        summary["checks"] = report.as_dict()
    except Exception as exc:
        summary.update(status="FAILED", failed_step=step, error=type(exc).__name__, cause=str(exc))
        if notify:
            _publish(names, f"gridtape nightly {day} FAILED in {step}", summary)
        raise
    if report.passed:
        summary["status"] = "SUCCEEDED"
        subject = f"gridtape nightly {day} SUCCEEDED"
    else:
        summary.update(status="FAILED", failed_step="Checks", error="DataQualityFailed", cause=report.message)
        subject = f"gridtape nightly {day} FAILED: data-quality checks"
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
    if action == "load":
        warehouse.ensure_schema(ex)
        store = compaction.Store(raw_bucket="", curated_bucket=event["curated_bucket"])
        manifest = compaction.read_manifest(store, day.isoformat())
        if manifest is None:
            raise TerminalError(
                f"no compacted data for {day}: {warehouse.manifest_url(event['curated_bucket'], day)} is missing"
            )
        warehouse.load_day(ex, event["curated_bucket"], day, has_data=bool(manifest["entries"]))
        return {"date": day.isoformat(), "tables": warehouse.table_counts(ex, day)}
    if action == "checks":
        return checks.run_checks(ex, day).as_dict()
    raise TerminalError(f"unknown warehouse action {action!r}")

"""The alarms on gridtape's own metrics (gridtape/metrics.py: names defined once) and on the
nightly state machine, all notifying the alerts topic. Per ISO and dataset from the ISO table;
moto cannot create alarms, so every one is AWS only (and only with compute deployed, since
a missing poller or job would make the breaching-on-missing alarms fire)."""

from __future__ import annotations

from typing import Any

from app.stack.cfn_yaml import Ref, Sub
from gridtape import isos, metrics
from producers import rhythm

# Data age: the newest published interval may be this many intervals old (the ISOs publish a
# few minutes after an interval ends, and a poll can miss one publication) ...
AGE_INTERVALS = 3
# ... plus a margin for the ISO's publication lag: 10 minutes, or half an interval for hourly feeds.
MIN_AGE_MARGIN_MIN = 10


def data_age_threshold_s(iso: isos.Iso, dataset: str) -> int:
    """Seconds of DataAgeSeconds that mean a feed (`dataset` is the feed's name, the metric's
    Dataset dimension) has stopped. The metric has no market dimension, so the feed's slowest
    market (ERCOT lmp: RT15, not RT5) sets the bar. A day-ahead feed's age is measured from the
    end of the newest day published: stale means tomorrow's results still missing a margin
    after posts_at, a negative age (producers.rhythm.dam_stale_after)."""
    if (dam := rhythm.day_ahead(iso, dataset)) is not None:
        return int(rhythm.dam_stale_after(dam).total_seconds())
    minutes = max(f.minutes for f in iso.feeds_named(dataset))
    return (AGE_INTERVALS * minutes + max(MIN_AGE_MARGIN_MIN, minutes // 2)) * 60


def _age_text(iso: isos.Iso, dataset: str, threshold: int) -> str:
    what = f"{iso.code} {dataset}"
    if (dam := rhythm.day_ahead(iso, dataset)) is not None:
        margin = int(rhythm.DAM_MARGIN.total_seconds() // 60)
        return (
            f"{what}: tomorrow's day-ahead results are still missing {margin} minutes after {iso.code} "
            f"posts them ({dam.posts_at} market clock), or the poller reports no age at all (missing data breaches)."
        )
    return (
        f"The newest {what} interval published is over {threshold // 60} minutes old, or the poller "
        "reports no age at all (missing data breaches): the feed has stopped."
    )


def _alarm(
    name: str, description: str, metric: dict[str, Any], rule: dict[str, Any], *, ok: bool = True
) -> dict[str, Any]:
    actions = {"AlarmActions": [Ref("AlertsTopic")], **({"OKActions": [Ref("AlertsTopic")]} if ok else {})}
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Condition": "AwsCompute",
        "Properties": {
            "AlarmName": Sub(f"gridtape-${{EnvName}}-{name}"),
            "AlarmDescription": description,
            **metric,
            **rule,
            **actions,
        },
    }


def _feed_metric(name: str, iso: isos.Iso, dataset: str, statistic: str) -> dict[str, Any]:
    return {
        "Namespace": metrics.NAMESPACE,
        "MetricName": name,
        "Dimensions": [{"Name": metrics.ISO, "Value": iso.code}, {"Name": metrics.DATASET, "Value": dataset}],
        "Statistic": statistic,
    }


# Any failure in 3 of the last 5 minutes: one is usually an ISO hiccup the next poll repairs.
FAILING = {
    "Period": 60,
    "EvaluationPeriods": 5,
    "DatapointsToAlarm": 3,
    "Threshold": 1,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
}


def feed_alarms(iso: isos.Iso, dataset: str) -> dict[str, Any]:
    lid = f"{iso.resource_name}{dataset.capitalize()}"
    what = f"{iso.code} {dataset}"
    slug = f"{iso.code.lower()}-{dataset}"
    threshold = data_age_threshold_s(iso, dataset)
    return {
        f"{lid}DataAgeAlarm": _alarm(
            f"{slug}-data-age",
            _age_text(iso, dataset, threshold),
            _feed_metric(metrics.DATA_AGE_S, iso, dataset, "Maximum"),
            {
                "Period": 300,
                "EvaluationPeriods": 2,
                "DatapointsToAlarm": 2,
                "Threshold": threshold,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "breaching",
            },
        ),
        f"{lid}PollErrorsAlarm": _alarm(
            f"{slug}-poll-errors",
            f"{what} polls failed (fetch, parse or publish) in 3 of the last 5 minutes.",
            _feed_metric(metrics.POLL_ERRORS, iso, dataset, "Sum"),
            FAILING,
        ),
        f"{lid}PollSkippedAlarm": _alarm(
            f"{slug}-poll-skipped",
            f"{what} polls could not run (missing key, denied secret) in 3 of the last 5 minutes.",
            _feed_metric(metrics.POLL_SKIPPED, iso, dataset, "Sum"),
            FAILING,
        ),
        f"{lid}QuarantinedAlarm": _alarm(
            f"{slug}-quarantined",
            f"A whole {what} response was quarantined (format change, bomb ...): a human should look under quarantine/iso={iso.code}/.",
            _feed_metric(metrics.RESPONSES_QUARANTINED, iso, dataset, "Sum"),
            {
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
            },
        ),
    }


# Late ticks are expected now and then (an ISO revising an old interval); a burst means a
# stalled upstream released at once or a watermark too tight. First guess; tune on real traffic.
LATE_TICKS_PER_HOUR = 100


def streaming_alarms() -> dict[str, Any]:
    def metric(name: str) -> dict[str, Any]:
        return {"Namespace": metrics.NAMESPACE, "MetricName": name, "Statistic": "Sum"}

    return {
        "StreamHeartbeatAlarm": _alarm(
            "volatility-not-running",
            "The volatility streaming job completed no micro-batch for 10 minutes (it triggers every 30 s): it is not running.",
            metric(metrics.STREAM_BATCHES),
            {
                "Period": 300,
                "EvaluationPeriods": 2,
                "DatapointsToAlarm": 2,
                "Threshold": 1,
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "breaching",
            },
        ),
        "StreamLateTicksAlarm": _alarm(
            "volatility-late-ticks",
            f"The volatility job dropped {LATE_TICKS_PER_HOUR}+ ticks behind its watermark in an hour (the nightly batch still has them).",
            metric(metrics.LATE_TICKS_DROPPED),
            {
                "Period": 3600,
                "EvaluationPeriods": 1,
                "Threshold": LATE_TICKS_PER_HOUR,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
            },
        ),
    }


# Step Functions' execution outcomes that need a human (the state machine also notifies on
# the failures it catches; these catch the ones it cannot, e.g. a timeout or an abort).
NIGHTLY_OUTCOMES = {"Failed": "ExecutionsFailed", "TimedOut": "ExecutionsTimedOut", "Aborted": "ExecutionsAborted"}


def nightly_alarms() -> dict[str, Any]:
    return {
        f"Nightly{outcome}Alarm": _alarm(
            f"nightly-{outcome.lower()}",
            f"A nightly execution {outcome.lower().replace('timedout', 'timed out')}.",
            {
                "Namespace": "AWS/States",
                "MetricName": metric,
                "Dimensions": [{"Name": "StateMachineArn", "Value": Ref("NightlyStateMachine")}],
                "Statistic": "Sum",
            },
            {
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
            },
            ok=False,  # "OK" five minutes after a failed night would read as if it were fixed
        )
        for outcome, metric in NIGHTLY_OUTCOMES.items()
    }


def all_alarms() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for iso in isos.TABLE:
        for dataset in iso.datasets:
            out.update(feed_alarms(iso, dataset))
    out.update(streaming_alarms())
    out.update(nightly_alarms())
    return out

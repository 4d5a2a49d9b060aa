"""Alarms and async-invoke settings in infra/gridtape.yaml: for every row of the ISO table and
every dataset it publishes, the data-age, error, skip and quarantine alarms exist on the metric
names of gridtape/metrics.py; the streaming heartbeat and the nightly outcomes are watched;
every alarm notifies the alerts topic; no poller is retried asynchronously."""

from __future__ import annotations

from typing import Any

import pytest

from app.stack import gen_alarms
from gridtape import isos, metrics
from producers import rhythm
from tests.app.template_support import resolver, resources, template

FEED_METRICS = {metrics.DATA_AGE_S, metrics.POLL_ERRORS, metrics.POLL_SKIPPED, metrics.RESPONSES_QUARANTINED}


def _alarms() -> dict[str, dict[str, Any]]:
    return {lid: a["Properties"] for lid, a in resources("AWS::CloudWatch::Alarm").items()}


def _dims(props: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}


def test_every_alarm_notifies_the_topic_and_is_off_on_the_emulator() -> None:
    emulator = resolver(target="emulator")
    assert _alarms()
    for lid, props in _alarms().items():
        assert props["AlarmActions"] == [{"Ref": "AlertsTopic"}], lid
        assert props.get("OKActions", [{"Ref": "AlertsTopic"}]) == [{"Ref": "AlertsTopic"}], lid
        assert not emulator.condition(template()["Resources"][lid].get("Condition")), lid


def test_alarm_names_are_unique() -> None:
    r = resolver()
    names = [r.resolve(p["AlarmName"]) for p in _alarms().values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("iso", "dataset"), [(i, d) for i in isos.TABLE for d in i.datasets], ids=str)
def test_each_iso_and_dataset_has_its_feed_alarms(iso: isos.Iso, dataset: str) -> None:
    found = {
        p["MetricName"]: p
        for p in _alarms().values()
        if p["Namespace"] == metrics.NAMESPACE and _dims(p) == {metrics.ISO: iso.code, metrics.DATASET: dataset}
    }
    assert set(found) == FEED_METRICS
    age = found[metrics.DATA_AGE_S]
    assert age["TreatMissingData"] == "breaching"
    assert age["ComparisonOperator"] == "GreaterThanThreshold"
    if (dam := rhythm.day_ahead(iso, dataset)) is not None and dam.posts_at:
        # the age of the newest day published: tomorrow's results missing past posts_at + a margin
        hh, mm = (int(x) for x in dam.posts_at.split(":"))
        assert age["Threshold"] == (hh * 60 + mm) * 60 + rhythm.DAM_MARGIN.total_seconds() - 86400 < 0
    else:
        slowest = max(f.minutes for f in iso.feeds_named(dataset))
        # At least three of the slowest feed's intervals, and not a day: it must still catch a stop.
        assert 3 * slowest * 60 < age["Threshold"] <= max(4 * 3600, 4 * slowest * 60)
    for name in FEED_METRICS - {metrics.DATA_AGE_S}:
        assert found[name]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert found[name]["Threshold"] == 1 and found[name]["Statistic"] == "Sum"


def test_hourly_feeds_get_a_longer_data_age_threshold() -> None:
    ercot = isos.get("ERCOT")
    assert ercot.feed("load").minutes == 60
    assert gen_alarms.data_age_threshold_s(ercot, "load") > gen_alarms.data_age_threshold_s(ercot, "lmp")
    assert gen_alarms.data_age_threshold_s(ercot, "load") >= 3 * 3600


def test_the_streaming_job_is_watched() -> None:
    stream = {p["MetricName"]: p for p in _alarms().values() if p["Namespace"] == metrics.NAMESPACE and not _dims(p)}
    beat = stream[metrics.STREAM_BATCHES]
    assert (beat["ComparisonOperator"], beat["TreatMissingData"]) == ("LessThanThreshold", "breaching")
    assert stream[metrics.LATE_TICKS_DROPPED]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_nightly_failing_timing_out_or_aborting_is_watched() -> None:
    watched = {
        p["MetricName"]
        for p in _alarms().values()
        if p["Namespace"] == "AWS/States" and _dims(p) == {"StateMachineArn": {"Ref": "NightlyStateMachine"}}
    }
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}


def test_every_poller_lambda_has_an_errors_alarm() -> None:
    functions = {
        lid
        for lid, f in resources("AWS::Lambda::Function").items()
        if f["Properties"]["Handler"] == "producers.handler.handler"
    }
    assert len(functions) == len(isos.TABLE)
    watched = {
        _dims(p)["FunctionName"]["Ref"]
        for p in _alarms().values()
        if p["Namespace"] == "AWS/Lambda" and p["MetricName"] == "Errors"
    }
    assert functions <= watched


def test_pollers_are_never_retried_asynchronously() -> None:
    """EventBridge invokes the pollers asynchronously; neither EventBridge nor Lambda may retry
    (a retry would overlap the next scheduled poll)."""
    configs = {c["Properties"]["FunctionName"]["Ref"]: c for c in resources("AWS::Lambda::EventInvokeConfig").values()}
    pollers = [
        lid
        for lid, f in resources("AWS::Lambda::Function").items()
        if f["Properties"]["Handler"] == "producers.handler.handler"
    ]
    assert pollers
    for lid in pollers:
        props = configs[lid]["Properties"]
        assert props["MaximumRetryAttempts"] == 0 and props["Qualifier"] == "$LATEST", lid
    for rule in resources("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            if target["Arn"].get("Fn::GetAtt", [""])[0] in pollers:
                assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0}

"""Template-level checks of infra/gridtape.yaml, without AWS or the emulator: names agree with
gridtape.config.Names, the state machine is the ASL file, buckets are locked down, roles are
not admin, and everything the emulator cannot create is switched off for it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.stack import packaging
from app.stack import template as tpl
from gridtape import config, isos
from tests.app.template_support import ACCOUNT, REGION

ISOS = isos.CODES
SUBSTITUTION_KEYS = {
    "CompactionJobName",
    "WarehouseFunctionArn",
    "AlertsTopicArn",
    "RawBucket",
    "CuratedBucket",
    "RedshiftWorkgroup",
    "RedshiftDatabase",
}
# Names property -> logical id of the resource it names. Every Names property except
# env/account/stack must be listed (test_every_names_property_is_checked).
NAMED_RESOURCES = {
    "ticks_stream": "TicksStream",
    "analytics_stream": "AnalyticsStream",
    "raw_bucket": "RawBucket",
    "curated_bucket": "CuratedBucket",
    "artifacts_bucket": "ArtifactsBucket",
    "poller_state_table": "PollerStateTable",
    "alerts_topic": "AlertsTopic",
    "nightly_state_machine": "NightlyStateMachine",
    "firehose": "RawLanding",
    "streaming_job": "StreamingJob",
    "compaction_job": "CompactionJob",
    "redshift_workgroup": "RedshiftWorkgroup",
    "redshift_database": "RedshiftNamespace",
}
# The feed's lease tables, checked here once gridtape.config.Names names them (until then
# tests/app/test_template_feed.py holds them to app/local/feed_leases.py and feed/container.py).
NAMED_RESOURCES.update(
    {
        attr: logical_id
        for attr, logical_id in {
            "feed_ticks_lease_table": "FeedTicksLeaseTable",
            "feed_analytics_lease_table": "FeedAnalyticsLeaseTable",
        }.items()
        if isinstance(getattr(config.Names, attr, None), property)
    }
)
# Resource type -> the property holding its physical name (CloudFormation's, one per type).
NAME_PROPERTY = {
    "AWS::Kinesis::Stream": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::Glue::Job": "Name",
    "AWS::RedshiftServerless::Workgroup": "WorkgroupName",
    # Names has no namespace name: what it names there is the database the namespace creates.
    "AWS::RedshiftServerless::Namespace": "DbName",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return tpl.load_template()


@pytest.fixture(scope="module", params=["dev", "prod"])
def names(request: pytest.FixtureRequest) -> config.Names:
    return config.Names(env=request.param, account=ACCOUNT)


def _resolver(template: dict[str, Any], names: config.Names, target: str = "aws") -> tpl.Resolver:
    params = {**tpl.parameters(names), "DeployTarget": target}
    return tpl.Resolver(template, params, names.account, REGION)


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def test_every_names_property_is_checked() -> None:
    props = {n for n, v in vars(config.Names).items() if isinstance(v, property)}
    assert props - {"stack"} == set(NAMED_RESOURCES)


@pytest.mark.parametrize("attr", sorted(NAMED_RESOURCES))
def test_physical_names_match_names(template: dict[str, Any], names: config.Names, attr: str) -> None:
    resource = template["Resources"][NAMED_RESOURCES[attr]]
    resolved = _resolver(template, names).resolve(resource["Properties"][NAME_PROPERTY[resource["Type"]]])
    assert resolved == getattr(names, attr)


def test_stack_name_is_names_stack(template: dict[str, Any], names: config.Names) -> None:
    assert _resolver(template, names).values["AWS::StackName"] == names.stack


def test_one_poller_per_iso_with_its_schedule(template: dict[str, Any], names: config.Names) -> None:
    r = _resolver(template, names)
    functions = {
        r.resolve(f["Properties"]["FunctionName"]): (lid, f)
        for lid, f in _resources(template, "AWS::Lambda::Function").items()
    }
    rules = _resources(template, "AWS::Events::Rule")
    for iso in ISOS:
        lid, fn = functions[f"gridtape-{names.env}-poll-{iso.lower()}"]
        props = fn["Properties"]
        assert props["Handler"] == "producers.handler.handler"
        assert props["Runtime"] in {"python3.11", "python3.12"}
        assert props["Environment"]["Variables"]["GRIDTAPE_ISO"] == iso
        code = r.resolve(props["Code"])
        assert code == {"S3Bucket": names.artifacts_bucket, "S3Key": "lambda/gridtape-lambda.zip"}
        schedules = [
            rule
            for rule in rules.values()
            if any(t["Arn"] == {"Fn::GetAtt": [lid, "Arn"]} for t in rule["Properties"]["Targets"])
        ]
        assert [s["Properties"]["ScheduleExpression"] for s in schedules] == ["rate(1 minute)"]
    warehouse = functions[f"gridtape-{names.env}-warehouse"][1]["Properties"]
    assert warehouse["Handler"] == "batch.handler.handler"


def test_state_machine_is_the_asl_file(template: dict[str, Any]) -> None:
    (sm,) = _resources(template, "AWS::StepFunctions::StateMachine").values()
    location = sm["Properties"]["DefinitionS3Location"]
    assert location == "../statemachines/nightly.asl.json"
    assert (tpl.TEMPLATE.parent / location).resolve() == tpl.REPO / "statemachines" / "nightly.asl.json"
    assert "DefinitionString" not in sm["Properties"] and "Definition" not in sm["Properties"]


def test_definition_substitutions_cover_the_asl(template: dict[str, Any]) -> None:
    (sm,) = _resources(template, "AWS::StepFunctions::StateMachine").values()
    provided = set(sm["Properties"]["DefinitionSubstitutions"])
    used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", (tpl.REPO / "statemachines" / "nightly.asl.json").read_text()))
    assert used <= provided, f"ASL uses {sorted(used - provided)} which the template does not substitute"
    assert provided == SUBSTITUTION_KEYS


def test_package_inlines_the_file_with_substitutions(template: dict[str, Any]) -> None:
    names = config.Names(env="dev", account=ACCOUNT)
    packaged = packaging.package(template, tpl.TEMPLATE.parent, _resolver(template, names, "emulator"))
    props = packaged["Resources"]["NightlyStateMachine"]["Properties"]
    assert "DefinitionS3Location" not in props and "DefinitionSubstitutions" not in props
    expected = packaging.apply_substitutions(
        (tpl.REPO / "statemachines" / "nightly.asl.json").read_text(),
        {
            "CompactionJobName": names.compaction_job,
            "WarehouseFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:gridtape-dev-warehouse",
            "AlertsTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{names.alerts_topic}",
            "RawBucket": names.raw_bucket,
            "CuratedBucket": names.curated_bucket,
            "RedshiftWorkgroup": names.redshift_workgroup,
            "RedshiftDatabase": names.redshift_database,
        },
    )
    assert props["DefinitionString"] == expected
    assert "${" not in props["DefinitionString"]
    json.loads(props["DefinitionString"])
    # The source template is untouched (package works on a copy).
    assert "DefinitionS3Location" in template["Resources"]["NightlyStateMachine"]["Properties"]


def test_apply_substitutions_leaves_jsonpath_alone() -> None:
    text = '{"a": "${RawBucket}", "b.$": "$$.Execution.Id", "c.$": "$.date", "d": "${Unknown}"}'
    assert packaging.apply_substitutions(text, {"RawBucket": "bkt"}) == (
        '{"a": "bkt", "b.$": "$$.Execution.Id", "c.$": "$.date", "d": "${Unknown}"}'
    )


def test_package_rejects_an_unsubstituted_key(template: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "statemachines").mkdir()
    (tmp_path / "statemachines" / "nightly.asl.json").write_text(
        '{"Comment": "${NotProvided}", "StartAt": "x", "States": {}}'
    )
    names = config.Names(env="dev", account=ACCOUNT)
    with pytest.raises(tpl.DeployError, match="NotProvided"):
        packaging.package(template, tmp_path / "infra", _resolver(template, names, "emulator"))


def test_buckets_are_private_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    buckets = _resources(template, "AWS::S3::Bucket")
    policies = {p["Properties"]["Bucket"]["Ref"]: p for p in _resources(template, "AWS::S3::BucketPolicy").values()}
    assert len(buckets) == 3
    for lid, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, lid
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert sse["SSEAlgorithm"] == "aws:kms", lid
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, lid
        assert props["LifecycleConfiguration"]["Rules"], lid
        statements = policies[lid]["Properties"]["PolicyDocument"]["Statement"]
        tls = [
            s
            for s in statements
            if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert tls, f"{lid} has no TLS-only statement"
        assert tls[0]["Principal"] == "*" and tls[0]["Action"] == "s3:*"
        assert {"Fn::GetAtt": [lid, "Arn"]} in tls[0]["Resource"]
        assert {"Fn::Sub": f"${{{lid}.Arn}}/*"} in tls[0]["Resource"]


def test_raw_landing_firehose(template: dict[str, Any]) -> None:
    props = template["Resources"]["RawLanding"]["Properties"]
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == {"Fn::GetAtt": ["TicksStream", "Arn"]}
    s3 = props["ExtendedS3DestinationConfiguration"]
    assert s3["Prefix"] == "raw/iso=!{partitionKeyFromQuery:iso}/date=!{partitionKeyFromQuery:date}/"
    assert s3["ErrorOutputPrefix"] == "errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/"
    assert s3["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 64}
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["DynamicPartitioningConfiguration"]["Enabled"] is True
    params = {
        p["ParameterName"]: p["ParameterValue"]
        for proc in s3["ProcessingConfiguration"]["Processors"]
        if proc["Type"] == "MetadataExtraction"
        for p in proc["Parameters"]
    }
    assert params["MetadataExtractionQuery"] == "{iso: .iso, date: .interval_start[0:10]}"


def test_glue_jobs(template: dict[str, Any]) -> None:
    names = config.Names(env="dev", account=ACCOUNT)
    r = _resolver(template, names)
    s = template["Resources"]["StreamingJob"]["Properties"]
    c = template["Resources"]["CompactionJob"]["Properties"]
    assert s["GlueVersion"] == c["GlueVersion"] == "5.0"
    assert s["Command"]["Name"] == "gluestreaming" and c["Command"]["Name"] == "glueetl"
    art = names.artifacts_bucket
    assert r.resolve(s["Command"]["ScriptLocation"]) == f"s3://{art}/glue/streaming_job.py"
    assert r.resolve(c["Command"]["ScriptLocation"]) == f"s3://{art}/glue/compaction_job.py"
    args = r.resolve(s["DefaultArguments"])
    assert args["--additional-python-modules"] == f"s3://{art}/glue/gridtape-0.1.0-py3-none-any.whl"
    assert args["--checkpoint_location"] == f"s3://{names.curated_bucket}/checkpoints/volatility/"
    assert args["--job-bookmark-option"] == "job-bookmark-disable"


@pytest.mark.parametrize("job", ["StreamingJob", "CompactionJob"])
def test_glue_jobs_keep_glue_5s_own_libraries(template: dict[str, Any], job: str) -> None:
    """The wheel's pins (pyarrow 26 ...) must not replace Glue 5.0's pyarrow 17 / pandas 2.2.2 /
    numpy 1.26.4 / boto3 1.34: pip installs only what --additional-python-modules names."""
    args = template["Resources"][job]["Properties"]["DefaultArguments"]
    assert "--no-deps" in args["--python-modules-installer-option"].split()
    modules = args["--additional-python-modules"]["Fn::Sub"].split(",")
    assert [m.rsplit("/", 1)[-1] for m in modules] == ["gridtape-0.1.0-py3-none-any.whl"]


def test_poller_state_table(template: dict[str, Any]) -> None:
    props = template["Resources"]["PollerStateTable"]["Properties"]
    assert {(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]} == {("pk", "HASH"), ("sk", "RANGE")}
    assert {(a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
    }
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_streams_are_kms_encrypted(template: dict[str, Any]) -> None:
    for lid in ("TicksStream", "AnalyticsStream"):
        assert template["Resources"][lid]["Properties"]["StreamEncryption"]["EncryptionType"] == "KMS"


def test_nightly_schedule_passes_the_schedule_time(template: dict[str, Any]) -> None:
    rule = template["Resources"]["NightlySchedule"]["Properties"]
    assert rule["ScheduleExpression"] == {"Ref": "NightlyCron"}
    assert template["Parameters"]["NightlyCron"]["Default"].startswith("cron(")
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "NightlyStateMachine"}
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {"time": "$.time"}
    assert json.loads(transformer["InputTemplate"].replace("<time>", "2026-01-02T02:00:00Z")) == {
        "scheduled_at": "2026-01-02T02:00:00Z"
    }


def test_iso_api_key_secrets(template: dict[str, Any]) -> None:
    r = _resolver(template, config.Names(env="dev", account=ACCOUNT))
    secrets = {r.resolve(s["Properties"]["Name"]) for s in _resources(template, "AWS::SecretsManager::Secret").values()}
    assert secrets == {f"gridtape/dev/{iso.code.lower()}-api-key" for iso in isos.TABLE if iso.api_key}
    assert secrets, "the ISO table names keyed ISOs (PJM, ERCOT)"


# ----------------------------------------------------------------------------- emulator split


def test_every_type_moto_cannot_create_is_off_on_the_emulator(template: dict[str, Any]) -> None:
    """moto's CloudFormation silently skips types it lacks; the template must not rely on
    that — such resources are off for DeployTarget=emulator, and the local runtime plays them."""
    from moto.cloudformation.parsing import get_model_map

    supported = set(get_model_map())
    emu = _resolver(template, config.Names(env="dev", account=ACCOUNT), "emulator")
    unsupported_on = [
        f"{lid} ({r['Type']})"
        for lid, r in template["Resources"].items()
        if r["Type"] not in supported and emu.condition(r.get("Condition"))
    ]
    assert not unsupported_on


def test_bootstrap_creates_no_compute(template: dict[str, Any]) -> None:
    names = config.Names(env="dev", account=ACCOUNT)
    boot = tpl.Resolver(
        template, {**tpl.parameters(names), "DeployTarget": "aws", "Bootstrap": "true"}, ACCOUNT, REGION
    )
    on = {r["Type"] for r in template["Resources"].values() if boot.condition(r.get("Condition"))}
    compute = {"AWS::Lambda::Function", "AWS::Glue::Job", "AWS::StepFunctions::StateMachine", "AWS::Events::Rule"}
    assert not on & {*compute, "AWS::ECS::Service", "AWS::ECS::TaskDefinition"}
    assert "AWS::S3::Bucket" in on


def test_outputs_cover_names(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for key in (
        "TicksStreamName",
        "AnalyticsStreamName",
        "RawBucketName",
        "CuratedBucketName",
        "ArtifactsBucketName",
        "PollerStateTableName",
        "AlertsTopicArn",
        "NightlyStateMachineArn",
        "RawLandingDeliveryStreamName",
        "StreamingJobName",
        "CompactionJobName",
        "RedshiftWorkgroupName",
        "RedshiftDatabase",
        "WarehouseFunctionArn",
        "PollerFunctionNames",
        "FeedTicksLeaseTableName",
        "FeedAnalyticsLeaseTableName",
    ):
        assert key in outputs


def test_outputs_name_no_resource_that_is_not_there(template: dict[str, Any]) -> None:
    """An output naming a resource the template no longer has fails the deploy."""
    text = json.dumps(template["Outputs"])
    refs = set(re.findall(r'"Ref": "(\w+)"', text)) | set(re.findall(r'"Fn::GetAtt": \["(\w+)"', text))
    assert refs - set(template["Resources"]) - set(template["Parameters"]) == set()

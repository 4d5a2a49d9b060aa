"""IAM in infra/gridtape.yaml: every compute resource runs as its own role, no role is admin,
and each role writes only the prefixes its code writes (read from that code), each poller
touching only its own ISO's secret, quarantine prefix and state items."""

from __future__ import annotations

import fnmatch
import inspect
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from app.stack import gen_pollers
from app.stack import template as tpl
from gridtape import isos
from tests.app.template_support import as_list, resolver, resources, statements
from tests.app.template_support import template as load

S3_WRITES = {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load()


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return resources(kind)


# Where a compute resource names the role it runs as.
ROLE_PROPERTIES = {
    "AWS::Lambda::Function": ["Role"],
    "AWS::Glue::Job": ["Role"],
    "AWS::StepFunctions::StateMachine": ["RoleArn"],
    "AWS::RedshiftServerless::Namespace": ["DefaultIamRoleArn"],
    "AWS::ECS::TaskDefinition": ["TaskRoleArn", "ExecutionRoleArn"],
}
# Actions that take no resource ARN in IAM, so `Resource: "*"` is the only form; each use in
# the template carries a comment saying why.
STAR_RESOURCE_OK = re.compile(
    r"^(redshift-data:(DescribeStatement|GetStatementResult|CancelStatement|ListStatements)"
    r"|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)"
    r"|xray:\w+|cloudwatch:PutMetricData|kinesis:ListStreams|ecr:GetAuthorizationToken)$"
)


def _task_roles(template: dict[str, Any]) -> set[str]:
    roles = set()
    for res in template["Resources"].values():
        for prop in ROLE_PROPERTIES.get(res["Type"], []):
            ref = res["Properties"][prop]
            assert "Fn::GetAtt" in ref, f"{res['Type']} role must be this stack's own role, got {ref}"
            roles.add(ref["Fn::GetAtt"][0])
    for res in _resources(template, "AWS::KinesisFirehose::DeliveryStream").values():
        roles.add(res["Properties"]["ExtendedS3DestinationConfiguration"]["RoleARN"]["Fn::GetAtt"][0])
    for res in _resources(template, "AWS::Events::Rule").values():
        for t in res["Properties"]["Targets"]:
            if "RoleArn" in t:
                roles.add(t["RoleArn"]["Fn::GetAtt"][0])
    return roles


def test_every_compute_resource_has_its_own_role(template: dict[str, Any]) -> None:
    roles = _task_roles(template)
    assert {
        *(f"Poll{iso.resource_name}Role" for iso in isos.TABLE),
        "WarehouseRole",
        "StreamingJobRole",
        "CompactionJobRole",
        "NightlyRole",
        "FirehoseRole",
        "FeedTaskRole",
        "FeedExecutionRole",
    } <= roles
    for lid in roles:
        assert template["Resources"][lid]["Type"] == "AWS::IAM::Role"


def test_no_task_role_is_admin(template: dict[str, Any]) -> None:
    for lid in _task_roles(template):
        props = template["Resources"][lid]["Properties"]
        assert not props.get("ManagedPolicyArns"), f"{lid} attaches managed policies"
        for policy in props["Policies"]:
            for st in policy["PolicyDocument"]["Statement"]:
                actions = as_list(st["Action"])
                assert st["Effect"] == "Allow", lid
                assert "NotAction" not in st and "NotResource" not in st, lid
                for action in actions:
                    assert action != "*" and not action.endswith(":*"), f"{lid} allows {action}"
                    assert not action.startswith("iam:"), f"{lid} may change IAM ({action})"
                if "*" in as_list(st["Resource"]):
                    bad = [a for a in actions if not STAR_RESOURCE_OK.match(a)]
                    assert not bad, f"{lid} grants {bad} on every resource"


def test_trust_policies_name_one_service(template: dict[str, Any]) -> None:
    for lid in _task_roles(template):
        for st in template["Resources"][lid]["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert set(st["Principal"]) == {"Service"}, f"{lid} is assumable by {st['Principal']}"


# ----------------------------------------------------------------------------- write prefixes


def _written_prefixes(role: str) -> dict[str, set[str]]:
    """bucket -> the object prefixes `role` may write (PutObject/DeleteObject/...)."""
    r = resolver()
    out: dict[str, set[str]] = {}
    for st in statements(role):
        if not S3_WRITES & set(as_list(st["Action"])):
            continue
        for arn in as_list(r.resolve(st["Resource"])):
            bucket, _, key = arn.removeprefix("arn:aws:s3:::").partition("/")
            assert key.endswith("/*") and key != "/*", f"{role} writes {arn}: not one prefix"
            out.setdefault(bucket, set()).add(key[:-1])
    return out


def test_no_role_writes_a_whole_bucket(template: dict[str, Any]) -> None:
    for role in resources("AWS::IAM::Role"):
        for bucket, prefixes in _written_prefixes(role).items():
            assert "" not in prefixes and all(p.endswith("/") for p in prefixes), (role, bucket, prefixes)


def test_firehose_writes_only_its_delivery_and_error_prefixes(template: dict[str, Any]) -> None:
    names = resolver().values
    raw = f"gridtape-{names['EnvName']}-raw-{names['AWS::AccountId']}"
    assert _written_prefixes("FirehoseRole") == {raw: {"raw/", "errors/"}}
    s3 = template["Resources"]["RawLanding"]["Properties"]["ExtendedS3DestinationConfiguration"]
    assert s3["Prefix"].startswith("raw/") and s3["ErrorOutputPrefix"].startswith("errors/")


def _arg_prefix(job: str, arg: str, bucket: str) -> str:
    value = resolver().resolve(template_args(job)[arg])
    assert value.startswith(f"s3://{bucket}/"), (job, arg, value)
    return value.removeprefix(f"s3://{bucket}/")


def template_args(job: str) -> dict[str, Any]:
    return dict(load()["Resources"][job]["Properties"]["DefaultArguments"])


def test_compaction_writes_only_ticks_manifests_rejects_and_its_staging() -> None:
    from batch import manifests  # where compaction's curated/ prefixes are defined

    curated = resolver().resolve({"Ref": "CuratedBucket"})
    source = (tpl.REPO / "batch" / "compaction_job.py").read_text()
    staging = re.search(r"s3://\{args\.curated_bucket\}/([\w/]+)/\{run_id\}", source)
    assert staging, "batch/compaction_job.py no longer stages under s3://<curated>/<prefix>/<run_id>"
    assert manifests.TICKS_PREFIX.startswith("curated/")
    want = {
        *(v for k, v in vars(manifests).items() if k.endswith("_PREFIX") and str(v).startswith("curated/")),
        staging[1] + "/",
        _arg_prefix("CompactionJob", "--TempDir", curated),
    }
    assert _written_prefixes("CompactionJobRole") == {curated: want}


def test_streaming_writes_only_volatility_markers_and_checkpoint() -> None:
    from streaming import sinks

    curated = resolver().resolve({"Ref": "CuratedBucket"})
    parquet = inspect.signature(sinks.ParquetSink).parameters["prefix"].default
    markers = inspect.signature(sinks.VolatilitySinks).parameters["marker_prefix"].default
    want = {
        parquet.rstrip("/") + "/",
        markers.rstrip("/") + "/",
        _arg_prefix("StreamingJob", "--checkpoint_location", curated),
        _arg_prefix("StreamingJob", "--TempDir", curated),
    }
    assert _written_prefixes("StreamingJobRole") == {curated: want}


# ----------------------------------------------------------------------------- pollers


def _secret_readers() -> dict[str, list[str]]:
    """role -> the secret ARNs it may read."""
    r = resolver()
    return {
        role: [
            arn
            for st in statements(role)
            if "secretsmanager:GetSecretValue" in as_list(st["Action"])
            for arn in as_list(r.resolve(st["Resource"]))
        ]
        for role in resources("AWS::IAM::Role")
    }


@pytest.mark.parametrize("iso", isos.TABLE, ids=lambda i: i.code)
def test_each_poller_touches_only_its_own_iso(iso: isos.Iso) -> None:
    role = f"Poll{iso.resource_name}Role"
    r = resolver()
    raw = r.resolve({"Ref": "RawBucket"})
    assert _written_prefixes(role) == {raw: {gen_pollers.QUARANTINE_PREFIX.format(code=iso.code)}}
    secret = f"arn:aws:secretsmanager:us-east-1:{r.account}:secret:gridtape/dev/{iso.code.lower()}-api-key-*"
    readers = _secret_readers()
    assert readers[role] == ([secret] if iso.api_key else [])
    assert [who for who, arns in readers.items() if secret in arns] == ([role] if iso.api_key else [])
    (ddb,) = [st for st in statements(role) if any(a.startswith("dynamodb:") for a in as_list(st["Action"]))]
    assert ddb["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"*#{iso.code}#*"]}}


def test_quarantine_keys_fall_under_only_their_isos_prefix() -> None:
    from producers import quarantine

    at = datetime(2026, 3, 8, 7, 5, tzinfo=UTC)
    for iso in isos.TABLE:
        keys = [*quarantine.keys(iso.code, "lmp", at, "json"), quarantine.rows_key(iso.code, "lmp", at)]
        for other in isos.TABLE:
            allowed = gen_pollers.QUARANTINE_PREFIX.format(code=other.code) + "*"
            assert all(fnmatch.fnmatchcase(k, allowed) == (other is iso) for k in keys), (iso.code, other.code)


def test_state_keys_name_their_iso_between_hashes() -> None:
    """The pollers' LeadingKeys condition (*#<ISO>#*) matches every partition key the state
    store builds for that ISO, and no other ISO's."""
    from producers import state

    source = (tpl.REPO / "producers" / "state.py").read_text()
    templates = re.findall(r'"pk": \{"S": f"([^"]+)"\}', source)
    assert templates, "producers/state.py builds no partition keys this test recognises"
    for t in templates:
        assert re.search(r"#\{[^}]*iso[^}]*\}#", t), f"partition key {t!r} does not put the ISO between #s"
    tick = {"iso": "PJM", "dataset": "lmp", "market": "RT5", "location": "WESTERN HUB", "interval_start": "x"}
    pk = state.item_key(tick)["pk"]["S"]
    assert [i.code for i in isos.TABLE if fnmatch.fnmatchcase(pk, f"*#{i.code}#*")] == ["PJM"]


def test_poller_roles_allow_every_dynamodb_call_the_state_store_makes() -> None:
    source = (tpl.REPO / "producers" / "state.py").read_text()
    calls = set(re.findall(r'_call\(\s*"(\w+)"', source)) | set(re.findall(r"self\.client\.(\w+)\(", source))
    assert calls, "no DynamoDB calls found in producers/state.py"
    needed = set()
    for call in calls:
        if call == "transact_write_items":
            kinds = set(re.findall(r'"(Put|Update|Delete|ConditionCheck)": \{', source))
            needed |= {f"dynamodb:{k}Item" for k in kinds}
        else:
            needed.add("dynamodb:" + "".join(w.capitalize() for w in call.split("_")))
    for iso in isos.TABLE:
        allowed = {a for st in statements(f"Poll{iso.resource_name}Role") for a in as_list(st["Action"])}
        assert needed <= allowed, f"{iso.code} poller lacks {sorted(needed - allowed)}"

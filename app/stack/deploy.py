"""Deploy infra/gridtape.yaml — the production template, unchanged — to the local emulator
through CloudFormation CreateStack/UpdateStack, and list what is live.

Why the pieces below exist:

* **package** — production runs `aws cloudformation package`, which uploads the file named by
  the state machine's `DefinitionS3Location` (statemachines/nightly.asl.json) and rewrites the
  property. moto's CloudFormation reads only `DefinitionString` and ignores
  `DefinitionSubstitutions`, so for the emulator the package step inlines that same file with
  the substitutions applied exactly as Step Functions applies them (`${Key}` for the keys
  given, nothing else). The file is read at every deploy; there is no copy to drift.
* **DeployTarget=emulator** — resource types moto's CloudFormation cannot create carry
  `Condition: OnAws` in the template; the local runtime plays them (infra/README.md).
* **state machines** — with ASL execution on, moto's Step Functions API serves a backend its
  CloudFormation does not write to; the packaged state machine is put there through the API.
* **top-ups** — moto creates some resources but drops properties (bucket versioning, public
  access block, lifecycle; table TTL and PITR; stream encryption), and two condition-skipped
  types exist in moto's plain API (secrets). After the stack is up, those are
  applied through the emulator's API from the *same template properties*, so the emulator
  mirrors production as far as the emulator can.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from app.stack import emulator
from gridtape import aws, config
from gridtape.errors import GridtapeError

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infra" / "gridtape.yaml"
LAMBDA_ZIP_KEY = "lambda/gridtape-lambda.zip"
ASL_KEY = "statemachines/nightly.asl.json"
# Source files the Lambda handlers import (the emulator never runs the zip; production adds
# the third-party dependencies in its release build, see infra/README.md).
LAMBDA_PACKAGES = ("gridtape", "producers", "batch")
LAMBDA_SUFFIXES = (".py", ".sql", ".json", ".yaml")
# Recorded ISO responses replay the APIs offline (tests, demo); a deployed poller never reads them.
LAMBDA_EXCLUDE_DIRS = frozenset({"__pycache__", "recordings"})
# Glue scripts: source file -> key in the artifacts bucket (uploaded when the file exists).
GLUE_SCRIPTS = {
    "streaming/glue_job.py": "glue/streaming_job.py",
    "batch/compaction_job.py": "glue/compaction_job.py",
}
STACK_TIMEOUT_S = 600.0
_POLL_S = 0.5
_IN_PROGRESS = "_IN_PROGRESS"
_DEAD_STATES = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}
_SUB_KEY = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_SUB_ANY = re.compile(r"\$\{([^}!][^}]*)\}")


class DeployError(GridtapeError):
    """The stack did not reach a complete state; the message names the failed resource."""


# --------------------------------------------------------------------------- template


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short forms (!Ref, !Sub, !GetAtt ...) into the
    long JSON forms, as `aws cloudformation package --use-json` does."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    fn = "Ref" if suffix == "Ref" else "Condition" if suffix == "Condition" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if fn == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {fn: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    if not path.is_file():
        raise DeployError(f"template {path} not found (gridtape must run from a source checkout)")
    data = yaml.load(path.read_text(), Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise DeployError(f"{path} is not a CloudFormation template (no Resources)")
    return data


def parameters(names: config.Names) -> dict[str, str]:
    return {"EnvName": names.env, "DeployTarget": "emulator", "Bootstrap": "false"}


class Resolver:
    """Evaluates the intrinsic functions the package step and the top-ups need, with the
    values CloudFormation itself would use: parameters, pseudo parameters and the stack's own
    physical resource ids (after it exists). Anything else is an explicit error."""

    def __init__(
        self,
        template: dict[str, Any],
        params: dict[str, str],
        account: str,
        region: str,
        physical_ids: dict[str, str] | None = None,
    ) -> None:
        self.template = template
        self.resources: dict[str, Any] = template["Resources"]
        self.values: dict[str, Any] = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        self.values.update(params)
        self.values.update(
            {
                "AWS::AccountId": account,
                "AWS::Region": region,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": f"gridtape-{self.values['EnvName']}",
            }
        )
        self.account, self.region = account, region
        self.physical_ids = physical_ids or {}

    def condition(self, name: str | None) -> bool:
        if name is None:
            return True
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (fn, arg), *_ = node.items()
            handler = self._functions.get(fn)
            if handler is not None:
                return handler(self, arg)
        return {k: self.resolve(v) for k, v in node.items()}

    def _ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        res = self.resources.get(name)
        if res is None:
            raise DeployError(f"template refers to unknown name {name!r}")
        # Before the stack exists: a Ref to a named resource is its name, except where
        # CloudFormation's Ref returns an ARN.
        props = res.get("Properties", {})
        kind = res["Type"]
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{self.resolve(props['TopicName'])}"
        if kind == "AWS::StepFunctions::StateMachine":
            sm = self.resolve(props["StateMachineName"])
            return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{sm}"
        for key in ("BucketName", "Name", "TableName", "FunctionName", "LogGroupName", "RoleName"):
            if key in props:
                return self.resolve(props[key])
        raise DeployError(f"cannot resolve Ref {name} ({kind}) before the stack exists")

    def _getatt(self, arg: list[str]) -> Any:
        name, attr = arg[0], arg[1]
        kind = self.resources[name]["Type"]
        ref = self._ref(name)
        if attr == "Arn":
            arns = {
                "AWS::S3::Bucket": f"arn:aws:s3:::{ref}",
                "AWS::KMS::Key": f"arn:aws:kms:{self.region}:{self.account}:key/{ref}",
                "AWS::Kinesis::Stream": f"arn:aws:kinesis:{self.region}:{self.account}:stream/{ref}",
                "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{self.region}:{self.account}:table/{ref}",
                "AWS::Lambda::Function": f"arn:aws:lambda:{self.region}:{self.account}:function:{ref}",
                "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{ref}",
            }
            if kind in arns:
                return arns[kind]
        raise DeployError(f"cannot resolve GetAtt {name}.{attr} ({kind}) locally")

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def one(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in local:
                return str(local[key])
            if "." in key and key.split(".", 1)[0] in self.resources:
                return str(self._getatt(key.split(".", 1)))
            return str(self._ref(key))

        return _SUB_ANY.sub(one, text).replace("${!", "${")

    def _if(self, arg: list[Any]) -> Any:
        return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])

    _functions: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _getatt,
        "Fn::Sub": _sub,
        "Fn::If": _if,
        "Fn::Equals": lambda self, a: self.resolve(a[0]) == self.resolve(a[1]),
        "Fn::Not": lambda self, a: not self.resolve(a[0]),
        "Fn::And": lambda self, a: all(self.resolve(x) for x in a),
        "Fn::Or": lambda self, a: any(self.resolve(x) for x in a),
        "Condition": lambda self, a: self.condition(a),
        "Fn::Join": lambda self, a: a[0].join(str(x) for x in self.resolve(a[1])),
    }


def apply_substitutions(definition: str, substitutions: dict[str, Any]) -> str:
    """What Step Functions does with DefinitionSubstitutions: replace ${Key} for each given
    key; leave every other character (JSONPath `$.x`, context `$$.Execution`) alone."""
    return _SUB_KEY.sub(lambda m: str(substitutions.get(m.group(1), m.group(0))), definition)


def package(template: dict[str, Any], template_dir: Path, resolver: Resolver) -> dict[str, Any]:
    """The emulator's `aws cloudformation package`: every state machine whose
    DefinitionS3Location is a local path gets that file inlined as DefinitionString."""
    packaged = json.loads(json.dumps(template))
    for logical_id, res in packaged["Resources"].items():
        if res["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        props = res["Properties"]
        location = props.get("DefinitionS3Location")
        if not isinstance(location, str):
            continue
        path = (template_dir / location).resolve()
        if not path.is_file():
            raise DeployError(f"{logical_id}: DefinitionS3Location {location} -> {path} does not exist")
        text = path.read_text()
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise DeployError(f"{path} is not valid JSON: {exc}") from exc
        subs = resolver.resolve(props.pop("DefinitionSubstitutions", {}))
        missing = sorted(set(_SUB_KEY.findall(text)) - set(subs))
        if missing:
            raise DeployError(f"{path} uses ${{{', '.join(missing)}}} but {logical_id} does not substitute it")
        del props["DefinitionS3Location"]
        props["DefinitionString"] = apply_substitutions(text, subs)
    return packaged


# --------------------------------------------------------------------------- stack


_REBUILD = "rebuild the emulator stack with `gridtape stack down && gridtape stack up`"


def _stack(name: str) -> dict[str, Any] | None:
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    except BotoCoreError as exc:  # moto answers HTML 500s once a stack's record is corrupt
        raise DeployError(f"the emulator cannot describe stack {name} ({exc}); {_REBUILD}") from exc
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


def _failure_detail(stack_name: str, template: dict[str, Any], resolver: Resolver) -> str:
    """Which resource failed. CloudFormation (and LocalStack) record FAILED resource events;
    moto creates synchronously, stops at the first exception and records none, so for moto
    the answer is the first resource, in its creation order, that does not exist."""
    cfn = aws.client("cloudformation")
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except ClientError:
        events = []
    failed = [
        f"{e['LogicalResourceId']} ({e.get('ResourceType', '?')}): {e.get('ResourceStatusReason', 'no reason given')}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED") and e["LogicalResourceId"] != stack_name
    ]
    if failed:
        return "; ".join(reversed(failed))
    culprit = _first_missing(template, resolver)
    return f"first resource not created: {culprit} (or a resource it refers to)" if culprit else ""


def _first_missing(template: dict[str, Any], resolver: Resolver) -> str | None:
    """The first resource (template order with DependsOn first, as moto creates them) whose
    named physical resource is not live. Types status() cannot see are skipped."""
    try:
        live = {
            (row["type"], row["name"]) for row in status(config.Names(resolver.values["EnvName"], resolver.account))
        }
    except ClientError:
        return None
    seen: set[str] = set()
    order: list[str] = []

    def visit(lid: str) -> None:
        if lid in seen:
            return
        seen.add(lid)
        deps = template["Resources"][lid].get("DependsOn", [])
        for dep in [deps] if isinstance(deps, str) else deps:
            visit(dep)
        order.append(lid)

    for lid in template["Resources"]:
        visit(lid)
    for lid in order:
        res = template["Resources"][lid]
        if not resolver.condition(res.get("Condition")) or res["Type"] not in _STATUS_TYPES:
            continue
        try:
            name = resolver.resolve(res["Properties"][_STATUS_TYPES[res["Type"]]])
        except (DeployError, KeyError):
            continue
        if (res["Type"], name) not in live:
            return f"{lid} ({res['Type']} {name})"
    return None


def _wait(stack_name: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        stack = _stack(stack_name)
        if stack is None:
            raise DeployError(f"stack {stack_name} disappeared while deploying")
        if not stack["StackStatus"].endswith(_IN_PROGRESS):
            return stack
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still {stack['StackStatus']} after {timeout_s:.0f}s")
        time.sleep(_POLL_S)


def _expected_resources(template: dict[str, Any], resolver: Resolver) -> list[str]:
    return [lid for lid, r in template["Resources"].items() if resolver.condition(r.get("Condition"))]


def _normalise(body: Any) -> Any:
    return json.loads(body) if isinstance(body, str) else json.loads(json.dumps(body))


def deploy(names: config.Names, *, template_path: Path = TEMPLATE, timeout_s: float = STACK_TIMEOUT_S) -> None:
    """Create or update stack `names.stack` on the emulator from infra/gridtape.yaml, wait
    for it, top up what moto leaves out, upload the artifacts, and check every physical name
    against `names`. A second call with nothing changed makes no stack update."""
    cfn = aws.client("cloudformation")
    params = parameters(names)
    template = load_template(template_path)
    resolver = Resolver(template, params, names.account, config.region())
    packaged = package(template, template_path.parent, resolver)
    body = json.dumps(packaged, separators=(",", ":"))
    cfn_params = [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()]
    tags = [{"Key": "project", "Value": "gridtape"}, {"Key": "env", "Value": names.env}]

    stack = _stack(names.stack)
    if stack is not None and (stack["StackStatus"] in _DEAD_STATES or stack["StackStatus"].endswith(_IN_PROGRESS)):
        # A failed create leaves nothing worth keeping (and moto leaves a half-built stack in
        # CREATE_IN_PROGRESS forever): delete it and start again.
        log.warning("stack %s is %s; deleting it and creating it again", names.stack, stack["StackStatus"])
        _delete(names.stack, timeout_s, packaged, resolver)
        stack = None

    action = "create"
    try:
        if stack is None:
            cfn.create_stack(StackName=names.stack, TemplateBody=body, Parameters=cfn_params, Tags=tags)
        else:
            current = _normalise(cfn.get_template(StackName=names.stack)["TemplateBody"])
            live_params = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
            if current == _normalise(body) and all(live_params.get(k) == v for k, v in params.items()):
                log.info("stack %s is up to date", names.stack)
                action = "none"
            else:
                action = "update"
                _refuse_updates_moto_cannot_apply(names.stack, current, packaged)
                cfn.update_stack(StackName=names.stack, TemplateBody=body, Parameters=cfn_params, Tags=tags)
    except ClientError as exc:
        if action == "update" and "No updates are to be performed" in str(exc):
            action = "none"
        else:
            detail = _failure_detail(names.stack, packaged, resolver)
            if action == "create":
                _delete_quietly(names.stack, timeout_s, packaged, resolver)
            raise DeployError(
                f"{action} of stack {names.stack} failed: {exc}" + (f" — {detail}" if detail else "")
            ) from exc

    if action != "none":
        final = _wait(names.stack, timeout_s)
        if final["StackStatus"] not in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
            detail = _failure_detail(names.stack, packaged, resolver)
            raise DeployError(f"stack {names.stack} ended {final['StackStatus']}: {detail or 'no detail'}")
        log.info("stack %s: %s complete", names.stack, action)

    physical = _physical_ids(names.stack)
    missing = [lid for lid in _expected_resources(packaged, resolver) if lid not in physical]
    if missing:
        what = ", ".join(f"{lid} ({packaged['Resources'][lid]['Type']})" for lid in missing)
        hint = f"; {_REBUILD}" if action == "update" else ""
        raise DeployError(f"after {action}, stack {names.stack} lacks {what}{hint}")
    live = Resolver(template, params, names.account, config.region(), physical)
    _top_up(template, live)
    _ensure_state_machines(packaged, live)
    upload_artifacts(names, template_path)
    _check_names(names)


def _refuse_updates_moto_cannot_apply(stack_name: str, current: dict[str, Any], new: dict[str, Any]) -> None:
    """moto's CloudFormation has no update for some types (KMS key, DynamoDB table, log group,
    Lambda permission): an UpdateStack that modifies one drops it from the stack record and
    leaves the stack undescribable. Say so before breaking the stack."""
    url = aws.endpoint_url()
    if not url or not emulator.is_moto(url):
        return
    try:
        from moto.cloudformation.parsing import get_model_map
    except ImportError:  # a moto server gridtape did not start, without moto installed here
        return
    models = get_model_map()
    old_res, new_res = current.get("Resources", {}), new["Resources"]
    stuck = [
        f"{lid} ({res['Type']})"
        for lid, res in new_res.items()
        if lid in old_res
        and old_res[lid] != res
        and res["Type"] in models
        and hasattr(models[res["Type"]].update_from_cloudformation_json, "__isabstractmethod__")
    ]
    if stuck:
        raise DeployError(
            f"stack {stack_name}: the template changes {', '.join(stuck)}, which moto's CloudFormation "
            f"cannot update in place; {_REBUILD} (the emulator's data goes with it)"
        )


def _physical_ids(stack_name: str) -> dict[str, str]:
    rows = aws.client("cloudformation").describe_stack_resources(StackName=stack_name)["StackResources"]
    # moto lists a resource it cannot describe (no logical id) as an empty row; skip it — the
    # expected-resources check below names whatever is really missing.
    return {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in rows if r.get("LogicalResourceId")}


def _delete(stack_name: str, timeout_s: float, template: dict[str, Any], resolver: Resolver) -> None:
    """Delete a dead stack, then its DeletionPolicy: Retain leftovers: CloudFormation keeps
    them (so does moto), and a bucket or table left behind makes the next CreateStack fail
    with "already exists". Only ever called for the emulator's stack."""
    aws.client("cloudformation").delete_stack(StackName=stack_name)
    deadline = time.monotonic() + timeout_s
    while _stack(stack_name) is not None:
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} was not deleted within {timeout_s:.0f}s")
        time.sleep(_POLL_S)
    _purge_retained(template, resolver)


def _purge_retained(template: dict[str, Any], resolver: Resolver) -> None:
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    for lid, res in template["Resources"].items():
        if res.get("DeletionPolicy") != "Retain" or not resolver.condition(res.get("Condition")):
            continue
        props = res.get("Properties", {})
        try:
            if res["Type"] == "AWS::S3::Bucket":
                bucket = resolver.resolve(props["BucketName"])
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                    doomed = [
                        {"Key": v["Key"], "VersionId": v["VersionId"]}
                        for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                    ]
                    if doomed:
                        s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
                s3.delete_bucket(Bucket=bucket)
            elif res["Type"] == "AWS::DynamoDB::Table":
                ddb.delete_table(TableName=resolver.resolve(props["TableName"]))
            else:
                continue  # e.g. the KMS key: unnamed, so a new one never collides with it
        except ClientError as exc:
            if "NoSuchBucket" in str(exc) or "ResourceNotFound" in str(exc):
                continue
            raise
        log.warning("removed %s left behind by the deleted stack (DeletionPolicy: Retain)", lid)


def _delete_quietly(stack_name: str, timeout_s: float, template: dict[str, Any], resolver: Resolver) -> None:
    try:
        _delete(stack_name, timeout_s, template, resolver)
    except (ClientError, DeployError) as exc:  # the original failure is the one to report
        log.warning("could not delete half-created stack %s: %s", stack_name, exc)


def outputs(names: config.Names) -> dict[str, str]:
    stack = _stack(names.stack)
    if stack is None:
        raise DeployError(f"stack {names.stack} is not deployed: run `gridtape stack up`")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _check_names(names: config.Names) -> None:
    """The template builds names from EnvName and the account; gridtape.config.Names builds
    them in Python. A difference would send the local runtime to resources that do not exist."""
    out = outputs(names)
    want = {
        "TicksStreamName": names.ticks_stream,
        "AnalyticsStreamName": names.analytics_stream,
        "RawBucketName": names.raw_bucket,
        "CuratedBucketName": names.curated_bucket,
        "ArtifactsBucketName": names.artifacts_bucket,
        "PollerStateTableName": names.poller_state_table,
        "AlertsTopicName": names.alerts_topic,
        "NightlyStateMachineName": names.nightly_state_machine,
    }
    wrong = {k: (out.get(k), v) for k, v in want.items() if out.get(k) != v}
    if wrong:
        detail = ", ".join(f"{k}: stack has {got!r}, Names expects {exp!r}" for k, (got, exp) in wrong.items())
        raise DeployError(f"stack {names.stack} names differ from gridtape.config.Names ({detail})")


# --------------------------------------------------------------------------- top-ups


_TOP_UP_KINDS = {
    "AWS::S3::Bucket",
    # Not AWS::S3::BucketPolicy: the only policy is TLS-only (deny aws:SecureTransport=false),
    # moto enforces it, and the emulator speaks plain HTTP on 127.0.0.1 — it would deny all.
    "AWS::DynamoDB::Table",
    "AWS::Kinesis::Stream",
    "AWS::SecretsManager::Secret",
}


def _top_up(template: dict[str, Any], r: Resolver) -> None:
    """Apply, through the emulator's plain API, the template properties and resource types
    moto's CloudFormation drops — only for resources the production stack would create."""
    prod = Resolver(template, {**r.values, "DeployTarget": "aws"}, r.account, r.region, r.physical_ids)
    s3, ddb, kinesis, sm = (aws.client(s) for s in ("s3", "dynamodb", "kinesis", "secretsmanager"))
    for lid, res in template["Resources"].items():
        if not prod.condition(res.get("Condition")):
            continue
        kind = res["Type"]
        if kind not in _TOP_UP_KINDS:
            continue
        props = r.resolve(res.get("Properties", {}))
        if kind == "AWS::S3::Bucket":
            bucket = r.physical_ids[lid]
            if "PublicAccessBlockConfiguration" in props:
                s3.put_public_access_block(
                    Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
                )
            if "VersioningConfiguration" in props:
                s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=props["VersioningConfiguration"])
            if "LifecycleConfiguration" in props:
                s3.put_bucket_lifecycle_configuration(
                    Bucket=bucket,
                    LifecycleConfiguration={
                        "Rules": [_lifecycle_rule(x) for x in props["LifecycleConfiguration"]["Rules"]]
                    },
                )
        elif kind == "AWS::DynamoDB::Table":
            table = r.physical_ids[lid]
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"].get(
                "TimeToLiveStatus"
            ) not in {"ENABLED", "ENABLING"}:
                ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
            pitr = props.get("PointInTimeRecoverySpecification")
            if pitr:
                ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification=pitr)
        elif kind == "AWS::Kinesis::Stream":
            enc = props.get("StreamEncryption")
            stream = r.physical_ids[lid]
            if (
                enc
                and kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"].get(
                    "EncryptionType", "NONE"
                )
                == "NONE"
            ):
                kinesis.start_stream_encryption(
                    StreamName=stream, EncryptionType=enc["EncryptionType"], KeyId=enc["KeyId"]
                )
        elif kind == "AWS::SecretsManager::Secret":
            try:
                sm.describe_secret(SecretId=props["Name"])
            except ClientError:  # create once; never overwrite a value someone has set
                sm.create_secret(
                    Name=props["Name"],
                    Description=props.get("Description", ""),
                    KmsKeyId=props.get("KmsKeyId", ""),
                    SecretString=props.get("SecretString", ""),
                    Tags=[{"Key": "project", "Value": "gridtape"}],
                )


def _ensure_state_machines(packaged: dict[str, Any], r: Resolver) -> None:
    """Make the state machines the Step Functions API serves match the packaged template.
    Needed on moto: with ASL execution switched on (gridtape/emulator.py), moto's API serves a
    second backend that its CloudFormation does not write to, so a CFN-created state machine
    is invisible to StartExecution. Elsewhere (LocalStack) this finds it and does nothing."""
    sfn = aws.client("stepfunctions")
    for lid, res in packaged["Resources"].items():
        if res["Type"] != "AWS::StepFunctions::StateMachine" or not r.condition(res.get("Condition")):
            continue
        props = res["Properties"]
        name = r.resolve(props["StateMachineName"])
        definition, role = props["DefinitionString"], r.resolve(props["RoleArn"])
        arn = f"arn:aws:states:{r.region}:{r.account}:stateMachine:{name}"
        try:
            live = sfn.describe_state_machine(stateMachineArn=arn)
        except ClientError as exc:
            if "StateMachineDoesNotExist" not in str(exc):
                raise
            live = None
        try:
            if live is None:
                sfn.create_state_machine(
                    name=name,
                    definition=definition,
                    roleArn=role,
                    type=props.get("StateMachineType", "STANDARD"),
                    tags=[{"key": "project", "value": "gridtape"}],
                )
            elif live["definition"] != definition or live["roleArn"] != role:
                sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)
        except ClientError as exc:
            raise DeployError(f"{lid} ({name}): the emulator rejected the definition: {exc}") from exc


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule shape -> the S3 API's."""
    out: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Transitions" in rule:
        out["Transitions"] = [
            {"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]} for t in rule["Transitions"]
        ]
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    if "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]}
    if "NoncurrentVersionTransitions" in rule:
        out["NoncurrentVersionTransitions"] = [
            {"NoncurrentDays": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
            for t in rule["NoncurrentVersionTransitions"]
        ]
    return out


# --------------------------------------------------------------------------- artifacts


def build_lambda_zip(root: Path = REPO) -> bytes:
    """The handlers' source as a zip with fixed timestamps and order, so the same source gives
    the same bytes (and an unchanged deploy uploads nothing)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for package_name in LAMBDA_PACKAGES:
            base = root / package_name
            for path in sorted(base.rglob("*")):
                if (
                    path.is_file()
                    and path.suffix in LAMBDA_SUFFIXES
                    and not LAMBDA_EXCLUDE_DIRS & set(path.relative_to(root).parts)
                ):
                    info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _put_if_changed(bucket: str, key: str, data: bytes) -> bool:
    s3 = aws.client("s3")
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    try:
        if s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"') == digest:
            return False
    except ClientError:
        pass
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return True


def upload_artifacts(names: config.Names, template_path: Path = TEMPLATE) -> list[str]:
    """What the production release step puts in the artifacts bucket: the Lambda zip, the ASL
    file (as packaged) and the Glue scripts that exist. Returns the keys it (re)wrote."""
    root = template_path.parent.parent
    wrote = []
    items = {
        LAMBDA_ZIP_KEY: build_lambda_zip(root),
        ASL_KEY: (root / "statemachines" / "nightly.asl.json").read_bytes(),
    }
    for source, key in GLUE_SCRIPTS.items():
        if (root / source).is_file():
            items[key] = (root / source).read_bytes()
    for key, data in items.items():
        if _put_if_changed(names.artifacts_bucket, key, data):
            wrote.append(key)
    return wrote


# --------------------------------------------------------------------------- status


# Resource types status() lists, and the property that holds their name.
_STATUS_TYPES = {
    "AWS::Kinesis::Stream": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::KMS::Alias": "AliasName",
}


def _listed(service: str, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item of a paginated AWS listing."""
    pages = aws.client(service).get_paginator(operation).paginate(**kwargs)
    return [item for page in pages for item in page.get(key, [])]


def _stream_names() -> list[str]:
    """Every Kinesis stream name. Paged by ExclusiveStartStreamName, which AWS and the
    emulators all honour (moto answers HasMoreStreams without the NextToken boto3's paginator
    follows, so the paginator would stop after the first page)."""
    kinesis = aws.client("kinesis")
    found: list[str] = []
    while True:
        page = kinesis.list_streams(Limit=100, **({"ExclusiveStartStreamName": found[-1]} if found else {}))
        found.extend(page["StreamNames"])
        if not page.get("HasMoreStreams") or not page["StreamNames"]:
            return found


def status(names: config.Names) -> list[dict[str, Any]]:
    """Live resources of this environment, asked of each service (not of the stack record),
    so a resource deleted behind the stack's back does not show."""
    prefix = f"gridtape-{names.env}-"
    rows: list[dict[str, Any]] = []

    def add(kind: str, found: Iterable[str]) -> None:
        rows.extend({"type": kind, "name": n} for n in sorted(found))

    # Every listing is paginated: an account (or a long test session's emulator) easily holds
    # more than one page of streams, roles or log groups.
    add("AWS::Kinesis::Stream", (n for n in _stream_names() if n.startswith(prefix)))
    buckets = {b["Name"] for b in aws.client("s3").list_buckets().get("Buckets", [])}
    add(
        "AWS::S3::Bucket", (n for n in (names.raw_bucket, names.curated_bucket, names.artifacts_bucket) if n in buckets)
    )
    add("AWS::DynamoDB::Table", (n for n in _listed("dynamodb", "list_tables", "TableNames") if n.startswith(prefix)))
    topics = (t["TopicArn"].rsplit(":", 1)[1] for t in _listed("sns", "list_topics", "Topics"))
    add("AWS::SNS::Topic", (n for n in topics if n.startswith(prefix)))
    machines = _listed("stepfunctions", "list_state_machines", "stateMachines")
    add("AWS::StepFunctions::StateMachine", (m["name"] for m in machines if m["name"].startswith(prefix)))
    functions = _listed("lambda", "list_functions", "Functions")
    add("AWS::Lambda::Function", (f["FunctionName"] for f in functions if f["FunctionName"].startswith(prefix)))
    rules = _listed("events", "list_rules", "Rules", NamePrefix=prefix)
    add("AWS::Events::Rule", (r["Name"] for r in rules))
    roles = _listed("iam", "list_roles", "Roles")
    add("AWS::IAM::Role", (r["RoleName"] for r in roles if r["RoleName"].startswith(prefix)))
    groups = _listed("logs", "describe_log_groups", "logGroups")
    add("AWS::Logs::LogGroup", (g["logGroupName"] for g in groups if prefix in g["logGroupName"]))
    aliases = _listed("kms", "list_aliases", "Aliases")
    add("AWS::KMS::Alias", (a["AliasName"] for a in aliases if a["AliasName"] == f"alias/gridtape-{names.env}"))
    secrets = _listed("secretsmanager", "list_secrets", "SecretList")
    add("AWS::SecretsManager::Secret", (s["Name"] for s in secrets if s["Name"].startswith(f"gridtape/{names.env}/")))
    return rows

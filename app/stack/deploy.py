"""Deploy infra/gridtape.yaml — the production template, unchanged — to the local emulator
through CloudFormation CreateStack/UpdateStack, wait for it, and clean up after a failure.

The steps (infra/README.md, "The same template on one machine"): package the ASL
(app.stack.packaging), create or update the stack with DeployTarget=emulator (resource types
moto's CloudFormation cannot create carry `Condition: OnAws`; the local runtime plays them, and
the body sent leaves them out), top up what moto drops (app.stack.topups), upload the artifacts (app.stack.artifacts), and check
every physical name against gridtape.config.Names.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from app.local import feed_leases
from app.stack import emulator
from app.stack.artifacts import upload_artifacts
from app.stack.packaging import package
from app.stack.status import STATUS_TYPES, status
from app.stack.template import TEMPLATE, DeployError, Resolver, load_template, parameters
from app.stack.topups import ensure_state_machines, top_up
from gridtape import aws, config

__all__ = ["DeployError", "deploy", "outputs"]

log = logging.getLogger(__name__)

STACK_TIMEOUT_S = 600.0
_POLL_S = 0.5
_IN_PROGRESS = "_IN_PROGRESS"
_DEAD_STATES = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}

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
        if not resolver.condition(res.get("Condition")) or res["Type"] not in STATUS_TYPES:
            continue
        try:
            name = resolver.resolve(res["Properties"][STATUS_TYPES[res["Type"]]])
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


def _switched_on(template: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    """The template without the resources and outputs its conditions switch off here.
    CloudFormation would not create them either; moto's UpdateStack, given a changed one it
    never created, crashes (its update handlers dereference the missing original) and leaves
    the stack undescribable."""
    out = dict(template)
    for section in ("Resources", "Outputs"):
        out[section] = {
            lid: res for lid, res in template.get(section, {}).items() if resolver.condition(res.get("Condition"))
        }
    return out


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
    body = json.dumps(_switched_on(packaged, resolver), separators=(",", ":"))
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
                _refuse_updates_moto_cannot_apply(names.stack, current, _switched_on(packaged, resolver))
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
    top_up(template, live)
    ensure_state_machines(packaged, live)
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
        # The feed's KCL application names (feed/container.py) are its lease tables' names.
        "FeedTicksLeaseTableName": feed_leases.lease_table(names, "ticks"),
        "FeedAnalyticsLeaseTableName": feed_leases.lease_table(names, "analytics"),
    }
    wrong = {k: (out.get(k), v) for k, v in want.items() if out.get(k) != v}
    if wrong:
        detail = ", ".join(f"{k}: stack has {got!r}, Names expects {exp!r}" for k, (got, exp) in wrong.items())
        raise DeployError(f"stack {names.stack} names differ from gridtape.config.Names ({detail})")

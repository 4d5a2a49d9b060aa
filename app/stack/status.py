"""What of an environment is live, asked of each service (not of the stack record), so a
resource deleted behind the stack's back does not show."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gridtape import aws, config

# Resource types status() lists, and the property that holds their name.
STATUS_TYPES = {
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

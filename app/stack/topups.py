"""Top-ups: moto creates some resources but drops properties (bucket versioning, public access
block, lifecycle; table TTL and PITR; stream encryption), and one condition-skipped type exists
in moto's plain API (secrets). After the stack is up, those are applied through the emulator's
API from the *same template properties*, so the emulator mirrors production as far as it can.
Also the state machines: with ASL execution on, moto's Step Functions API serves a backend its
CloudFormation does not write to; the packaged state machine is put there through the API."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from app.stack.template import DeployError, Resolver
from gridtape import aws

_TOP_UP_KINDS = {
    "AWS::S3::Bucket",
    # Not AWS::S3::BucketPolicy: the only policy is TLS-only (deny aws:SecureTransport=false),
    # moto enforces it, and the emulator speaks plain HTTP on 127.0.0.1 — it would deny all.
    "AWS::DynamoDB::Table",
    "AWS::Kinesis::Stream",
    "AWS::SecretsManager::Secret",
}


def top_up(template: dict[str, Any], r: Resolver) -> None:
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


def ensure_state_machines(packaged: dict[str, Any], r: Resolver) -> None:
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

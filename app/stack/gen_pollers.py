"""The per-ISO part of infra/gridtape.yaml, one block per row of the ISO table
(gridtape/isos.py): the API key secret (keyed ISOs only), the poller's own role, log group,
Lambda function, async-invoke settings, schedule, invoke permission and Errors alarm.

Each poller has its own role so that it reads only its own ISO's key and writes only its own
ISO's quarantine prefix and state-table items (infra/README.md, IAM)."""

from __future__ import annotations

import math
from typing import Any

from app.stack import gen_alarms
from app.stack.cfn_yaml import GetAtt, If, Join, Ref, Sub
from gridtape import isos
from producers import quarantine

# Where producers.quarantine puts an ISO's refused responses in the raw bucket (a test checks
# its keys fall under their own ISO's prefix and no other's).
QUARANTINE_PREFIX = f"{quarantine.PREFIX}/iso={{code}}/"
# Every partition key the poller-state table holds for an ISO names it between '#'s
# (producers/state.py: tick#<ISO>#<dataset>, feed#<ISO>#<dataset>: lease, cursor and status); a test checks both forms.
STATE_KEY_PATTERN = "*#{code}#*"
# Inside the one-minute schedule. An invocation polls the feeds due, then stays for the fast
# windows opening within its minute (producers.poller.loop.LAMBDA_WINDOW_S, 50 s: each feed on
# its rhythm, producers.rhythm) and returns at once when none does; a warm container keeps each
# feed's schedule and validators, a cold one reads the validators from the state table.
# (Chosen over a Step Functions Express loop: the same cost per second of polling, but the warm
# HTTP session, rate limiter and schedule live in one process; README: the cost per month.)
LAMBDA_TIMEOUT_S = 55

_ARN = "arn:${AWS::Partition}"
_REGIONAL = "${AWS::Region}:${AWS::AccountId}"
_STUB = "def handler(event, context):\n    raise RuntimeError('emulator stub: gridtape runs producers.handler in-process')\n"


def stem(iso: isos.Iso) -> str:
    """Logical-id stem of an ISO's poller resources: PJM -> PollPjm."""
    return f"Poll{iso.resource_name}"


def function_name(iso: isos.Iso) -> str:
    return f"gridtape-${{EnvName}}-poll-{iso.code.lower()}"


def secret_name(iso: isos.Iso) -> str:
    return f"gridtape/${{EnvName}}/{iso.code.lower()}-api-key"


def schedule(iso: isos.Iso) -> str:
    minutes = max(1, math.ceil(iso.min_poll_interval_s / 60))
    return "rate(1 minute)" if minutes == 1 else f"rate({minutes} minutes)"


def secrets(iso: isos.Iso) -> dict[str, Any]:
    if iso.api_key is None:
        return {}
    need = "required" if iso.api_key.required else "optional: it lifts the rate limit"
    return {
        f"{iso.resource_name}ApiKeySecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Condition": "OnAws",
            "Properties": {
                "Name": Sub(secret_name(iso)),
                "Description": f"{iso.name} API key ({need}); set with put-secret-value.",
                "KmsKeyId": GetAtt("DataKey.Arn"),
                "SecretString": "unset",
            },
        }
    }


def _policy(iso: isos.Iso) -> list[dict[str, Any]]:
    code, name = iso.code, function_name(iso)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PublishTicks",
            "Effect": "Allow",
            "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"],
            "Resource": GetAtt("TicksStream.Arn"),
        },
        {
            "Sid": "OwnStateItems",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",  # TransactWriteItems checks the lease fence
            ],
            "Resource": GetAtt("PollerStateTable.Arn"),
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [STATE_KEY_PATTERN.format(code=code)]}},
        },
        {
            "Sid": "QuarantineOwnResponses",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": Sub(f"${{RawBucket.Arn}}/{QUARANTINE_PREFIX.format(code=code)}*"),
        },
    ]
    if iso.api_key is not None:
        statements.append(
            {
                "Sid": "ReadOwnApiKey",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                # Secrets Manager appends a random 6-character suffix to the ARN.
                "Resource": Sub(f"{_ARN}:secretsmanager:{_REGIONAL}:secret:{secret_name(iso)}-*"),
            }
        )
    statements += [
        {
            "Sid": "UseDataKey",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": GetAtt("DataKey.Arn"),
        },
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": Sub(f"{_ARN}:logs:{_REGIONAL}:log-group:/aws/lambda/{name}:*"),
        },
        {
            # Active tracing; X-Ray's write actions take no resource ARN.
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
    ]
    return statements


def poller(iso: isos.Iso) -> dict[str, Any]:
    s, name = stem(iso), function_name(iso)
    env: dict[str, Any] = {"GRIDTAPE_ISO": iso.code, "GRIDTAPE_ENV": Ref("EnvName")}
    if iso.api_key is not None:
        env[iso.api_key.secret_env] = Sub(secret_name(iso))
    return {
        f"{s}Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": Sub(name),
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": f"poll-{iso.code.lower()}",
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": _policy(iso)},
                    }
                ],
            },
        },
        f"{s}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": Sub(f"/aws/lambda/{name}"),
                "RetentionInDays": 30,
                "KmsKeyId": GetAtt("DataKey.Arn"),
            },
        },
        f"{s}Function": {
            "Type": "AWS::Lambda::Function",
            "Condition": "Compute",
            "DependsOn": f"{s}LogGroup",
            "Metadata": {
                "checkov": {
                    "skip": [
                        {
                            "id": "CKV_AWS_116",
                            "comment": "No DLQ; a failed minute is re-polled by the next one (the cursor lives in the poller-state table) and the Errors alarm pages.",
                        },
                        {
                            "id": "CKV_AWS_117",
                            "comment": "Not in a VPC; it only calls public ISO APIs and AWS endpoints, a VPC would add a NAT gateway and nothing else.",
                        },
                    ]
                }
            },
            "Properties": {
                "FunctionName": Sub(name),
                "Description": f"Polls {iso.code} market data on each feed's rhythm (fast while an interval is due) "
                "and publishes new intervals to the ticks stream.",
                "Runtime": "python3.12",
                "Handler": "producers.handler.handler",
                "Role": GetAtt(f"{s}Role.Arn"),
                # The emulator never runs Lambda code (gridtape calls the handler in-process):
                # a stub instead of the artifact the stack's own bucket cannot hold before it exists.
                "Code": If(
                    [
                        "OnAws",
                        {"S3Bucket": Ref("ArtifactsBucket"), "S3Key": "lambda/gridtape-lambda.zip"},
                        {"ZipFile": _STUB},
                    ]
                ),
                "Timeout": LAMBDA_TIMEOUT_S,
                "MemorySize": 512,
                # One run per ISO at a time, so two polls never race on the same cursor.
                "ReservedConcurrentExecutions": 1,
                "KmsKeyArn": GetAtt("DataKey.Arn"),
                "TracingConfig": {"Mode": "Active"},
                "Environment": {"Variables": env},
            },
        },
        # EventBridge invokes asynchronously; Lambda's default two async retries would overlap
        # the next scheduled poll, which re-polls anyway. moto lacks the type: AWS only.
        f"{s}InvokeConfig": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Condition": "AwsCompute",
            "Properties": {
                "FunctionName": Ref(f"{s}Function"),
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": 0,
                "MaximumEventAgeInSeconds": 60,
            },
        },
        f"{s}Schedule": {
            "Type": "AWS::Events::Rule",
            "Condition": "Compute",
            "Properties": {
                "Name": Sub(name),
                "Description": "The poller publishes only intervals it has not published yet.",
                "ScheduleExpression": schedule(iso),
                "State": "ENABLED",
                "Targets": [
                    {"Id": "poller", "Arn": GetAtt(f"{s}Function.Arn"), "RetryPolicy": {"MaximumRetryAttempts": 0}}
                ],
            },
        },
        f"{s}Permission": {
            "Type": "AWS::Lambda::Permission",
            "Condition": "Compute",
            "Properties": {
                "FunctionName": Ref(f"{s}Function"),
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceArn": GetAtt(f"{s}Schedule.Arn"),
            },
        },
        f"{s}ErrorsAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Condition": "AwsCompute",
            "Properties": {
                "AlarmName": Sub(f"{name}-errors"),
                "AlarmDescription": f"The {iso.code} poller Lambda failed in 3 of the last 5 minutes (one failure is usually an ISO hiccup).",
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": Ref(f"{s}Function")}],
                "Statistic": "Sum",
                **gen_alarms.FAILING,
                "AlarmActions": [Ref("AlertsTopic")],
                "OKActions": [Ref("AlertsTopic")],
            },
        },
    }


def outputs() -> dict[str, Any]:
    """One output for all pollers (nothing reads per-ISO outputs)."""
    return {
        "PollerFunctionNames": {
            "Condition": "Compute",
            "Description": "The pollers, one per ISO, comma-separated",
            "Value": Join([",", [Ref(f"{stem(iso)}Function") for iso in isos.TABLE]]),
        }
    }

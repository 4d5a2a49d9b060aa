"""The trader feed in infra/gridtape.yaml: its KCL lease tables (everywhere, named as the
container names its KCL applications), and its ECS service behind an HTTPS load balancer (AWS
only, once an image is given), with a task role that can do what feed/README.md says the
container does and nothing it does not. Also the Redshift role's streaming-ingestion grant."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest

from app.local import feed_leases
from app.stack import template as tpl
from feed import container
from feed.records import KINDS
from gridtape import config
from tests.app.template_support import ACCOUNT, as_list, resolver, statements, template

LEASE_TABLES = {"ticks": "FeedTicksLeaseTable", "analytics": "FeedAnalyticsLeaseTable"}
STREAMS = [{"Fn::GetAtt": ["TicksStream", "Arn"]}, {"Fn::GetAtt": ["AnalyticsStream", "Arn"]}]
FEED_ON = {"FeedImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/gridtape-feed:1"}
FEED_TYPES = {
    "AWS::ECS::Cluster",
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupEgress",
}


def _feed_resources() -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template()["Resources"].items() if r["Type"] in FEED_TYPES}


def _on(**params: str) -> set[str]:
    r = resolver(**params)
    return {lid for lid, res in template()["Resources"].items() if r.condition(res.get("Condition"))}


def _properties(lid: str) -> dict[str, Any]:
    return dict(template()["Resources"][lid]["Properties"])


# ----------------------------------------------------------------------------- lease tables


@pytest.mark.parametrize("role", sorted(KINDS))
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_consumed_stream_has_its_lease_table_named_as_the_kcl_application(role: str, env: str) -> None:
    names = config.Names(env=env, account=ACCOUNT)
    table = resolver(names).resolve(_properties(LEASE_TABLES[role])["TableName"])
    application = re.search(r"^applicationName = (\S+)$", container.properties(role, names), re.M)
    assert application is not None
    assert table == application[1] == feed_leases.lease_table(names, role)


@pytest.mark.parametrize("lid", sorted(LEASE_TABLES.values()))
def test_lease_tables_have_the_kcl_shape_and_are_protected(lid: str) -> None:
    props = _properties(lid)
    assert props["KeySchema"] == [{"AttributeName": "leaseKey", "KeyType": "HASH"}]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types["leaseKey"] == "S"
    # KCL 3 adds this index itself to a lease table that lacks it; declared, the stack owns it.
    (gsi,) = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "LeaseOwnerToLeaseKeyIndex"
    assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["leaseOwner", "leaseKey"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_lease_tables_exist_on_the_emulator_and_before_any_compute() -> None:
    for params in ({"DeployTarget": "emulator"}, {"Bootstrap": "true"}, {}):
        assert set(LEASE_TABLES.values()) <= _on(**params), params


# ----------------------------------------------------------------------------- the service


def test_the_service_runs_only_on_aws_once_an_image_is_given() -> None:
    feed = set(_feed_resources())
    assert {r["Type"] for r in _feed_resources().values()} == FEED_TYPES
    assert feed <= _on(**FEED_ON)
    assert not feed & _on()  # no image yet
    assert not feed & _on(**FEED_ON, DeployTarget="emulator")
    assert not feed & _on(**FEED_ON, Bootstrap="true")


def test_every_feed_parameter_without_a_usable_default_is_required_with_an_image() -> None:
    """An image with no VPC, subnets or certificate is refused by the template's Rules before
    CloudFormation starts creating anything."""
    params = template()["Parameters"]
    used = set(re.findall(r"'Ref': '(\w+)'", str([r["Properties"] for r in _feed_resources().values()])))
    needed = {p for p in used if p in params and not params[p].get("Default")} - {"FeedImageUri"}
    (rule,) = template()["Rules"].values()
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "FeedImageUri"}, ""]}]}
    asserted = set(re.findall(r"'Ref': '(\w+)'", str(rule["Assertions"])))
    assert needed == asserted, f"not asserted: {sorted(needed - asserted)}"
    assert needed >= {"FeedCertificateArn", "FeedVpcId", "FeedLoadBalancerSubnetIds", "FeedTaskSubnetIds"}


def test_one_task_behind_an_https_listener_on_the_app_port() -> None:
    service = _properties("FeedService")
    assert service["DesiredCount"] == 1
    # Never two tasks at once: they would split the shard leases between them.
    assert service["DeploymentConfiguration"]["MaximumPercent"] <= 100
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    (container_def,) = _properties("FeedTaskDefinition")["ContainerDefinitions"]
    assert container_def["Image"] == {"Ref": "FeedImageUri"}
    env = {e["Name"]: e["Value"] for e in container_def["Environment"]}
    assert {config.ENV_NAME, config.ENV_REGION, config.ENV_ACCOUNT} <= set(env)
    serve_port = re.search(
        r'serve\.add_argument\("--port", type=int, default=(\d+)\)', (tpl.REPO / "feed" / "container.py").read_text()
    )
    assert serve_port, "feed/container.py no longer declares the serve port this test reads"
    port = int(serve_port[1])
    assert [p["ContainerPort"] for p in container_def["PortMappings"]] == [port]
    (lb,) = service["LoadBalancers"]
    assert (lb["ContainerName"], lb["ContainerPort"]) == (container_def["Name"], port)
    target = _properties("FeedTargetGroup")
    assert target["Port"] == port and target["TargetType"] == "ip"
    listener = _properties("FeedHttpsListener")
    assert listener["Protocol"] == "HTTPS" and listener["Certificates"] == [
        {"CertificateArn": {"Ref": "FeedCertificateArn"}}
    ]
    assert listener["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "FeedTargetGroup"}}]


def test_the_health_check_is_a_route_of_the_feed_app() -> None:
    path = _properties("FeedTargetGroup")["HealthCheckPath"]
    routes = re.findall(r'add_get\("([^"]+)"', (tpl.REPO / "feed" / "app.py").read_text())
    assert path == "/api/health" and path in routes


def test_only_the_load_balancer_reaches_the_task() -> None:
    (ingress,) = _properties("FeedTaskSecurityGroup")["SecurityGroupIngress"]
    assert ingress["SourceSecurityGroupId"] == {"Ref": "FeedLoadBalancerSecurityGroup"}
    assert "CidrIp" not in ingress
    (public,) = _properties("FeedLoadBalancerSecurityGroup")["SecurityGroupIngress"]
    assert (public["FromPort"], public["ToPort"], public["CidrIp"]) == (443, 443, {"Ref": "FeedAllowedCidr"})


# ----------------------------------------------------------------------------- the task role


def _granted(role: str, action: str) -> list[Any]:
    r = resolver(**FEED_ON)
    return [
        arn for st in statements(role) if action in as_list(st["Action"]) for arn in as_list(r.resolve(st["Resource"]))
    ]


def _arn(lid: str) -> str:
    return str(resolver(**FEED_ON).resolve({"Fn::GetAtt": [lid, "Arn"]}))


def test_the_task_role_reads_both_streams() -> None:
    streams = sorted(_arn(s["Fn::GetAtt"][0]) for s in STREAMS)
    for action in ("GetRecords", "GetShardIterator", "ListShards", "DescribeStreamSummary", "RegisterStreamConsumer"):
        assert sorted(_granted("FeedTaskRole", f"kinesis:{action}")) == streams, action
    consumers = sorted(f"{s}/consumer/*" for s in streams)
    assert sorted(_granted("FeedTaskRole", "kinesis:SubscribeToShard")) == consumers


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_task_role_keeps_only_the_feeds_kcl_tables(env: str) -> None:
    names = config.Names(env=env, account=ACCOUNT)
    r = resolver(names, **FEED_ON)
    arns = [
        arn
        for st in statements("FeedTaskRole")
        if any(a.startswith("dynamodb:") for a in as_list(st["Action"]))
        for arn in as_list(r.resolve(st["Resource"]))
    ]
    table_arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/"
    applications = [feed_leases.lease_table(names, role) for role in KINDS]
    wanted = [
        *applications,
        *(f"{a}-{suffix}" for a in applications for suffix in ("CoordinatorState", "WorkerMetricStats")),
        *(f"{a}/index/LeaseOwnerToLeaseKeyIndex" for a in applications),
    ]
    for table in wanted:
        assert any(fnmatch.fnmatchcase(table_arn + table, arn) for arn in arns), table
    for other in (names.poller_state_table, f"gridtape-{env}x-feed-ticks", "gridtape-other-feed-ticks"):
        assert not any(fnmatch.fnmatchcase(table_arn + other, arn) for arn in arns), other


def test_the_task_role_publishes_alerts_and_metrics_only_where_meant() -> None:
    assert _granted("FeedTaskRole", "sns:Publish") == [resolver(**FEED_ON).resolve({"Ref": "AlertsTopic"})]
    (metrics,) = [st for st in statements("FeedTaskRole") if "cloudwatch:PutMetricData" in as_list(st["Action"])]
    namespaces = as_list(resolver(**FEED_ON).resolve(metrics["Condition"]["StringLike"]["cloudwatch:namespace"]))
    assert "gridtape" in namespaces
    # The KCL's own metrics go to a namespace named after its application.
    kcl = [feed_leases.lease_table(config.Names(env="dev", account=ACCOUNT), role) for role in KINDS]
    assert all(any(fnmatch.fnmatchcase(k, ns) for ns in namespaces) for k in kcl)
    assert not any(fnmatch.fnmatchcase("AWS/Kinesis", ns) for ns in namespaces)


def test_task_and_execution_roles_are_separate() -> None:
    task = _properties("FeedTaskDefinition")
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["FeedTaskRole", "Arn"]}
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": ["FeedExecutionRole", "Arn"]}
    assert not [a for st in statements("FeedExecutionRole") for a in as_list(st["Action"]) if a.startswith("kinesis:")]


# ----------------------------------------------------------------------------- Redshift


def test_redshift_role_can_ingest_both_streams() -> None:
    """Streaming ingestion (batch/sql/streaming/ingestion.sql) reads as the workgroup's role."""
    needed = ["DescribeStreamSummary", "ListShards", "GetShardIterator", "GetRecords", "DescribeStream"]
    streams = sorted(_arn(s["Fn::GetAtt"][0]) for s in STREAMS)
    for action in needed:
        assert sorted(_granted("RedshiftRole", f"kinesis:{action}")) == streams, action
    # The streams are encrypted with the data key.
    decrypt = [st["Resource"] for st in statements("RedshiftRole") if "kms:Decrypt" in as_list(st["Action"])]
    assert decrypt == [{"Fn::GetAtt": ["DataKey", "Arn"]}]
    namespace = _properties("RedshiftNamespace")
    assert namespace["DefaultIamRoleArn"] == {"Fn::GetAtt": ["RedshiftRole", "Arn"]}
    assert namespace["DefaultIamRoleArn"] in namespace["IamRoles"]

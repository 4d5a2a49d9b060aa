"""The embedded stack: infra/gridtape.yaml deployed to the emulator by app.stack.deploy, and
the `gridtape stack up|status|down` lifecycle as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.stack import artifacts, deploy, packaging
from app.stack import status as live
from app.stack import template as tpl
from gridtape import aws, config

pytestmark = pytest.mark.emulator

ASL = tpl.REPO / "statemachines" / "nightly.asl.json"


def _rows(names: config.Names) -> set[tuple[str, str]]:
    return {(r["type"], r["name"]) for r in live.status(names)}


def test_status_lists_the_core_resources(stack: Any) -> None:
    n = stack.names
    rows = _rows(n)
    for row in [
        ("AWS::Kinesis::Stream", n.ticks_stream),
        ("AWS::Kinesis::Stream", n.analytics_stream),
        ("AWS::S3::Bucket", n.raw_bucket),
        ("AWS::S3::Bucket", n.curated_bucket),
        ("AWS::S3::Bucket", n.artifacts_bucket),
        ("AWS::DynamoDB::Table", n.poller_state_table),
        ("AWS::SNS::Topic", n.alerts_topic),
        ("AWS::StepFunctions::StateMachine", n.nightly_state_machine),
    ]:
        assert row in rows, f"{row} not live; status: {sorted(rows)}"


def test_status_lists_the_pollers_and_their_schedules(stack: Any) -> None:
    rows = _rows(stack.names)
    for iso in ("caiso", "ercot", "isone", "miso", "nyiso", "pjm", "spp"):
        name = f"gridtape-{stack.names.env}-poll-{iso}"
        assert ("AWS::Lambda::Function", name) in rows
        assert ("AWS::Events::Rule", name) in rows
        assert ("AWS::IAM::Role", name) in rows  # each poller runs as its own role
    assert ("AWS::Lambda::Function", f"gridtape-{stack.names.env}-warehouse") in rows
    assert ("AWS::SecretsManager::Secret", f"gridtape/{stack.names.env}/pjm-api-key") in rows


def test_one_output_lists_every_poller(stack: Any) -> None:
    from gridtape import isos

    listed = deploy.outputs(stack.names)["PollerFunctionNames"].split(",")
    assert sorted(listed) == sorted(f"gridtape-{stack.names.env}-poll-{code.lower()}" for code in isos.CODES)


def test_deployed_state_machine_is_the_asl_file_substituted(stack: Any) -> None:
    n = stack.names
    region = config.region()
    arn = f"arn:aws:states:{region}:{n.account}:stateMachine:{n.nightly_state_machine}"
    live = aws.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    expected = packaging.apply_substitutions(
        ASL.read_text(),
        {
            "CompactionJobName": n.compaction_job,
            "WarehouseFunctionArn": f"arn:aws:lambda:{region}:{n.account}:function:gridtape-{n.env}-warehouse",
            "AlertsTopicArn": f"arn:aws:sns:{region}:{n.account}:{n.alerts_topic}",
            "RawBucket": n.raw_bucket,
            "CuratedBucket": n.curated_bucket,
            "RedshiftWorkgroup": n.redshift_workgroup,
            "RedshiftDatabase": n.redshift_database,
        },
    )
    assert live["definition"] == expected
    assert live["roleArn"] == f"arn:aws:iam::{n.account}:role/gridtape-{n.env}-nightly"


def test_properties_moto_drops_are_applied(stack: Any) -> None:
    n = stack.names
    s3, ddb, kinesis = aws.client("s3"), aws.client("dynamodb"), aws.client("kinesis")
    for bucket in (n.raw_bucket, n.curated_bucket, n.artifacts_bucket):
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(pab.values()) and len(pab) == 4
        assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    ttl = ddb.describe_time_to_live(TableName=n.poller_state_table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    backups = ddb.describe_continuous_backups(TableName=n.poller_state_table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    summary = kinesis.describe_stream_summary(StreamName=n.ticks_stream)["StreamDescriptionSummary"]
    assert summary["EncryptionType"] == "KMS"


def test_the_feeds_lease_tables_are_deployed_and_used_by_the_local_driver(stack: Any) -> None:
    """The stack creates the KCL lease tables (PITR topped up); the local feed driver finds
    them under the names it computes and keeps its leases there, as the KCL would."""
    from app.local import feed_leases
    from gridtape import kinesis

    ddb = aws.client("dynamodb")
    out = deploy.outputs(stack.names)
    for role in ("ticks", "analytics"):
        name = feed_leases.lease_table(stack.names, role)
        assert out[f"Feed{role.capitalize()}LeaseTableName"] == name
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == [{"AttributeName": "leaseKey", "KeyType": "HASH"}]
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    leases = feed_leases.LeaseTable(feed_leases.lease_table(stack.names, "analytics"))
    leases.ensure()  # finds the stack's table: no second create
    shard = kinesis.Shard("shardId-test-000000000000")
    lease = leases.take(shard, "stack-test", "TRIM_HORIZON", failover_s=30.0)
    assert lease is not None
    try:
        assert leases.checkpoint(lease, "49590000000000000000000000000000000000000000000000000000")
        assert leases.get(shard.shard_id)["checkpoint"].startswith("4959")
    finally:
        ddb.delete_item(TableName=leases.name, Key={"leaseKey": {"S": shard.shard_id}})


def test_artifacts_are_uploaded(stack: Any) -> None:
    s3 = aws.client("s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=stack.names.artifacts_bucket).get("Contents", [])}
    assert {artifacts.LAMBDA_ZIP_KEY, artifacts.ASL_KEY} <= keys


def test_poller_lambda_configuration(stack: Any) -> None:
    fn = aws.client("lambda").get_function(FunctionName=f"gridtape-{stack.names.env}-poll-pjm")["Configuration"]
    assert fn["Handler"] == "producers.handler.handler"
    assert fn["Environment"]["Variables"]["GRIDTAPE_ISO"] == "PJM"
    assert fn["Environment"]["Variables"]["PJM_API_KEY_SECRET_ID"] == f"gridtape/{stack.names.env}/pjm-api-key"


def test_deploying_twice_is_a_no_op(stack: Any) -> None:
    cfn = aws.client("cloudformation")
    before = cfn.describe_stacks(StackName=stack.names.stack)["Stacks"][0]
    events_before = len(cfn.describe_stack_events(StackName=stack.names.stack)["StackEvents"])
    rows_before = _rows(stack.names)
    deploy.deploy(stack.names)
    after = cfn.describe_stacks(StackName=stack.names.stack)["Stacks"][0]
    assert after["StackStatus"] == before["StackStatus"]
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")
    assert len(cfn.describe_stack_events(StackName=stack.names.stack)["StackEvents"]) == events_before
    assert _rows(stack.names) == rows_before


def _copy_source(tmp_path: Path) -> Path:
    """infra/ and statemachines/ beside each other, as in the repo (the template names the ASL
    by a relative path), plus the packages the Lambda zip is built from."""
    shutil.copytree(tpl.REPO / "infra", tmp_path / "infra")
    shutil.copytree(tpl.REPO / "statemachines", tmp_path / "statemachines")
    return tmp_path / "infra" / "gridtape.yaml"


def test_an_asl_edit_is_deployed_as_an_update(stack: Any, tmp_path: Path) -> None:
    n = stack.names
    template = _copy_source(tmp_path)
    asl_path = tmp_path / "statemachines" / "nightly.asl.json"
    asl = json.loads(asl_path.read_text())
    asl["Comment"] = "edited by test_an_asl_edit_is_deployed_as_an_update"
    asl_path.write_text(json.dumps(asl))
    arn = f"arn:aws:states:{config.region()}:{n.account}:stateMachine:{n.nightly_state_machine}"
    sfn = aws.client("stepfunctions")
    try:
        deploy.deploy(n, template_path=template)
        assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])["Comment"] == asl["Comment"]
        status = aws.client("cloudformation").describe_stacks(StackName=n.stack)["Stacks"][0]["StackStatus"]
        assert status == "UPDATE_COMPLETE"
    finally:
        deploy.deploy(n)  # back to the repo's files for the rest of the session
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])["Comment"] != asl["Comment"]


def test_an_edit_to_what_the_emulator_does_not_create_keeps_the_stack_working(stack: Any, tmp_path: Path) -> None:
    """moto's UpdateStack crashes on a changed resource it never created (a Condition: OnAws
    one): the emulator deploy leaves those out, so such an edit deploys as nothing to do."""
    n = stack.names
    template = _copy_source(tmp_path)
    text = template.read_text()
    edited = (
        text.replace("      Timeout: 120\n", "      Timeout: 90\n")  # the compaction Glue job
        .replace("Sid: DeliveryErrorLogs", "Sid: DeliveryErrors")  # the Firehose role
        .replace(
            "AlarmName: !Sub gridtape-${EnvName}-ticks-iterator-age", "AlarmName: !Sub gridtape-${EnvName}-ticks-age"
        )
    )
    assert edited.count("Timeout: 90\n") == edited.count("Sid: DeliveryErrors") == edited.count("-ticks-age") == 1
    template.write_text(edited)
    cfn = aws.client("cloudformation")
    before = cfn.describe_stacks(StackName=n.stack)["Stacks"][0]
    try:
        deploy.deploy(n, template_path=template)
        after = cfn.describe_stacks(StackName=n.stack)["Stacks"][0]
        assert after["StackStatus"] == before["StackStatus"]
        assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")
    finally:
        deploy.deploy(n)


def test_a_failed_create_names_the_resource_and_cleans_up(stack: Any, tmp_path: Path) -> None:
    template = _copy_source(tmp_path)
    text = template.read_text()
    bad = text.replace("TopicName: !Sub gridtape-${EnvName}-alerts", 'TopicName: "not a valid topic!"')
    assert bad != text
    template.write_text(bad)
    names = config.Names(env="broken", account=stack.names.account)
    with pytest.raises(deploy.DeployError, match=r"AlertsTopic \(AWS::SNS::Topic"):
        deploy.deploy(names, template_path=template)
    assert deploy._stack(names.stack) is None
    # The buckets and table created before the failure are DeletionPolicy: Retain; they were
    # removed too, so the fixed template deploys (instead of failing on "already exists").
    template.write_text(text)
    deploy.deploy(names, template_path=template)
    assert ("AWS::SNS::Topic", names.alerts_topic) in _rows(names)
    aws.client("cloudformation").delete_stack(StackName=names.stack)


# ----------------------------------------------------------------------------- CLI lifecycle


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gone(pid: int) -> bool:
    """True when pid no longer runs. A zombie counts as gone: it has exited and only waits
    for its parent (init here, since `stack up` detaches the emulator) to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"


def test_cli_stack_up_status_down_leaves_no_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(
        {
            config.ENV_EMULATOR_PORT: str(_free_port()),
            config.ENV_HOME: str(tmp_path / "home"),
            config.ENV_NAME: "cli",
        }
    )
    cli = [sys.executable, "-m", "app.cli"]
    pid = None
    try:
        up = subprocess.run([*cli, "stack", "up"], env=env, capture_output=True, text=True, timeout=300)
        assert up.returncode == 0, up.stderr
        pid = int((tmp_path / "home" / "emulator.pid").read_text())
        assert "started" in up.stdout and "gridtape-cli-ticks" in up.stdout
        st = subprocess.run([*cli, "stack", "status"], env=env, capture_output=True, text=True, timeout=120)
        assert st.returncode == 0, st.stderr
        assert "gridtape-cli-nightly" in st.stdout and "gridtape-cli-poller-state" in st.stdout
        down = subprocess.run([*cli, "stack", "down"], env=env, capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stderr
        assert "emulator stopped" in down.stdout
        assert _gone(pid), f"emulator pid {pid} still running after `stack down`"
        assert not (tmp_path / "home" / "emulator.pid").exists()
    finally:
        if pid is not None and not _gone(pid):  # only the process this test started
            os.killpg(pid, signal.SIGKILL)


def test_an_update_moto_cannot_apply_is_refused_before_it_breaks_the_stack(stack: Any, tmp_path: Path) -> None:
    names = config.Names(env="frozen", account=stack.names.account)
    deploy.deploy(names)
    try:
        template = _copy_source(tmp_path)
        text = template.read_text()
        edited = text.replace("      RetentionInDays: 90\n", "      RetentionInDays: 60\n")
        assert edited != text
        template.write_text(edited)
        with pytest.raises(deploy.DeployError, match=r"NightlyLogGroup \(AWS::Logs::LogGroup\).*stack down"):
            deploy.deploy(names, template_path=template)
        assert deploy._stack(names.stack)["StackStatus"] == "CREATE_COMPLETE"  # still intact
        deploy.deploy(names)  # the unchanged template is still a no-op
    finally:
        aws.client("cloudformation").delete_stack(StackName=names.stack)


def test_status_sees_past_the_first_page_of_every_listing(stack: Any) -> None:
    """A busy account (or a long test session) holds more than one page of streams (moto
    pages Kinesis by 10, in creation order); a stream created after them must still show."""
    kinesis = aws.client("kinesis")
    fillers = [f"a-filler-{i:03d}" for i in range(25)]
    names = config.Names(env="paging", account=stack.names.account)
    for name in [*fillers, names.ticks_stream]:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    try:
        assert ("AWS::Kinesis::Stream", names.ticks_stream) in _rows(names)
    finally:
        for name in [*fillers, names.ticks_stream]:
            kinesis.delete_stream(StreamName=name)

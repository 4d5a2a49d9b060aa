"""Batch fixtures: the deployed emulator stack (plus the Glue job the emulator deploy leaves
out), an alerts queue, synthetic raw days, and the tests' one tick builder."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch import days as _days
from gridtape import bounds, config, contract

REPO = Path(__file__).resolve().parents[2]
ASL = REPO / "statemachines" / "nightly.asl.json"


def substitutions(names: config.Names) -> dict[str, str]:
    """The DefinitionSubstitutions infra/gridtape.yaml gives the state machine, for the emulator."""
    region = config.region()
    return {
        "CompactionJobName": names.compaction_job,
        "WarehouseFunctionArn": f"arn:aws:lambda:{region}:{names.account}:function:gridtape-{names.env}-warehouse",
        "AlertsTopicArn": f"arn:aws:sns:{region}:{names.account}:{names.alerts_topic}",
        "RawBucket": names.raw_bucket,
        "CuratedBucket": names.curated_bucket,
        "RedshiftWorkgroup": names.redshift_workgroup,
        "RedshiftDatabase": names.redshift_database,
    }


def render_asl(names: config.Names) -> str:
    """statemachines/nightly.asl.json with ${Key} replaced, as Step Functions does."""
    subs = substitutions(names)
    return re.sub(r"\$\{(\w+)\}", lambda m: subs[m.group(1)], ASL.read_text())


@pytest.fixture(scope="session")
def batch_stack(stack: Any) -> config.Names:
    """The shared `stack`, plus the compaction job: infra creates Glue jobs only on AWS (the
    emulator never runs them), and the state machine names it."""
    from gridtape import aws

    names: config.Names = stack.names
    glue = aws.client("glue")
    try:
        glue.get_job(JobName=names.compaction_job)
    except glue.exceptions.EntityNotFoundException:
        glue.create_job(
            Name=names.compaction_job,
            Role=f"arn:aws:iam::{names.account}:role/gridtape-{names.env}-compaction",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://{names.artifacts_bucket}/glue/compaction_job.py"},
            GlueVersion="5.0",
            ExecutionProperty={"MaxConcurrentRuns": 1},
        )
    return names


@contextmanager
def alerts_queue(names: config.Names, queue: str) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """An SQS queue subscribed to the alerts topic; yields a reader of the messages since the
    last read (subject + the JSON message)."""
    from batch.nightly import alerts_topic_arn
    from gridtape import aws

    sqs, sns = aws.client("sqs"), aws.client("sns")
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=alerts_topic_arn(names), Protocol="sqs", Endpoint=qarn)

    def read() -> list[dict[str, Any]]:
        out = []
        for _ in range(20):  # bounded: the emulator delivers synchronously, a few polls suffice
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not msgs:
                break
            for m in msgs:
                envelope = json.loads(m["Body"])
                out.append({"subject": envelope.get("Subject"), **json.loads(envelope["Message"])})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    try:
        yield read
    finally:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        sqs.delete_queue(QueueUrl=url)


# ---------------------------------------------------------------- synthetic raw data

SOURCE = "https://example.invalid/feed"


def tick(
    iso: str,
    dataset: str,
    location: str,
    start: datetime,
    value: float,
    *,
    market: str = "RT5",
    published: datetime | None = None,
    ingested: datetime | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """A wire tick of the interval beginning at `start` (lmp or load), by default published a
    minute after it ends and fetched 20 s later: the one tick builder of the tests (the query
    pack, feed and dashboard tests wrap it with their own clocks). Other keywords (source,
    location_type, revision, the LMP's components): contract.interval_tick's."""
    published = published or start + timedelta(minutes=bounds.MARKET_MINUTES[market] + 1)
    kw.setdefault("source", SOURCE)
    return contract.interval_tick(
        iso,
        market,
        dataset,
        location,
        start,
        value,
        published_at=published,
        ingested_at=ingested or published + timedelta(seconds=20),
        **kw,
    )


def day_grid(iso: str, day: date, minutes: int = 5) -> list[datetime]:
    start, end = _days.local_day_bounds(iso, day)
    out = []
    t = start
    while t < end:
        out.append(t)
        t += timedelta(minutes=minutes)
    return out


def raw_partition(record: dict[str, Any]) -> str:
    return f"raw/iso={record['iso']}/date={record['interval_start'][:10]}/"


def write_raw_local(root: Path, lines: list[str]) -> None:
    """Lines -> gzip files under root in the Firehose layout (raw/iso=/date=)."""
    groups: dict[str, list[str]] = {}
    for line in lines:
        try:
            prefix = raw_partition(json.loads(line))
        except (ValueError, KeyError, TypeError):
            prefix = "raw/iso=PJM/date=2024-11-03/"  # a broken line sits where it arrived
        groups.setdefault(prefix, []).append(line)
    for prefix, group in groups.items():
        folder = root / prefix
        folder.mkdir(parents=True, exist_ok=True)
        # A unique name per file, as Firehose's: a later delivery never replaces an earlier one.
        with gzip.open(folder / f"test-stream-1-2024-11-04-00-00-00-{uuid.uuid4()}.gz", "wt") as f:
            f.write("\n".join(group) + "\n")


def put_raw_s3(bucket: str, lines: list[str]) -> None:
    import tempfile

    from gridtape import aws

    s3 = aws.client("s3")
    with tempfile.TemporaryDirectory() as tmp:
        write_raw_local(Path(tmp), lines)
        for path in Path(tmp).rglob("*.gz"):
            s3.upload_file(str(path), bucket, str(path.relative_to(tmp)))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)

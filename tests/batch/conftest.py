"""Batch fixtures: the deployed emulator stack (plus what the emulator deploy leaves out for
batch), a synthetic raw day, and that day compacted and loaded once for the module tests."""

from __future__ import annotations

import gzip
import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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


def _ensure(names: config.Names) -> None:
    """Create, idempotently, what batch needs and the emulator deploy may not create: the
    emulator never runs Glue jobs, so infra creates the compaction job only on AWS."""
    from gridtape import aws

    s3 = aws.client("s3")
    for bucket in (names.raw_bucket, names.curated_bucket):
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception:
            s3.create_bucket(Bucket=bucket)
    kinesis = aws.client("kinesis")
    try:
        kinesis.describe_stream_summary(StreamName=names.ticks_stream)
    except kinesis.exceptions.ResourceNotFoundException:
        kinesis.create_stream(StreamName=names.ticks_stream, ShardCount=2)
    aws.client("sns").create_topic(Name=names.alerts_topic)
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
    sfn = aws.client("stepfunctions")
    arn = f"arn:aws:states:{config.region()}:{names.account}:stateMachine:{names.nightly_state_machine}"
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        sfn.create_state_machine(
            name=names.nightly_state_machine,
            definition=render_asl(names),
            roleArn=f"arn:aws:iam::{names.account}:role/gridtape-{names.env}-nightly",
        )


@pytest.fixture(scope="session")
def batch_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[config.Names]:
    """The shared `stack` (deployed by gridtape/deploy.py); if that deploy cannot run yet, an
    emulator of our own with the resources batch uses."""
    own_home: Path | None = None
    try:
        names = request.getfixturevalue("stack").names
    except Exception as exc:  # deploy.py absent or failing: say so, then stand up our own
        print(f"batch tests: shared stack unavailable ({exc!r}); starting a batch-only emulator")
        from app.stack import emulator
        from gridtape import aws

        own_home = tmp_path_factory.mktemp("batch-home")
        os.environ[config.ENV_HOME] = str(own_home)
        os.environ.setdefault(config.ENV_NAME, "test")
        from tests.conftest import _free_port

        emu = emulator.start(home=own_home, port=_free_port())
        aws.use_emulator(emu.url)
        names = config.names()
    _ensure(names)
    yield names
    if own_home is not None:
        from app.stack import emulator

        emulator.stop(own_home)


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
    location_type: str = "hub",
    revision: int | None = None,
) -> dict[str, Any]:
    published = published or start + timedelta(minutes=6)
    return contract.tick(
        revision=revision,
        iso=iso,
        market=market,
        dataset=dataset,
        location=location,
        location_type=location_type,
        interval_start=start,
        interval_end=start + timedelta(minutes=bounds.MARKET_MINUTES[market]),
        lmp=value if dataset == "lmp" else None,
        load_mw=value if dataset == "load" else None,
        published_at=published,
        ingested_at=ingested or published + timedelta(seconds=20),
        source=SOURCE,
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


@dataclass
class LoadedDay:
    names: config.Names
    day: date
    warehouse: Path
    compaction: dict[str, Any]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)

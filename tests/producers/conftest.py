"""Emulator resources for the producer framework tests: a moto server of our own (in-process,
on a free port) and, per test, a fresh ticks stream, poller-state table and raw bucket with
the same key schema as infra/ deploys, reached through explicit clients, so these tests
neither depend on nor disturb the session-wide `stack`."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from gridtape import isos
from producers import state
from producers.poller import MemoryMetrics, Sinks
from producers.publish import KinesisPublisher
from producers.quarantine import Quarantine
from producers.state import StateStore
from tests.producers.iso_contract import pytest_generate_tests  # noqa: F401  (parametrizes every IsoContract here)

REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per emulator call otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@dataclass
class Resources:
    url: str
    stream: str
    table: str
    bucket: str
    kinesis: Any
    dynamodb: Any
    s3: Any

    def sinks(self, metrics: MemoryMetrics | None = None, kinesis: Any = None, **publisher: Any) -> Sinks:
        publisher.setdefault("sleep", lambda _s: None)
        return Sinks(
            state=StateStore(self.table, self.dynamodb, sleep=lambda _s: None),
            publisher=KinesisPublisher(self.stream, kinesis or self.kinesis, **publisher),
            quarantine=Quarantine(self.bucket, self.s3),
            metrics=metrics or MemoryMetrics(),
        )

    def stream_records(self) -> list[dict[str, Any]]:
        """Every record on the stream, decoded, in shard order (bounded reads)."""
        out: list[dict[str, Any]] = []
        shards = self.kinesis.list_shards(StreamName=self.stream)["Shards"]
        for shard in shards:
            it = self.kinesis.get_shard_iterator(
                StreamName=self.stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for _ in range(100):
                resp = self.kinesis.get_records(ShardIterator=it, Limit=10000)
                out.extend({"pk": r["PartitionKey"], **json.loads(r["Data"])} for r in resp["Records"])
                it = resp.get("NextShardIterator")
                if not resp["Records"] or not it:
                    break
        return out

    def quarantined(self) -> list[str]:
        resp = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="quarantine/")
        return sorted(o["Key"] for o in resp.get("Contents", []))

    def get_object(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())


def clients(url: str) -> dict[str, Any]:
    cfg = Config(retries={"mode": "standard", "max_attempts": 2})
    kw = {
        "endpoint_url": url,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "config": cfg,
    }
    return {name: boto3.client(name, **kw) for name in ("kinesis", "dynamodb", "s3")}


def create_resources(url: str, stream: str, table: str, bucket: str) -> Resources:
    res = Resources(url=url, stream=stream, table=table, bucket=bucket, **clients(url))
    res.kinesis.create_stream(StreamName=res.stream, ShardCount=2)
    state.create_table(res.table, res.dynamodb)
    res.s3.create_bucket(Bucket=res.bucket)
    return res


@pytest.fixture
def resources(moto_url: str) -> Resources:
    suffix = uuid.uuid4().hex[:8]
    return create_resources(
        moto_url,
        stream=f"gridtape-t{suffix}-ticks",
        table=f"gridtape-t{suffix}-poller-state",
        bucket=f"gridtape-t{suffix}-raw-123456789012",
    )


def poll_module(monkeypatch: pytest.MonkeyPatch, iso: str, module: str) -> None:
    """Poll `iso` with the IsoSource of `module` (a fake) by swapping its ISO-table row."""
    monkeypatch.setitem(isos.BY_CODE, iso, dataclasses.replace(isos.get(iso), module=module))


@pytest.fixture
def pjm_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """PJM (whose API key is required) with no key configured; its module a fake."""
    from producers import registry
    from tests.producers import fakes

    monkeypatch.delenv(isos.get("PJM").api_key.env, raising=False)
    monkeypatch.delenv(isos.get("PJM").api_key.secret_env, raising=False)

    class Pjm(fakes.FakeSource):
        iso = "PJM"

    monkeypatch.setattr(registry, "source_class", lambda iso: Pjm)

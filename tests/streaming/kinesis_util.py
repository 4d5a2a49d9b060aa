"""Emulator helpers for the streaming tests: resources, publishing ticks, reading both sinks."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from gridtape import aws, kinesis
from gridtape.config import Names
from gridtape.contract import dumps, format_ts


def ensure_resources(names: Names) -> None:
    client, s3 = aws.client("kinesis"), aws.client("s3")
    for stream, shards in ((names.ticks_stream, 2), (names.analytics_stream, 1)):
        try:  # asked directly: ListStreams is paged (and moto omits its NextToken)
            client.create_stream(StreamName=stream, ShardCount=shards)
        except client.exceptions.ResourceInUseException:
            continue
        client.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    if names.curated_bucket not in buckets:
        s3.create_bucket(Bucket=names.curated_bucket)


def publish(names: Names, ticks: list[dict[str, Any]]) -> None:
    entries = [kinesis.Entry(dumps(t).encode(), f"{t['iso']}:{t['location']}") for t in ticks]
    kinesis.Writer(names.ticks_stream, aws.client("kinesis")).put(entries)


def stream_records(stream: str) -> list[dict[str, Any]]:
    """Every record on the stream, every shard read to its tip."""
    records, _ = kinesis.read_to_tip(stream, client=aws.client("kinesis"))
    return [json.loads(r.data) for r in records]


@contextmanager
def hooked(client: Any, hooks: dict[str, Callable[..., Any]]) -> Iterator[None]:
    """botocore event hooks on a (shared, cached) client for the duration of a with block."""
    ids = {event: f"test-{id(fn)}-{event}" for event, fn in hooks.items()}
    for event, fn in hooks.items():
        client.meta.events.register(event, fn, unique_id=ids[event])
    try:
        yield
    finally:
        for event, uid in ids.items():
            client.meta.events.unregister(event, unique_id=uid)


def parquet_records(bucket: str, prefix: str = "volatility/") -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    s3 = aws.client("s3")
    out: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            out.extend(pq.read_table(io.BytesIO(body)).to_pylist())
    return [{k: (format_ts(v) if isinstance(v, datetime) else v) for k, v in r.items()} for r in out]


def done_markers(bucket: str) -> int:
    s3 = aws.client("s3")
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="_sink_commits/")
    return sum(1 for o in resp.get("Contents", []) if o["Key"].endswith(".done.json"))


def comparable(records: list[dict[str, Any]]) -> list[str]:
    """Records without computed_at (wall clock by contract), as sorted canonical strings, so
    duplicates show up as a different multiset."""
    return sorted(json.dumps({k: v for k, v in r.items() if k != "computed_at"}, sort_keys=True) for r in records)

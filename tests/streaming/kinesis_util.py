"""Emulator helpers for the streaming tests: resources, publishing ticks, reading both sinks."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

from gridtape import aws
from gridtape.config import Names
from gridtape.contract import dumps, format_ts


def ensure_resources(names: Names) -> None:
    kinesis, s3 = aws.client("kinesis"), aws.client("s3")
    existing = set(kinesis.list_streams()["StreamNames"])
    for stream, shards in ((names.ticks_stream, 2), (names.analytics_stream, 1)):
        if stream not in existing:
            kinesis.create_stream(StreamName=stream, ShardCount=shards)
            kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    if names.curated_bucket not in buckets:
        s3.create_bucket(Bucket=names.curated_bucket)


def publish(names: Names, ticks: list[dict[str, Any]]) -> None:
    kinesis = aws.client("kinesis")
    for i in range(0, len(ticks), 500):
        chunk = ticks[i : i + 500]
        resp = kinesis.put_records(
            StreamName=names.ticks_stream,
            Records=[{"Data": dumps(t).encode(), "PartitionKey": f"{t['iso']}:{t['location']}"} for t in chunk],
        )
        assert resp["FailedRecordCount"] == 0


def stream_records(stream: str) -> list[dict[str, Any]]:
    kinesis = aws.client("kinesis")
    out = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        while it:
            resp = kinesis.get_records(ShardIterator=it, Limit=10_000)
            out.extend(json.loads(r["Data"]) for r in resp["Records"])
            if not resp["Records"]:
                break
            it = resp.get("NextShardIterator")
    return out


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

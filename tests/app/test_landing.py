"""The local Firehose stand-in against the emulator's Kinesis and S3."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from app.local import landing as land
from gridtape import aws, config
from tests.batch.conftest import tick, utc

pytestmark = pytest.mark.emulator

KEY_RE = re.compile(
    r"^raw/iso=(\w+)/date=(\d{4}-\d{2}-\d{2})/gridtape-[\w-]+-raw-landing-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$"
)


def _objects(bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = aws.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return out


def _clear(bucket: str) -> None:
    s3 = aws.client("s3")
    for key in _objects(bucket, ""):
        s3.delete_object(Bucket=bucket, Key=key)


def _put(stream: str, records: list[bytes]) -> None:
    kinesis = aws.client("kinesis")
    for i, data in enumerate(records):
        kinesis.put_record(StreamName=stream, Data=data, PartitionKey=f"k{i}")


@pytest.fixture
def own_stream(batch_stack: config.Names) -> config.Names:
    """A stream and raw bucket of this test's own, so other tests' ticks do not show up."""
    names = config.Names(env=f"{batch_stack.env}-land", account=batch_stack.account)
    kinesis = aws.client("kinesis")
    try:
        kinesis.delete_stream(StreamName=names.ticks_stream)
        kinesis.get_waiter("stream_not_exists").wait(StreamName=names.ticks_stream, WaiterConfig={"Delay": 0.2})
    except kinesis.exceptions.ResourceNotFoundException:
        pass
    kinesis.create_stream(StreamName=names.ticks_stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=names.ticks_stream, WaiterConfig={"Delay": 0.2})
    aws.client("s3").create_bucket(Bucket=names.raw_bucket)
    _clear(names.raw_bucket)
    return names


def test_land_once_partitions_gzips_and_does_not_reland(own_stream: config.Names, tmp_path: Path) -> None:
    names = own_stream
    start = utc(2024, 11, 3, 23, 55)  # UTC date 2024-11-03, local (Eastern) too
    late = utc(2024, 11, 4, 0, 5)  # next UTC date: its own partition
    records = [
        json.dumps(tick("PJM", "lmp", "WESTERN HUB", start, 30.0)).encode(),
        json.dumps(tick("PJM", "lmp", "WESTERN HUB", late, 31.0)).encode(),
        json.dumps(tick("ERCOT", "load", "ERCOT", start, 40000.0, location_type="system")).encode(),
        b"not json at all",
    ]
    _put(names.ticks_stream, records)
    home = tmp_path / "home"

    first = land.land_once(names, home=home)
    assert first["records"] == 3 and first["errors"] == 1
    raw = _objects(names.raw_bucket, "raw/")
    partitions = sorted((m.group(1), m.group(2)) for m in (KEY_RE.match(k) for k in raw) if m)
    assert partitions == [("ERCOT", "2024-11-03"), ("PJM", "2024-11-03"), ("PJM", "2024-11-04")]
    lines = sorted(line for body in raw.values() for line in gzip.decompress(body).decode().splitlines())
    assert lines == sorted(r.decode() for r in records[:3])
    (err_key, err_body), *_ = _objects(names.raw_bucket, "errors/").items()
    assert err_key.startswith("errors/processing-failed/")
    error = json.loads(gzip.decompress(err_body))
    assert error["errorCode"] == "DynamicPartitioning.MetadataExtractionFailed"
    assert error["rawData"] == "bm90IGpzb24gYXQgYWxs"  # base64 of the original bytes

    # A restart reads from the checkpoint: nothing is landed twice; new records are landed once.
    again = land.land_once(names, home=home)
    assert again["records"] == 0 and again["objects"] == 0
    _put(names.ticks_stream, [json.dumps(tick("PJM", "lmp", "WESTERN HUB", utc(2024, 11, 3, 23, 50), 29.0)).encode()])
    third = land.land_once(names, home=home)
    assert third["records"] == 1 and third["objects"] == 1
    assert len(_objects(names.raw_bucket, "raw/")) == 4


def test_buffers_flush_on_age_or_size(batch_stack: config.Names, tmp_path: Path) -> None:
    now = [0.0]
    lnd = land.lander(batch_stack, home=tmp_path, clock=lambda: now[0], buffer_bytes=1000)
    rec: dict[str, Any] = tick("MISO", "lmp", "INDIANA.HUB", utc(2024, 7, 1, 12, 0), 20.0)
    arrival = datetime(2024, 7, 1, 12, 6, tzinfo=utc(2024, 1, 1).tzinfo)
    lnd.accept(json.dumps(rec).encode(), arrival)
    assert not lnd.due()
    now[0] = 59.9
    assert not lnd.due()
    now[0] = 60.0
    assert lnd.due()  # 60 s buffering hint
    lnd.buffers.clear()
    for _ in range(3):
        lnd.accept(json.dumps(rec).encode(), arrival)
    assert lnd.due()  # size hint (1000 bytes here, 64 MiB by default)
    assert land.BUFFER_BYTES == 64 * 1024 * 1024 and land.BUFFER_SECONDS == 60.0


class Crash(Exception):
    """The process dying at that point."""


class CrashingS3:
    """The real S3 client whose put_object dies once `allowed` objects were written."""

    def __init__(self, real: Any, allowed: int) -> None:
        self.real, self.allowed, self.puts = real, allowed, 0

    def put_object(self, **kwargs: Any) -> Any:
        if self.puts >= self.allowed:
            raise Crash
        self.puts += 1
        return self.real.put_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.mark.parametrize("written", [0, 1, 2, 3, 4])
def test_a_crash_anywhere_in_a_flush_lands_each_record_once(
    own_stream: config.Names, tmp_path: Path, written: int
) -> None:
    """Die after `written` of the flush's 4 objects (4: all written, dying before the checkpoint
    moves), restart: every record is in the bucket exactly once, the bad one in errors/ once."""
    names = own_stream
    day = utc(2024, 3, 10, 12, 0)
    good = [
        json.dumps(tick("PJM", "lmp", "WESTERN HUB", day, 30.0)).encode(),
        json.dumps(tick("PJM", "lmp", "WESTERN HUB", utc(2024, 3, 11, 12, 0), 31.0)).encode(),
        json.dumps(tick("MISO", "lmp", "INDIANA.HUB", day, 25.0)).encode(),
        json.dumps(tick("MISO", "lmp", "INDIANA.HUB", utc(2024, 3, 10, 12, 5), 26.0)).encode(),
    ]
    _put(names.ticks_stream, [*good, b"{broken"])
    home = tmp_path / "home"
    lnd = land.lander(names, home=home)
    lnd.s3 = CrashingS3(lnd.s3, written)
    if written == 4:
        save = lnd._save

        def die_at_commit(positions: dict[str, str], flushing: dict[str, str] | None) -> None:
            if flushing is None:
                raise Crash
            save(positions, flushing)

        lnd._save = die_at_commit  # type: ignore[method-assign]
    assert lnd.drain() == 5
    with pytest.raises(Crash):
        lnd.flush()
    late = json.dumps(tick("MISO", "lmp", "INDIANA.HUB", utc(2024, 3, 10, 12, 10), 27.0)).encode()
    _put(names.ticks_stream, [late])  # arrives while the lander is down

    land.land_once(names, home=home)
    raw = _objects(names.raw_bucket, "raw/")
    lines = Counter(line for body in raw.values() for line in gzip.decompress(body).decode().splitlines())
    assert lines == Counter(r.decode() for r in [*good, late])
    errors = [gzip.decompress(b).splitlines() for b in _objects(names.raw_bucket, "errors/").values()]
    assert sum(len(e) for e in errors) == 1
    assert land.land_once(names, home=home)["records"] == 0

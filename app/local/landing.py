"""`gridtape land`: the embedded stand-in for the Firehose delivery stream (infra/ writes the
real one). Emulators do not deliver Kinesis -> Firehose -> S3, so this loop does, with the
same layout, buffering and format:

- source: the ticks stream, read with GetShardIterator / GetRecords, shard by shard;
- dynamic partitioning as the Firehose JQ query `{iso: .iso, date: .interval_start[0:10]}`:
  raw/iso=<ISO>/date=<UTC date of interval_start>/ (event time, so revisions land in the
  partition the compaction re-reads);
- buffering hints 60 s / 64 MiB per partition; GZIP; JSON Lines (a newline appended per record);
- object keys like Firehose's: <prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz;
- records whose partition keys cannot be extracted (not JSON, no iso / interval_start) go to
  errors/processing-failed/<yyyy-MM-dd>/ as Firehose error records (base64 rawData + errorCode).

The per-shard position is a local checkpoint (GRIDTAPE_HOME/land/<stream>.json), written only
after every buffer holding records up to that position has been flushed, so a restart never
re-lands a record (and never skips one: at worst it re-reads records not yet flushed).
Difference from Firehose, on purpose: a flush writes every partition's buffer at once, so one
checkpoint covers them all.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridtape import aws, config

log = logging.getLogger(__name__)

BUFFER_SECONDS = 60.0
BUFFER_BYTES = 64 * 1024 * 1024
RAW_PREFIX = "raw/"
ERROR_PREFIX = "errors/"
STREAM_VERSION = 1
_GET_RECORDS_LIMIT = 10_000


def partition_keys(data: bytes) -> tuple[str, str]:
    """The JQ query {iso: .iso, date: .interval_start[0:10]}; raises ValueError like a failed extraction."""
    record = json.loads(data)
    if not isinstance(record, dict):
        raise ValueError("record is not a JSON object")
    iso, start = record.get("iso"), record.get("interval_start")
    if not isinstance(iso, str) or not iso or not isinstance(start, str) or len(start) < 10:
        raise ValueError("partition keys iso / interval_start missing")
    return iso, start[:10]


def object_key(prefix: str, stream: str, when: datetime) -> str:
    return f"{prefix}{stream}-{STREAM_VERSION}-{when:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}.gz"


def error_record(data: bytes, reason: str, arrival: datetime) -> bytes:
    return json.dumps(
        {
            "attemptsMade": 1,
            "arrivalTimestamp": int(arrival.timestamp() * 1000),
            "errorCode": "DynamicPartitioning.MetadataExtractionFailed",
            "errorMessage": reason,
            "rawData": base64.b64encode(data).decode(),
        }
    ).encode()


@dataclass
class _Buffer:
    opened_at: datetime
    opened_mono: float
    lines: list[bytes] = field(default_factory=list)
    size: int = 0


@dataclass
class Lander:
    """The delivery loop. `clock` is injectable so tests can age buffers without sleeping."""

    stream: str
    bucket: str
    delivery_name: str
    checkpoint_path: Path
    buffer_seconds: float = BUFFER_SECONDS
    buffer_bytes: int = BUFFER_BYTES
    clock: Callable[[], float] = time.monotonic
    buffers: dict[str, _Buffer] = field(default_factory=dict)
    positions: dict[str, str] = field(default_factory=dict)  # shard -> last sequence read
    stats: dict[str, int] = field(default_factory=lambda: {"records": 0, "objects": 0, "errors": 0})

    def __post_init__(self) -> None:
        self.kinesis = aws.client("kinesis")
        self.s3 = aws.client("s3")
        self.checkpoint: dict[str, str] = self._read_checkpoint()
        self.positions = dict(self.checkpoint)

    def _read_checkpoint(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.checkpoint_path.read_text()))
        except FileNotFoundError:
            return {}

    def _write_checkpoint(self) -> None:
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.positions, indent=1, sort_keys=True))
        tmp.replace(self.checkpoint_path)  # atomic: a crash leaves the old or the new checkpoint
        self.checkpoint = dict(self.positions)

    def _add(self, prefix: str, line: bytes, arrival: datetime) -> None:
        buf = self.buffers.get(prefix)
        if buf is None:
            buf = self.buffers[prefix] = _Buffer(arrival, self.clock())
        buf.lines.append(line)
        buf.size += len(line) + 1

    def accept(self, data: bytes, arrival: datetime) -> None:
        try:
            iso, day = partition_keys(data)
        except (ValueError, UnicodeDecodeError) as exc:
            self.stats["errors"] += 1
            self._add(
                f"{ERROR_PREFIX}processing-failed/{arrival:%Y-%m-%d}/", error_record(data, str(exc), arrival), arrival
            )
            return
        self.stats["records"] += 1
        self._add(f"{RAW_PREFIX}iso={iso}/date={day}/", data.rstrip(b"\n"), arrival)

    def due(self) -> bool:
        now = self.clock()
        return any(
            now - b.opened_mono >= self.buffer_seconds or b.size >= self.buffer_bytes for b in self.buffers.values()
        )

    def flush(self) -> int:
        """Write every buffer as one gzip object, then checkpoint."""
        written = 0
        for prefix, buf in sorted(self.buffers.items()):
            body = gzip.compress(b"\n".join(buf.lines) + b"\n")
            self.s3.put_object(Bucket=self.bucket, Key=object_key(prefix, self.delivery_name, buf.opened_at), Body=body)
            written += 1
        self.buffers.clear()
        self.stats["objects"] += written
        if self.positions != self.checkpoint:
            self._write_checkpoint()
        return written

    def shards(self) -> list[str]:
        out: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": self.stream}
        while True:
            resp = self.kinesis.list_shards(**kwargs)
            out.extend(s["ShardId"] for s in resp["Shards"])
            if not resp.get("NextToken"):
                return out
            kwargs = {"NextToken": resp["NextToken"]}

    def _iterator(self, shard: str) -> str:
        last = self.positions.get(shard)
        if last:
            resp = self.kinesis.get_shard_iterator(
                StreamName=self.stream,
                ShardId=shard,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=last,
            )
        else:
            resp = self.kinesis.get_shard_iterator(
                StreamName=self.stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )
        return str(resp["ShardIterator"])

    def drain(self) -> int:
        """Read every shard up to its tip once, buffering (and flushing when a buffer is due)."""
        n = 0
        for shard in self.shards():
            iterator: str | None = self._iterator(shard)
            while iterator:
                resp = self.kinesis.get_records(ShardIterator=iterator, Limit=_GET_RECORDS_LIMIT)
                for rec in resp["Records"]:
                    arrival = rec.get("ApproximateArrivalTimestamp") or datetime.now(UTC)
                    self.accept(rec["Data"], arrival.astimezone(UTC))
                    self.positions[shard] = rec["SequenceNumber"]
                    n += 1
                if self.due():
                    self.flush()
                iterator = resp.get("NextShardIterator")
                if not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0:
                    break
        return n


def lander(names: config.Names | None = None, home: Path | None = None, **kwargs: Any) -> Lander:
    names = names or config.names()
    home = home or config.home()
    return Lander(
        stream=names.ticks_stream,
        bucket=names.raw_bucket,
        delivery_name=names.firehose,
        checkpoint_path=home / "land" / f"{names.ticks_stream}.json",
        **kwargs,
    )


def land_once(names: config.Names | None = None, home: Path | None = None) -> dict[str, int]:
    """Drain what is on the stream now and flush every buffer (`gridtape land --once`)."""
    lnd = lander(names, home)
    read = lnd.drain()
    lnd.flush()
    return {"read": read, **lnd.stats}


def land_forever(names: config.Names | None = None, home: Path | None = None, poll_seconds: float = 1.0) -> None:
    """Run like the delivery stream: poll, buffer, flush when a buffer is 60 s old or 64 MiB."""
    lnd = lander(names, home)
    while True:
        lnd.drain()
        if lnd.due():
            lnd.flush()
        time.sleep(poll_seconds)

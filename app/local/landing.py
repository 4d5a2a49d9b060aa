"""`gridtape land`: the embedded stand-in for the Firehose delivery stream (infra/ writes the
real one). Emulators do not deliver Kinesis -> Firehose -> S3, so this loop does, with the
same layout (defined once in gridtape/landing.py, which the backfill writes too), buffering
and format:

- source: the ticks stream, read with GetShardIterator / GetRecords, shard by shard;
- dynamic partitioning as the Firehose JQ query `{iso: .iso, date: .interval_start[0:10]}`:
  raw/iso=<ISO>/date=<UTC date of interval_start>/ (event time, so revisions land in the
  partition the compaction re-reads);
- buffering hints 60 s / 64 MiB per partition; GZIP; JSON Lines (a newline appended per record);
- object keys like Firehose's: <prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz;
- records whose partition keys cannot be extracted (not JSON, no iso / interval_start) go to
  errors/processing-failed/<yyyy-MM-dd>/ as Firehose error records (base64 rawData + errorCode).

The per-shard position is a local checkpoint (GRIDTAPE_HOME/land/<stream>.json). A flush is
a small redo log, so a restart never re-lands a record and never skips one:
1. the checkpoint records the flush's intent: the positions its buffers reach (`flushing`);
2. every buffer is written to a key derived from its content (the shard and first..last
   sequence numbers it holds, and its earliest arrival time), so writing it again overwrites;
3. the checkpoint moves to the new positions.
A crash before 3 leaves the intent: the next run re-reads exactly the records between the old
positions and the intent's, rebuilds the same buffers and rewrites the same keys before it
reads anything new. Before 1, the buffers were never written and are simply read again.
Difference from Firehose, on purpose: a flush writes every partition's buffer at once, so one
checkpoint covers them all.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridtape import aws, config, kinesis, landing

log = logging.getLogger(__name__)

BUFFER_SECONDS = 60.0
BUFFER_BYTES = 64 * 1024 * 1024


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
    opened_at: datetime  # earliest arrival in the buffer (order-free, so a redo finds the same)
    opened_mono: float
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    ranges: dict[str, tuple[str, str]] = field(default_factory=dict)  # shard -> first, last sequence

    def content(self) -> str:
        return ";".join(f"{shard}:{a}-{b}" for shard, (a, b) in sorted(self.ranges.items()))


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
        self.checkpoint, self.flushing = self._read_checkpoint()
        self.positions = dict(self.checkpoint)

    def _read_checkpoint(self) -> tuple[dict[str, str], dict[str, str] | None]:
        """-> (positions, the positions an unfinished flush reaches, or None)."""
        try:
            saved = dict(json.loads(self.checkpoint_path.read_text()))
        except FileNotFoundError:
            return {}, None
        if "positions" not in saved:  # the earlier flat {shard: sequence} format
            return saved, None
        return dict(saved["positions"]), saved.get("flushing")

    def _save(self, positions: dict[str, str], flushing: dict[str, str] | None) -> None:
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"positions": positions, "flushing": flushing}, indent=1, sort_keys=True))
        tmp.replace(self.checkpoint_path)  # atomic: a crash leaves the old or the new checkpoint
        self.checkpoint, self.flushing = dict(positions), flushing

    def _add(self, prefix: str, line: bytes, arrival: datetime, shard: str, sequence: str) -> None:
        buf = self.buffers.get(prefix)
        if buf is None:
            buf = self.buffers[prefix] = _Buffer(arrival, self.clock())
        buf.opened_at = min(buf.opened_at, arrival)
        buf.lines.append(line)
        buf.size += len(line) + 1
        if shard:
            first, last = buf.ranges.get(shard, (sequence, sequence))
            buf.ranges[shard] = (min(first, sequence, key=int), max(last, sequence, key=int))

    def accept(self, data: bytes, arrival: datetime, shard: str = "", sequence: str = "") -> None:
        try:
            iso, day = landing.partition_keys(data)
        except (ValueError, UnicodeDecodeError) as exc:
            self.stats["errors"] += 1
            prefix = f"{landing.ERROR_PREFIX}processing-failed/{arrival:%Y-%m-%d}/"
            self._add(prefix, error_record(data, str(exc), arrival), arrival, shard, sequence)
            return
        self.stats["records"] += 1
        self._add(landing.partition(iso, day), data.rstrip(b"\n"), arrival, shard, sequence)

    def due(self) -> bool:
        now = self.clock()
        return any(
            now - b.opened_mono >= self.buffer_seconds or b.size >= self.buffer_bytes for b in self.buffers.values()
        )

    def flush(self) -> int:
        """Intent, every buffer as one gzip object at its content's key, then the checkpoint."""
        moved = self.positions != self.checkpoint
        if moved:
            self._save(self.checkpoint, dict(self.positions))
        written = 0
        for prefix, buf in sorted(self.buffers.items()):
            body = landing.encode(buf.lines)
            key = landing.object_key(prefix, self.delivery_name, buf.opened_at, buf.content())
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
            written += 1
        self.buffers.clear()
        self.stats["objects"] += written
        if moved or self.flushing:
            self._save(dict(self.positions), None)
        return written

    def _read(self, shard: str, until: str | None = None) -> int:
        reader = kinesis.ShardReader(self.stream, shard, self.positions.get(shard), until=until, client=self.kinesis)
        n = 0
        for batch in reader.to_tip():
            for rec in batch.records:
                self.accept(rec.data, rec.arrival or datetime.now(UTC), shard, rec.sequence_number)
            if batch.position:
                self.positions[shard] = batch.position
            n += len(batch.records)
            if until is None and self.due():
                self.flush()
        return n

    def recover(self) -> int:
        """Finish the flush a crash interrupted: re-read exactly its records (old positions to
        the intent's) and write them again, to the same keys."""
        if not self.flushing:
            return 0
        self.buffers.clear()
        self.positions = dict(self.checkpoint)
        n = sum(
            self._read(shard, until)
            for shard, until in sorted(self.flushing.items())
            if self.positions.get(shard) != until
        )
        log.warning("landing: redid an interrupted flush of %d record(s)", n)
        self.flush()
        return n

    def drain(self) -> int:
        """Finish an interrupted flush, then read every shard up to its tip once, buffering (and
        flushing when a buffer is due). -> records read."""
        return self.recover() + sum(
            self._read(shard.shard_id) for shard in kinesis.list_shards(self.stream, self.kinesis)
        )


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


def land_forever(
    names: config.Names | None = None,
    home: Path | None = None,
    poll_seconds: float = 1.0,
    stop: threading.Event | None = None,
) -> None:
    """Run like the delivery stream: poll every poll_seconds, buffer, flush when a buffer is
    60 s old or 64 MiB; until `stop` is set (then flush what is buffered)."""
    lnd = lander(names, home)
    stop = stop or threading.Event()
    while True:
        lnd.drain()
        if lnd.due():
            lnd.flush()
        if stop.wait(poll_seconds):
            lnd.flush()
            return

"""The local stand-in for amazon-kclpy's MultiLangDaemon: it runs the feed's record processor
(feed/processor.py, the KCL interface) on the project's Kinesis reader (gridtape.kinesis), with
its leases and checkpoints in an emulator DynamoDB table shaped like the KCL's lease table
(app/local/feed_leases.py).

A worker takes a shard whose lease is free or already its own, or whose counter has not moved
for `failover_s` (its owner died: the KCL's failover). A restarted consumer therefore resumes
after its last checkpoint: no replay of the stream, no gap. A child shard (after resharding)
starts once its parents are checkpointed at SHARD_END.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from app.local.feed_leases import SHARD_END, Checkpointer, Lease, LeaseTable, default_worker_id, lease_table
from feed import processor as kcl  # the KCL's messages, which this daemon stands in to send
from feed.processor import FeedProcessor, Sink
from feed.records import KINDS, Kind
from gridtape import config, kinesis

log = logging.getLogger(__name__)

_SENTINELS = {"TRIM_HORIZON", "LATEST", SHARD_END}


@dataclass
class _Worker:
    stream: str
    lease: Lease
    reader: kinesis.ShardReader
    processor: FeedProcessor
    checkpointer: Checkpointer
    renewed: float


class FeedDriver:
    """Runs one FeedProcessor per owned shard of each stream. poll() is one round (leases, one
    GetRecords per shard, processing); run() loops until stopped."""

    def __init__(
        self,
        streams: dict[str, tuple[Kind, str]],  # stream name -> (record kind, lease table name)
        sink: Sink,
        *,
        worker_id: str | None = None,
        start: str = "TRIM_HORIZON",
        failover_s: float = 10.0,
        idle_s: float = 0.25,
        processor: Callable[[Kind, Sink], FeedProcessor] = FeedProcessor,
    ) -> None:
        self.streams = streams
        self.sink = sink
        self.owner = worker_id or default_worker_id()
        self.start = start
        self.failover_s = failover_s
        self.idle_s = idle_s
        self.make_processor = processor
        self.tables = {s: LeaseTable(t) for s, (_, t) in streams.items()}
        self.graceful = True  # False: stop as if killed (no final checkpoint, leases kept until failover)
        self.workers: dict[tuple[str, str], _Worker] = {}
        self.finished: set[tuple[str, str]] = set()
        self.shard_sync_s = 10.0  # how often the shard list is refreshed (the KCL's shard sync)
        self._shards: dict[str, tuple[float, list[kinesis.Shard]]] = {}
        self._acquired_at = -math.inf

    def ensure_tables(self) -> None:
        for table in self.tables.values():
            table.ensure()

    def _acquire(self) -> None:
        for stream, (kind, _) in self.streams.items():
            table = self.tables[stream]
            cached = self._shards.get(stream)
            if cached is None or time.monotonic() - cached[0] > self.shard_sync_s:
                try:
                    cached = self._shards[stream] = (time.monotonic(), kinesis.list_shards(stream))
                except ClientError as exc:  # stream not created yet: try again next round
                    log.debug("feed: cannot list %s: %s", stream, exc)
                    continue
            shards = cached[1]
            for shard in shards:
                key = (stream, shard.shard_id)
                if key in self.workers or key in self.finished or not self._parents_done(table, shard):
                    continue
                lease = table.take(shard, self.owner, self.start, self.failover_s)
                if lease is None:
                    continue
                if lease.checkpoint == SHARD_END:
                    self.finished.add(key)
                    continue
                after = None if lease.checkpoint in _SENTINELS else lease.checkpoint
                start = kinesis.LATEST if lease.checkpoint == "LATEST" else kinesis.TRIM_HORIZON
                processor = self.make_processor(kind, self.sink)
                processor.initialize(kcl.InitializeInput(shard.shard_id, lease.checkpoint))
                self.workers[key] = _Worker(
                    stream,
                    lease,
                    kinesis.ShardReader(stream, shard.shard_id, after, start=start),
                    processor,
                    Checkpointer(table, lease),
                    time.monotonic(),
                )

    def _parents_done(self, table: LeaseTable, shard: kinesis.Shard) -> bool:
        for parent in (shard.parent_shard_id, shard.adjacent_parent_shard_id):
            if parent and (item := table.get(parent)) is not None and item.get("checkpoint") != SHARD_END:
                return False
        return True

    def poll(self) -> int:
        """One round; returns the records delivered to processors."""
        if time.monotonic() - self._acquired_at >= min(1.0, self.failover_s / 2):
            self._acquire()  # free, released or failed-over leases, at most about once a second
            self._acquired_at = time.monotonic()
        delivered = 0
        for key, w in list(self.workers.items()):
            if time.monotonic() - w.renewed > self.failover_s / 3:
                if not self.tables[w.stream].renew(w.lease):
                    self._lost(key, w)
                    continue
                w.renewed = time.monotonic()
            batch = w.reader.get()
            if batch.records:
                w.checkpointer.delivered = batch.records[-1].sequence_number
                records = [kcl.Record(r.sequence_number, r.partition_key, r.data, r.arrival) for r in batch.records]
                try:
                    w.processor.process_records(kcl.ProcessRecordsInput(records, w.checkpointer, batch.millis_behind))
                except kcl.CheckpointError:
                    w.checkpointer.refused = True
                except Exception:
                    # Not checkpointed: drop the worker so the next round re-takes the lease and
                    # re-reads after the checkpoint (redelivery, as the KCL does), not a gap.
                    log.exception("feed: processing %s %s failed; redelivering", *key)
                    del self.workers[key]
                    continue
                if w.checkpointer.refused:  # the processor may swallow it, as the KCL's sample does
                    self._lost(key, w)
                    continue
                delivered += len(records)
            if batch.ended:
                w.checkpointer.ended = True
                w.processor.shard_ended(kcl.ShardEndedInput(w.checkpointer))
                del self.workers[key]
                self.finished.add(key)
                self._shards.pop(w.stream, None)  # its children are new shards
        return delivered

    def _lost(self, key: tuple[str, str], w: _Worker) -> None:
        log.info("feed: lease on %s %s lost", *key)
        w.processor.lease_lost(kcl.LeaseLostInput())
        del self.workers[key]

    def run(self, stop: threading.Event) -> None:
        self.ensure_tables()
        while not stop.is_set():
            try:
                busy = self.poll()
            except Exception:  # an emulator hiccup: log, back off, carry on (the KCL does too)
                log.exception("feed driver round failed")
                busy = 0
            if not busy:
                stop.wait(self.idle_s)
        if self.graceful:
            self.shutdown()

    def shutdown(self) -> None:
        """Graceful end: each processor checkpoints, then the leases are released for the next worker."""
        for key, w in list(self.workers.items()):
            try:
                w.processor.shutdown_requested(kcl.ShutdownRequestedInput(w.checkpointer))
                self.tables[w.stream].release(w.lease)
            except Exception:
                log.exception("feed: shutdown of %s %s failed", *key)
        self.workers.clear()


def streams_for(names: config.Names) -> dict[str, tuple[Kind, str]]:
    """The two streams the feed consumes, each with its lease table."""
    return {
        names.ticks_stream: (KINDS["ticks"], lease_table(names, "ticks")),
        names.analytics_stream: (KINDS["analytics"], lease_table(names, "analytics")),
    }

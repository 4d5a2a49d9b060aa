"""Sinks of the volatility job, idempotent per micro-batch (foreachBatch may run a batch twice:
after a crash Spark replays the last planned batch with the same batchId and the same input).

* Curated Parquet on S3: one object per (window family, UTC date of window_end, batch) at a key
  made only of the query id and the batchId, so a replay overwrites the same objects with the
  same records.
* The analytics Kinesis stream: Kinesis cannot de-duplicate, so each batch goes through
  markers in the curated bucket, namespaced by query id (which survives restarts from the same
  checkpoint and changes with a new one):
  1. a `done` marker for the batch  -> it was fully published: skip;
  2. an `intent` marker (written before the first PutRecords) but no `done` -> the previous
     attempt died mid-publish: read the stream back from the intent's time and publish only
     the records whose id (the volatility natural key) is not there yet;
  3. publish, retrying only the entries PutRecords reports as failed, then write `done`.
  Each record's id is its natural key (iso, market, location, window_start, window_end), part
  of the record itself, so a consumer can de-duplicate too (partition key: iso:location).

Records arrive as dicts with aware UTC datetimes (job.collect_records moves timestamps out of
Spark as epoch microseconds, which keeps them UTC whatever the driver's local zone is).
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gridtape import aws
from gridtape.contract import VOLATILITY, dumps, format_ts, natural_key
from gridtape.errors import TransientError

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TS_FIELDS = tuple(f.name for f in VOLATILITY.fields if f.kind == "timestamp")
_PUT_BATCH = 500  # PutRecords: at most 500 entries and 5 MiB per call
_PUT_ATTEMPTS = 8
_READBACK_MARGIN = timedelta(minutes=5)  # clock skew between this host and Kinesis arrival times


def from_micros(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=int(value))


def to_record(row: dict[str, Any]) -> dict[str, Any]:
    """A collected row (timestamps as epoch microseconds) -> volatility record with aware UTC
    datetimes, in contract field order."""
    return {name: (from_micros(row[name]) if name in _TS_FIELDS else row[name]) for name in VOLATILITY.names}


def wire(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (format_ts(v) if isinstance(v, datetime) else v) for k, v in record.items()}


def record_id(record: dict[str, Any]) -> str:
    """Deterministic id of a volatility record: its natural key, on the wire."""
    return "|".join(natural_key(wire(record), VOLATILITY))


@dataclass
class SinkCounts:
    batches: int = 0
    records: int = 0
    parquet_objects: int = 0
    kinesis_records: int = 0
    kinesis_skipped_batches: int = 0
    kinesis_recovered_records: int = 0
    per_batch: dict[int, int] = field(default_factory=dict)


class MarkerStore:
    """Batch markers as small S3 objects (the curated bucket, beside the data they vouch for)."""

    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = prefix.rstrip("/")

    def _key(self, query_id: str, batch_id: int, kind: str) -> str:
        return f"{self.prefix}/query={query_id}/batch={batch_id:012d}.{kind}.json"

    def get(self, query_id: str, batch_id: int, kind: str) -> dict[str, Any] | None:
        s3 = aws.client("s3")
        try:
            body = s3.get_object(Bucket=self.bucket, Key=self._key(query_id, batch_id, kind))["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        return dict(json.loads(body))

    def put(self, query_id: str, batch_id: int, kind: str, body: dict[str, Any]) -> None:
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=self._key(query_id, batch_id, kind), Body=json.dumps(body).encode()
        )


class ParquetSink:
    """Curated Parquet: s3://bucket/volatility/window_minutes=W/date=YYYY-MM-DD/<query>-<batch>.parquet"""

    def __init__(self, bucket: str, prefix: str = "volatility") -> None:
        self.bucket = bucket
        self.prefix = prefix.rstrip("/")

    def key(self, query_id: str, batch_id: int, window_minutes: int, day: str) -> str:
        return f"{self.prefix}/window_minutes={window_minutes}/date={day}/{query_id}-{batch_id:012d}.parquet"

    def write(self, query_id: str, batch_id: int, records: Sequence[dict[str, Any]]) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from gridtape.contract import arrow_schema

        groups: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
        for rec in records:
            groups[(rec["window_minutes"], rec["window_end"].strftime("%Y-%m-%d"))].append(rec)
        s3 = aws.client("s3")
        for (minutes, day), recs in sorted(groups.items()):
            recs.sort(key=record_id)  # same bytes on a replay, whatever order Spark collected in
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(recs, schema=arrow_schema(VOLATILITY)), buf, compression="zstd")
            s3.put_object(Bucket=self.bucket, Key=self.key(query_id, batch_id, minutes, day), Body=buf.getvalue())
        return len(groups)


class KinesisSink:
    def __init__(self, stream: str, markers: MarkerStore) -> None:
        self.stream = stream
        self.markers = markers

    def write(self, query_id: str, batch_id: int, records: Sequence[dict[str, Any]]) -> tuple[int, bool, int]:
        """Publish a batch once. Returns (records put, skipped as already done, records found
        already published by an interrupted attempt)."""
        if self.markers.get(query_id, batch_id, "done") is not None:
            return 0, True, 0
        intent = self.markers.get(query_id, batch_id, "intent")
        pending = sorted(records, key=record_id)
        recovered = 0
        if intent is not None:
            present = self.published_since(datetime.fromisoformat(intent["started_at"]) - _READBACK_MARGIN)
            before = len(pending)
            pending = [r for r in pending if record_id(r) not in present]
            recovered = before - len(pending)
            log.warning(
                "analytics batch %d was interrupted mid-publish: %d of its records already on the stream, %d to go",
                batch_id,
                recovered,
                len(pending),
            )
        else:
            self.markers.put(query_id, batch_id, "intent", {"started_at": datetime.now(UTC).isoformat()})
        self.put_records(pending)
        self.markers.put(query_id, batch_id, "done", {"records": len(records), "at": datetime.now(UTC).isoformat()})
        return len(pending), False, recovered

    def put_records(self, records: Iterable[dict[str, Any]]) -> None:
        entries = [
            {"Data": (dumps(wire(r)) + "\n").encode(), "PartitionKey": f"{r['iso']}:{r['location']}"} for r in records
        ]
        kinesis = aws.client("kinesis")
        for i in range(0, len(entries), _PUT_BATCH):
            todo = entries[i : i + _PUT_BATCH]
            for attempt in range(_PUT_ATTEMPTS):
                resp = kinesis.put_records(StreamName=self.stream, Records=todo)
                if not resp.get("FailedRecordCount"):
                    break
                # Retry only the entries that failed (throttled shards), keeping their order.
                todo = [e for e, r in zip(todo, resp["Records"], strict=True) if "ErrorCode" in r]
                time.sleep(min(0.1 * 2**attempt, 5.0))
            else:
                raise TransientError(f"PutRecords to {self.stream}: {len(todo)} records still failing")

    def published_since(self, since: datetime) -> set[str]:
        """Ids of the volatility records on the stream that arrived at or after `since`."""
        kinesis = aws.client("kinesis")
        ids: set[str] = set()
        shards = kinesis.list_shards(StreamName=self.stream)["Shards"]
        for shard in shards:
            it = kinesis.get_shard_iterator(
                StreamName=self.stream, ShardId=shard["ShardId"], ShardIteratorType="AT_TIMESTAMP", Timestamp=since
            )["ShardIterator"]
            while it:
                resp = kinesis.get_records(ShardIterator=it, Limit=10_000)
                for rec in resp["Records"]:
                    try:
                        ids.add(_wire_id(json.loads(rec["Data"])))
                    except (ValueError, KeyError):
                        continue  # not ours; the stream is shared with nobody, but be tolerant
                if not resp["Records"] or resp.get("MillisBehindLatest", 0) == 0:
                    break
                it = resp.get("NextShardIterator")
        return ids


def _wire_id(record: dict[str, Any]) -> str:
    return "|".join(str(record[k]) for k in VOLATILITY.natural_key)


class VolatilitySinks:
    """Both sinks behind one foreachBatch-shaped call."""

    def __init__(self, curated_bucket: str, analytics_stream: str, marker_prefix: str = "_sink_commits/analytics"):
        self.parquet = ParquetSink(curated_bucket)
        self.kinesis = KinesisSink(analytics_stream, MarkerStore(curated_bucket, marker_prefix))
        self.counts = SinkCounts()

    def write(self, query_id: str, batch_id: int, records: Sequence[dict[str, Any]]) -> None:
        self.counts.batches += 1
        self.counts.per_batch[batch_id] = len(records)
        if not records:
            return
        self.counts.records += len(records)
        self.counts.parquet_objects += self.parquet.write(query_id, batch_id, records)
        put, skipped, recovered = self.kinesis.write(query_id, batch_id, records)
        self.counts.kinesis_records += put
        self.counts.kinesis_skipped_batches += int(skipped)
        self.counts.kinesis_recovered_records += recovered
        log.info("batch %d: %d volatility records -> parquet + analytics (%d put)", batch_id, len(records), put)

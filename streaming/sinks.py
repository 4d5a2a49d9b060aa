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
  3. publish (gridtape.kinesis.Writer: request limits, only failed entries re-sent), then
     write `done`. The read-back reads every shard to its tip (through empty pages), so a
     replay finds every record the interrupted attempt put.
  Each record's id is its natural key (iso, market, location, window_start, window_end), part
  of the record itself, so a consumer can de-duplicate too (partition key: iso:location).

Records arrive as dicts with aware UTC datetimes (job.collect_records moves timestamps out of
Spark as epoch microseconds, which keeps them UTC whatever the driver's local zone is).
A non-finite statistic (inf/NaN) never reaches either sink: a nullable field becomes null, a
record with a non-finite required field is dropped; both are counted and logged, never raised
(JSON has no inf/NaN, and a batch that raises would be replayed forever).
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gridtape import aws, kinesis
from gridtape.contract import VOLATILITY, dumps, format_ts, natural_key

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TS_FIELDS = tuple(f.name for f in VOLATILITY.fields if f.kind == "timestamp")
_FLOATS = {f.name: f.nullable for f in VOLATILITY.fields if f.kind == "float"}
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


def finite(records: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """-> (records without inf/NaN, fields set to null, records dropped). A nullable float that
    is not finite becomes null; a required one (e.g. price_mean) drops its record."""
    out: list[dict[str, Any]] = []
    nulled = dropped = 0
    for rec in records:
        bad = [k for k in _FLOATS if isinstance(rec.get(k), float) and not math.isfinite(rec[k])]
        if any(not _FLOATS[k] for k in bad):
            dropped += 1
            log.error("volatility record %s dropped: non-finite required field(s) %s", record_id(rec), bad)
            continue
        if bad:
            nulled += len(bad)
            log.warning("volatility record %s: non-finite %s written as null", record_id(rec), bad)
            rec = {**rec, **dict.fromkeys(bad)}
        out.append(rec)
    return out, nulled, dropped


@dataclass
class SinkCounts:
    batches: int = 0
    records: int = 0
    parquet_objects: int = 0
    kinesis_records: int = 0
    kinesis_skipped_batches: int = 0
    kinesis_recovered_records: int = 0
    nonfinite_nulled_fields: int = 0
    nonfinite_dropped_records: int = 0
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
            kinesis.Entry((dumps(wire(r)) + "\n").encode(), f"{r['iso']}:{r['location']}", record_id(r))
            for r in records
        ]
        kinesis.Writer(self.stream, aws.client("kinesis"), max_attempts=8).put(entries)

    def published_since(self, since: datetime) -> set[str]:
        """Ids of the volatility records on the stream that arrived at or after `since`, every
        shard read to its tip."""
        records, _ = kinesis.read_to_tip(self.stream, start=kinesis.Start.at(since), client=aws.client("kinesis"))
        ids: set[str] = set()
        for rec in records:
            try:
                ids.add(_wire_id(json.loads(rec.data)))
            except (ValueError, KeyError, TypeError):
                continue  # not ours; the stream is shared with nobody, but be tolerant
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
        records, nulled, dropped = finite(records)
        self.counts.nonfinite_nulled_fields += nulled
        self.counts.nonfinite_dropped_records += dropped
        if not records:
            return
        self.counts.records += len(records)
        self.counts.parquet_objects += self.parquet.write(query_id, batch_id, records)
        put, skipped, recovered = self.kinesis.write(query_id, batch_id, records)
        self.counts.kinesis_records += put
        self.counts.kinesis_skipped_batches += int(skipped)
        self.counts.kinesis_recovered_records += recovered
        log.info("batch %d: %d volatility records -> parquet + analytics (%d put)", batch_id, len(records), put)

"""Kinesis reads: ListShards paged (by NextToken; by ExclusiveStartShardId when an emulator
omits the token), GetRecords from a sequence number or TRIM_HORIZON / LATEST / AT_TIMESTAMP up
to the shard's tip.

An empty page is not the tip: Kinesis returns empty pages while MillisBehindLatest > 0. The tip
is NextShardIterator absent (a closed shard read to its end, after resharding) or
MillisBehindLatest == 0 on a page shorter than the limit (moto reports 0 on a page cut short by
the limit, AWS does not, so the shorter-page test covers both).

ShardReader keeps its position (the last sequence number read), so a checkpointing consumer (the
KCL record-processor shape) reads a batch, processes it, checkpoints `batch.position`, and a
restart resumes with `after=` that checkpoint; `batch.ended` is the KCL's shard-end.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from gridtape import aws

GET_RECORDS_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class Start:
    """Where a shard is read from when there is no position yet: TRIM_HORIZON, LATEST or
    AT_TIMESTAMP (with `timestamp`)."""

    kind: str = "TRIM_HORIZON"
    timestamp: datetime | None = None

    @classmethod
    def at(cls, timestamp: datetime) -> Start:
        return cls("AT_TIMESTAMP", timestamp)


TRIM_HORIZON: Final = Start()
LATEST: Final = Start("LATEST")


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    parent_shard_id: str | None = None
    adjacent_parent_shard_id: str | None = None
    ending_sequence_number: str | None = None  # set once the shard is closed (split or merged)

    @property
    def closed(self) -> bool:
        return self.ending_sequence_number is not None


@dataclass(frozen=True, slots=True)
class Record:
    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival: datetime | None  # ApproximateArrivalTimestamp, UTC


@dataclass(frozen=True, slots=True)
class Batch:
    shard_id: str
    records: list[Record]
    position: str | None  # last sequence number read on the shard: checkpoint it, resume with after=
    millis_behind: int
    at_tip: bool
    ended: bool  # a closed shard read to its end: its children carry on


def list_shards(stream: str, client: Any = None, *, page_size: int = 1000) -> list[Shard]:
    """Every shard of the stream, open and closed (within retention), parents before children
    (Kinesis numbers shards in creation order)."""
    kinesis = client or aws.client("kinesis")
    found: dict[str, Shard] = {}
    kwargs: dict[str, Any] = {"StreamName": stream, "MaxResults": page_size}
    named_token = False  # moto wants the StreamName beside a NextToken; AWS refuses it
    while True:
        try:
            page = kinesis.list_shards(**kwargs)
        except ClientError as exc:
            if named_token or "NextToken" not in kwargs or exc.response.get("Error", {}).get("Code") != "InvalidToken":
                raise
            named_token = True
            kwargs["StreamName"] = stream
            continue
        shards = page.get("Shards", [])
        new = [s for s in shards if s["ShardId"] not in found]
        for s in new:
            found[s["ShardId"]] = Shard(
                s["ShardId"],
                s.get("ParentShardId"),
                s.get("AdjacentParentShardId"),
                s.get("SequenceNumberRange", {}).get("EndingSequenceNumber"),
            )
        if page.get("NextToken") and new:
            kwargs = {"NextToken": page["NextToken"], "MaxResults": page_size}
            if named_token:
                kwargs["StreamName"] = stream
        elif len(shards) >= page_size and new:  # a full page without a token: ask after the last
            kwargs = {"StreamName": stream, "MaxResults": page_size, "ExclusiveStartShardId": shards[-1]["ShardId"]}
        else:
            return sorted(found.values(), key=lambda s: s.shard_id)


class ShardReader:
    """One shard, read page by page from `after` (a sequence number) or else from `start`.
    `until` (inclusive sequence number) bounds a re-read of an already planned range. Pass
    `closed=shard.closed` so a closed shard's tip counts as its end on emulators too.

    A checkpointing consumer (the KCL record-processor shape) polls it:
        reader = ShardReader(stream, shard_id, after=checkpointed_sequence)
        while not reader.ended:                      # ended: closed shard, children next
            batch = reader.get()                     # may be empty; batch.millis_behind for lag
            processor.process_records(batch.records)
            checkpoint(batch.position)               # restart resumes with after=position
    """

    def __init__(
        self,
        stream: str,
        shard_id: str,
        after: str | None = None,
        *,
        start: Start = TRIM_HORIZON,
        until: str | None = None,
        closed: bool = False,
        limit: int = GET_RECORDS_LIMIT,
        client: Any = None,
    ) -> None:
        self.stream = stream
        self.shard_id = shard_id
        self.position = after or None
        self.start = start
        self.until = int(until) if until else None
        self.closed = closed  # Shard.closed: its tip is its end (emulators keep a NextShardIterator)
        self.limit = limit
        self.client = client or aws.client("kinesis")
        self.ended = False  # a closed shard read to its end (NextShardIterator absent)
        self.reached = False  # `until` read
        self._iterator: str | None = None

    def _new_iterator(self) -> str:
        kwargs: dict[str, Any] = {"StreamName": self.stream, "ShardId": self.shard_id}
        if self.position:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=self.position)
        else:
            kwargs["ShardIteratorType"] = self.start.kind
            if self.start.timestamp is not None:
                kwargs["Timestamp"] = self.start.timestamp
        return str(self.client.get_shard_iterator(**kwargs)["ShardIterator"])

    def get(self) -> Batch:
        """One GetRecords call (an expired iterator is renewed after the position)."""
        if self.ended or self.reached:
            return Batch(self.shard_id, [], self.position, 0, True, self.ended)
        if self._iterator is None:
            self._iterator = self._new_iterator()
        try:
            resp = self.client.get_records(ShardIterator=self._iterator, Limit=self.limit)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            self._iterator = self._new_iterator()
            resp = self.client.get_records(ShardIterator=self._iterator, Limit=self.limit)
        raw = resp.get("Records", [])
        records: list[Record] = []
        for r in raw:
            if self.until is not None and int(r["SequenceNumber"]) > self.until:
                self.reached = True
                break
            arrival = r.get("ApproximateArrivalTimestamp")
            records.append(
                Record(
                    self.shard_id,
                    r["SequenceNumber"],
                    r.get("PartitionKey", ""),
                    bytes(r["Data"]),
                    arrival.astimezone(UTC) if arrival is not None else None,
                )
            )
        if records:
            self.position = records[-1].sequence_number
        self._iterator = resp.get("NextShardIterator")
        millis = int(resp.get("MillisBehindLatest", 0))
        self.ended = self._iterator is None or (self.closed and millis == 0 and len(raw) < self.limit)
        if self.until is not None and self.position and int(self.position) >= self.until:
            self.reached = True
        at_tip = self.ended or self.reached or (millis == 0 and len(raw) < self.limit)
        return Batch(self.shard_id, records, self.position, millis, at_tip, self.ended)

    def to_tip(self, max_records: int | None = None) -> Iterator[Batch]:
        """Non-empty pages until the tip (or `until`, or the end of a closed shard, or about
        max_records); empty pages on the way are read through."""
        count = 0
        while True:
            batch = self.get()
            if batch.records:
                count += len(batch.records)
                yield batch
            if batch.at_tip or (max_records is not None and count >= max_records):
                return


def read_shard(stream: str, shard_id: str, after: str | None = None, **kwargs: Any) -> Iterator[Batch]:
    """Pages of one shard up to its tip: ShardReader(...).to_tip(max_records)."""
    max_records = kwargs.pop("max_records", None)
    return ShardReader(stream, shard_id, after, **kwargs).to_tip(max_records)


def read_to_tip(
    stream: str,
    positions: Mapping[str, str | None] | None = None,
    *,
    start: Start = TRIM_HORIZON,
    max_records_per_shard: int | None = None,
    limit: int = GET_RECORDS_LIMIT,
    client: Any = None,
) -> tuple[list[Record], dict[str, str | None]]:
    """Every shard (closed ones too) read after its position, or from `start` when it has none,
    to its tip -> (records, shard order then sequence order; the new positions)."""
    kinesis = client or aws.client("kinesis")
    new: dict[str, str | None] = dict(positions or {})
    out: list[Record] = []
    for shard in list_shards(stream, kinesis):
        after = new.get(shard.shard_id) or None
        reader = ShardReader(
            stream, shard.shard_id, after, start=start, closed=shard.closed, limit=limit, client=kinesis
        )
        for batch in reader.to_tip(max_records_per_shard):
            out.extend(batch.records)
        new[shard.shard_id] = reader.position
    return out, new

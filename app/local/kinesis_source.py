"""Local Kinesis source: a PySpark 4.x Python streaming data source reading a Kinesis stream
(the emulator's, or a real one) with boto3. Local-only: on Glue the job reads through Glue's own
Kinesis source (streaming/glue_job.py), and Spark 3.5 has no Python streaming sources.

Why a Python source rather than a connector jar: no Kinesis connector ships with Apache Spark,
the third-party ones pull the AWS SDK and KCL onto the classpath and need a Maven download at
session start, and none of them can be pointed at an emulator endpoint without extra glue. A
data source over the project's Kinesis reader (gridtape.kinesis: paged ListShards, GetRecords
to each shard's tip) reads the emulator with the same boto3 the rest of the project uses, and
its offsets are plain per-shard sequence numbers.

It is a SimpleDataSourceStreamReader: Kinesis has no cheap "latest offset" call, so planning
a batch means reading it; read(start) returns the records and the end offset together, and
Spark keeps them for the batch. After a crash Spark calls readBetweenOffsets(start, end) for
the batch that was planned but not committed, which re-reads exactly the same records (Kinesis
keeps them for the retention period), so a replayed batch sees the same input.

Offsets: {"shards": {shard_id: last sequence number read, or "" for none yet}}.
Rows: data (binary, the record bytes), partition_key, sequence_number, shard_id, arrival_time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from pyspark.sql.datasource import DataSource, SimpleDataSourceStreamReader
from pyspark.sql.types import StructType

from gridtape import kinesis

NAME = "gridtape_kinesis"
SCHEMA = "data binary, partition_key string, sequence_number string, shard_id string, arrival_time timestamp"


def _client(options: dict[str, str]) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = options.get("endpoint_url") or os.environ.get("AWS_ENDPOINT_URL") or None
    kwargs: dict[str, Any] = {}
    if endpoint and _is_local(endpoint) and not os.environ.get("AWS_ACCESS_KEY_ID"):
        # The Python worker may have been forked before the emulator was configured; the
        # emulator accepts any credentials, and real AWS never sees these.
        kwargs = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.session.Session().client(
        "kinesis",
        region_name=options.get("region") or os.environ.get("AWS_REGION") or "us-east-1",
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 8}),
        **kwargs,
    )


def _is_local(url: str) -> bool:
    from urllib.parse import urlparse

    return (urlparse(url).hostname or "") in {"127.0.0.1", "localhost", "::1"}


class KinesisDataSource(DataSource):
    """spark.readStream.format("gridtape_kinesis").option("stream_name", ...).load()

    Options: stream_name (required), endpoint_url, region, max_records_per_batch (per shard,
    default 200000). A new query starts at the trim horizon."""

    @classmethod
    def name(cls) -> str:
        return NAME

    def schema(self) -> str:
        return SCHEMA

    def simpleStreamReader(self, schema: StructType) -> SimpleDataSourceStreamReader:
        return KinesisStreamReader(dict(self.options))


class KinesisStreamReader(SimpleDataSourceStreamReader):
    def __init__(self, options: dict[str, str]) -> None:
        self.options = options
        if not options.get("stream_name"):
            raise ValueError(f"{NAME}: option stream_name is required")
        self.stream = options["stream_name"]
        self.max_records = int(options.get("max_records_per_batch", "200000"))
        self._kinesis: Any = None

    @property
    def kinesis(self) -> Any:
        if self._kinesis is None:
            self._kinesis = _client(self.options)
        return self._kinesis

    def _shards(self) -> list[str]:
        return [s.shard_id for s in kinesis.list_shards(self.stream, self.kinesis)]

    def _rows(self, shard: str, after: str, until: str | None = None, cap: int | None = None) -> Iterator[tuple]:
        """Rows of one shard after sequence number `after` ("" = trim horizon): up to and
        including `until` when given, else to the shard's tip or about `cap` records."""
        reader = kinesis.ShardReader(self.stream, shard, after or None, until=until, client=self.kinesis)
        for batch in reader.to_tip(cap):
            for rec in batch.records:
                yield (rec.data, rec.partition_key, rec.sequence_number, shard, rec.arrival)

    def initialOffset(self) -> dict:
        # Always the trim horizon: a new query (new checkpoint) computes from everything the
        # stream still holds, and the checkpoint carries it from there.
        return {"shards": dict.fromkeys(self._shards(), "")}

    def read(self, start: dict) -> tuple[Iterator[tuple], dict]:
        positions = dict(start.get("shards", {}))
        for shard in self._shards():  # shards created since (resharding) start at their horizon
            positions.setdefault(shard, "")
        rows: list[tuple] = []
        end = dict(positions)
        for shard, after in sorted(positions.items()):
            for row in self._rows(shard, after, cap=self.max_records):
                rows.append(row)
                end[shard] = row[2]
        return iter(rows), {"shards": end}

    def readBetweenOffsets(self, start: dict, end: dict) -> Iterator[tuple]:
        begin = start.get("shards", {})
        rows: list[tuple] = []
        for shard, last in sorted(end.get("shards", {}).items()):
            after = begin.get(shard, "")
            if last and last != after:
                rows.extend(self._rows(shard, after, until=last))
        return iter(rows)

    def commit(self, end: dict) -> None:
        """Nothing to release: the position lives in Spark's offset log, not in Kinesis."""


def register(spark: Any) -> None:
    spark.dataSource.register(KinesisDataSource)

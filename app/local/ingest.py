"""`gridtape ingest`: the embedded stand-in for Redshift streaming ingestion.

On AWS, Redshift reads the ticks and analytics streams itself into the AUTO REFRESH
materialized views of batch/sql/streaming/ingestion.sql. Here one refresh is: read each stream
after the last position stored per shard (gridtape.kinesis), turn each record into the MV's row
(batch.streaming_ingestion.mv_row: the same CAN_JSON_PARSE rule, bad records kept with their
bytes) and append the rows and the new positions to the DuckDB warehouse in one transaction, so
a crash between the two never duplicates or skips a record. The typed views (stream_ticks,
stream_prices, ...) then answer over those tables exactly as on Redshift.

The warehouse file is opened for each refresh and closed after it: DuckDB lets one process
write a file at a time, and `gridtape query` must get in between.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from batch import streaming_ingestion as si
from batch.warehouse import DuckDBExecutor
from gridtape import config, kinesis

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 10.0  # Redshift's AUTO REFRESH runs about this often under load
_COLUMNS = (
    "approximate_arrival_timestamp",
    "partition_key",
    "shard_id",
    "sequence_number",
    "refresh_time",
    "payload",
    "failed_payload",
)


@dataclass
class RefreshResult:
    rows: dict[str, int] = field(default_factory=dict)  # MV -> records appended
    rejected: dict[str, int] = field(default_factory=dict)  # MV -> records that were not JSON

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "rejected": self.rejected}


def positions(con: Any, mv: str) -> dict[str, str | None]:
    rows = con.execute("SELECT shard_id, sequence_number FROM stream_positions WHERE mv_name = ?", [mv]).fetchall()
    return {str(shard): str(seq) for shard, seq in rows}


def append(con: Any, mv: str, rows: list[tuple[Any, ...]], new_positions: dict[str, str | None]) -> None:
    """The rows and the positions that cover them, in one DuckDB transaction."""
    import pyarrow as pa

    if mv not in si.MATERIALIZED_VIEWS:
        raise ValueError(f"unknown streaming MV {mv!r}")
    table = pa.table(
        {
            name: pa.array([r[i] for r in rows], type=kind)
            for i, (name, kind) in enumerate(
                zip(
                    _COLUMNS,
                    (
                        pa.timestamp("us"),
                        pa.string(),
                        pa.string(),
                        pa.string(),
                        pa.timestamp("us"),
                        pa.string(),
                        pa.binary(),
                    ),
                    strict=True,
                )
            )
        }
    )
    con.execute("BEGIN TRANSACTION")
    try:
        if rows:
            con.register("incoming_records", table)
            con.execute(f"INSERT INTO {mv} ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM incoming_records")
            con.unregister("incoming_records")
        for shard, seq in new_positions.items():
            if seq is None:
                continue
            con.execute("DELETE FROM stream_positions WHERE mv_name = ? AND shard_id = ?", [mv, shard])
            con.execute("INSERT INTO stream_positions VALUES (?, ?, ?)", [mv, shard, seq])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def refresh(
    names: config.Names,
    warehouse: Path | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    client: Any = None,
) -> RefreshResult:
    """One refresh of every streaming MV: each stream read to its tip after the stored positions."""
    ex = DuckDBExecutor(warehouse)
    result = RefreshResult()
    try:
        si.ensure_local(ex)
        for mv, attr in si.MATERIALIZED_VIEWS.items():
            stream = getattr(names, attr)
            try:
                records, new = kinesis.read_to_tip(stream, positions(ex.con, mv), client=client)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                log.warning("stream %s does not exist yet; %s stays as it is", stream, mv)
                result.rows[mv] = result.rejected[mv] = 0
                continue
            now = clock()
            rows = [
                si.mv_row(
                    r.data,
                    arrival=r.arrival,
                    partition_key=r.partition_key,
                    shard_id=r.shard_id,
                    sequence_number=r.sequence_number,
                    refresh_time=now,
                )
                for r in records
            ]
            append(ex.con, mv, rows, new)
            result.rows[mv] = len(rows)
            result.rejected[mv] = sum(1 for r in rows if r[5] is None)
    finally:
        ex.close()
    return result


def refresh_forever(
    names: config.Names,
    warehouse: Path | None = None,
    *,
    interval: float = DEFAULT_INTERVAL_S,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    while not stop():
        started = time.monotonic()
        result = refresh(names, warehouse)
        if any(result.rows.values()):
            log.info("streaming ingestion: %s", result.as_dict())
        time.sleep(max(0.0, interval - (time.monotonic() - started)))

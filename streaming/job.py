"""The volatility streaming job: wiring of source -> transforms -> sinks, and the local runner.

The query is the same everywhere (volatility_stream over a DataFrame of raw JSON records in a
`data` column); only the source and the trigger differ:

* Glue 5.0: Glue's Kinesis source (streaming/glue_job.py).
* `gridtape stream`: the Python Kinesis source over the emulator (streaming/kinesis_source.py).
* `gridtape stream --from-dir`: Spark's text file source over a folder of JSON-lines files.

Dropped ticks are counted from Spark's own progress, logged per batch and summed in the counts
every entry point returns: late ones by numRowsDroppedByWatermark of the stateful volatility
operator (see streaming/volatility.py), future and invalid ones by the guard's observed metrics
(see streaming/guards.py).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gridtape import config
from gridtape.contract import VOLATILITY, dumps
from streaming import guards
from streaming.volatility import (
    END_OF_INPUT,
    LATE_TICKS_OPERATOR,
    VolatilityParams,
    parse_ticks,
    transform_volatility,
)

log = logging.getLogger(__name__)

Writer = Callable[[str, int, Sequence[dict[str, Any]]], None]
_POLL_S = 0.1
# Session settings of the local runner: no console progress bars in a long-running command.
QUIET = {"spark.ui.showConsoleProgress": "false"}


def volatility_stream(raw: Any, params: VolatilityParams, *, end_of_input: bool = False) -> Any:
    """Raw records (JSON ticks in a `data` column) -> volatility records. Pure. end_of_input:
    the END_OF_INPUT line flushes every open window (only for input nobody else writes to)."""
    return transform_volatility(parse_ticks(raw, "data", end_of_input=end_of_input), params)


class BatchRecords(Sequence[dict[str, Any]]):
    """One micro-batch's volatility records, collected as one Arrow table (a columnar transfer,
    not a Row object per record); the records become dicts (aware UTC datetimes, see
    sinks.to_record) the first time a sink reads them."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self._records: list[dict[str, Any]] | None = None

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __getitem__(self, i: Any) -> Any:
        return self.records()[i]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records())

    def records(self) -> list[dict[str, Any]]:
        if self._records is None:
            from streaming.sinks import to_record

            self._records = [to_record(r) for r in self.table.to_pylist()]
        return self._records


def collect_batch(df: Any) -> BatchRecords:
    """A micro-batch of volatility rows -> its records. Timestamps travel as epoch microseconds:
    collect() would otherwise turn them into naive datetimes in the Python process's local zone."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import to_arrow_schema

    ts = {f.name for f in VOLATILITY.fields if f.kind == "timestamp"}
    df = df.select(*(F.expr(f"unix_micros({n})").alias(n) if n in ts else F.col(n) for n in VOLATILITY.names))
    to_arrow = getattr(df, "toArrow", None)  # pyspark >= 4.0
    if to_arrow is not None:
        return BatchRecords(to_arrow())
    batches = df._collect_as_arrow()  # pyspark 3.5 (Glue 5.0): what its toPandas() uses
    return BatchRecords(pa.Table.from_batches(batches, schema=to_arrow_schema(df.schema)))


def collect_records(df: Any) -> list[dict[str, Any]]:
    """A DataFrame of volatility rows -> records with aware UTC datetimes."""
    return collect_batch(df).records()


def late_ticks(progress: dict[str, Any]) -> int:
    """Ticks dropped as later than the watermark in one batch (progress as a dict)."""
    return sum(
        int(op.get("numRowsDroppedByWatermark", 0))
        for op in progress.get("stateOperators", [])
        if op.get("operatorName") == LATE_TICKS_OPERATOR
    )


@dataclass
class RunCounts:
    batches: int = 0
    input_rows: int = 0
    late_dropped: int = 0
    future_dropped: int = 0
    invalid_dropped: int = 0
    records_out: int = 0
    last_watermark: str | None = None
    query_id: str | None = None
    per_batch_late: dict[int, int] = field(default_factory=dict)
    # Milliseconds per phase summed over the batches: Spark's durationMs (triggerExecution,
    # addBatch, queryPlanning, walCommit, ...) and the stateful operator's state updates
    # (Python calls included) and state store commits - where a run's time went.
    time_ms: dict[str, int] = field(default_factory=dict)

    def observe(self, progress: dict[str, Any]) -> None:
        self.batches += 1
        phases = dict(progress.get("durationMs") or {})
        for op in progress.get("stateOperators", []):
            if op.get("operatorName") == LATE_TICKS_OPERATOR:
                phases["stateUpdates"] = op.get("allUpdatesTimeMs", 0)
                phases["stateCommit"] = op.get("commitTimeMs", 0)
        for phase, ms in phases.items():
            self.time_ms[phase] = self.time_ms.get(phase, 0) + int(ms or 0)
        self.input_rows += int(progress.get("numInputRows", 0))
        late = late_ticks(progress)
        self.late_dropped += late
        self.last_watermark = progress.get("eventTime", {}).get("watermark", self.last_watermark)
        future, invalid = guards.dropped(progress)
        self.future_dropped += future
        self.invalid_dropped += invalid
        if future or invalid:
            log.warning(
                "batch %s: %d ticks starting over %d days after now and %d invalid ticks dropped",
                progress["batchId"],
                future,
                guards.FUTURE_TOLERANCE.days,
                invalid,
            )
        if late:
            self.per_batch_late[int(progress["batchId"])] = late
            # The log line a trader's on-call greps for; the metric is the count in progress.
            log.warning(
                "batch %s: %d ticks later than the watermark (%s) dropped",
                progress["batchId"],
                late,
                self.last_watermark,
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def foreach_batch(write: Writer, counts: RunCounts) -> Callable[[Any, int], None]:
    def run(df: Any, batch_id: int) -> None:
        # The query id survives restarts from the same checkpoint and changes with a new one,
        # so sink keys and markers are namespaced by it (batch ids restart at 0 per checkpoint).
        query_id = df.sparkSession.sparkContext.getLocalProperty("sql.streaming.queryId") or "unknown"
        records = collect_batch(df)
        write(query_id, batch_id, records)
        counts.records_out += len(records)

    return run


def run_query(
    out: Any,
    write: Writer,
    checkpoint: str,
    *,
    available_now: bool = False,
    trigger_seconds: float = 1.0,
    max_batches: int | None = None,
    until_idle_s: float | None = None,
    stop: Callable[[], bool] | None = None,
    query_name: str = "gridtape_volatility",
) -> RunCounts:
    """Run the query to its end: all available input (available_now), max_batches micro-batches,
    until_idle_s seconds without input, stop() returning True, or Ctrl-C."""
    counts = RunCounts()
    writer = out.writeStream.outputMode("append").queryName(query_name).option("checkpointLocation", checkpoint)
    writer = writer.foreachBatch(foreach_batch(write, counts))
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{max(trigger_seconds, 0.0)} seconds")
    query = writer.start()
    counts.query_id = str(query.id)
    seen: set[int] = set()
    last_input = time.monotonic()

    def observe_new() -> None:
        nonlocal last_input
        for p in query.recentProgress:
            if p["batchId"] in seen:
                continue
            seen.add(p["batchId"])
            counts.observe(p)
            if p.get("numInputRows", 0):
                last_input = time.monotonic()

    try:
        while query.isActive:
            # lastProgress is one py4j call and one JSON render; recentProgress renders every
            # retained batch (up to 100), so it is read only when a batch has finished (several
            # may have since the last look).
            last = query.lastProgress
            if last is not None and last["batchId"] not in seen:
                observe_new()
            if max_batches is not None and counts.batches >= max_batches:
                break
            # Idle: a batch has run (so the source is up), none is running now, and none brought
            # input for until_idle_s.
            if (
                until_idle_s is not None
                and seen
                and time.monotonic() - last_input >= until_idle_s
                and not query.status.get("isTriggerActive")
            ):
                break
            if stop is not None and stop():
                break
            query.awaitTermination(_POLL_S)
        if query.exception() is None:
            observe_new()  # batches that finished while we were stopping
    finally:
        query.stop()
    err = query.exception()
    if err is not None:
        raise RuntimeError(f"volatility query failed: {err}") from None
    return counts


# ----------------------------------------------------------------------------------------
# Entry points


def local_checkpoint(name: str, home: Path | None = None) -> str:
    path = (home or config.home()) / "checkpoints" / name
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def stage_files(src: Path, staging: Path, flush: bool) -> list[Path]:
    """Copy the tick files of src into staging in name order, with strictly increasing
    modification times: Spark's file source takes files oldest first, and the issue promises
    name order. With flush, a file holding the END_OF_INPUT marker (no tick) goes last."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    files = sorted(p for p in src.iterdir() if p.is_file() and not p.name.startswith((".", "_")))
    base = time.time() - len(files) - 10
    staged = []
    for i, path in enumerate(files):
        target = staging / f"{i:08d}-{path.name}"
        shutil.copyfile(path, target)
        os.utime(target, (base + i, base + i))
        staged.append(target)
    if flush:
        target = staging / f"{len(files):08d}-end-of-input.json"
        target.write_text(END_OF_INPUT + "\n")
        os.utime(target, (base + len(files), base + len(files)))
        staged.append(target)
    return staged


def run_files(
    spark: Any,
    src: Path,
    out_file: Path,
    params: VolatilityParams | None = None,
    *,
    max_files_per_trigger: int = 1,
    flush: bool = False,
    work: Path | None = None,
) -> dict[str, Any]:
    """The same query over a folder of tick JSON-lines files (one micro-batch per
    max_files_per_trigger files, in name order), every emitted record appended to out_file as a
    JSON line. A fresh checkpoint each run: this mode replays a folder, it does not tail one."""
    import tempfile

    from pyspark.sql import functions as F

    from streaming.sinks import wire

    params = params or VolatilityParams()
    work = Path(tempfile.mkdtemp(prefix="gridtape-stream-", dir=work))
    try:
        staging = work / "input"
        staged = stage_files(src, staging, flush)
        raw = (
            spark.readStream.format("text")
            .option("maxFilesPerTrigger", str(max_files_per_trigger))
            .load(str(staging))
            .select(F.col("value").alias("data"))
        )
        out_file.parent.mkdir(parents=True, exist_ok=True)
        with out_file.open("w") as fh:

            def write(query_id: str, batch_id: int, records: Sequence[dict[str, Any]]) -> None:
                from streaming.sinks import record_id

                for rec in sorted(records, key=record_id):
                    fh.write(dumps(wire(rec)) + "\n")
                fh.flush()

            out = volatility_stream(raw, params, end_of_input=flush)
            counts = run_query(out, write, str(work / "checkpoint"), available_now=True)
        result = counts.as_dict()
        result["files"] = len(staged) - int(flush)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

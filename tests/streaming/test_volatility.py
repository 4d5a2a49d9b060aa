"""The volatility transforms and the file-source query against the independent reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gridtape.contract import VOLATILITY, dumps, validate
from streaming.volatility import VolatilityParams, WindowSpec
from tests.streaming import reference, scenario

pytestmark = pytest.mark.spark


def _static_records(spark: Any, ticks: list[dict[str, Any]], params: VolatilityParams) -> list[dict[str, Any]]:
    from streaming.job import collect_records, volatility_stream
    from streaming.sinks import wire

    raw = spark.createDataFrame([(dumps(t),) for t in ticks], "data string")
    return [wire(r) for r in collect_records(volatility_stream(raw, params))]


def _write_batches(folder: Path, batches: list[list[dict[str, Any]]]) -> None:
    folder.mkdir()
    for n, batch in enumerate(batches):
        # names chosen so that name order is batch order
        (folder / f"ticks-{n:03d}.jsonl").write_text("".join(dumps(t) + "\n" for t in batch))


@pytest.mark.glue
def test_static_transform_matches_reference(spark: Any) -> None:
    """Default windows (60/5 and 24h/1h) over every tick at once: no watermark in a batch
    query, so every window is emitted and every tick counts."""
    batches = scenario.batches()
    params = VolatilityParams()
    got = _static_records(spark, scenario.flat(batches), params)
    want, _ = reference.volatility([scenario.flat(batches)], ((60, 5), (1440, 60)), emit_all=True)
    reference.assert_matches(got, want)
    assert {r["window_minutes"] for r in got} == {60, 1440}
    for rec in got:
        validate({**rec, "computed_at": rec["computed_at"]}, VOLATILITY)


@pytest.mark.glue
def test_definitions_on_a_small_hand_checked_case(spark: Any) -> None:
    """[window_start, window_end) membership, revisions replacing values, negative prices."""
    ticks = [scenario.price_tick("PJM", "X", i, p) for i, p in enumerate([10.0, 20.0, -5.0, 40.0, 30.0])]
    ticks.append(scenario.price_tick("PJM", "X", 12, 99.0))  # 01:00: first tick of the next hour
    ticks.append(scenario.price_tick("PJM", "X", 1, 25.0, published_delay_s=300))  # revision: 20 -> 25
    got = _static_records(spark, ticks, VolatilityParams(windows=(WindowSpec(60, 60),)))
    hour0 = next(r for r in got if r["window_start"] == "2024-03-04T00:00:00Z")
    assert hour0["window_end"] == "2024-03-04T01:00:00Z"
    assert hour0["n"] == 5  # 00:00..00:20; 01:00 belongs to the next window
    assert (hour0["price_first"], hour0["price_last"]) == (10.0, 30.0)
    assert (hour0["price_min"], hour0["price_max"], hour0["n_nonpositive"]) == (-5.0, 40.0, 1)
    assert hour0["price_mean"] == pytest.approx((10 + 25 - 5 + 40 + 30) / 5, abs=1e-12)
    # diffs 15, -30, 45, -10; log returns only where both prices > 0: ln(25/10), ln(30/40)
    import statistics
    from math import log

    assert hour0["vol_abs"] == pytest.approx(statistics.stdev([15, -30, 45, -10]), abs=1e-12)
    assert hour0["vol_log"] == pytest.approx(statistics.stdev([log(2.5), log(0.75)]), abs=1e-12)
    hour1 = next(r for r in got if r["window_start"] == "2024-03-04T01:00:00Z")
    assert (hour1["n"], hour1["vol_abs"], hour1["vol_log"]) == (1, None, None)


@pytest.mark.glue
def test_file_stream_matches_reference_with_late_and_revisions(spark: Any, tmp_path: Path) -> None:
    """The streaming query, one micro-batch per file: out-of-order ticks within the watermark
    are included, the one beyond it is dropped and counted, revisions replace values."""
    from streaming.job import read_jsonl, run_files

    batches = scenario.batches()
    _write_batches(tmp_path / "in", batches)
    windows = ((60, 5), (120, 60))
    params = VolatilityParams(windows=tuple(WindowSpec(*w) for w in windows), watermark_minutes=15)
    counts = run_files(spark, tmp_path / "in", tmp_path / "out.jsonl", params, max_files_per_trigger=1)
    want, want_late = reference.volatility(batches, windows, 15)
    assert want_late == 1  # the scenario's one tick beyond the watermark
    assert counts["late_dropped"] == want_late
    assert counts["per_batch_late"] == {2: 1}
    got = read_jsonl(tmp_path / "out.jsonl")
    reference.assert_matches(got, want)
    # the within-watermark tick (AEP-DAYTON 00:45, arrived two hours late) is in its windows
    w = next(r for r in got if r["location"] == "AEP-DAYTON HUB" and r["window_start"] == "2024-03-04T00:00:00Z")
    assert w["window_minutes"] == 60 and w["n"] == 12
    # the dropped one (HB_NORTH 00:15) is not
    w = next(r for r in got if r["location"] == "HB_NORTH" and r["window_start"] == "2024-03-04T00:00:00Z")
    assert w["window_minutes"] == 60 and w["n"] == 11
    # what the reference would say had the late tick been kept differs: the test can tell
    kept, _ = reference.volatility([scenario.flat(batches)], windows, 15)
    assert {reference.key(r): r["n"] for r in kept} != {reference.key(r): r["n"] for r in got}


@pytest.mark.glue
def test_flush_emits_open_windows_and_two_files_per_trigger(spark: Any, tmp_path: Path) -> None:
    from streaming.job import read_jsonl, run_files

    batches = scenario.batches()
    _write_batches(tmp_path / "in", batches)
    params = VolatilityParams()  # 60/5 and 24h/1h
    counts = run_files(spark, tmp_path / "in", tmp_path / "out.jsonl", params, max_files_per_trigger=2, flush=True)
    merged = [batches[0] + batches[1], batches[2] + batches[3], batches[4]]
    want, want_late = reference.volatility(merged, ((60, 5), (1440, 60)), 15, emit_all=True)
    got = read_jsonl(tmp_path / "out.jsonl")
    reference.assert_matches(got, want)
    assert counts["late_dropped"] == want_late
    assert all(r["location"] != "__gridtape_end_of_input__" for r in got)
    assert any(r["window_minutes"] == 1440 for r in got)


@pytest.mark.glue
def test_micro_batches_reuse_compiled_code_and_carry_the_batch_time(spark: Any, tmp_path: Path) -> None:
    """A value that changes every micro-batch, written into the generated code as a literal
    (current_timestamp() is one), recompiles whole stages every batch: ~0.2 s of Janino each and
    the JIT's work on the new classes. Past the first batches only Spark's own late-row filter
    (the watermark is in it) may compile, at most once per batch. computed_at is the batch's time
    as the checkpoint's offset log keeps it, so a replayed batch writes the same records."""
    from datetime import UTC, datetime

    from pyspark.sql import functions as F

    from gridtape.contract import format_ts
    from streaming.job import run_query, stage_files, volatility_stream

    # Eight files of half an hour each: every micro-batch has the same shape and emits windows.
    batches = [
        [scenario.price_tick("PJM", loc, i, 30.0 + i) for i in range(6 * f, 6 * f + 6) for loc in "AB"]
        for f in range(8)
    ]
    _write_batches(tmp_path / "in", batches)
    stage_files(tmp_path / "in", tmp_path / "staged", flush=False)  # the file source takes them in name order
    raw = (
        spark.readStream.format("text")
        .option("maxFilesPerTrigger", "1")
        .load(str(tmp_path / "staged"))
        .select(F.col("value").alias("data"))
    )
    compilations = spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    seen: list[tuple[int, int, set[str]]] = []

    def write(query_id: str, batch_id: int, records: Any) -> None:
        seen.append((batch_id, compilations.getCount(), {format_ts(r["computed_at"]) for r in records}))

    checkpoint = tmp_path / "checkpoint"
    params = VolatilityParams(windows=(WindowSpec(60, 5),))
    run_query(volatility_stream(raw, params), write, str(checkpoint), available_now=True)
    assert [batch_id for batch_id, _, _ in seen] == list(range(len(batches) + 1))  # and a last one without data
    data = seen[: len(batches)]
    assert data[-1][1] - data[2][1] <= len(data) - 3, seen
    stamped = [(batch_id, stamps) for batch_id, _, stamps in seen if stamps]
    assert len(stamped) >= len(batches) - 1
    for batch_id, stamps in stamped:
        meta = json.loads((checkpoint / "offsets" / str(batch_id)).read_text().splitlines()[1])
        assert stamps == {format_ts(datetime.fromtimestamp(meta["batchTimestampMs"] / 1000, UTC))}


def test_cli_from_dir(spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: Any) -> None:
    """`gridtape stream --from-dir` through the CLI entry point (in this process, so it reuses
    the session's SparkSession instead of starting a JVM)."""
    from app.cli import main

    batches = scenario.batches()
    _write_batches(tmp_path / "in", batches)
    out = tmp_path / "vol.jsonl"
    args = ["stream", "--from-dir", str(tmp_path / "in"), "--max-files-per-trigger", "1", "--out", str(out)]
    assert main([*args, "--window", "60/5", "--watermark", "15"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["late_dropped"] == 1
    assert "1 ticks later than the watermark" in caplog.text
    want, _ = reference.volatility(batches, ((60, 5),), 15)
    reference.assert_matches([json.loads(line) for line in out.read_text().splitlines()], want)
    assert main(["stream", "--from-dir", str(tmp_path / "in"), "--flush"]) == 1  # --out is required


def test_window_spec_parsing() -> None:
    assert WindowSpec.parse("1440/60") == WindowSpec(1440, 60)
    with pytest.raises(ValueError):
        WindowSpec.parse("60")
    with pytest.raises(ValueError):
        WindowSpec(60, 7)

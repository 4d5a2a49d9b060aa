"""The job on the emulator: ticks stream -> analytics stream + curated Parquet, the sink's
idempotence, and a kill -9 in the middle of a run."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from gridtape import aws, config
from tests.streaming import kinesis_util as ku
from tests.streaming import reference, scenario

pytestmark = [pytest.mark.emulator]


def _volatility_record(i: int) -> dict[str, Any]:
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=5 * i)
    return {
        "iso": "PJM",
        "market": "RT5",
        "location": f"NODE{i % 3}",
        "window_start": start,
        "window_end": start + timedelta(hours=1),
        "window_minutes": 60,
        "slide_minutes": 5,
        "n": 12,
        "n_nonpositive": 0,
        "price_first": 1.0,
        "price_last": 2.0,
        "price_min": 1.0,
        "price_max": 2.0,
        "price_mean": 1.5,
        "vol_log": 0.1,
        "vol_abs": 0.2,
        "computed_at": datetime(2024, 1, 2, tzinfo=UTC),
    }


def test_analytics_sink_publishes_each_batch_once(emulator_url: str) -> None:
    """A replayed batch is skipped; a batch that died mid-publish (intent marker, some records
    already on the stream) publishes only the rest."""
    from streaming.sinks import KinesisSink, MarkerStore

    names = config.names("sinkunit")
    ku.ensure_resources(names)
    sink = KinesisSink(names.analytics_stream, MarkerStore(names.curated_bucket, "_sink_commits/analytics"))
    batch7 = [_volatility_record(i) for i in range(10)]
    assert sink.write("q1", 7, batch7) == (10, False, 0)
    assert sink.write("q1", 7, batch7) == (0, True, 0)  # replay after the commit: nothing
    # batch 8 was interrupted: intent written, first 4 records put, then the process died
    batch8 = [_volatility_record(i) for i in range(10, 20)]
    sink.markers.put("q1", 8, "intent", {"started_at": datetime.now(UTC).isoformat()})
    sink.put_records(sorted(batch8, key=lambda r: r["window_start"])[:4])
    assert sink.write("q1", 8, batch8) == (6, False, 4)
    on_stream = ku.stream_records(names.analytics_stream)
    assert len(on_stream) == 20
    assert len({(r["location"], r["window_start"]) for r in on_stream}) == 20
    # another query (a new checkpoint) has its own batch ids
    assert sink.write("q2", 7, batch7[:1]) == (1, False, 0)


class Crash(Exception):
    """The process dying mid-publish."""


def _crash_after(k: int) -> dict[str, Any]:
    """PutRecords hooks: the first call sends only its first k entries, then the process dies."""

    def params(params: dict[str, Any], **_: Any) -> None:
        if k == 0:
            raise Crash
        params["Records"] = params["Records"][:k]

    def after(**_: Any) -> None:
        raise Crash

    return {"provide-client-params.kinesis.PutRecords": params, "after-call.kinesis.PutRecords": after}


def _empty_pages() -> dict[str, Any]:
    """GetRecords hooks: every other page comes back empty though the shard is not at its tip
    (MillisBehindLatest > 0, the same iterator), as Kinesis does."""
    calls = [0]

    def params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["iterator"], context["empty"] = params["ShardIterator"], calls[0] % 2 == 0
        calls[0] += 1

    def before(context: dict[str, Any], **_: Any) -> Any:
        if context.get("empty"):
            page = {"Records": [], "MillisBehindLatest": 30_000, "NextShardIterator": context["iterator"]}
            return AWSResponse("http://injected", 200, {}, None), page
        return None

    return {"provide-client-params.kinesis.GetRecords": params, "before-call.kinesis.GetRecords": before}


@pytest.mark.parametrize("sent", [0, 1, 17, 30])
def test_batch_killed_mid_publish_and_replayed_leaves_each_record_once(emulator_url: str, sent: int) -> None:
    """Kill a batch after `sent` of its 30 records reached the stream, replay it (its read-back
    meets empty pages on the way): every record id is on the analytics stream exactly once."""
    from streaming.sinks import KinesisSink, MarkerStore, record_id

    names = config.names(f"sinkcrash{sent}")
    ku.ensure_resources(names)
    sink = KinesisSink(names.analytics_stream, MarkerStore(names.curated_bucket, "_sink_commits/analytics"))
    batch = [_volatility_record(i) for i in range(30)]
    client = aws.client("kinesis")
    with ku.hooked(client, _crash_after(sent)), pytest.raises(Crash):
        sink.write("q1", 3, batch)
    assert len(ku.stream_records(names.analytics_stream)) == sent
    with ku.hooked(client, _empty_pages()):
        assert sink.write("q1", 3, batch) == (30 - sent, False, sent)
    on_stream = Counter(
        "|".join(str(r[k]) for k in ("iso", "market", "location", "window_start", "window_end"))
        for r in ku.stream_records(names.analytics_stream)
    )
    assert on_stream == Counter(record_id(r) for r in batch)
    assert sink.write("q1", 3, batch) == (0, True, 0)


def test_non_finite_statistics_never_crash_the_sinks(emulator_url: str) -> None:
    """inf/NaN in a nullable statistic is written as null; in a required one the record is
    dropped, counted; the batch (and its replay) never raises."""
    from streaming.sinks import VolatilitySinks

    names = config.names("sinknonfinite")
    ku.ensure_resources(names)
    sinks = VolatilitySinks(names.curated_bucket, names.analytics_stream)
    batch = [_volatility_record(i) for i in range(6)]
    batch[0]["vol_log"] = math.inf
    batch[1]["vol_abs"] = math.nan
    batch[2].update(vol_log=-math.inf, vol_abs=math.nan)
    batch[3]["price_mean"] = math.inf  # required: dropped
    batch[4]["price_max"] = math.nan  # required: dropped
    for _ in range(2):  # the replay of the same batch too
        sinks.write("qn", 1, batch)
    assert sinks.counts.nonfinite_nulled_fields == 2 * 4 and sinks.counts.nonfinite_dropped_records == 2 * 2
    for found in (ku.stream_records(names.analytics_stream), ku.parquet_records(names.curated_bucket)):
        by_loc = {(r["location"], r["window_start"]): r for r in found}
        assert len(found) == 4 == len(by_loc)
        nulls = sorted((r["vol_log"] is None, r["vol_abs"] is None) for r in found)
        assert nulls == [(False, False), (False, True), (True, False), (True, True)]
        assert all(math.isfinite(r[k]) for r in found for k in ("price_mean", "price_max"))


def test_stream_turns_ticks_into_volatility_on_analytics_and_parquet(
    spark: Any, emulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run_embedded` (what `gridtape stream` and the demo run) over ticks published to the
    ticks stream: the analytics stream and the curated Parquet both hold exactly the
    reference's records."""
    from app.local.stream import run_embedded

    monkeypatch.setenv(config.ENV_NAME, "e2e")
    monkeypatch.setenv(config.ENV_HOME, str(tmp_path))
    names = config.names()
    ku.ensure_resources(names)
    batches = scenario.batches()
    late = scenario.price_tick("ERCOT", "HB_NORTH", 3, scenario.prices()[("ERCOT", "HB_NORTH")][3])
    ticks = [t for t in scenario.flat(batches) if t != late]  # arrival order, without the late one
    ku.publish(names, ticks)
    counts = run_embedded(until_idle_s=3.0)
    # Everything was on the stream before the job started, so it is one micro-batch: the
    # reference's single-batch answer (no tick is late), windows closed by the final watermark.
    want, _ = reference.volatility([ticks], ((60, 5), (1440, 60)), 15)
    analytics = ku.stream_records(names.analytics_stream)
    reference.assert_matches(analytics, want)
    reference.assert_matches(ku.parquet_records(names.curated_bucket), [dict(r) for r in want])
    assert counts["records_out"] == len(want) == counts["kinesis_records"]
    assert counts["input_rows"] == len(ticks)
    assert counts["late_dropped"] == 0


def _stream_proc(env: dict[str, str], checkpoint: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "stream",
            "--env",
            env[config.ENV_NAME],
            "--checkpoint",
            str(checkpoint),
            "--trigger-seconds",
            "0.5",
            "--window",
            "60/5",
            "--window",
            "120/60",
            *list(extra),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: kill -9 takes the JVM down with it
    )


def test_kill_and_restart_from_checkpoint_matches_uninterrupted_run(emulator_url: str, tmp_path: Path) -> None:
    chunks = scenario.ordered_chunks()

    # What an uninterrupted run writes: the e2e test above shows an uninterrupted run equals the
    # reference, and running it again here would cost a minute of a 2-core CI box. All ticks
    # are on time however they are batched (see ordered_chunks), so the answer is batch-free.
    expected, _ = reference.volatility([scenario.flat(chunks)], ((60, 5), (120, 60)), 15)
    assert len(expected) > 100

    # The same ticks, published a chunk at a time while the job runs (the next chunk once the
    # previous one's windows reached the sinks); kill -9 as soon as the second batch with output
    # is committed, publish the rest, restart from the checkpoint.
    killed = config.names("restartkill")
    ku.ensure_resources(killed)
    env = {**os.environ, config.ENV_NAME: killed.env, config.ENV_HOME: str(tmp_path / "home")}
    checkpoint = tmp_path / "ck-kill"
    proc = _stream_proc(env, checkpoint)
    published = 0
    try:
        deadline = time.monotonic() + 300  # a bound, not a speed check: a busy 2-core box is slow
        while True:
            done = ku.done_markers(killed.curated_bucket)
            if done >= 2:
                break
            if published <= done:
                ku.publish(killed, chunks[published])
                published += 1
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the job did not commit two batches in time"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    for chunk in chunks[published:]:
        ku.publish(killed, chunk)
    restarted = _stream_proc(env, checkpoint, "--until-idle", "4")
    _out, err = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, err[-3000:]

    # Exactly the uninterrupted run's records: none missing, none twice (assert_matches
    # rejects duplicates), same values - on the stream and in the curated bucket.
    reference.assert_matches(ku.stream_records(killed.analytics_stream), expected)
    reference.assert_matches(ku.parquet_records(killed.curated_bucket), expected)
    assert "Traceback" not in err

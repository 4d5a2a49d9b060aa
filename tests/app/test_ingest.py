"""The local streaming ingestion against the emulator's Kinesis: the typed streaming views of
the DuckDB warehouse answer after a refresh, a refresh resumes after the stored positions, and
`gridtape query` runs the pack on the result (one-line errors, exit 2, for bad requests)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from app.commands import query as query_cmd
from app.local import ingest
from batch import querypack as qp
from batch.warehouse import DuckDBExecutor
from gridtape import aws, config, contract
from tests.batch import querypack_data as data

pytestmark = pytest.mark.emulator


@pytest.fixture
def own_streams(batch_stack: config.Names) -> config.Names:
    """Ticks and analytics streams of this test's own, so other tests' records do not show up."""
    names = config.Names(env=f"{batch_stack.env}-ingest", account=batch_stack.account)
    kinesis = aws.client("kinesis")
    for stream in (names.ticks_stream, names.analytics_stream):
        try:
            kinesis.delete_stream(StreamName=stream)
            kinesis.get_waiter("stream_not_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
        except kinesis.exceptions.ResourceNotFoundException:
            pass
        kinesis.create_stream(StreamName=stream, ShardCount=2)
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    return names


def _put(stream: str, payloads: list[bytes]) -> None:
    kinesis = aws.client("kinesis")
    for i, body in enumerate(payloads):
        kinesis.put_record(StreamName=stream, Data=body, PartitionKey=f"k{i}")


def _count(path: Path, sql: str) -> Any:
    ex = DuckDBExecutor(path)
    try:
        return ex.con.execute(sql).fetchone()[0]
    finally:
        ex.close()


def test_refresh_makes_the_typed_views_queryable_and_resumes(own_streams: config.Names, tmp_path: Path) -> None:
    wh = tmp_path / "warehouse.duckdb"
    ticks = data.versions()
    first, rest = ticks[: len(ticks) // 2], ticks[len(ticks) // 2 :]
    _put(own_streams.ticks_stream, [contract.dumps(t).encode() for t in first] + [b"not json at all"])
    _put(own_streams.analytics_stream, [contract.dumps(v).encode() for v in data.volatility_versions()])

    result = ingest.refresh(own_streams, wh)
    assert result.rows == {"ticks_stream": len(first) + 1, "analytics_stream": len(data.volatility_versions())}
    assert result.rejected == {"ticks_stream": 1, "analytics_stream": 0}
    assert _count(wh, "SELECT COUNT(*) FROM stream_ticks") == len(first)
    assert _count(wh, "SELECT COUNT(*) FROM ticks_stream WHERE failed_payload IS NOT NULL") == 1

    again = ingest.refresh(own_streams, wh)  # nothing new: nothing appended twice
    assert again.rows == {"ticks_stream": 0, "analytics_stream": 0}
    assert _count(wh, "SELECT COUNT(*) FROM ticks_stream") == len(first) + 1

    _put(own_streams.ticks_stream, [contract.dumps(t).encode() for t in rest])
    assert ingest.refresh(own_streams, wh).rows["ticks_stream"] == len(rest)
    assert _count(wh, "SELECT COUNT(*) FROM stream_ticks") == len(ticks)
    assert _count(wh, "SELECT COUNT(DISTINCT shard_id) FROM stream_positions WHERE mv_name = 'ticks_stream'") == 2

    ex = DuckDBExecutor(wh)
    try:
        rows = qp.run(ex, "prices", {"iso": "PJM", "location": "WESTERN HUB"}, source="streaming", now=data.T0)
        assert {r["interval_start"]: r["lmp"] for r in rows} == {
            data.naive(t["interval_start"]): t["lmp"]
            for t in data.latest(ticks)
            if (t["iso"], t["location"], t["dataset"], t["market"]) == ("PJM", "WESTERN HUB", "lmp", "RT5")
        }
        vol = qp.run(ex, "volatility", {}, source="streaming", now=data.T0)
        assert [r["n"] for r in vol] == [6, 8, 8]
    finally:
        ex.close()


def test_arrival_and_positions_are_the_streams(own_streams: config.Names, tmp_path: Path) -> None:
    wh = tmp_path / "warehouse.duckdb"
    _put(own_streams.ticks_stream, [contract.dumps(t).encode() for t in data.versions()[:5]])
    ingest.refresh(own_streams, wh)
    ex = DuckDBExecutor(wh)
    try:
        stored = dict(ex.con.execute("SELECT shard_id, sequence_number FROM stream_positions").fetchall())
        highest = ex.con.execute(
            "SELECT shard_id, sequence_number, approximate_arrival_timestamp, partition_key FROM ticks_stream"
        ).fetchall()
    finally:
        ex.close()
    for shard, seq in stored.items():
        assert seq == max((s for sh, s, _, _ in highest if sh == shard), key=int)
    assert all(arrival is not None and key.startswith("k") for _, _, arrival, key in highest)


# ---------------------------------------------------------------- the command


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gridtape")
    sub = parser.add_subparsers(dest="command", required=True)
    query_cmd.register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.fixture(scope="module")
def loaded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("query-cli") / "warehouse.duckdb"
    data.load(path).ex.close()
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "nope"], "unknown query 'nope'"),
        (["query", "prices", "--param", "hub=X"], "no parameter 'hub'"),
        (["query", "prices", "--param", "hours"], "expected KEY=VALUE"),
        (["query", "prices", "--param", "hours=lots"], "not int"),
        (["query", "prices", "--as-of", "last tuesday"], "not a time"),
        (["query", "prices", "--source", "nightly", "--as-of", "2024-11-04T11:40:00Z"], "nightly facts"),
    ],
)
def test_bad_requests_exit_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_query_formats(loaded_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["query", "prices", "--warehouse", str(loaded_file), "--param", "until=2024-11-04T12:10:00Z"]
    assert _cli([*base, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == data.N and rows[6]["lmp"] == 77.0
    assert (
        _cli([*base, "--format", "csv", "--as-of", "2024-11-04T11:40:00Z", "--param", "until=2024-11-04T11:40:00Z"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(c for c, _ in qp.load("prices").columns)
    assert lines[-1].split(",")[:3] == ["2024-11-04 11:30:00", "2024-11-04 11:35:00", "26.0"]
    assert _cli([*base, "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [c for c, _ in qp.load("prices").columns] and "(12 rows)" in out
    assert _cli(["query"]) == 0
    listing = capsys.readouterr().out
    assert all(f"{name}: " in listing for name in qp.names())


def test_a_failing_query_is_one_gridtape_error(tmp_path: Path) -> None:
    from gridtape.errors import GridtapeError

    with pytest.raises(GridtapeError, match=r"query prices failed: .*prices.*run `gridtape batch`") as info:
        _cli(["query", "prices", "--warehouse", str(tmp_path / "empty.duckdb")])
    assert "\n" not in str(info.value)

"""`gridtape parse` and `gridtape poll`, run as a user runs them (subprocess), and the Lambda
handler called as Lambda calls it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gridtape import config, contract
from tests.producers import fakes
from tests.producers.conftest import Resources, create_resources, poll_module

RECORDINGS = Path(__file__).resolve().parents[2] / "producers" / "recordings"
CAISO_LMP = RECORDINGS / "caiso" / "lmp_20250610T1842.zip"


def gridtape(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


needs_caiso = pytest.mark.skipif(not CAISO_LMP.is_file(), reason="CAISO recordings not present")


@needs_caiso
def test_parse_prints_contract_json_lines() -> None:
    out = gridtape("parse", "--iso", "CAISO", "--dataset", "lmp", str(CAISO_LMP))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines
    for line in lines:
        t = json.loads(line)
        contract.validate(t)
        assert list(t) == list(contract.TICK.names)  # contract field names, in contract order
        assert t["interval_start"].endswith("Z") and t["iso"] == "CAISO" and t["dataset"] == "lmp"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html><body>Service Unavailable</body></html>", ""),
        (b"", "empty file"),
        (None, "cannot read"),
    ],
)
def test_parse_malformed_input_is_one_line_naming_iso_file_and_problem(
    tmp_path: Path, body: bytes | None, problem: str
) -> None:
    f = tmp_path / "prices.zip"
    if body is not None:
        f.write_bytes(body)
    out = gridtape("parse", "--iso", "caiso", "--dataset", "lmp", str(f))
    assert out.returncode == 1 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("gridtape: CAISO lmp from ") and str(f) in lines[0] and problem in lines[0]


@pytest.mark.parametrize("bad_rows", [0, 1, 2])
def test_parse_prints_good_rows_and_names_each_refused_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad_rows: int
) -> None:
    from app import cli

    poll_module(monkeypatch, "SPP", "tests.producers.fakes")
    rows = fakes.hour_rows()
    lines = fakes.csv_body("lmp", rows).decode().splitlines()
    for i in range(bad_rows):
        lines[1 + i * 5] = lines[1 + i * 5].rsplit(",", 1)[0] + ",n/a"
    f = tmp_path / "lmp.csv"
    f.write_text("\n".join(lines) + "\n")
    assert cli.main(["parse", "--iso", "spp", "--dataset", "lmp", str(f)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 24 - bad_rows
    refused = [line for line in err.splitlines() if "refused row" in line]
    assert len(refused) == bad_rows and "Traceback" not in err
    assert all(str(f) in line and "could not convert" in line and ",n/a" in line for line in refused)


def test_parse_of_a_broken_format_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app import cli

    poll_module(monkeypatch, "SPP", "tests.producers.fakes")
    f = tmp_path / "lmp.csv"
    f.write_bytes(fakes.csv_body("lmp", fakes.hour_rows()).replace(b".0\n", b".0 USD\n"))
    assert cli.main(["parse", "--iso", "spp", "--dataset", "lmp", str(f)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "rows refused" in err


def test_parse_unknown_iso_is_one_line() -> None:
    out = gridtape("parse", "--iso", "ERCOTT", "--dataset", "lmp", "x.csv")
    assert out.returncode == 1 and "unknown ISO 'ERCOTT'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.fixture
def cli_stack(moto_url: str) -> tuple[dict[str, str], Resources]:
    """Resources under the names `gridtape poll` derives from GRIDTAPE_ENV."""
    env_name = f"cli{uuid.uuid4().hex[:6]}"
    names = config.Names(env=env_name, account=config.EMULATOR_ACCOUNT)
    res = create_resources(moto_url, names.ticks_stream, names.poller_state_table, names.raw_bucket)
    env = {
        config.ENV_ENDPOINT: moto_url,
        config.ENV_NAME: env_name,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return env, res


@needs_caiso
def test_poll_replay_once_publishes_once_then_nothing(cli_stack: tuple[dict[str, str], Resources]) -> None:
    env, res = cli_stack
    first = gridtape("poll", "--replay", str(RECORDINGS), "--iso", "CAISO", "--once", "--json", env=env)
    assert first.returncode in (0, 1), first.stderr
    summaries = [json.loads(line) for line in first.stdout.splitlines()]
    published = sum(s["published"] for s in summaries)
    assert published > 0 and {s["iso"] for s in summaries} == {"CAISO"}
    on_stream = res.stream_records()
    assert len(on_stream) == published
    assert len({contract.natural_key(r) for r in on_stream}) == published

    second = gridtape("poll", "--replay", str(RECORDINGS), "--iso", "CAISO", "--once", env=env)
    assert "published" not in [line.split()[2] for line in second.stdout.splitlines()[1:]], second.stdout
    assert len(res.stream_records()) == published


def test_poll_without_emulator_is_one_line() -> None:
    env = {config.ENV_ENDPOINT: "http://127.0.0.1:9", config.ENV_HOME: "/tmp/gridtape-cli-test"}
    out = gridtape("poll", "--replay", str(RECORDINGS), "--iso", "all", "--once", env=env)
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1
    assert "no AWS endpoint answers" in out.stderr


# --- the Lambda handler -------------------------------------------------------------------


class LambdaContext:
    function_name = "gridtape-test-poll-spp"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:gridtape-test-poll-spp"
    aws_request_id = "req-1"


def test_handler_polls_its_iso_and_emits_emf_metrics(
    moto_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The handler's live path, with the fetch layer answered from a recording (no network)."""
    from gridtape import aws
    from producers import handler, http
    from producers.poller import entry, loop

    env_name = f"lam{uuid.uuid4().hex[:6]}"
    names = config.Names(env=env_name, account=config.EMULATOR_ACCOUNT)
    res = create_resources(moto_url, names.ticks_stream, names.poller_state_table, names.raw_bucket)
    monkeypatch.setenv(config.ENV_NAME, env_name)
    monkeypatch.setenv(config.ENV_ISO, "SPP")
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv(config.ENV_ENDPOINT, moto_url)
    aws.client.cache_clear()
    poll_module(monkeypatch, "SPP", "tests.producers.fakes")
    today = f"{datetime.now(UTC):%Y%m%d}"  # the live poll asks for today's file, of today's intervals
    rows = fakes.hour_rows(f"{datetime.now(UTC):%Y-%m-%d}", hour=0)
    rec = fakes.write_recordings(
        tmp_path,
        "SPP",
        [],
        {
            ("lmp", today): (fakes.csv_body("lmp", rows), 200, "text/csv"),
            ("load", today): (b"<html>oops</html>", 200, "text/html"),
        },
    )
    # Live code path, but the transport answers from the recording instead of the network.
    monkeypatch.setattr(
        loop, "live", lambda iso, rps, secrets=(): http.replay(http.Recordings.load(rec), lambda: datetime.now(UTC))
    )
    monkeypatch.setattr(entry, "_WARM", {})

    with pytest.raises(entry.PollFailed, match="SPP load"):  # the load feed is an HTML page
        handler.handler({}, LambdaContext())
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    by_feed = {(b.get("Iso"), b.get("Dataset")): b for b in emf}
    assert set(by_feed) >= {("SPP", "lmp"), ("SPP", "load")}, emf
    for (iso, _dataset), blob in by_feed.items():
        if iso is None:
            continue  # powertools' own cold-start metric
        [directive] = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "gridtape" and directive["Dimensions"] == [["Iso", "Dataset"]]
        names = {m["Name"] for m in directive["Metrics"]}
        assert names >= {"TicksParsed", "TicksPublished", "RowsQuarantined", "ResponsesQuarantined", "PollErrors"}

    def value(iso_dataset: tuple[str, str], name: str) -> float:
        v = by_feed[iso_dataset][name]
        return float(sum(v) if isinstance(v, list) else v)

    assert value(("SPP", "lmp"), "TicksPublished") == 24 and value(("SPP", "lmp"), "PollErrors") == 0
    assert value(("SPP", "load"), "PollErrors") == 1 and value(("SPP", "load"), "ResponsesQuarantined") == 1
    assert value(("SPP", "lmp"), "DataAgeSeconds") > 0
    # The body and its sidecar, for the load feed (the fake source has no day-ahead feed: that
    # poll fails and is quarantined on its own).
    assert len(res.stream_records()) == 24 and len([k for k in res.quarantined() if "-load." in k]) == 2
    aws.client.cache_clear()

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
    from producers import handler, http, poller

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
    today = f"{datetime.now(UTC):%Y%m%d}"  # the live poll asks for today's file
    rec = fakes.write_recordings(
        tmp_path,
        "SPP",
        [],
        {
            ("lmp", today): (fakes.csv_body("lmp", fakes.hour_rows()), 200, "text/csv"),
            ("load", today): (b"<html>oops</html>", 200, "text/html"),
        },
    )
    # Live code path, but the transport answers from the recording instead of the network.
    monkeypatch.setattr(
        poller, "live", lambda iso, rps, secrets=(): http.replay(http.Recordings.load(rec), lambda: datetime.now(UTC))
    )
    monkeypatch.setattr(poller, "_WARM", {})

    with pytest.raises(poller.PollFailed, match="SPP load"):  # the load feed is an HTML page
        handler.handler({}, LambdaContext())
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf, "no EMF metrics printed"
    blob = emf[-1]
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "gridtape"
    assert blob["iso"] == "SPP" and blob["service"] == "producers"
    published = blob["TicksPublished"]
    assert sum(published if isinstance(published, list) else [published]) == 24
    assert len(res.stream_records()) == 24 and len(res.quarantined()) == 2
    aws.client.cache_clear()

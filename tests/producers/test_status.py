"""No silent outages: what a poll leaves in the state table, `gridtape status` reading it, and
a poll that cannot run (no key) failing loudly, in the Lambda too."""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.commands import status
from gridtape import config, isos
from producers.poller import MemoryMetrics, poll_replay
from producers.state import FeedState, StateStore
from tests.producers import fakes
from tests.producers.conftest import Resources, create_resources, poll_module

NOW = "2025-06-10T19:01:00Z"


def test_status_table_shows_age_error_and_quarantine_per_feed() -> None:
    now = datetime(2025, 6, 10, 19, 1, tzinfo=UTC)
    feeds = [
        FeedState("SPP", "lmp", "2025-06-10T19:00:00Z", "published", NOW, None, None, 3, 0),
        FeedState("SPP", "load", "2025-06-10T15:00:00Z", "failed", NOW, "HTTP 503 " + "x" * 200, NOW, 0, 7),
        FeedState("PJM", "lmp"),
    ]
    lines = status.status_table(feeds, now).splitlines()
    assert len(lines) == 4 and lines[0].split()[:4] == ["iso", "dataset", "newest", "interval"]
    fresh, failing, never = lines[1:]
    assert fresh.split()[:7] == ["SPP", "lmp", "2025-06-10T19:00:00Z", "60s", "published", "3", "0"]
    assert failing.split()[:7] == ["SPP", "load", "2025-06-10T15:00:00Z", "4h01m", "failed", "0", "7"]
    assert "HTTP 503" in failing and failing.endswith("...") and len(failing) < 200
    assert "never polled" in never and never.split()[2:4] == ["-", "-"]
    assert [status.human(s) for s in (59, 600, 90000, 900000)] == ["59s", "10m", "25h00m", "10d"]


@pytest.fixture
def named_stack(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Resources:
    """Resources under the names the commands derive from GRIDTAPE_ENV, this process pointed at them."""
    from gridtape import aws

    env_name = f"st{uuid.uuid4().hex[:6]}"
    names = config.Names(env=env_name, account=config.EMULATOR_ACCOUNT)
    res = create_resources(moto_url, names.ticks_stream, names.poller_state_table, names.raw_bucket)
    for k, v in {
        config.ENV_NAME: env_name,
        config.ENV_ENDPOINT: moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        config.ENV_REGION: "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    aws.client.cache_clear()
    yield res
    aws.client.cache_clear()


def run_status(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    status.register(parser.add_subparsers())
    args = parser.parse_args(["status", *argv])
    return int(args.func(args))


def test_gridtape_status_reads_what_the_polls_left(
    named_stack: Resources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    poll_module(monkeypatch, "SPP", "tests.producers.fakes")
    bad_row = fakes.csv_body("lmp", fakes.hour_rows()).replace(b"21.0\n", b"n/a\n", 1)
    fakes.write_recordings(
        tmp_path,
        "SPP",
        polls=[("lmp", NOW), ("load", NOW)],
        bodies={
            ("lmp", "20250610"): (bad_row, 200, "text/csv"),
            ("load", "20250610"): (b"<html>down for maintenance</html>", 200, "text/html"),
        },
    )
    summaries = poll_replay(tmp_path, ["SPP"], named_stack.sinks())
    assert [s.status for s in summaries] == ["published", "failed"]
    capsys.readouterr()
    assert run_status("--iso", "SPP") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + len(isos.get("SPP").datasets)  # a header, then every feed of the table
    assert all("never polled" in line for line in lines[3:])  # dam: not polled here
    lmp, load = (line.split() for line in lines[1:3])
    assert lmp[:3] == ["SPP", "lmp", "2025-06-10T19:00:00Z"] and lmp[4:7] == ["published", "1", "0"]
    assert load[:4] == ["SPP", "load", "-", "-"] and load[4:7] == ["failed", "0", "1"]
    assert "HTML" in lines[2]


def test_a_missing_key_fails_the_lambda_and_shows_in_status(
    resources: Resources, monkeypatch: pytest.MonkeyPatch, pjm_without_key: None
) -> None:
    from producers.poller import entry, loop

    metrics = MemoryMetrics()
    monkeypatch.setattr(entry, "_WARM", {"PJM": loop.LivePoller(["PJM"], resources.sinks())})
    with pytest.raises(entry.PollFailed, match=r"PJM lmp skipped: .*PJM_API_KEY"):
        entry.lambda_poll({"iso": "PJM"}, metrics)
    names = isos.get("PJM").datasets
    assert metrics.total("PollSkipped", "PJM") == len(names) and metrics.total("PollErrors", "PJM") == 0
    feeds = StateStore(resources.table, resources.dynamodb).feeds([("PJM", n) for n in names])
    assert [(f.last_status, "PJM_API_KEY" in (f.last_error or "")) for f in feeds] == [("skipped", True)] * len(names)


def test_data_age_keeps_growing_while_polls_fail(resources: Resources, tmp_path: Path) -> None:
    """An outage after good polls: every failed poll still reports how old the data is."""
    from producers.http import Recordings, replay
    from producers.poller import poll

    metrics = MemoryMetrics()
    sinks = resources.sinks(metrics)
    t0 = datetime(2025, 6, 10, 19, 1, tzinfo=UTC)
    good = fakes.write_recordings(
        tmp_path / "a", "SPP", [], {("lmp", "20250610"): (fakes.csv_body("lmp", fakes.hour_rows()), 200, "text/csv")}
    )
    poll(fakes.FakeSource(), "lmp", replay(Recordings.load(good), lambda: t0), sinks, t0)
    down = fakes.write_recordings(
        tmp_path / "b", "SPP", [], {("lmp", "20250610"): (b"<html>503</html>", 200, "text/html")}
    )
    ages = []
    for minutes in (5, 30):
        t = t0 + timedelta(minutes=minutes)
        s = poll(fakes.FakeSource(), "lmp", replay(Recordings.load(down), lambda t=t: t), sinks, t)
        assert s.status == "failed"
        ages.append(metrics.values[("DataAgeSeconds", "SPP", "lmp")])
    assert ages == [360.0, 1860.0]

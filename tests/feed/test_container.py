"""The AWS container's entry points: the MultiLangDaemon's properties and the processor's sink."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from app.commands import feed as feed_command
from feed.container import http_sink, main, properties
from gridtape import config
from gridtape.errors import GridtapeError


def test_properties_name_the_stream_the_lease_table_and_the_processor() -> None:
    names = config.names("prod", "111122223333")
    text = properties("analytics", names)
    lines = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
    assert lines["streamName"] == names.analytics_stream
    assert lines["applicationName"] == "gridtape-prod-feed-analytics"
    assert lines["executableName"].startswith("python -m feed.container processor --kind volatility")


def test_properties_command_prints_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["properties", "--role", "ticks", "--env", "x"]) == 0
    assert "streamName = gridtape-x-ticks" in capsys.readouterr().out


def test_a_sink_the_app_does_not_answer_ends_the_processor_unchecked() -> None:
    sink = http_sink("http://127.0.0.1:9/ingest", timeout=0.2)
    with pytest.raises(SystemExit):  # amazon-kclpy lets SystemExit through: the daemon restarts at the checkpoint
        sink("tick", [{"x": 1}])


def test_the_feed_command_parses_its_options() -> None:
    parser = argparse.ArgumentParser()
    feed_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["feed", "--port", "9000", "--for", "2.5"])
    assert (args.port, args.seconds, args.func) == (9000, 2.5, feed_command._run)


def test_the_feed_command_refuses_a_bad_rules_file_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rule]]\nwhen = "maybe"\n')
    parser = argparse.ArgumentParser()
    feed_command.register(parser.add_subparsers(dest="command"))
    with pytest.raises(GridtapeError, match="'when' must be one of"):
        feed_command._run(parser.parse_args(["feed", "--rules", str(bad)]))

from __future__ import annotations

import subprocess
import sys


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env)


def test_unknown_command_is_one_line_and_nonzero() -> None:
    out = run("frobnicate")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "frobnicate" in out.stderr


def test_missing_emulator_is_one_line_and_nonzero() -> None:
    import os

    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "GRIDTAPE_HOME": "/tmp/gridtape-cli-test"}
    out = run("stack", "status", env=env)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert "no AWS endpoint answers at http://127.0.0.1:9" in out.stderr

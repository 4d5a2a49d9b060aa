"""The local AWS emulator process: moto server on 127.0.0.1:4566, started and stopped by
gridtape. A live endpoint named by AWS_ENDPOINT_URL (LocalStack from docker-compose.yml, or a
moto server the user runs) is used as it is and never stopped by gridtape."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from gridtape import config
from gridtape.errors import EmulatorUnavailable

_START_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Emulator:
    url: str
    started_here: bool  # False when we found a live endpoint and must leave it alone
    pid: int | None


def _pid_file(home: Path) -> Path:
    return home / "emulator.pid"


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when something HTTP answers at url (any status: moto and LocalStack answer / with
    200 or 404, both fine)."""
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def is_moto(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/config", timeout=2) as resp:
            return resp.status < 300
    except (urllib.error.URLError, OSError):
        return False


def enable_state_machine_execution(url: str) -> None:
    """moto only runs ASL (instead of faking SUCCEEDED) when told to; LocalStack always does."""
    if not is_moto(url):
        return
    body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
    req = urllib.request.Request(
        f"{url}/moto-api/config", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(req, timeout=5).close()


def start(home: Path | None = None, port: int | None = None) -> Emulator:
    """Use the endpoint in AWS_ENDPOINT_URL when it answers; otherwise start moto server."""
    home = home or config.home()
    existing = os.environ.get(config.ENV_ENDPOINT)
    if existing and answers(existing):
        enable_state_machine_execution(existing)
        return Emulator(url=existing, started_here=False, pid=_read_pid(home))
    url = config.emulator_url(port)
    if answers(url):
        enable_state_machine_execution(url)
        return Emulator(url=url, started_here=False, pid=_read_pid(home))
    env = {**os.environ, "MOTO_PORT": str(config.emulator_port(port))}
    with open(home / "emulator.log", "ab") as log:  # the child keeps its own copy of the fd
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(config.emulator_port(port))],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # survives the CLI that started it; `stack down` stops it
        )
    _pid_file(home).write_text(str(proc.pid))
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatorUnavailable(f"moto server exited with code {proc.returncode}; see {home / 'emulator.log'}")
        if answers(url):
            enable_state_machine_execution(url)
            return Emulator(url=url, started_here=True, pid=proc.pid)
        time.sleep(0.2)
    proc.kill()
    raise EmulatorUnavailable(f"moto server did not answer on {url} within {_START_TIMEOUT_S:.0f}s")


def _read_pid(home: Path) -> int | None:
    try:
        return int(_pid_file(home).read_text())
    except (OSError, ValueError):
        return None


def stop(home: Path | None = None) -> bool:
    """Stop the emulator this project started (and only that one). True when one was stopped."""
    home = home or config.home()
    pid = _read_pid(home)
    _pid_file(home).unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _exited(pid):
            return True
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    return True


def _exited(pid: int) -> bool:
    """True once pid has exited. A zombie has exited: reap it when it is this process's child
    (up() and down() in one process, as in the test fixture); after a CLI `stack up` its
    parent is init, which may reap it late — without this, down() waited its full 10 s."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    except ChildProcessError:
        pass
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return Path("/proc/self").exists()  # /proc but no entry: gone; no /proc (macOS): unknown


def require(url: str) -> None:
    if not answers(url):
        raise EmulatorUnavailable(
            f"no AWS endpoint answers at {url}: run `gridtape stack up` (or start LocalStack with docker compose up)"
        )

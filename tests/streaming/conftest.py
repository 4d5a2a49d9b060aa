"""Emulator fixture for the streaming tests: the project's `stack` fixture once app.stack.deploy
exists; until then an emulator of our own on a free port. Either way each test creates the
streams and buckets of its own deployment name (ensure_resources), so tests never share sinks."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Iterator
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def emulator_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("app.stack.deploy") is not None:
        info: Any = request.getfixturevalue("stack")
        yield str(info.endpoint)
        return
    from app.stack import emulator
    from gridtape import aws

    home = tmp_path_factory.mktemp("streaming-emulator")
    emu = emulator.start(home=home, port=_free_port())
    aws.use_emulator(emu.url)
    try:
        yield emu.url
    finally:
        if emu.started_here:
            emulator.stop(home)

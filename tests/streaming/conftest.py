"""Emulator fixture for the streaming tests: the project's shared `stack`. Each test creates the
streams and buckets of its own deployment name (ensure_resources), so tests never share sinks."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def emulator_url(stack: Any) -> str:
    return str(stack.endpoint)

"""Shared fixtures: one emulator stack and one SparkSession for the whole test session."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ISO_SAMPLES = SHARED / "iso-samples"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The embedded stack, deployed by the same code as `gridtape stack up`. Uses
    AWS_ENDPOINT_URL when it points at a live emulator (e.g. LocalStack); otherwise starts
    its own moto server on a free port, so a developer's own stack on 4566 is left alone."""
    from app.stack import lifecycle as stack
    from gridtape import config

    home = tmp_path_factory.mktemp("gridtape-home")
    os.environ[config.ENV_HOME] = str(home)
    os.environ.setdefault(config.ENV_NAME, "test")
    port = None if os.environ.get(config.ENV_ENDPOINT) else _free_port()
    info = stack.up(home=home, port=port)
    yield info
    stack.down(home=home)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from gridtape.spark import local_session

    session = local_session("gridtape-tests")
    yield session
    session.stop()


@pytest.fixture
def iso_samples() -> Path:
    """../shared/iso-samples (real recorded ISO responses); tests using it skip without it."""
    if not ISO_SAMPLES.is_dir():
        pytest.skip("../shared/iso-samples is absent (only present beside the team's checkout)")
    return ISO_SAMPLES


@pytest.fixture
def own_names(stack: Any) -> Any:
    """A deployment name of the test's own on the shared emulator: its raw and curated buckets
    and its poller state table, so no other test's raw objects, marks or cursors mix in."""
    import uuid

    from gridtape import aws, config
    from producers import state

    own = config.Names(env=f"{stack.names.env}-{uuid.uuid4().hex[:8]}", account=stack.names.account)
    for bucket in (own.raw_bucket, own.curated_bucket):
        aws.client("s3").create_bucket(Bucket=bucket)
    state.create_table(own.poller_state_table)
    return own

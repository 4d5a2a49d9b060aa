"""A PJM key secret that cannot be read (access denied) fails the poll loudly: PollSkipped,
the Lambda reports failure, and the state table says why; it never passes as a quiet skip."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from gridtape import isos
from producers.poller import MemoryMetrics
from producers.state import StateStore
from tests.producers.conftest import Resources


def test_a_denied_secret_fails_the_lambda_and_shows_in_status(
    resources: Resources, monkeypatch: pytest.MonkeyPatch, pjm_without_key: None
) -> None:
    from gridtape import aws
    from producers.poller import entry, loop

    secrets = boto3.client("secretsmanager", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(secrets)
    for _ in range(4):  # one read per dataset, whatever order the poll asks in
        stub.add_client_error(
            "get_secret_value", service_error_code="AccessDeniedException", service_message="not authorized to read"
        )
    stub.activate()
    real_client = aws.client

    def client(service: str, region: str | None = None) -> Any:
        return secrets if service == "secretsmanager" else real_client(service, region)

    monkeypatch.setattr(aws, "client", client)
    monkeypatch.setenv(isos.get("PJM").api_key.secret_env, "gridtape/pjm-api-key")

    metrics = MemoryMetrics()
    monkeypatch.setattr(entry, "_WARM", {"PJM": loop.LivePoller(["PJM"], resources.sinks())})
    with pytest.raises(entry.PollFailed, match=r"PJM lmp skipped: .*not authorized"):
        entry.lambda_poll({"iso": "PJM"}, metrics)
    assert metrics.total("PollSkipped", "PJM") == len(isos.get("PJM").datasets)
    feeds = StateStore(resources.table, resources.dynamodb).feeds([("PJM", n) for n in isos.get("PJM").datasets])
    assert all(f.last_status == "skipped" and "not authorized" in (f.last_error or "") for f in feeds)

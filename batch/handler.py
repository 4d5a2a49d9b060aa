"""The warehouse Lambda (${WarehouseFunctionArn} in statemachines/nightly.asl.json): thin, the
work is batch.nightly.lambda_step."""

from __future__ import annotations

from typing import Any

from batch.nightly import lambda_step


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return lambda_step(event)

"""The warehouse Lambda (${WarehouseFunctionArn} in statemachines/nightly.asl.json): thin, the
work is batch.nightly.lambda_step.

Step Functions matches a Lambda error by its exact name (the exception's class name), never
by inheritance: a subclass of TransientError raised in here would miss the ASL's Retry on
"TransientError". So every transient error leaves the function under that one name (its
message keeps the original class), and tests/batch/test_checks.py checks that every
Lambda task of the ASL retries RETRIED_AS.
"""

from __future__ import annotations

from typing import Any

from batch.nightly import lambda_step
from gridtape.errors import TransientError

RETRIED_AS = TransientError.__name__


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return lambda_step(event)
    except TransientError as exc:
        if type(exc) is TransientError:
            raise
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc

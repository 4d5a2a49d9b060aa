"""Kinesis record bytes -> contract records. Which contract a record follows is given by its
stream (each KCL application consumes one stream), never guessed from its fields."""

from __future__ import annotations

import json
from typing import Any, Final, Literal

from gridtape import contract
from gridtape.errors import ContractError

Kind = Literal["tick", "volatility"]
KINDS: Final[dict[str, Kind]] = {"ticks": "tick", "analytics": "volatility"}  # stream role -> record kind
CONTRACTS: Final = {"tick": contract.TICK, "volatility": contract.VOLATILITY}


def decode(data: bytes, kind: Kind) -> dict[str, Any]:
    """One record's bytes -> the validated record; ContractError (a ValueError) when it is not
    JSON or not the contract (the processor skips and counts it: one bad record must not stall
    a shard)."""
    try:
        record = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(kind, "<record>", f"not JSON: {exc}") from None
    return contract.validate(record, CONTRACTS[kind])

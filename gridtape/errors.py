"""One small exception hierarchy. Transient errors are retried; terminal ones are quarantined
and alerted on. Every message names what failed (ISO, dataset, URL, field)."""

from __future__ import annotations


class GridtapeError(Exception):
    """Root of every error gridtape raises on purpose."""


class ContractError(GridtapeError, ValueError):
    """A record does not satisfy its contract."""

    def __init__(self, contract: str, field: str, reason: str) -> None:
        self.contract = contract
        self.field = field
        self.reason = reason
        super().__init__(f"{contract} field '{field}': {reason}")


class TransientError(GridtapeError):
    """Worth retrying: throttling, 5xx, timeouts."""


class TerminalError(GridtapeError):
    """Retrying will not help: the input is wrong or the resource is missing."""


class SourceError(TerminalError):
    """An ISO answered with something gridtape cannot parse."""

    def __init__(self, iso: str, dataset: str, url: str, reason: str) -> None:
        self.iso = iso
        self.dataset = dataset
        self.url = url
        self.reason = reason
        super().__init__(f"{iso} {dataset} from {url}: {reason}")


class EmulatorUnavailable(GridtapeError):
    """The AWS endpoint gridtape was told to use does not answer."""

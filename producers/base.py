"""The one small interface every ISO module implements.

An ISO module is a subclass of IsoSource with two halves:
- fetch(dataset, http, now): the HTTP requests for the newest data, through the shared
  HttpClient (retries, rate limits, conditional requests and replay live there, once);
- parse(dataset, responses): a pure function from recorded bytes to tick records (wire
  dicts built with gridtape.contract.tick), raising SourceError on anything unexpected.
parse never touches the network, the clock or AWS, so it is tested on fixtures alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from gridtape.errors import SourceError
from producers.formats import FormatError


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    # Query parameters that change on every call (cache busters): left out when a replayed
    # response is matched to a request.
    volatile_params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # the full URL asked for, query string included
    status: int
    body: bytes
    headers: Mapping[str, str]
    fetched_at: datetime  # UTC


class HttpClient(Protocol):
    """What an ISO module may ask of the fetch layer (live HTTP or replay of recordings)."""

    def get(self, request: Request) -> Response: ...


class IsoSource(ABC):
    iso: ClassVar[str]  # one of gridtape.contract.ISOS
    datasets: ClassVar[tuple[str, ...]] = ("lmp", "load")
    min_poll_interval_s: ClassVar[float] = 60.0  # the ISO's own polling etiquette
    requests_per_second: ClassVar[float] = 1.0  # rate limit the fetch layer enforces

    def __init__(self, include_nodes: bool = False, credentials: Mapping[str, str] | None = None) -> None:
        self.include_nodes = include_nodes
        self.credentials = dict(credentials or {})

    @abstractmethod
    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        """Fetch what is newest at `now` (UTC): the responses parse() needs."""

    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        """Turn responses into tick records. Pure; raises SourceError naming ISO, URL, reason.

        The default parses each response on its own with `_parse_<dataset>(response)`; ISOs
        whose responses only make sense together (paging, a list plus documents) override it."""
        parse_one = getattr(self, f"_parse_{dataset}", None)
        if dataset not in self.datasets or parse_one is None:
            raise self.error(dataset, responses[0].url if responses else "-", f"unknown dataset {dataset!r}")
        out: list[dict[str, Any]] = []
        for response in responses:
            try:
                out.extend(parse_one(response))
            except FormatError as exc:
                raise self.error(dataset, response.url, str(exc)) from None
        return out

    def error(self, dataset: str, url: str, reason: str) -> SourceError:
        return SourceError(self.iso, dataset, url, reason)

"""ERCOT: real-time LMPs from the MIS document service, system load from the website dashboard.

lmp   Two MIS reports, each a document list (JSON) plus one zip per document:
      - 12300 "LMPs by Resource Nodes, Load Zones and Trading Hubs" (NP6-788): one CSV per SCED
        run (SCEDTimestamp, RepeatedHourFlag, SettlementPoint, LMP) -> market RT5;
      - 12301 "Settlement Point Prices at Resource Nodes, Hubs and Load Zones" (NP6-905): one
        CSV per 15-minute settlement interval -> market RT15 (hubs and load zones only).
      ERCOT publishes no LMP components in either report. See producers.ercot.lmp.
load  The "system-wide demand" dashboard JSON: hourly ERCOT system load for the previous and
      current operating day -> market RTH. See producers.ercot.load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from producers.base import HttpClient, IsoSource, Response
from producers.ercot import lmp, load
from producers.formats import FormatError


class ErcotSource(IsoSource):
    iso: ClassVar[str] = "ERCOT"
    min_poll_interval_s: ClassVar[float] = 60.0
    requests_per_second: ClassVar[float] = 1.0

    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        if dataset == "lmp":
            return lmp.fetch(http, now)
        if dataset == "load":
            return [http.get(load.request())]
        raise ValueError(f"ERCOT has no dataset {dataset!r}")

    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        if dataset == "lmp":
            published = lmp.publish_times(self, responses)
            ranked: list[Any] = []
            for response in responses:
                if not lmp.is_document_list(response):
                    ranked.extend(self._guard(dataset, response, lambda r: lmp.parse_document(self, r, published)))
            return lmp.latest_run_per_interval(ranked)
        if dataset == "load":
            out: list[dict[str, Any]] = []
            for response in responses:
                out.extend(self._guard(dataset, response, lambda r: load.parse(self, r)))
            return out
        raise ValueError(f"ERCOT has no dataset {dataset!r}")

    def _guard(self, dataset: str, response: Response, parse: Callable[[Response], Iterable[Any]]) -> list[Any]:
        try:
            return list(parse(response))
        except FormatError as exc:
            raise self.error(dataset, response.url, str(exc)) from None

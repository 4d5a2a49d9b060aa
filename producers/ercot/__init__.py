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

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from producers.base import HttpClient, IsoSource, Response
from producers.ercot import lmp, load


class ErcotSource(IsoSource):
    iso: ClassVar[str] = "ERCOT"

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset == "lmp":
            return lmp.fetch(http, now, since)
        if dataset == "load":
            return [http.get(load.request())]
        raise ValueError(f"ERCOT has no dataset {dataset!r}")

    def prepare(self, dataset: str, responses: Sequence[Response]) -> dict[str, lmp.Document]:
        """lmp: every listed document's publication time, from the document lists."""
        return lmp.publish_times(responses) if dataset == "lmp" else {}

    def wanted(self, dataset: str, response: Response) -> bool:
        return dataset != "lmp" or not lmp.is_document_list(response)

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Of two ticks for one interval (two SCED runs in it, a re-published settlement price)
        the later-published document's comes last, so it wins as a revision would downstream."""
        return sorted(ticks, key=lambda t: t["published_at"])

    def _rows_lmp(self, response: Response, listed: dict[str, lmp.Document]) -> list[Any]:
        return lmp.rows(self, response, listed)

    def _read_lmp(self, row: Any, response: Response) -> dict[str, Any] | None:
        return lmp.read(self, row, response)

    def _rows_load(self, response: Response, context: Any) -> list[Any]:
        return load.rows(response)

    def _read_load(self, row: Any, response: Response) -> dict[str, Any]:
        return load.read(self, row, response)

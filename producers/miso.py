"""MISO: real-time five-minute ex-post LMPs and five-minute total load from MISO's public API.

MISO's market clock is Eastern STANDARD time all year (UTC-5, no DST), so its data has no
repeated or missing hour: the DST days have 288 intervals like any other.
MISO asks API users to poll no faster than once a minute.

lmp   ``api/MarketPricing/GetRealTimeFiveMinExPost/Current``: the newest interval for every
      pricing node, as ``{"headers": ["INTERVAL", "CPNODE", "LMP", "MLC", "MCC"], "data":
      [[...], ...]}`` (columns read by name, values as strings). ``INTERVAL``
      ("2025-06-10T13:35:00", EST) is the interval BEGINNING (as gridstatus reads it). MISO
      publishes LMP, MLC (loss) and MCC (congestion) here but not the energy component; energy
      is LMP - MLC - MCC, MISO's own decomposition (LMP = MEC + MCC + MLC).
      Trading hubs are the nodes named ``*.HUB``; every other CPNODE is a node (emitted with
      include_nodes). The feed does not say which CPNODEs are load zones, so none are typed zone.
load  ``api/RealTimeTotalLoad``: ``{"LoadInfo": {"RefId": "10-Jun-2025 - Interval 13:35 EST",
      "ClearedMW": [...], "MediumTermLoadForecast": [...], "FiveMinTotalLoad": [{"Load":
      {"Time": "00:00", "Value": "71422"}}, ...]}}``: the market day so far. The day is the
      date in RefId; ``Time`` is the interval BEGINNING in EST (as gridstatus reads it).

Healing an outage: the Current feed holds only the newest interval, so when the poller's cursor
(`since`) is more than one interval behind, lmp reads the ``.../Rolling`` feed (the EST market
day so far, same shape) instead, and ``.../Previous`` (yesterday's EST market day) too when the
cursor lies before today's EST midnight (when one of them does not answer, Current is read as
well, so the newest interval still goes out); older gaps are backfill's. The load feed already holds
the whole market day so far.

No real MISO response is in ../shared/iso-samples. The shapes above are those gridstatus's
parser reads, and match an OpenAPI description derived from live responses of 2026-07-27
(api-evangelist/miso, openapi/miso-marketpricing-api-openapi.yml and
miso-realtimetotalload-api-openapi.yml): string arrays under ``headers``/``data``, INTERVAL
"2026-07-27T08:15:00", RefId "27-Jul-2026 - Interval 08:10 EST". There the Previous and
Rolling feeds' days begin at T00:00:00 and FiveMinTotalLoad begins at "00:00": a label of
the interval BEGINNING (an interval-ending day would start at 00:05).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from gridtape import isos
from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

ZONE = isos.get("MISO").tz  # the market clock, from the ISO table
BASE = "https://public-api.misoenergy.org/api"
LMP_URL = f"{BASE}/MarketPricing/GetRealTimeFiveMinExPost/Current"
LMP_ROLLING_URL = f"{BASE}/MarketPricing/GetRealTimeFiveMinExPost/Rolling"
LMP_PREVIOUS_URL = f"{BASE}/MarketPricing/GetRealTimeFiveMinExPost/Previous"
LOAD_URL = f"{BASE}/RealTimeTotalLoad"
LMP_COLUMNS = ("INTERVAL", "CPNODE", "LMP", "MLC", "MCC")
INTERVAL = timedelta(minutes=5)


class MisoSource(IsoSource):
    iso: ClassVar[str] = "MISO"

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset == "load":
            return [http.get(Request(LOAD_URL))]
        if dataset != "lmp":
            raise ValueError(f"MISO has no dataset {dataset!r}")
        newest_end = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
        if since is None or since >= newest_end - 2 * INTERVAL:
            return [http.get(Request(LMP_URL))]
        local = now.astimezone(ZONE)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        urls = [LMP_PREVIOUS_URL] if since < midnight else []
        healing = [r for r in (http.get(Request(url)) for url in [*urls, LMP_ROLLING_URL]) if r.status == 200]
        if len(healing) == len(urls) + 1:
            return healing
        # A feed to heal from is not answering: the newest interval still goes out (what it
        # would have healed is backfill's), rather than failing every poll until it answers.
        return [*healing, http.get(Request(LMP_URL))]

    # -- lmp ---------------------------------------------------------------------------------
    def _rows_lmp(self, response: Response, context: Any) -> list[dict[str, str]]:
        doc = formats.json_document(response.body)
        header, data = formats.path(doc, "headers"), formats.path(doc, "data")
        if not isinstance(header, list) or not isinstance(data, list):
            raise FormatError("headers/data are not lists")
        return formats.records([str(h) for h in header], data, LMP_COLUMNS)

    def _read_lmp(self, row: dict[str, str], response: Response) -> dict[str, Any] | None:
        node = row["CPNODE"]
        kind = "hub" if node in self.facts.hubs or node.endswith(".HUB") else "node"
        if kind == "node" and not self.include_nodes:
            return None
        lmp = formats.number(row["LMP"], f"{node} LMP")
        loss = formats.number(row["MLC"], f"{node} MLC")
        congestion = formats.number(row["MCC"], f"{node} MCC")
        return self.tick(
            response,
            "lmp",
            location=node,
            location_type=kind,
            start=_est(row["INTERVAL"], "%Y-%m-%dT%H:%M:%S", f"{node}: INTERVAL"),  # interval BEGINNING
            lmp=lmp,
            energy=round(lmp - loss - congestion, 6),  # MISO publishes no energy component
            congestion=congestion,
            loss=loss,
        )

    # -- load --------------------------------------------------------------------------------
    def _rows_load(self, response: Response, context: Any) -> Iterable[tuple[Any, datetime]]:
        info = formats.path(formats.json_document(response.body), "LoadInfo")
        ref = str(formats.path(info, "RefId"))
        try:
            day = datetime.strptime(ref.split(" ")[0], "%d-%b-%Y")
        except ValueError:
            raise FormatError(f"RefId {ref!r} does not start with a DD-Mon-YYYY date") from None
        rows = formats.path(info, "FiveMinTotalLoad")
        if not isinstance(rows, list) or not rows:
            raise FormatError("FiveMinTotalLoad is empty or not a list")
        return [(row, day) for row in rows]

    def _read_load(self, item: tuple[Any, datetime], response: Response) -> dict[str, Any]:
        row, day = item
        text = str(formats.path(row, "Load", "Time"))
        start = _est(f"{day:%Y-%m-%d} {text}", "%Y-%m-%d %H:%M", "FiveMinTotalLoad Time")  # interval BEGINNING
        return self.tick(
            response,
            "load",
            location=self.facts.system,
            location_type="system",
            start=start,
            load_mw=formats.number(formats.path(row, "Load", "Value"), f"load at {text}"),
        )


def _est(text: str, fmt: str, what: str) -> datetime:
    """MISO's market clock is EST all year: a wall time is one UTC time, never ambiguous."""
    try:
        return local_to_utc(datetime.strptime(str(text), fmt), ZONE)
    except ValueError:
        raise FormatError(f"{what} {text!r} does not match {fmt}") from None

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

No real MISO response is in ../shared/iso-samples. The shapes above are those gridstatus's
parser reads, and match an OpenAPI description derived from live responses of 2026-07-27
(api-evangelist/miso, openapi/miso-marketpricing-api-openapi.yml and
miso-realtimetotalload-api-openapi.yml): string arrays under ``headers``/``data``, INTERVAL
"2026-07-27T08:15:00", RefId "27-Jul-2026 - Interval 08:10 EST". There the Previous and
Rolling feeds' days begin at T00:00:00 and FiveMinTotalLoad begins at "00:00": a label of
the interval BEGINNING (an interval-ending day would start at 00:05).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from gridtape.contract import tick
from gridtape.timeutil import EST, interval_beginning, local_to_utc
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

BASE = "https://public-api.misoenergy.org/api"
LMP_URL = f"{BASE}/MarketPricing/GetRealTimeFiveMinExPost/Current"
LOAD_URL = f"{BASE}/RealTimeTotalLoad"
LMP_COLUMNS = ("INTERVAL", "CPNODE", "LMP", "MLC", "MCC")
HUBS = (
    "ARKANSAS.HUB",
    "ILLINOIS.HUB",
    "INDIANA.HUB",
    "LOUISIANA.HUB",
    "MICHIGAN.HUB",
    "MINN.HUB",
    "MS.HUB",
    "TEXAS.HUB",
)


class MisoSource(IsoSource):
    iso: ClassVar[str] = "MISO"
    min_poll_interval_s: ClassVar[float] = 60.0  # MISO: no more than one request a minute
    requests_per_second: ClassVar[float] = 1.0

    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        if dataset == "lmp":
            return [http.get(Request(LMP_URL))]
        if dataset == "load":
            return [http.get(Request(LOAD_URL))]
        raise ValueError(f"MISO has no dataset {dataset!r}")

    def _parse_lmp(self, response: Response) -> list[dict[str, Any]]:
        doc = formats.json_document(response.body)
        header, data = formats.path(doc, "headers"), formats.path(doc, "data")
        if not isinstance(header, list) or not isinstance(data, list):
            raise FormatError("headers/data are not lists")
        rows = formats.records([str(h) for h in header], data, LMP_COLUMNS)
        ticks = []
        seen: set[tuple[str, str]] = set()
        for row in rows:
            node = str(row["CPNODE"])
            kind = "hub" if node.endswith(".HUB") else "node"
            if kind == "node" and not self.include_nodes:
                continue
            if (node, row["INTERVAL"]) in seen:
                raise FormatError(f"{node} {row['INTERVAL']} appears twice")
            seen.add((node, row["INTERVAL"]))
            try:
                start = local_to_utc(datetime.strptime(str(row["INTERVAL"]), "%Y-%m-%dT%H:%M:%S"), EST)
            except ValueError:
                raise FormatError(f"{node}: INTERVAL {row['INTERVAL']!r} is not YYYY-MM-DDTHH:MM:SS") from None
            lmp = formats.number(row["LMP"], f"{node} LMP")
            loss = formats.number(row["MLC"], f"{node} MLC")
            congestion = formats.number(row["MCC"], f"{node} MCC")
            begin, end = interval_beginning(start, 5)
            ticks.append(
                tick(
                    iso=self.iso,
                    market="RT5",
                    dataset="lmp",
                    location=node,
                    location_type=kind,
                    interval_start=begin,
                    interval_end=end,
                    lmp=lmp,
                    energy=round(lmp - loss - congestion, 6),
                    congestion=congestion,
                    loss=loss,
                    published_at=response.fetched_at,  # the feed carries no publication time
                    ingested_at=response.fetched_at,
                    source=response.url,
                )
            )
        if not ticks:
            raise FormatError("no hub prices")
        return ticks

    def _parse_load(self, response: Response) -> list[dict[str, Any]]:
        info = formats.path(formats.json_document(response.body), "LoadInfo")
        ref = str(formats.path(info, "RefId"))
        try:
            day = datetime.strptime(ref.split(" ")[0], "%d-%b-%Y")
        except ValueError:
            raise FormatError(f"RefId {ref!r} does not start with a DD-Mon-YYYY date") from None
        rows = formats.path(info, "FiveMinTotalLoad")
        if not isinstance(rows, list) or not rows:
            raise FormatError("FiveMinTotalLoad is empty or not a list")
        ticks = []
        seen: set[datetime] = set()
        for n, row in enumerate(rows):
            text = str(formats.path(row, "Load", "Time"))
            try:
                hour, minute = (int(p) for p in text.split(":"))
                start = local_to_utc(day.replace(hour=hour, minute=minute), EST)
            except ValueError:
                raise FormatError(f"FiveMinTotalLoad/{n}: Time {text!r} is not HH:MM") from None
            if start in seen:
                raise FormatError(f"FiveMinTotalLoad: {text} appears twice")
            seen.add(start)
            begin, end = interval_beginning(start, 5)
            ticks.append(
                tick(
                    iso=self.iso,
                    market="RT5",
                    dataset="load",
                    location="MISO",
                    location_type="system",
                    interval_start=begin,
                    interval_end=end,
                    load_mw=formats.number(formats.path(row, "Load", "Value"), f"load at {text}"),
                    published_at=response.fetched_at,
                    ingested_at=response.fetched_at,
                    source=response.url,
                )
            )
        return ticks

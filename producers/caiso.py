"""CAISO: real-time 5-minute LMP from OASIS, system demand from Today's Outlook.

lmp  OASIS ``SingleZip`` report PRC_INTVL_LMP (market RTM, the 5-minute real-time dispatch).
     The answer is a zip holding a CSV with one row per node, interval and LMP_TYPE (LMP,
     MCE energy, MCC congestion, MCL loss, MGHG greenhouse gas); every CSV member is read, so
     a zip split per type parses the same. Times are UTC (INTERVALSTARTTIME_GMT /
     INTERVALENDTIME_GMT), so DST needs no handling here.
     LMP = MCE + MCC + MCL + MGHG; MGHG has no field in the tick contract, so energy +
     congestion + loss equals lmp only where MGHG is 0 (all California nodes and hubs).
     OASIS answers an error (1000 no data yet, 1015 busy, ...) with a 200 and a zip holding an
     XML report (INVALID_REQUEST.xml.zip) instead of a CSV: that is a SourceError.
     OASIS allows about one request per 5 s and answers 429 beyond that.
load Today's Outlook ``outlook/current/demand.csv``: 5-minute CAISO system demand for the
     current Pacific day (``Time,Day ahead forecast,Hour ahead forecast,Current demand,Demand
     response``), ``Time`` as HH:MM only. Time marks the interval END: in the dated
     history files of the same family (e.g. ``outlook/history/20260311/rtm_forecast_7day.csv``)
     the hourly day-ahead forecast column changes value on the row after each full hour, so
     HE01 covers the rows 00:05..01:00, and the first row of a day (00:00) carries the
     previous day's last actual. The day is the Pacific date at fetch time (the file rolls over
     at Pacific midnight; a file whose newest actual lies in the future is still yesterday's).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from gridtape.contract import tick
from gridtape.timeutil import PACIFIC, interval_ending, local_to_utc, with_offset
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

OASIS_URL = "https://oasis.caiso.com/oasisapi/SingleZip"
DEMAND_URL = "https://www.caiso.com/outlook/current/demand.csv"
HUBS = ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND", "TH_ZP26_GEN-APND")
# Default load aggregation points: the load zones traders settle load against.
DLAPS = ("DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND", "DLAP_VEA-APND")
# LMP_TYPE -> tick field. MGHG is read (so a file holding it is not an error) but not stored.
COMPONENTS = {"LMP": "lmp", "MCE": "energy", "MCC": "congestion", "MCL": "loss", "MGHG": None}
OASIS_COLUMNS = ("INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "NODE", "LMP_TYPE")
# The value column is VALUE in PRC_INTVL_LMP version 3; older report versions named it MW.
VALUE_COLUMNS = ("VALUE", "MW")
OASIS_TIME = "%Y%m%dT%H:%M-0000"
_XML_FIELD = re.compile(r"<(?:\w+:)?(ERR_CODE|ERR_DESC)>([^<]*)<")


def location_type(node: str) -> str:
    if node.startswith("TH_"):
        return "hub"
    if node.startswith("DLAP_"):
        return "zone"
    return "node"


class CaisoSource(IsoSource):
    iso: ClassVar[str] = "CAISO"
    min_poll_interval_s: ClassVar[float] = 60.0
    requests_per_second: ClassVar[float] = 0.2  # OASIS: one request per 5 s, else 429
    # How far back each lmp poll asks: two hours, so one missed poll (or a late OASIS
    # publication) is filled by the next. OASIS caps an all-nodes query at one hour.
    lookback = timedelta(hours=2)
    all_nodes_lookback = timedelta(hours=1)

    # -- fetch -------------------------------------------------------------------------------
    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        if dataset == "lmp":
            return [http.get(self.lmp_request(now))]
        if dataset == "load":
            return [http.get(self.load_request(now))]
        raise ValueError(f"CAISO has no dataset {dataset!r}")

    def lmp_request(self, now: datetime) -> Request:
        end = _floor5(now)
        params = {"queryname": "PRC_INTVL_LMP", "market_run_id": "RTM", "version": "3", "resultformat": "6"}
        if self.include_nodes:
            start = end - self.all_nodes_lookback
            params["grp_type"] = "ALL_APNODES"
        else:
            start = end - self.lookback
            params["node"] = ",".join(HUBS + DLAPS)
        params["startdatetime"] = start.strftime(OASIS_TIME)
        params["enddatetime"] = end.strftime(OASIS_TIME)
        return Request(OASIS_URL, params)

    @staticmethod
    def load_request(now: datetime) -> Request:
        # The CDN serves a stale copy of the same URL; the cache buster is the poll time.
        return Request(DEMAND_URL, {"_": str(int(now.timestamp()))}, volatile_params=("_",))

    # -- parse -------------------------------------------------------------------------------
    def _parse_lmp(self, response: Response) -> list[dict[str, Any]]:
        members = formats.zip_members(response.body)
        for name, data in members.items():
            if name.lower().endswith(".xml"):
                fields = dict(_XML_FIELD.findall(formats.decode(data)))
                raise FormatError(
                    f"OASIS error report {name}: {fields.get('ERR_CODE', '?')} {fields.get('ERR_DESC', '').strip()}"
                )
        # (node, start, end) -> {LMP_TYPE: value}
        prices: dict[tuple[str, str, str], dict[str, float]] = {}
        for name, data in sorted(members.items()):
            rows = formats.csv_rows(formats.decode(data))
            if not rows:
                raise FormatError(f"{name} is empty")
            header = [h.strip() for h in rows[0]]
            value_col = next((c for c in VALUE_COLUMNS if c in header), VALUE_COLUMNS[0])
            for row in formats.records(header, rows[1:], (*OASIS_COLUMNS, value_col)):
                kind = formats.one_of(row["LMP_TYPE"], COMPONENTS, f"{name} LMP_TYPE")
                key = (row["NODE"], row["INTERVALSTARTTIME_GMT"], row["INTERVALENDTIME_GMT"])
                value = formats.number(row[value_col], f"{name} {row['NODE']} {kind}")
                seen = prices.setdefault(key, {})
                if seen.get(kind, value) != value:
                    raise FormatError(f"{row['NODE']} {key[1]} {kind} appears twice with different values")
                seen[kind] = value
        ticks = []
        for (node, start_text, end_text), parts in sorted(prices.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            missing = [k for k in ("LMP", "MCE", "MCC", "MCL") if k not in parts]
            if missing:
                raise FormatError(f"{node} {start_text}: no {', '.join(missing)} row (incomplete report)")
            start, end = _gmt(start_text), _gmt(end_text)
            if end - start != timedelta(minutes=5):
                raise FormatError(f"{node} {start_text}: interval is {end - start}, not 5 minutes")
            ticks.append(
                tick(
                    iso=self.iso,
                    market="RT5",
                    dataset="lmp",
                    location=node,
                    location_type=location_type(node),
                    interval_start=start,
                    interval_end=end,
                    lmp=parts["LMP"],
                    energy=parts["MCE"],
                    congestion=parts["MCC"],
                    loss=parts["MCL"],
                    published_at=response.fetched_at,  # OASIS CSVs carry no publication time
                    ingested_at=response.fetched_at,
                    source=response.url,
                )
            )
        if not ticks:
            raise FormatError("report holds no prices")
        return ticks

    def _parse_load(self, response: Response) -> list[dict[str, Any]]:
        formats.check_body(response.body)
        rows = formats.csv_records(formats.decode(response.body), ("Time", "Current demand"))
        day = response.fetched_at.astimezone(PACIFIC).date()
        values = _interval_ends(rows, datetime(day.year, day.month, day.day))
        if values and values[-1][0] > response.fetched_at + timedelta(minutes=5):
            # Just after Pacific midnight the CDN can still serve yesterday's file.
            prev = day - timedelta(days=1)
            values = _interval_ends(rows, datetime(prev.year, prev.month, prev.day))
        if not values:
            raise FormatError("no Current demand values")
        return [
            tick(
                iso=self.iso,
                market="RT5",
                dataset="load",
                location="CAISO",
                location_type="system",
                interval_start=interval_ending(end, 5)[0],
                interval_end=end,
                load_mw=mw,
                published_at=response.fetched_at,
                ingested_at=response.fetched_at,
                source=response.url,
            )
            for end, mw in values
        ]


def _interval_ends(rows: list[dict[str, str]], day: datetime) -> list[tuple[datetime, float]]:
    """(UTC interval end, MW) for the rows with a value. Rows are in time order: a wall time
    seen again is the second pass through the fall-back hour; a time earlier than the one
    before it (a trailing 00:00) belongs to the next day. Rows of the skipped spring hour are
    present with empty values and are dropped like future rows; a value there is an error."""
    out: list[tuple[datetime, float]] = []
    seen: set[datetime] = set()
    previous: datetime | None = None
    for row in rows:
        text = row["Time"]
        try:
            hour, minute = (int(p) for p in text.split(":"))
            wall = day.replace(hour=hour, minute=minute)
        except ValueError:
            raise FormatError(f"Time {text!r} is not HH:MM") from None
        if previous is not None and wall < previous and wall not in seen:
            day += timedelta(days=1)
            wall += timedelta(days=1)
        repeated = wall in seen
        seen.add(wall)
        previous = wall
        if not row["Current demand"]:
            continue
        mw = formats.number(row["Current demand"], f"Current demand at {text}")
        try:
            end = local_to_utc(wall, PACIFIC, repeated=repeated)
        except ValueError as exc:
            raise FormatError(str(exc)) from None
        out.append((end, mw))
    return out


def _gmt(text: str) -> datetime:
    try:
        return with_offset(text)
    except ValueError:
        raise FormatError(f"{text!r} is not an OASIS GMT time") from None


def _floor5(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)

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
     After an outage (the poller's cursor `since` older than the two-hour window) the window
     reaches back to the cursor, at most MAX_CATCHUP (one hour for an all-nodes query).
load Today's Outlook ``outlook/current/demand.csv``: 5-minute CAISO system demand for the
     current Pacific day (``Time,Day ahead forecast,Hour ahead forecast,Current demand,Demand
     response``), ``Time`` as HH:MM only. Time marks the interval END: in the dated
     history files of the same family (e.g. ``outlook/history/20260311/rtm_forecast_7day.csv``)
     the hourly day-ahead forecast column changes value on the row after each full hour, so
     HE01 covers the rows 00:05..01:00, and the first row of a day (00:00) carries the
     previous day's last actual. The day is the Pacific date at fetch time (the file rolls over
     at Pacific midnight; a file whose newest actual lies in the future is still yesterday's).
     The file holds the whole day so far, so a gap within the day heals by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from gridtape import isos
from gridtape.timeutil import local_to_utc, with_offset
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

ZONE = isos.get("CAISO").tz  # the market clock, from the ISO table
OASIS_URL = "https://oasis.caiso.com/oasisapi/SingleZip"
DEMAND_URL = "https://www.caiso.com/outlook/current/demand.csv"
# Default load aggregation points: the load zones traders settle load against (the hubs are
# the ISO table's).
DLAPS = ("DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND", "DLAP_VEA-APND")
# LMP_TYPE -> tick field. MGHG is read (so a file holding it is not an error) but not stored.
COMPONENTS = {"LMP": "lmp", "MCE": "energy", "MCC": "congestion", "MCL": "loss", "MGHG": None}
OASIS_COLUMNS = ("INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "NODE", "LMP_TYPE")
# The value column is VALUE in PRC_INTVL_LMP version 3; older report versions named it MW.
VALUE_COLUMNS = ("VALUE", "MW")
OASIS_TIME = "%Y%m%dT%H:%M-0000"
_XML_FIELD = re.compile(r"<(?:\w+:)?(ERR_CODE|ERR_DESC)>([^<]*)<")
# How far back each lmp poll asks: two hours, so one missed poll (or a late OASIS
# publication) is filled by the next. OASIS caps an all-nodes query at one hour.
LOOKBACK = timedelta(hours=2)
ALL_NODES_LOOKBACK = timedelta(hours=1)
MAX_CATCHUP = timedelta(hours=24)  # after an outage: one query back to the cursor, at most this
OPR = "_operating interval"  # a row group's (OPR_DT, OPR_INTERVAL) stamps


def location_type(node: str) -> str:
    if node.startswith("TH_"):
        return "hub"
    if node.startswith("DLAP_"):
        return "zone"
    return "node"


class CaisoSource(IsoSource):
    iso: ClassVar[str] = "CAISO"

    # -- fetch -------------------------------------------------------------------------------
    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset == "lmp":
            return [http.get(self.lmp_request(now, since))]
        if dataset == "load":
            return [http.get(self.load_request(now))]
        raise ValueError(f"CAISO has no dataset {dataset!r}")

    def lmp_request(self, now: datetime, since: datetime | None = None) -> Request:
        end = _floor5(now)
        params = {"queryname": "PRC_INTVL_LMP", "market_run_id": "RTM", "version": "3", "resultformat": "6"}
        if self.include_nodes:
            start, furthest = end - ALL_NODES_LOOKBACK, end - ALL_NODES_LOOKBACK
            params["grp_type"] = "ALL_APNODES"
        else:
            start, furthest = end - LOOKBACK, end - MAX_CATCHUP
            params["node"] = ",".join(self.facts.hubs + DLAPS)
        if since is not None and since < start:
            start = max(_floor5(since), furthest)
        params["startdatetime"] = start.strftime(OASIS_TIME)
        params["enddatetime"] = end.strftime(OASIS_TIME)
        return Request(OASIS_URL, params)

    @staticmethod
    def load_request(now: datetime) -> Request:
        # The CDN serves a stale copy of the same URL; the cache buster is the poll time.
        return Request(DEMAND_URL, {"_": str(int(now.timestamp()))}, volatile_params=("_",))

    # -- lmp ---------------------------------------------------------------------------------
    def _rows_lmp(self, response: Response, context: Any) -> Iterable[tuple[tuple[str, str, str], dict[str, Any]]]:
        """One row per (node, interval): its component rows gathered (values still text)."""
        members = formats.zip_members(response.body)
        for name, data in members.items():
            if name.lower().endswith(".xml"):
                fields = dict(_XML_FIELD.findall(formats.decode(data)))
                raise FormatError(
                    f"OASIS error report {name}: {fields.get('ERR_CODE', '?')} {fields.get('ERR_DESC', '').strip()}"
                )
        # (node, start, end) -> {LMP_TYPE: [values]}
        groups: dict[tuple[str, str, str], dict[str, Any]] = {}
        for name, data in sorted(members.items()):
            rows = formats.csv_rows(formats.decode(data))
            if not rows:
                raise FormatError(f"{name} is empty")
            header = [h.strip() for h in rows[0]]
            value_col = next((c for c in VALUE_COLUMNS if c in header), VALUE_COLUMNS[0])
            for row in formats.records(header, rows[1:], (*OASIS_COLUMNS, value_col)):
                kind = formats.one_of(row["LMP_TYPE"], COMPONENTS, f"{name} LMP_TYPE")
                key = (row["NODE"], row["INTERVALSTARTTIME_GMT"], row["INTERVALENDTIME_GMT"])
                group = groups.setdefault(key, {})
                group.setdefault(kind, set()).add(row[value_col])
                if row.get("OPR_DT") and row.get("OPR_INTERVAL"):
                    group.setdefault(OPR, set()).add((row["OPR_DT"], row["OPR_INTERVAL"]))
        return groups.items()

    def _read_lmp(self, item: tuple[tuple[str, str, str], dict[str, Any]], response: Response) -> dict[str, Any]:
        (node, start_text, end_text), texts = item
        missing = [k for k in ("LMP", "MCE", "MCC", "MCL") if k not in texts]
        if missing:
            raise FormatError(f"{node} {start_text}: no {', '.join(missing)} row (incomplete report)")
        start, end = _gmt(start_text), _gmt(end_text)
        _check_operating_interval(start, texts.pop(OPR, set()), f"{node} {start_text}")
        parts: dict[str, float] = {}
        for kind, values in texts.items():
            numbers = {formats.number(v, f"{node} {kind}") for v in values}
            if len(numbers) > 1:
                raise FormatError(f"{node} {start_text} {kind} appears twice with different values")
            parts[kind] = numbers.pop()
        if end - start != timedelta(minutes=5):
            raise FormatError(f"{node} {start_text}: interval is {end - start}, not 5 minutes")
        return self.tick(
            response,
            "lmp",
            location=node,
            location_type=location_type(node),
            start=start,
            lmp=parts["LMP"],
            energy=parts["MCE"],
            congestion=parts["MCC"],
            loss=parts["MCL"],
        )

    # -- load --------------------------------------------------------------------------------
    def _rows_load(self, response: Response, context: Any) -> list[tuple[str, datetime | str, bool]]:
        formats.check_body(response.body)
        rows = formats.csv_records(formats.decode(response.body), ("Time", "Current demand"))
        day = response.fetched_at.astimezone(ZONE).date()
        walls = _walls(rows, datetime(day.year, day.month, day.day))
        ends = [local_to_utc(w, ZONE, repeated=r) for mw, w, r in walls if mw and isinstance(w, datetime) and _ok(w, r)]
        if ends and max(ends) > response.fetched_at + timedelta(minutes=5):
            # Just after Pacific midnight the CDN can still serve yesterday's file.
            prev = day - timedelta(days=1)
            walls = _walls(rows, datetime(prev.year, prev.month, prev.day))
        return walls

    def _read_load(self, item: tuple[str, datetime | str, bool], response: Response) -> dict[str, Any] | None:
        mw_text, wall, repeated = item
        if not isinstance(wall, datetime):
            raise FormatError(f"Time {wall!r} is not HH:MM")
        if not mw_text:
            return None  # a future interval, or one of the skipped spring hour
        try:
            end = local_to_utc(wall, ZONE, repeated=repeated)  # Time marks the interval END
        except ValueError as exc:
            raise FormatError(str(exc)) from None
        mw = formats.number(mw_text, f"Current demand at {wall:%H:%M}")
        return self.tick(response, "load", location=self.facts.system, location_type="system", end=end, load_mw=mw)


def _walls(rows: list[dict[str, str]], day: datetime) -> list[tuple[str, datetime | str, bool]]:
    """(Current demand, local wall time of the interval end or the unreadable text, repeated).
    Rows are in time order: a wall time seen again is the second pass through the fall-back
    hour; a time earlier than the one before it (a trailing 00:00) belongs to the next day."""
    out: list[tuple[str, datetime | str, bool]] = []
    seen: set[datetime] = set()
    previous: datetime | None = None
    for row in rows:
        text = row["Time"]
        try:
            hour, minute = (int(p) for p in text.split(":"))
            wall = day.replace(hour=hour, minute=minute)
        except ValueError:
            out.append((row["Current demand"], text, False))
            continue
        if previous is not None and wall < previous and wall not in seen:
            day += timedelta(days=1)
            wall += timedelta(days=1)
        repeated = wall in seen
        seen.add(wall)
        previous = wall
        out.append((row["Current demand"], wall, repeated))
    return out


def _ok(wall: datetime, repeated: bool) -> bool:
    try:
        local_to_utc(wall, ZONE, repeated=repeated)
    except ValueError:
        return False
    return True


def _check_operating_interval(start: datetime, stamps: set[tuple[str, str]], where: str) -> None:
    """OASIS repeats each interval's time as the Pacific operating day (OPR_DT) and its 5-minute
    interval within the hour (OPR_INTERVAL, 1-12): it must name the same interval as the GMT
    start. (OPR_HR is not compared: its numbering on the DST days is not checked anywhere here.)"""
    local = start.astimezone(ZONE)
    expected = (f"{local:%Y-%m-%d}", str(local.minute // 5 + 1))
    if stamps and stamps != {expected}:
        raise FormatError(f"{where}: OPR_DT/OPR_INTERVAL {sorted(stamps)} is not {expected} (Pacific)")


def _gmt(text: str) -> datetime:
    try:
        return with_offset(text)
    except ValueError:
        raise FormatError(f"{text!r} is not an OASIS GMT time") from None


def _floor5(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)

"""CAISO OASIS ``SingleZip``: the requests and the reading of its zipped CSV answers.

Three reports, told apart by the ``queryname`` in the response's URL (and, for a saved file
parsed without its URL, by the report the CSV names in MARKET_RUN_ID / its columns):
- PRC_INTVL_LMP (market_run_id RTM, version 3): 5-minute real-time prices, value column VALUE;
- PRC_LMP (market_run_id DAM, version 12): hourly day-ahead prices, value column MW (what
  gridstatus reads as the DAM price column), one CSV member per LMP_TYPE;
- SLD_FCST (market_run_id ACTUAL, version 1): hourly actual load per TAC area
  (TAC_AREA_NAME, MW), what gridstatus' get_load_hourly reads.
Every row carries INTERVALSTARTTIME_GMT / INTERVALENDTIME_GMT in UTC: no DST handling. The
Pacific OPR_DT (and, for 5-minute rows, OPR_INTERVAL) must name the same interval.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from gridtape import isos
from gridtape.timeutil import with_offset
from producers import formats
from producers.base import Request, Response, Values
from producers.formats import FormatError

ZONE = isos.get("CAISO").tz
URL = "https://oasis.caiso.com/oasisapi/SingleZip"
TIME = "%Y%m%dT%H:%M-0000"
# Default load aggregation points: the load zones traders settle load against (the hubs are
# the ISO table's).
DLAPS = ("DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND", "DLAP_VEA-APND")
# The TAC areas inside the CAISO balancing area; SLD_FCST also lists the WEIM areas (not
# CAISO load) and CA ISO-TAC (the total, which Today's Outlook gives every 5 minutes).
TAC_AREAS = ("PGE-TAC", "SCE-TAC", "SDGE-TAC", "VEA-TAC")
# LMP_TYPE -> tick field. MGHG is read (so a file holding it is not an error) but not stored.
COMPONENTS = {"LMP": "lmp", "MCE": "energy", "MCC": "congestion", "MCL": "loss", "MGHG": None}
PRICE_COLUMNS = ("INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "NODE", "LMP_TYPE")
LOAD_COLUMNS = ("INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "TAC_AREA_NAME", "MW")
# The value column is VALUE in PRC_INTVL_LMP version 3, MW in PRC_LMP and older versions.
VALUE_COLUMNS = ("VALUE", "MW")
# queryname -> (market_run_id, version, interval minutes)
REPORTS = {"PRC_INTVL_LMP": ("RTM", "3", 5), "PRC_LMP": ("DAM", "12", 60), "SLD_FCST": ("ACTUAL", "1", 60)}
OPR = "_operating interval"  # a row group's (OPR_DT, OPR_HR, OPR_INTERVAL) stamps
OPR_COLUMNS = ("OPR_DT", "OPR_HR", "OPR_INTERVAL")
_KEY_COLUMNS = ("NODE", "INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", *OPR_COLUMNS)
_PARTS = ("LMP", "MCE", "MCC", "MCL")  # the components a tick carries, in its order
_XML_FIELD = re.compile(r"<(?:\w+:)?(ERR_CODE|ERR_DESC)>([^<]*)<")


def request(query: str, start: datetime, end: datetime, nodes: tuple[str, ...] | None = None) -> Request:
    """One OASIS query of report `query` for [start, end) (UTC); `nodes` None: every APnode."""
    market, version, _ = REPORTS[query]
    params = {"queryname": query, "market_run_id": market, "version": version, "resultformat": "6"}
    if query != "SLD_FCST":
        if nodes is None:
            params["grp_type"] = "ALL_APNODES"
        else:
            params["node"] = ",".join(nodes)
    params["startdatetime"] = start.strftime(TIME)
    params["enddatetime"] = end.strftime(TIME)
    return Request(URL, params)


@lru_cache(maxsize=64)
def midnight(day: date) -> datetime:
    """Pacific midnight starting operating day `day`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)


def report_of(response: Response) -> str | None:
    """The report a response answers, from its URL (None: a saved file without its address)."""
    for query in REPORTS:
        if f"queryname={query}&" in response.url + "&":
            return query
    return None


def csv_texts(response: Response) -> list[tuple[str, str]]:
    """Every CSV member's text, by name; an OASIS error report (a 200 with INVALID_REQUEST.xml)
    is a FormatError carrying its code and reason."""
    members = formats.zip_members(response.body)
    for name, data in members.items():
        if name.lower().endswith(".xml"):
            fields = dict(_XML_FIELD.findall(formats.decode(data)))
            raise FormatError(
                f"OASIS error report {name}: {fields.get('ERR_CODE', '?')} {fields.get('ERR_DESC', '').strip()}"
            )
    return [(name, formats.decode(data)) for name, data in sorted(members.items())]


def csv_members(response: Response) -> list[tuple[str, list[list[str]]]]:
    """Every CSV member's rows (csv_texts); a member without a row is an error."""
    out = []
    for name, text in csv_texts(response):
        rows = formats.csv_rows(text)
        if not rows:
            raise FormatError(f"{name} is empty")
        out.append((name, rows))
    return out


def _market(name: str, row: Mapping[str, str], expected: str) -> None:
    run = row.get("MARKET_RUN_ID")
    if run and run != expected:
        raise FormatError(f"{name}: MARKET_RUN_ID {run!r}, expected {expected} (another report?)")


def price_groups(response: Response, query: str) -> list[tuple[tuple[str, str, str], dict[str, Any]]]:
    """One item per (node, interval): its LMP_TYPE rows gathered (values still text)."""
    market = REPORTS[query][0]
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name, rows in csv_members(response):
        header = [h.strip() for h in rows[0]]
        value_col = next((c for c in VALUE_COLUMNS if c in header), VALUE_COLUMNS[0])
        for row in formats.records(header, rows[1:], (*PRICE_COLUMNS, value_col)):
            _market(name, row, market)
            kind = formats.one_of(row["LMP_TYPE"], COMPONENTS, f"{name} LMP_TYPE")
            key = (row["NODE"], row["INTERVALSTARTTIME_GMT"], row["INTERVALENDTIME_GMT"])
            group = groups.setdefault(key, {})
            group.setdefault(kind, set()).add(row[value_col])
            if row.get("OPR_DT"):
                stamp = (row["OPR_DT"], row.get("OPR_HR", ""), row.get("OPR_INTERVAL", ""))
                group.setdefault(OPR, set()).add(stamp)
    return list(groups.items())


def price_table(response: Response, query: str, minutes: int) -> tuple[list[str], list[datetime], list[Values]] | None:
    """price_groups and price_parts by column: (node, interval start, prices) of every group,
    in the same order, or None when a row is odd (another market or LMP_TYPE, a repeated or
    missing component, a bad time, number or operating interval): the row path then says
    which and why."""
    market = REPORTS[query][0]
    keys: list[list[str]] = [[] for _ in _KEY_COLUMNS]  # node, start, end, OPR_DT, OPR_HR, OPR_INTERVAL
    kinds: list[str] = []
    texts: list[str] = []
    for _, text in csv_texts(response):
        table = formats.csv_table(text)
        if table is None:  # no row, or a row of another width: the row path says which
            return None
        header, cells = table
        value_col = next((c for c in VALUE_COLUMNS if c in header), VALUE_COLUMNS[0])
        if not cells.keys() >= {*PRICE_COLUMNS, value_col}:
            return None
        if not {market, ""}.issuperset(cells.get("MARKET_RUN_ID", ())):
            return None
        blank = [""] * len(cells[value_col])
        for column, name in zip(keys, _KEY_COLUMNS, strict=True):
            column += cells.get(name, blank)
        kinds += cells["LMP_TYPE"]
        texts += cells[value_col]
    if not COMPONENTS.keys() >= set(kinds):
        return None
    slices = component_slices(kinds, keys)
    try:
        numbers = list(map(float, texts))
        if slices is not None:  # every other slice repeats the first one's keys: check those alone
            keys = [column[slices[kinds[0]]] for column in keys]
        nodes, starts, ends, *opr = keys
        times = {text: gmt(text) for text in {*starts, *ends}}
        for start, *stamp in set(zip(starts, *opr, strict=True)):
            if stamp[0]:  # rows without an OPR_DT carry no stamp
                check_operating_interval(times[start], minutes, {(stamp[0], stamp[1], stamp[2])}, start)
    except ValueError:
        return None
    length = timedelta(minutes=minutes)
    if not all(map(math.isfinite, numbers)) or any(
        times[end] - times[start] != length for start, end in set(zip(starts, ends, strict=True))
    ):
        return None
    if slices is not None:
        if len(set(zip(nodes, starts, strict=True))) < len(nodes) or not slices.keys() >= set(_PARTS):
            return None  # a component twice for one node and interval, or one missing
        parts: list[Sequence[float | None]] = [numbers[slices[kind]] for kind in _PARTS]
        rows: list[int] | range = range(len(nodes))
    else:
        values = dict(zip(zip(nodes, starts, kinds, strict=True), numbers, strict=True))
        if len(values) < len(numbers):  # a component twice for one node and interval
            return None
        # (node, start) names a group (each start has one end, checked above) -> its last row, in
        # the order groups first appear, as the row path orders them
        row_of = dict(zip(zip(nodes, starts, strict=True), range(len(nodes)), strict=True))
        parts = [list(map(values.get, [(node, start, kind) for node, start in row_of])) for kind in _PARTS]
        if any(None in found for found in parts):
            return None
        rows = list(row_of.values())
    prices: list[Values] = [
        {"lmp": lmp, "energy": energy, "congestion": congestion, "loss": loss}
        for lmp, energy, congestion, loss in zip(*parts, strict=True)
    ]
    return list(map(nodes.__getitem__, rows)), [times[starts[row]] for row in rows], prices


def component_slices(kinds: list[str], keys: list[list[str]]) -> dict[str, slice] | None:
    """The two common layouts of a price report, as one slice of rows per LMP_TYPE: one run of
    rows per type (PRC_LMP's one member per type), or each group's rows together, its types in
    the same order every time. Either holds when every type's slice repeats the first slice's
    key cells (node, times, operating interval) row for row; None for any other layout. Then
    the first slice names the groups, in their order, and the k-th row of every slice belongs
    to the k-th group."""
    count = len(set(kinds))
    size = len(kinds) // count if count else 0
    if not size or size * count != len(kinds):
        return None
    runs = [slice(k * size, (k + 1) * size) for k in range(count)]
    strides = [slice(k, None, count) for k in range(count)]
    for layout in (runs, strides):
        by_kind = {kinds[s.start]: s for s in layout}
        if len(by_kind) == count and all(kinds[s] == [kind] * size for kind, s in by_kind.items()):
            first = layout[0]
            if all(column[s] == column[first] for s in layout[1:] for column in keys):
                return by_kind
    return None


def price_parts(
    item: tuple[tuple[str, str, str], dict[str, Any]], minutes: int
) -> tuple[str, datetime, dict[str, float]]:
    """(node, interval start, LMP_TYPE -> value) of one price group, checked."""
    (node, start_text, end_text), texts = item
    texts = dict(texts)
    missing = [k for k in _PARTS if k not in texts]
    if missing:
        raise FormatError(f"{node} {start_text}: no {', '.join(missing)} row (incomplete report)")
    start, end = gmt(start_text), gmt(end_text)
    if end - start != timedelta(minutes=minutes):
        raise FormatError(f"{node} {start_text}: interval is {end - start}, not {minutes} minutes")
    check_operating_interval(start, minutes, texts.pop(OPR, set()), f"{node} {start_text}")
    parts: dict[str, float] = {}
    for kind, values in texts.items():
        numbers = {formats.number(v, f"{node} {kind}") for v in values}
        if len(numbers) > 1:
            raise FormatError(f"{node} {start_text} {kind} appears twice with different values")
        parts[kind] = numbers.pop()
    return node, start, parts


def load_rows(response: Response) -> list[dict[str, str]]:
    """SLD_FCST rows (one per TAC area and hour)."""
    out: list[dict[str, str]] = []
    for name, rows in csv_members(response):
        header = [h.strip() for h in rows[0]]
        for row in formats.records(header, rows[1:], LOAD_COLUMNS):
            _market(name, row, REPORTS["SLD_FCST"][0])
            out.append(row)
    return out


def load_parts(row: Mapping[str, str]) -> tuple[str, datetime, float] | None:
    """(TAC area, hour start, MW) of one SLD_FCST ACTUAL row; None: an area gridtape skips."""
    area = row["TAC_AREA_NAME"]
    if area not in TAC_AREAS:
        return None
    start, end = gmt(row["INTERVALSTARTTIME_GMT"]), gmt(row["INTERVALENDTIME_GMT"])
    if end - start != timedelta(hours=1):
        raise FormatError(f"{area} {row['INTERVALSTARTTIME_GMT']}: interval is {end - start}, not an hour")
    stamp = (row.get("OPR_DT", ""), row.get("OPR_HR", ""), "")
    check_operating_interval(start, 60, {stamp} if stamp[0] else set(), area)
    return area, start, formats.number(row["MW"], f"{area} MW")


def check_operating_interval(start: datetime, minutes: int, stamps: set[tuple[str, str, str]], where: str) -> None:
    """OASIS repeats each interval's time as the Pacific operating day (OPR_DT), its hour ending
    (OPR_HR) and, for 5-minute rows, its interval within the hour (OPR_INTERVAL, 1-12): they must
    name the same interval as the GMT start. OPR_HR is compared on 24-hour days only (its
    numbering on the DST days is not documented anywhere gridtape could check)."""
    if not stamps:
        return
    local = start.astimezone(ZONE)
    day = local.date()
    for opr_dt, opr_hr, opr_interval in stamps:
        if opr_dt != day.isoformat():
            raise FormatError(f"{where}: OPR_DT {opr_dt} is not {day} (Pacific)")
        if minutes == 5 and opr_interval and opr_interval != str(local.minute // 5 + 1):
            raise FormatError(f"{where}: OPR_INTERVAL {opr_interval} is not {local.minute // 5 + 1}")
        if minutes == 60 and opr_hr and opr_hr != str(local.hour + 1) and _regular(day):
            raise FormatError(f"{where}: OPR_HR {opr_hr} is not hour ending {local.hour + 1}")


@lru_cache(maxsize=64)
def _regular(day: date) -> bool:
    """Whether the Pacific day `day` has 24 hours (not a DST day)."""
    return midnight(day + timedelta(days=1)) - midnight(day) == timedelta(hours=24)


def gmt(text: str) -> datetime:
    try:
        return with_offset(text)
    except ValueError:
        raise FormatError(f"{text!r} is not an OASIS GMT time") from None

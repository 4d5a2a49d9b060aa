"""PJM's synthetic market, keyed by interval: every price and load value is a function of its
interval (and pnode or area) alone, so the live complete day (demo_day_isos.build_pjm), the
live day-ahead polls and the history archives (tools/recordings/pjm_history.py) serve the SAME
value for the same natural key, whichever request (window, day, pnode subset) holds it.

Writers here produce Data Miner's exact envelope for any request: `links` (self, metadata,
next while rows remain), `items` in the requested field order, `searchSpecification`,
`totalRows`; UTC and EPT times without offsets, numbers with six decimals.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from producers.pjm import HUB_IDS, ZONES
from tools.recordings import synth

EPT = ZoneInfo("America/New_York")
HUBS = {pnode: name for name, pnode in HUB_IDS.items()}
PNODES = {**HUBS, **ZONES}  # fixed order: each interval's draws are always made in it
WEST = {33092315, 33092313, 33092311, 33092371, 116013751, 116013753, 8445784, 34497127, 34497125}
AREAS = {
    "AE": 1100, "AEP": 14500, "APS": 5600, "ATSI": 7600, "BC": 3600, "COMED": 11800, "DAYTON": 1900,
    "DEOK": 3100, "DOM": 13500, "DPL": 2200, "DUQ": 1600, "EKPC": 1700, "JC": 2700, "ME": 1700,
    "PE": 4300, "PEP": 3400, "PL": 4500, "PN": 1700, "PS": 5200, "RECO": 170, "UG": 110,
}  # fmt: skip
REGIONS = {
    "PJM MID ATLANTIC REGION": ["AE", "BC", "DPL", "JC", "ME", "PE", "PEP", "PL", "PN", "PS", "RECO", "UG"],
    "PJM SOUTHERN REGION": ["DOM"],
    "PJM WESTERN REGION": ["AEP", "APS", "ATSI", "COMED", "DAYTON", "DEOK", "DUQ", "EKPC"],
}
FIVE = timedelta(minutes=5)
HOUR = timedelta(hours=1)


def f6(value: float) -> str:
    return f"{value:.6f}"


def ept(utc: datetime) -> str:
    return utc.astimezone(EPT).strftime("%Y-%m-%dT%H:%M:%S")


def prices(kind: str, start: datetime) -> dict[int, tuple[float, float, float, float]]:
    """pnode -> (total, energy, congestion, loss) for the interval beginning at `start` of
    market `kind` (rt | da): energy on the daily shape, congestion per pnode (the western
    hubs and zones negative overnight, wind behind the interfaces), loss a share of energy."""
    r = synth.rng("pjm", kind, start.isoformat())
    energy = synth.energy_price(start, EPT, r, base=34.0, solar=18.0 if kind == "rt" else 14.0)
    hour = synth.local_hour(start, EPT)
    return {pnode: pnode_prices(r, energy, hour, pnode) for pnode in PNODES}


def pnode_prices(r: random.Random, energy: float, hour: float, pnode: int) -> tuple[float, float, float, float]:
    """(total, energy, congestion, loss) at `pnode` at local `hour`, drawn from `r`."""
    congestion = r.gauss(0, 2.5) if pnode != 1 else r.gauss(0, 0.3)
    if pnode in WEST and hour < 4:
        congestion -= 38 + 6 * r.random()  # wind behind the western interfaces at night
    loss = energy * r.uniform(-0.04, 0.05)
    e, c, lo = round(energy, 6), round(congestion, 6), round(loss, 6)
    return round(e + c + lo, 6), e, c, lo


def load(stamp: datetime) -> dict[str, float]:
    """area -> instantaneous MW read at `stamp` (zones; regions and the RTO are their sums)."""
    return area_loads(synth.local_hour(stamp, EPT), synth.rng("pjm", "load", stamp.isoformat()))


def area_loads(hour: float, r: random.Random) -> dict[str, float]:
    """area -> MW at local `hour`, drawn from `r` (zones; regions and the RTO are their sums)."""
    shape = 0.78 + 0.22 * math.sin((hour - 10) / 24 * 2 * math.pi)
    zones = {a: round(mw * shape * (1 + r.gauss(0, 0.008)), 3) for a, mw in AREAS.items()}
    values = dict(zones)
    for region, members in REGIONS.items():
        values[region] = round(sum(zones[m] for m in members), 3)
    values["PJM RTO"] = round(sum(zones.values()), 3)
    return values


def price_items(kind: str, starts: Iterable[datetime], pnodes: Sequence[int], fields: Sequence[str]) -> list[str]:
    """Item texts for these intervals and pnodes, with the requested fields in their order."""
    suffix = "rt" if kind == "rt" else "da"
    out = []
    for t in starts:
        values = prices(kind, t)
        for pnode in pnodes:
            total, energy, congestion, loss = values[pnode]
            known = {
                "datetime_beginning_utc": f'"{t:%Y-%m-%dT%H:%M:%S}"',
                "datetime_beginning_ept": f'"{ept(t)}"',
                "pnode_id": str(pnode),
                "pnode_name": f'"{PNODES[pnode]}"',
                f"total_lmp_{suffix}": f6(total),
                f"system_energy_price_{suffix}": f6(energy),
                f"congestion_price_{suffix}": f6(congestion),
                f"marginal_loss_price_{suffix}": f6(loss),
            }
            out.append("{" + ",".join(f'"{f}":{known[f]}' for f in fields) + "}")
    return out


def load_items(stamps: Iterable[datetime], areas: Sequence[str] | None, fields: Sequence[str]) -> list[str]:
    out = []
    for t in stamps:
        values = load(t)
        for area in areas if areas is not None else sorted(values):
            known = {
                "datetime_beginning_utc": f'"{t:%Y-%m-%dT%H:%M:%S}"',
                "datetime_beginning_ept": f'"{ept(t)}"',
                "area": f'"{area}"',
                "instantaneous_load": f6(values[area]),
            }
            out.append("{" + ",".join(f'"{f}":{known[f]}' for f in fields) + "}")
    return out


FILTERS = ("pnode_id", "row_is_current", "datetime_beginning_utc", "datetime_beginning_ept")


def envelope(url: str, params: Mapping[str, str], items: list[str], fields: Sequence[str]) -> str:
    """Data Miner's answer to `url` + `params` holding `items` (one page, no next link)."""
    canonical = {
        "RowCount": params["rowCount"],
        "Order": params["order"],
        "StartRow": params["startRow"],
        "IsActiveMetadata": "True",
        **({"Fields": params["fields"]} if "fields" in params else {}),
        "Sort": params["sort"],
        **{k: v for k, v in params.items() if k in FILTERS},
    }
    links = [{"rel": "self", "href": f"{url}?{urlencode(canonical)}"}, {"rel": "metadata", "href": f"{url}/metadata"}]
    spec = {
        "rowCount": int(params["rowCount"]),
        "order": params["order"],
        "startRow": int(params["startRow"]),
        "isActiveMetadata": True,
        "fields": list(fields),
        "filters": [{k: v} for k, v in params.items() if k in FILTERS],
    }
    text = (
        '{"links":' + json.dumps(links, separators=(",", ":")) + ',"items":[' + ",".join(items) + "],"
        '"searchSpecification":' + json.dumps(spec, separators=(",", ":")) + f',"totalRows":{len(items)}' + "}"
    )
    json.loads(text)  # well-formed, as Data Miner's always is
    return text


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The operating day's first instant and the next day's, in UTC (23 / 24 / 25 hours)."""
    first = datetime(day.year, day.month, day.day, tzinfo=EPT).astimezone(UTC)
    nxt = day + timedelta(days=1)
    return first, datetime(nxt.year, nxt.month, nxt.day, tzinfo=EPT).astimezone(UTC)


def steps(first: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """first, first + step, ... before `end` (UTC arithmetic: DST days come out right)."""
    out, t = [], first
    while t < end:
        out.append(t)
        t += step
    return out

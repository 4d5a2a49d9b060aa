"""What a sane tick looks like, beyond its types: the bounds every copy of the contract
enforces (contract.validate, the Spark reject rules, the warehouse widths).

The ranges are wide on purpose: they refuse what cannot be a market value (1e300, a load of
-5 MW, the year 2999), never a real extreme. Real extremes for scale: ERCOT's offer cap is
$5,000/MWh and its shortage adders took real-time prices past $9,000 in February 2021; SPP
and MISO have seen offer floors near -$1,000; PJM's peak load is about 165 GW.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from gridtape import isos
from gridtape.errors import ContractError

PRICE_MIN: Final = -10_000.0  # $/MWh, for lmp and each published component
PRICE_MAX: Final = 50_000.0
# Load is gross demand, so strictly positive. No ISO feed gridtape reads publishes net load
# (load minus behind-the-meter generation) that could go to zero or below.
LOAD_MAX_MW: Final = 1_000_000.0  # above all of the US lower 48 (about 750 GW at its peak)
ERA_START: Final = datetime(2000, 1, 1, tzinfo=UTC)  # no ISO publishes 5-minute data from before
ERA_END: Final = datetime(2100, 1, 1, tzinfo=UTC)
# A live poll asks for what is new: a tick's interval may start at most this far before the
# fetch (NYISO day files, ERCOT's previous-day load, catching up after an outage) or after it
# (day-ahead results for tomorrow). History (backfill) is held only to the era.
LIVE_PAST: Final = timedelta(days=8)
LIVE_FUTURE: Final = timedelta(days=2)
LOCATION_MAX_BYTES: Final = 128  # the warehouse's location columns are VARCHAR(128) (bytes on Redshift)
SOURCE_MAX_BYTES: Final = 1024
REVISION_MAX: Final = 2**63 - 1
MARKET_MINUTES: Final = {"RT5": 5, "RT15": 15, "RTH": 60, "DAM": 60}
COMPONENTS: Final = ("energy", "congestion", "loss")  # of the LMP, where the ISO publishes them
PRICE_FIELDS: Final = ("lmp", *COMPONENTS)
TIME_FIELDS: Final = ("interval_start", "interval_end", "published_at", "ingested_at")


@lru_cache(maxsize=65536)  # every tick of an interval carries the same few times
def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _refuse(field: str, reason: str) -> ContractError:
    return ContractError("tick", field, reason)


@lru_cache(maxsize=65536)  # a response names each location once per interval
def printable(text: str, max_bytes: int) -> str | None:
    """Why `text` cannot be a name in the warehouse, or None when it can."""
    if not text.isprintable():
        return f"{text[:40]!r} holds control characters"
    if text != text.strip():
        return f"{text[:40]!r} has leading or trailing white space"
    size = len(text.encode())
    if size > max_bytes:
        return f"{size} bytes, more than the {max_bytes} the warehouse holds"
    return None


def check_tick_bounds(record: dict[str, Any]) -> None:
    """Raise ContractError naming the field of a typed tick that is out of bounds."""
    for name in TIME_FIELDS:
        if not _in_era(record[name]):
            raise _refuse(name, f"{record[name]} is outside {ERA_START:%Y}..{ERA_END:%Y}")
    problem = _interval_problem(record["interval_start"], record["interval_end"], record["market"])
    if problem:
        raise _refuse(*problem)
    for name, limit in (("location", LOCATION_MAX_BYTES), ("source", SOURCE_MAX_BYTES)):
        why = printable(record[name], limit)
        if why:
            raise _refuse(name, why)
    for name in PRICE_FIELDS:
        value = record.get(name)
        if value is not None and not PRICE_MIN <= value <= PRICE_MAX:
            raise _refuse(name, f"{value!r} $/MWh is outside {PRICE_MIN:,.0f}..{PRICE_MAX:,.0f}")
    load = record.get("load_mw")
    if load is not None and not 0 < load <= LOAD_MAX_MW:
        raise _refuse("load_mw", f"{load!r} MW is outside (0, {LOAD_MAX_MW:,.0f}]")
    if record["dataset"] == "lmp" and record.get("lmp") is None:
        raise _refuse("lmp", "an lmp tick needs a price")
    if record["dataset"] == "load" and record.get("load_mw") is None:
        raise _refuse("load_mw", "a load tick needs load_mw")
    parts = [record.get(n) for n in COMPONENTS]
    if record.get("lmp") is not None and all(p is not None for p in parts):
        total = math.fsum(float(p) for p in parts if p is not None)
        low, high = isos.get(record["iso"]).component_gap
        if not low - 1e-9 <= record["lmp"] - total <= high + 1e-9:
            raise _refuse(
                "lmp", f"{record['lmp']!r} is not energy + congestion + loss ({total!r}) within {low}..{high}"
            )
    revision = record.get("revision")
    if revision is not None and not 0 <= revision <= REVISION_MAX:
        raise _refuse("revision", f"{revision} is outside 0..{REVISION_MAX} (the warehouse's BIGINT)")


@lru_cache(maxsize=65536)
def _in_era(value: str) -> bool:
    return ERA_START <= _ts(value) < ERA_END


@lru_cache(maxsize=65536)  # every location of an interval has the same three values
def _interval_problem(start_text: str, end_text: str, market: str) -> tuple[str, str] | None:
    """(field, reason) when the interval is not one of the market's grid, else None."""
    start, end = _ts(start_text), _ts(end_text)
    if end <= start:
        return "interval_end", "must be after interval_start"
    minutes = MARKET_MINUTES[market]
    if end - start != timedelta(minutes=minutes):
        return "interval_end", f"a {market} interval lasts {minutes} minutes, not {end - start}"
    if start.second or start.microsecond or (start.hour * 60 + start.minute) % minutes:
        return "interval_start", f"{start_text} is not on the {minutes}-minute grid"
    return None


def check_live(record: dict[str, Any], fetched_at: datetime) -> None:
    """A live poll's tick must start within LIVE_PAST before and LIVE_FUTURE after the fetch."""
    start = _ts(record["interval_start"])
    if not fetched_at - LIVE_PAST <= start <= fetched_at + LIVE_FUTURE:
        raise _refuse(
            "interval_start",
            f"{record['interval_start']} is not within {LIVE_PAST.days} days before or "
            f"{LIVE_FUTURE.days} days after the fetch at {fetched_at:%Y-%m-%dT%H:%MZ}",
        )

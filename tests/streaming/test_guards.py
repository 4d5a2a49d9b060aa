"""The stream's copy of the contract (streaming/guards.py) against contract.validate, tick by
tick: one valid tick and variants of it, each breaking (or just respecting) one rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridtape import bounds
from gridtape.contract import format_ts, validate
from gridtape.errors import ContractError
from tests.streaming import scenario

pytestmark = [pytest.mark.spark, pytest.mark.glue]


def _base() -> dict[str, Any]:
    return scenario.price_tick("PJM", "WESTERN HUB", 7, 31.25)


def _shift(field: str, **delta: float) -> dict[str, Any]:
    t = _base()
    t[field] = format_ts(datetime.fromisoformat(t[field].replace("Z", "+00:00")) + timedelta(**delta))
    return t


def _ts(year: int) -> str:
    return f"{year:04d}-01-01T00:00:00Z"


VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "price at the cap": {"lmp": bounds.PRICE_MAX},
    "price at the floor": {"lmp": bounds.PRICE_MIN},
    "negative price": {"lmp": -250.0},
    "components within the gap": {"energy": 30.0, "congestion": 1.0, "loss": 0.26},
    "revision 0": {"revision": 0},
    "revision 4": {"revision": 4},
    "inner space": {"location": "WESTERN  HUB"},
    "price 1e300": {"lmp": 1e300},
    "price -1e300": {"lmp": -1e300},
    "price NaN": {"lmp": float("nan")},
    "price Infinity": {"lmp": float("inf")},
    "energy beyond the cap": {"energy": 60_000.0},
    "components off the total": {"energy": 30.0, "congestion": 1.0, "loss": 1.0},
    "negative revision": {"revision": -1},
    "unknown iso": {"iso": "XYZ"},
    "unknown market": {"market": "RT1"},
    "unknown location type": {"location_type": "city"},
    "empty location": {"location": ""},
    "control character": {"location": "WESTERN\nHUB"},
    "non-breaking space": {"location": "WESTERN\u00a0HUB"},
    "trailing space": {"location": "WESTERN HUB "},
    "location too long": {"location": "X" * (bounds.LOCATION_MAX_BYTES + 1)},
    "location at the limit": {"location": "é" * (bounds.LOCATION_MAX_BYTES // 2)},
    "location over in bytes": {"location": "é" * (bounds.LOCATION_MAX_BYTES // 2 + 1)},
    "source too long": {"source": "s" * (bounds.SOURCE_MAX_BYTES + 1)},
    "lmp tick without a price": {"lmp": None},
    "before the era": {"published_at": _ts(1999)},
    "after the era": {"ingested_at": _ts(2100)},
    "missing source": {"source": None},
}


def _variants() -> list[tuple[str, dict[str, Any]]]:
    out = [(name, {**_base(), **change}) for name, change in VARIANTS.items()]
    out.append(
        ("off the 5-minute grid", {**_shift("interval_start", minutes=2), "interval_end": _base()["interval_end"]})
    )
    out.append(("a 10-minute RT5 interval", _shift("interval_end", minutes=5)))
    end_before = _base()
    end_before["interval_end"] = end_before["interval_start"]
    out.append(("ends at its start", end_before))
    load = scenario.price_tick("PJM", "PJM RTO", 7, 0.0, dataset="load")
    out += [("load", load), ("zero load", {**load, "load_mw": 0.0}), ("load beyond the US", {**load, "load_mw": 2e6})]
    out.append(("load tick without load", {**load, "load_mw": None}))
    published = _base()["published_at"]  # "...Z": the contract's shape
    for name, text in (
        ("a time with fractional seconds", published[:-1] + ".25Z"),
        ("a time without its Z", published[:-1]),
        ("a time with an offset", published[:-1] + "+00:00"),
        ("a time with a line break", published + "\n"),
        ("a time of hour 24", published[:11] + "24:00:00Z"),
        ("a date alone", published[:10]),
        ("a time as a number", 1762059600),
    ):
        out.append((name, {**_base(), "published_at": text}))
    caiso = scenario.price_tick("CAISO", "TH_NP15_GEN-APND", 7, 80.0)
    out.append(("CAISO's GHG adder", {**caiso, "energy": 30.0, "congestion": 0.0, "loss": 0.0}))
    out.append(("CAISO below its gap", {**caiso, "energy": 90.0, "congestion": 0.0, "loss": 0.0}))
    return out


def _python_accepts(record: dict[str, Any]) -> bool:
    try:
        validate({k: v for k, v in record.items() if v is not None})
    except ContractError:
        return False
    return True


def test_the_stream_refuses_exactly_what_the_contract_refuses(spark: Any) -> None:
    from streaming import guards
    from streaming.volatility import parse_ticks

    variants = _variants()
    lines = [(json.dumps(record, allow_nan=True),) for _, record in variants]  # NaN as JSON's NaN token
    ticks = parse_ticks(spark.createDataFrame(lines, "data string"))
    verdict = [row.ok for row in ticks.select(guards.valid_tick().alias("ok")).collect()]  # narrow: input order
    expected = {name: _python_accepts(record) for name, record in variants}
    assert sum(expected.values()) >= 10 and sum(not v for v in expected.values()) >= 20  # both kinds tested
    assert dict(zip((name for name, _ in variants), verdict, strict=True)) == expected


def test_future_ticks_are_beyond_now_plus_two_days(spark: Any) -> None:
    from streaming import guards
    from streaming.volatility import parse_ticks

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 5)
    starts = {
        "tomorrow": now + timedelta(days=1),
        "in a week": now + timedelta(days=7),
        "2999": datetime(2999, 1, 1, tzinfo=UTC),
    }
    rows = []
    for start in starts.values():
        t = _base()
        t["interval_start"], t["interval_end"] = format_ts(start), format_ts(start + timedelta(minutes=5))
        rows.append((json.dumps(t),))
    got = [
        r.f
        for r in parse_ticks(spark.createDataFrame(rows, "data string"))
        .select(guards.future_tick().alias("f"))
        .collect()
    ]
    assert dict(zip(starts, got, strict=True)) == {"tomorrow": False, "in a week": True, "2999": True}
    assert timedelta(days=2) == guards.FUTURE_TOLERANCE

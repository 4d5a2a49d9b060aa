"""The record contracts: one definition per record, from which the JSON Schema, the Arrow
schema and the Spark schema are all derived. Everything that reads or writes a tick or a
volatility record imports it from here.

Wire format: one JSON object per record. Timestamps are UTC, ISO 8601 with a trailing Z
(``2024-11-03T06:05:00Z``; milliseconds only when non-zero), so Spark, DuckDB, Redshift and
a browser all parse them the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, TypedDict, Unpack

from gridtape import isos
from gridtape.bounds import COMPONENTS, MARKET_MINUTES, check_tick_bounds
from gridtape.errors import ContractError
from gridtape.wire_time import TS_PATTERN, format_ts, parse_text, parse_ts

Kind = Literal["string", "timestamp", "float", "int"]

ISOS: Final = isos.CODES  # the ISO table's rows
MARKETS: Final = ("RT5", "RT15", "RTH", "DAM")
DATASETS: Final = ("lmp", "load")
LOCATION_TYPES: Final = ("hub", "zone", "node", "system", "interface")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind
    nullable: bool
    doc: str
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class RecordContract:
    name: str
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...]
    # The record's bounds (sanity limits beyond the types), raising ContractError; None: types only.
    check: Callable[[dict[str, Any]], None] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return _names(self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _names(fields: tuple[Field, ...]) -> tuple[str, ...]:
    return tuple(f.name for f in fields)


def provenance(publisher: str) -> tuple[Field, ...]:
    """The fields every record ends with (tick and context alike), so a later version of one
    natural key wins downstream the same way for all: who published it, when gridtape fetched
    it, from where, and its revision. `publisher`: who publishes such records ("the ISO")."""
    published = f"when {publisher} published this value (UTC); the fetch time where {publisher} gives none"
    return (
        Field("published_at", "timestamp", False, published),
        Field("ingested_at", "timestamp", False, "when gridtape fetched it (UTC)"),
        Field("source", "string", False, "URL, report or file the value came from"),
        Field(
            "revision",
            "int",
            True,
            "0 for the first version of a natural key, +1 for each changed value (assigned where it is "
            "published: the poller's state store, a backfill); the highest wins whatever the clocks say. "
            "Null only before publication",
        ),
    )


PROVENANCE_FIELDS: Final = _names(provenance("its publisher"))


TICK: Final = RecordContract(
    name="tick",
    check=check_tick_bounds,
    natural_key=("iso", "market", "dataset", "location", "interval_start"),
    fields=(
        Field("iso", "string", False, "ISO/RTO code", ISOS),
        Field("market", "string", False, "RT5, RT15, RTH (hourly), DAM", MARKETS),
        Field("dataset", "string", False, "lmp or load", DATASETS),
        Field("location", "string", False, "ISO's name of the hub, zone, node or system"),
        Field("location_type", "string", False, "hub, zone, node, system, interface", LOCATION_TYPES),
        Field("interval_start", "timestamp", False, "interval beginning, UTC"),
        Field("interval_end", "timestamp", False, "interval ending, UTC"),
        Field("lmp", "float", True, "locational marginal price, $/MWh (lmp dataset)"),
        *(Field(c, "float", True, f"{c} component, $/MWh; null where not published") for c in COMPONENTS),
        Field("load_mw", "float", True, "load, MW (load dataset)"),
        *provenance("the ISO"),
    ),
)

VOLATILITY: Final = RecordContract(
    name="volatility",
    natural_key=("iso", "market", "location", "window_start", "window_end"),
    fields=(
        Field("iso", "string", False, "ISO/RTO code", ISOS),
        Field("market", "string", False, "market of the priced ticks", MARKETS),
        Field("location", "string", False, "location of the priced ticks"),
        Field("window_start", "timestamp", False, "event-time window start (inclusive), UTC"),
        Field("window_end", "timestamp", False, "event-time window end (exclusive), UTC"),
        Field("window_minutes", "int", False, "window length in minutes"),
        Field("slide_minutes", "int", False, "window slide in minutes"),
        Field("n", "int", False, "observations (distinct intervals, latest revision each)"),
        Field("n_nonpositive", "int", False, "observations with price <= 0"),
        Field("price_first", "float", False, "price of the earliest interval, $/MWh"),
        Field("price_last", "float", False, "price of the latest interval, $/MWh"),
        Field("price_min", "float", False, "$/MWh"),
        Field("price_max", "float", False, "$/MWh"),
        Field("price_mean", "float", False, "$/MWh"),
        Field(
            "vol_log",
            "float",
            True,
            "sample stdev of ln(p_i/p_{i-1}) over consecutive pairs with both prices > 0; null under 2 such returns",
        ),
        Field("vol_abs", "float", True, "sample stdev of p_i - p_{i-1} in $/MWh; null under 2 differences"),
        Field("computed_at", "timestamp", False, "when the job emitted the record (UTC)"),
    ),
)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A contract's checks grouped by kind, for the common case of a record that passes."""

    names: frozenset[str]
    required: tuple[str, ...]
    strings: tuple[tuple[str, frozenset[str] | None], ...]
    timestamps: tuple[str, ...]
    floats: tuple[str, ...]
    ints: tuple[str, ...]


_PLANS: dict[int, tuple[RecordContract, _Plan]] = {}


def _plan(contract: RecordContract) -> _Plan:
    known = _PLANS.get(id(contract))
    if known is not None and known[0] is contract:
        return known[1]
    fs = contract.fields
    plan = _Plan(
        frozenset(contract.names),
        tuple(f.name for f in fs if not f.nullable),
        tuple((f.name, frozenset(f.allowed) if f.allowed else None) for f in fs if f.kind == "string"),
        tuple(f.name for f in fs if f.kind == "timestamp"),
        tuple(f.name for f in fs if f.kind == "float"),
        tuple(f.name for f in fs if f.kind == "int"),
    )
    _PLANS[id(contract)] = (contract, plan)
    return plan


def _passes(record: dict[str, Any], plan: _Plan) -> bool:
    """True when the record breaks no rule of the plan (the caller then skips the field-by-field
    walk, which names the first offending field in contract order)."""
    if not plan.names.issuperset(record):
        return False
    get = record.get
    for name in plan.required:
        if get(name) is None:
            return False
    for name, allowed in plan.strings:
        v = get(name)
        if v is not None and (type(v) is not str or not v or (allowed is not None and v not in allowed)):
            return False
    for name in plan.timestamps:
        v = get(name)
        if v is not None:
            if type(v) is not str:
                return False
            try:
                parse_text(v)
            except ValueError:
                return False
    for name in plan.floats:
        v = get(name)
        if v is not None and (type(v) not in (float, int) or not math.isfinite(v)):
            return False
    for name in plan.ints:
        v = get(name)
        if v is not None and type(v) is not int:
            return False
    return True


def validate(record: dict[str, Any], contract: RecordContract = TICK) -> dict[str, Any]:
    """Check one wire record against the contract; return it unchanged or raise ContractError
    naming the first offending field."""
    if not isinstance(record, dict):
        raise ContractError(contract.name, "<record>", f"expected a JSON object, got {type(record).__name__}")
    if _passes(record, _plan(contract)):
        if contract.check is not None:
            contract.check(record)
        return record
    unknown = set(record) - set(contract.names)
    if unknown:
        raise ContractError(contract.name, sorted(unknown)[0], "unknown field")
    for f in contract.fields:
        value = record.get(f.name)
        if value is None:
            if not f.nullable:
                raise ContractError(contract.name, f.name, "required field is missing or null")
            continue
        if f.kind == "string":
            if not isinstance(value, str) or not value:
                raise ContractError(contract.name, f.name, f"expected a non-empty string, got {value!r}")
            if f.allowed and value not in f.allowed:
                raise ContractError(contract.name, f.name, f"{value!r} is not one of {', '.join(f.allowed)}")
        elif f.kind == "timestamp":
            try:
                parse_ts(value)
            except ValueError as exc:
                raise ContractError(contract.name, f.name, str(exc)) from None
        elif f.kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ContractError(contract.name, f.name, f"expected a finite number, got {value!r}")
        elif f.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ContractError(contract.name, f.name, f"expected an integer, got {value!r}")
    if contract.check is not None:
        contract.check(record)
    return record


class Components(TypedDict, total=False):
    """An LMP's components ($/MWh), where published (bounds.COMPONENTS)."""

    energy: float | None
    congestion: float | None
    loss: float | None


class Values(Components, total=False):
    """A tick's measured values ($/MWh, MW); those not given are null."""

    lmp: float | None
    load_mw: float | None


VALUE_FIELDS: Final = ("lmp", *COMPONENTS, "load_mw")  # in the contract's order
_NO_VALUES: Final = dict.fromkeys(VALUE_FIELDS)


def tick(
    *,
    revision: int | None = None,
    iso: str,
    market: str,
    dataset: str,
    location: str,
    location_type: str,
    interval_start: datetime,
    interval_end: datetime,
    published_at: datetime,
    ingested_at: datetime,
    source: str,
    **values: Unpack[Values],
) -> dict[str, Any]:
    """Build a wire tick from Python values (the one place parsers turn datetimes into strings)."""
    return {
        "iso": iso,
        "market": market,
        "dataset": dataset,
        "location": location,
        "location_type": location_type,
        "interval_start": format_ts(interval_start),
        "interval_end": format_ts(interval_end),
        # in the contract's order whichever were given (a key keeps its first place in a dict)
        **_NO_VALUES,
        **values,
        "published_at": format_ts(published_at),
        "ingested_at": format_ts(ingested_at),
        "source": source,
        "revision": revision,
    }


def interval_tick(
    iso: str,
    market: str,
    dataset: str,
    location: str,
    start: datetime,
    value: float,
    *,
    published_at: datetime,
    ingested_at: datetime | None = None,
    source: str,
    location_type: str = "hub",
    revision: int | None = None,
    **components: Unpack[Components],
) -> dict[str, Any]:
    """tick() for ticks gridtape makes rather than parses (the demo's live replay, benchmarks,
    tests): the interval beginning at `start` lasts its market's length, `value` is the price of
    an lmp tick or the load of a load tick, and it was fetched when published unless told."""
    return tick(
        iso=iso,
        market=market,
        dataset=dataset,
        location=location,
        location_type=location_type,
        interval_start=start,
        interval_end=start + timedelta(minutes=MARKET_MINUTES[market]),
        published_at=published_at,
        ingested_at=ingested_at or published_at,
        source=source,
        revision=revision,
        lmp=None if dataset == "load" else value,
        load_mw=value if dataset == "load" else None,
        **components,
    )


def natural_key(record: dict[str, Any], contract: RecordContract = TICK) -> tuple[str, ...]:
    return tuple(str(record[k]) for k in contract.natural_key)


def dumps(record: dict[str, Any]) -> str:
    """Canonical JSON line for a record (stable key order, no spaces)."""
    return json.dumps(record, separators=(",", ":"), allow_nan=False)


def json_schema(contract: RecordContract = TICK) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for f in contract.fields:
        if f.kind == "timestamp":
            spec: dict[str, Any] = {"type": "string", "format": "date-time", "pattern": TS_PATTERN}
        elif f.kind == "float":
            spec = {"type": "number"}
        elif f.kind == "int":
            spec = {"type": "integer"}
        else:
            spec = {"type": "string", "minLength": 1}
            if f.allowed:
                spec["enum"] = list(f.allowed)
        if f.nullable:
            spec = {"anyOf": [spec, {"type": "null"}]}
        spec["description"] = f.doc
        props[f.name] = spec
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"gridtape {contract.name}",
        "type": "object",
        "properties": props,
        "required": [f.name for f in contract.fields if not f.nullable],
        "additionalProperties": False,
    }


def arrow_schema(contract: RecordContract = TICK) -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "float": pa.float64(),
        "int": pa.int64(),
    }
    return pa.schema([pa.field(f.name, types[f.kind], nullable=f.nullable) for f in contract.fields])


def spark_schema(contract: RecordContract = TICK) -> Any:
    from pyspark.sql import types as T

    types = {
        "string": T.StringType(),
        "timestamp": T.TimestampType(),
        "float": T.DoubleType(),
        "int": T.LongType(),
    }
    return T.StructType([T.StructField(f.name, types[f.kind], f.nullable) for f in contract.fields])

"""The tick contract as Spark reject rules, generated from gridtape.contract (fields, kinds,
allowed values, TS_PATTERN) and gridtape.bounds (era, market grid, price and load ranges,
printable names within the warehouse widths, the per-ISO component gap of gridtape.isos).

`reason()` gives each parsed row the first violation, in the order contract.validate() checks
them and worded like its ContractError ("tick field '<name>': ..."), or null for a valid row:
a line validate() refuses is rejected here, naming the same field, and the other way round
(tests/batch/test_rules.py runs one set of bad records through both).

The input is the line parsed as map<string,string> (transform_parse): every JSON scalar
arrives as text, so a number sent as a JSON string ("lmp": "30") would read like a number.
The first character of the raw JSON value (`token`) tells the kinds apart where the text
cannot: a string field needs a quote, a number field must not have one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gridtape import bounds, isos
from gridtape.contract import TICK, TS_PATTERN, Field
from gridtape.spark import fast_timestamp, wire_time

# Java's \p{C} (Other) and \p{Z} (Separator) but the ASCII space: what str.isprintable() refuses.
NOT_PRINTABLE = r"[\p{C}\p{Z}&&[^ ]]"
_MICROS_PER_MINUTE = 60_000_000
_MICROS_PER_DAY = 1440 * _MICROS_PER_MINUTE
_INT_TEXT = r"^-?[0-9]+$"


def _msg(field: str, reason: str) -> str:
    return f"tick field '{field}': {reason}"


def _micros(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000 + when.microsecond


def token(name: str) -> Any:
    """First character of the raw JSON value of top-level `name` ('' when not found, e.g. a key
    spelled with escapes): '"' string, '{' / '[' object or array, 't' / 'f' boolean, else a number."""
    from pyspark.sql import functions as F

    return F.regexp_extract("_line", r'[{,]\s*"' + name + r'"\s*:\s*(\S)', 1)


def as_double(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.expr(f"try_cast(`{name}` AS DOUBLE)")


def as_long(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.expr(f"try_cast(`{name}` AS BIGINT)")


def as_timestamp(name: str) -> Any:
    """Wire time -> timestamp (the trailing Z makes it UTC whatever the session zone)."""
    from pyspark.sql import functions as F

    return F.expr(f"try_cast(`{name}` AS TIMESTAMP)")


def _case(column: str, values: dict[str, Any]) -> Any:
    from pyspark.sql import functions as F

    expr: Any = None
    for key, value in values.items():
        expr = (F.when if expr is None else expr.when)(F.col(column) == key, F.lit(value))
    return expr


def _type_rules(f: Field) -> list[tuple[Any, Any]]:
    from pyspark.sql import functions as F

    c, tok = F.col(f.name), token(f.name)
    rules: list[tuple[Any, Any]] = []
    if not f.nullable:
        rules.append((c.isNull(), _msg(f.name, "required field is missing or null")))
    if f.kind == "string":
        wrong = c == F.lit("")
        if not f.allowed:  # an allowed-value list already refuses numbers, booleans and objects
            wrong = wrong | ((tok != "") & (tok != '"'))
        rules.append((c.isNotNull() & wrong, _msg(f.name, "expected a non-empty string")))
        if f.allowed:
            rules.append((c.isNotNull() & ~c.isin(*f.allowed), _msg(f.name, f"not one of {', '.join(f.allowed)}")))
    elif f.kind == "timestamp":
        # The whole text must match: Java's (like Python's) $ also matches before a final newline.
        bad = (F.regexp_extract(c, TS_PATTERN, 0) != c) | as_timestamp(f.name).isNull()
        rules.append((c.isNotNull() & bad, _msg(f.name, "not a UTC ISO 8601 time ending in Z")))
    elif f.kind == "float":
        v = as_double(f.name)
        bad = tok.isin('"', "{", "[", "t", "f") | v.isNull() | F.isnan(v) | (F.abs(v) == float("inf"))
        rules.append((c.isNotNull() & bad, _msg(f.name, "expected a finite number")))
    elif f.kind == "int":
        bad = tok.isin('"', "{", "[", "t", "f") | ~c.rlike(_INT_TEXT) | as_long(f.name).isNull()
        rules.append((c.isNotNull() & bad, _msg(f.name, "expected an integer")))
    return rules


def _bounds_rules(read_time: Any = as_timestamp) -> list[tuple[Any, Any]]:
    """gridtape.bounds.check_tick_bounds, in its order, on rows whose types are valid;
    `read_time` turns a time field's name into a timestamp."""
    from pyspark.sql import functions as F

    rules: list[tuple[Any, Any]] = []
    micros = {name: F.unix_micros(read_time(name)) for name in bounds.TIME_FIELDS}
    era = (_micros(bounds.ERA_START), _micros(bounds.ERA_END))
    for name in bounds.TIME_FIELDS:
        rules.append(
            (
                (micros[name] < era[0]) | (micros[name] >= era[1]),
                _msg(name, f"is outside {bounds.ERA_START:%Y}..{bounds.ERA_END:%Y}"),
            )
        )
    start, end = micros["interval_start"], micros["interval_end"]
    rules.append((end <= start, _msg("interval_end", "must be after interval_start")))
    step = _case("market", {m: n * _MICROS_PER_MINUTE for m, n in bounds.MARKET_MINUTES.items()})
    rules.append((end - start != step, _msg("interval_end", "does not last its market's interval length")))
    rules.append(((start % _MICROS_PER_DAY) % step != 0, _msg("interval_start", "is not on its market's grid")))
    for name, limit in (("location", bounds.LOCATION_MAX_BYTES), ("source", bounds.SOURCE_MAX_BYTES)):
        c = F.col(name)
        rules.append((c.rlike(NOT_PRINTABLE), _msg(name, "holds control characters")))
        rules.append((c.startswith(" ") | c.endswith(" "), _msg(name, "has leading or trailing white space")))
        rules.append((F.octet_length(c) > limit, _msg(name, f"more than the {limit} bytes the warehouse holds")))
    for name in bounds.PRICE_FIELDS:
        v = as_double(name)
        rules.append(
            (
                (v < bounds.PRICE_MIN) | (v > bounds.PRICE_MAX),
                _msg(name, f"$/MWh is outside {bounds.PRICE_MIN:,.0f}..{bounds.PRICE_MAX:,.0f}"),
            )
        )
    load = as_double("load_mw")
    rules.append(
        ((load <= 0) | (load > bounds.LOAD_MAX_MW), _msg("load_mw", f"MW is outside (0, {bounds.LOAD_MAX_MW:,.0f}]"))
    )
    lmp = as_double("lmp")
    rules.append(((F.col("dataset") == "lmp") & lmp.isNull(), _msg("lmp", "an lmp tick needs a price")))
    rules.append(((F.col("dataset") == "load") & load.isNull(), _msg("load_mw", "a load tick needs load_mw")))
    gap = lmp - (as_double("energy") + as_double("congestion") + as_double("loss"))  # null unless all four
    low = _case("iso", {i.code: i.component_gap[0] - 1e-9 for i in isos.TABLE})
    high = _case("iso", {i.code: i.component_gap[1] + 1e-9 for i in isos.TABLE})
    rules.append(((gap < low) | (gap > high), _msg("lmp", "is not energy + congestion + loss within the ISO's gap")))
    rules.append((as_long("revision") < 0, _msg("revision", "is negative")))
    return rules


def reason() -> Any:
    """Column: the first violation of a parsed row (columns _line, _is_object, _keys and one
    text column per contract field), or null when contract.validate() would accept it."""
    from pyspark.sql import functions as F

    known = F.array(*[F.lit(n) for n in TICK.names])
    first_unknown = F.get(F.array_sort(F.array_except(F.col("_keys"), known)), 0)
    rules: list[tuple[Any, Any]] = [
        (~F.col("_is_object"), F.lit(_msg("<record>", "not a JSON object"))),
        (
            F.size(F.array_except(F.col("_keys"), known)) > 0,
            F.concat(F.lit("tick field '"), first_unknown, F.lit("': unknown field")),
        ),
    ]
    for f in TICK.fields:
        rules += _type_rules(f)
    rules += _bounds_rules()
    return F.coalesce(*[F.when(cond, msg if not isinstance(msg, str) else F.lit(msg)) for cond, msg in rules])


def field_of(reason_text: str) -> str:
    """The field a reject reason names ("tick field 'lmp': ..." -> "lmp")."""
    return reason_text.split("'", 2)[1]


# The first characters of the text a non-string JSON value (number, true/false, object, array)
# becomes when read into a string column: a free-text value starting with one of them may not
# have been a JSON string, so its row takes the exact path.
_NOT_STRING_START = tuple("-0123456789tf{[")


def fast_schema() -> Any:
    """The contract as a from_json schema that parses each field once into its wire type:
    strings and times as text, floats as double, ints as long (a JSON string, boolean, object
    or float where a number or integer belongs fails the parse and sets _corrupt)."""
    from pyspark.sql import types as T

    kinds = {"float": T.DoubleType(), "int": T.LongType()}
    fields = [T.StructField(f.name, kinds.get(f.kind, T.StringType())) for f in TICK.fields]
    return T.StructType([*fields, T.StructField("_corrupt", T.StringType())])


# No NaN / Infinity spelled as strings or bare tokens: those must fail the typed parse.
FAST_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt", "allowNonNumericNumbers": "false"}


def fast_ok() -> Any:
    """Column: true only when a row parsed with fast_schema() (its top-level keys in _keys)
    is certainly valid, i.e. reason() would be null for its line. False means "not sure":
    the row takes the exact path (map parse + reason()). It never accepts a line reason()
    refuses (tests/batch/test_rules.py); the bounds are the same rules, on typed columns."""
    from pyspark.sql import functions as F

    # Exactly the contract's keys in its order, as contract.dumps writes every tick: no unknown
    # and no repeated key (any other key list, even a valid one, takes the exact path).
    ok = [F.col("_corrupt").isNull(), F.col("_keys") == F.array(*[F.lit(n) for n in TICK.names])]
    for f in TICK.fields:
        c = F.col(f.name)
        check: Any = None
        if f.kind == "string":
            check = c.isin(*f.allowed) if f.allowed else (c != "") & ~F.substring(c, 1, 1).isin(*_NOT_STRING_START)
        elif f.kind == "timestamp":
            check = wire_time(f.name).isNotNull()
        elif f.kind == "float":
            check = ~F.isnan(c) & (F.abs(c) != float("inf"))
        if check is not None:
            ok.append(check if not f.nullable else c.isNull() | check)
        if not f.nullable:
            ok.append(c.isNotNull())
    ok += [~F.coalesce(cond, F.lit(False)) for cond, _msg in _bounds_rules(fast_timestamp)]
    out = ok[0]
    for cond in ok[1:]:
        out = out & cond
    return F.coalesce(out, F.lit(False))

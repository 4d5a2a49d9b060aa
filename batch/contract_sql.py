"""The record contracts as warehouse SQL: the column lists, types and keys that batch/sql/*.sql
would otherwise repeat by hand for every table holding a contract's records, rendered into the
SQL text before sqlglot parses it (batch/warehouse.py sql_text, batch/streaming_ingestion.py
sql_text), so Redshift and DuckDB get the same statements and a field change touches the
contract alone (a new string field also names its VARCHAR width in WIDTHS).

A SQL file names what it takes from here with a hole: {shape} is the shape's name and
{shape.fragment} one of _FRAGMENTS below, for a shape of SHAPES:

    definitions      the CREATE TABLE body: one column per field, then PRIMARY KEY (the key)
    columns          the column names, in table order
    key_matches      <table>.<k> = <staging>.<k> for each key column, ANDed
    updates          <c> = <staging>.<c> for each column outside the key
    staged_columns   <staging>.<c> for each column
    upsert           batch/sql/upsert.sql (latest wins, then MERGE) for the table and its staging
    casts            the streaming views' typed columns: CAST(payload.<field> AS <type>) AS <field>
    required         <field> IS NOT NULL for each field the contract requires, ANDed

A column's type comes from its field's kind (a string: VARCHAR of WIDTHS), NOT NULL from the
field's nullability (or the table's `required`); trade_date is the warehouse's own column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from gridtape import bounds
from gridtape.context import CUSTOMERS_OUT, OUTAGE, WEATHER
from gridtape.contract import TICK, VOLATILITY, RecordContract

TRADE_DATE: Final = "trade_date"  # the ISO-local trade date the nightly files each tick under
PAYLOAD: Final = "payload"  # the streaming MVs' SUPER column (batch/sql/streaming/ingestion.sql)
_TIMESTAMP_TEXT: Final = "VARCHAR(32)"  # a wire time as text, cast on to TIMESTAMP
_TYPES: Final = {"timestamp": "TIMESTAMP", "float": "DOUBLE PRECISION", "int": "BIGINT"}

# VARCHAR width per string field, the same in every contract that has the field: location and
# source are the bounds' limits, the others hold every allowed value (tests/batch/
# test_warehouse_sql.py checks both).
WIDTHS: Final = {
    "iso": 8,
    "market": 8,
    "dataset": 8,
    "location": bounds.LOCATION_MAX_BYTES,
    "location_type": 16,
    "source": bounds.SOURCE_MAX_BYTES,
    "area": 128,
    "area_type": 8,
    "fuel": 64,
    "kind": 16,
    "provider": 16,
    "fips": 5,
    "county": 128,
    "state": 64,
    "zone": 128,
    "station": 8,
}

# The values each tick dataset carries (the other dataset's are null on its ticks).
MEASURES: Final = {"lmp": bounds.PRICE_FIELDS, "load": ("load_mw",)}


@dataclass(frozen=True, slots=True)
class Shape:
    """A relation whose columns are a record contract's fields (and trade_date)."""

    name: str
    contract: RecordContract
    columns: tuple[str, ...]
    key: tuple[str, ...] = ()  # the PRIMARY KEY; () for none
    staging: str = ""  # the staging table of the same columns MERGEd into it ("": none)
    required: tuple[str, ...] = ()  # nullable fields this table nevertheless holds NOT NULL

    def __str__(self) -> str:
        return self.name

    def sql_type(self, column: str) -> str:
        if column == TRADE_DATE:
            return "DATE"
        kind = self.contract.field(column).kind
        return f"VARCHAR({WIDTHS[column]})" if kind == "string" else _TYPES[kind]

    def not_null(self, column: str) -> bool:
        return column == TRADE_DATE or column in self.required or not self.contract.field(column).nullable


def _record_table(name: str, rc: RecordContract, staging: str = "") -> Shape:
    return Shape(name, rc, rc.names, rc.natural_key, staging)


def _tick_fact(name: str, staging: str, dataset: str) -> Shape:
    """One dataset's ticks: no dataset column nor the other dataset's measures, its first
    measure required, trade_date after interval_end; keyed as a tick less its dataset."""
    others = {m for d, ms in MEASURES.items() if d != dataset for m in ms}
    columns = [n for n in TICK.names if n != "dataset" and n not in others]
    columns.insert(columns.index("interval_end") + 1, TRADE_DATE)
    key = tuple(k for k in TICK.natural_key if k != "dataset")
    return Shape(name, TICK, tuple(columns), key, staging, required=MEASURES[dataset][:1])


SHAPES: Final = {
    s.name: s
    for s in (
        Shape("tick", TICK, TICK.names),  # the wire record, as the streaming views type it
        Shape("stg_ticks", TICK, (*TICK.names, TRADE_DATE)),  # = the curated Parquet columns
        _tick_fact("prices", "stg_prices", "lmp"),
        _tick_fact("load_mw", "stg_load", "load"),
        _record_table("volatility", VOLATILITY),
        _record_table("outages", OUTAGE, "stg_outages"),
        _record_table("weather_obs", WEATHER, "stg_weather_obs"),
        _record_table("customers_out", CUSTOMERS_OUT, "stg_customers_out"),
    )
}


def _definitions(s: Shape, indent: str) -> str:
    lines = [
        f"{c:<14} {s.sql_type(c):<16} NOT NULL" if s.not_null(c) else f"{c:<14} {s.sql_type(c)}" for c in s.columns
    ]
    if s.key:
        lines.append(f"PRIMARY KEY ({', '.join(s.key)})")
    return f",\n{indent}".join(lines)


def _cast(s: Shape, column: str) -> str:
    ref = f"{PAYLOAD}.{column}"
    if s.contract.field(column).kind == "timestamp":
        ref = f"CAST({ref} AS {_TIMESTAMP_TEXT})"
    return f"CAST({ref} AS {s.sql_type(column)}) AS {column}"


def _upsert(s: Shape, indent: str) -> str:
    if not s.staging:
        raise ValueError(f"{s.name} has no staging table to upsert from")
    return render(_upsert_template(), {"fact": s, "staging": s.staging})


@cache
def _upsert_template() -> str:
    """batch/sql/upsert.sql without its comments (they explain the template; the including
    file's statements need none of them), read once for every table that includes it."""
    template = resources.files("batch").joinpath("sql", "upsert.sql").read_text()
    return "\n".join(line for line in template.splitlines() if not line.startswith("--"))


# fragment -> its SQL for a shape, given the indentation of the line the hole stands on (a list
# of one item per line continues at that indentation)
_FRAGMENTS: Final[dict[str, Callable[[Shape, str], str]]] = {
    "definitions": _definitions,
    "columns": lambda s, _: ", ".join(s.columns),
    "key_matches": lambda s, _: " AND ".join(f"{s.name}.{k} = {s.staging}.{k}" for k in s.key),
    "updates": lambda s, _: ", ".join(f"{c} = {s.staging}.{c}" for c in s.columns if c not in s.key),
    "staged_columns": lambda s, _: ", ".join(f"{s.staging}.{c}" for c in s.columns),
    "upsert": _upsert,
    "casts": lambda s, indent: f",\n{indent}".join(_cast(s, c) for c in s.columns),
    "required": lambda s, _: " AND ".join(f"{c} IS NOT NULL" for c in s.columns if s.not_null(c)),
}
_HOLE: Final = re.compile(r"\{(\w+)(?:\.(\w+))?\}")


def render(text: str, names: Mapping[str, Shape | str] = SHAPES) -> str:
    """SQL text with every {shape} / {shape.fragment} hole filled (comment lines are left as
    they are, so they can name holes); an unknown hole raises."""

    def fill_line(line: str) -> str:
        indent = line[: len(line) - len(line.lstrip())]

        def fill(m: re.Match[str]) -> str:
            name, fragment = m.groups()
            value = names.get(name)
            if value is None or (fragment is not None and (isinstance(value, str) or fragment not in _FRAGMENTS)):
                raise ValueError(f"unknown SQL hole {m.group(0)}")
            if fragment is None:
                return str(value)
            assert isinstance(value, Shape)
            return _FRAGMENTS[fragment](value, indent)

        return line if line.lstrip().startswith("--") else _HOLE.sub(fill, line)

    return "\n".join(fill_line(line) for line in text.split("\n"))

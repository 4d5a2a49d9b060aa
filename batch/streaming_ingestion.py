"""Redshift streaming ingestion (batch/sql/streaming/ingestion.sql) and its embedded stand-in.

On AWS the deploy runs redshift_statements() in order through the Data API: an external
schema FROM KINESIS, one AUTO REFRESH materialized view per stream (ticks, analytics: the SQL
holds one, _per_stream() gives the other the same SELECT) and the typed views on top. Redshift has no CREATE MATERIALIZED VIEW IF NOT EXISTS, and re-creating a
streaming MV would re-read the stream from its trim horizon (losing what has expired), so
redshift_objects() names each statement's object and the deploy skips an MV that exists.

On DuckDB the MVs are tables (sql/streaming/local.sql) filled by app/local/ingest.py with
mv_row(), the MV's SELECT in Python, and the typed views run through sqlglot after
duckdb_adapt(): sqlglot 30 renders Redshift SUPER navigation `payload.iso` unchanged, which
DuckDB reads as a struct field of a column it holds as JSON (an error), so the adapter rewrites
it to JSON extraction `payload ->> '$.iso'` and its CASTs to TRY_CAST (Redshift's
cast_super_null_on_error gives NULL for a value that does not fit; DuckDB would raise).
JSON_EXTRACT_PATH_TEXT in the SQL would have run on both unchanged, but on Redshift it
re-parses the JSON once per column, which the streaming-ingestion guide advises against.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlglot
from sqlglot import exp

from batch import contract_sql, warehouse
from gridtape import config

EXTERNAL_SCHEMA: Final = "kds"
SUPER_COLUMN: Final = contract_sql.PAYLOAD
# MV name -> the Names property of the stream it reads (the SQL says kds."ticks", kds."analytics").
MATERIALIZED_VIEWS: Final = {"ticks_stream": "ticks_stream", "analytics_stream": "analytics_stream"}
_LOGICAL_STREAM: Final = {"ticks": "ticks_stream", "analytics": "analytics_stream"}
_ROLE_ARN: Final = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def sql_text(name: str) -> str:
    """batch/sql/streaming/<name> with its contract holes filled (batch/contract_sql.py)."""
    return warehouse.sql_text(f"streaming/{name}")


def parse(name: str) -> list[exp.Expr]:
    # sqlglot keeps CREATE EXTERNAL SCHEMA as an opaque Command and logs a warning saying so
    # each time; expected here (tests check it is the only one), so not worth a log line.
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return warehouse.expand_like([s for s in sqlglot.parse(sql_text(name), read="redshift") if s is not None])
    finally:
        quiet.setLevel(level)


@dataclass(frozen=True, slots=True)
class SqlObject:
    kind: str  # external_schema | materialized_view | view
    name: str
    sql: str  # Redshift SQL, ready for the Data API


def _kind_and_name(stmt: exp.Expr) -> tuple[str, str]:
    if isinstance(stmt, exp.Command):  # CREATE EXTERNAL SCHEMA: sqlglot keeps it as text
        return "external_schema", EXTERNAL_SCHEMA
    assert isinstance(stmt, exp.Create), stmt.sql("redshift")
    props = stmt.args.get("properties")
    materialized = props is not None and any(isinstance(p, exp.MaterializedProperty) for p in props.expressions)
    return ("materialized_view" if materialized else "view"), stmt.this.name


def redshift_objects(names: config.Names | None = None, iam_role: str | None = None) -> list[SqlObject]:
    """The statements of ingestion.sql in order, with the deployment's stream names and IAM role."""
    names = names or config.names()
    if iam_role is not None and iam_role != "default" and not _ROLE_ARN.match(iam_role):
        raise ValueError(f"IAM role {iam_role!r} is not an IAM role ARN")
    out = []
    for stmt in _per_stream(parse("ingestion.sql")):
        kind, name = _kind_and_name(stmt)
        if kind == "external_schema":
            text = stmt.sql("redshift", comments=False)
            if iam_role and iam_role != "default":
                text = text.replace("IAM_ROLE default", f"IAM_ROLE '{iam_role}'")
            out.append(SqlObject(kind, name, text))
            continue
        stmt = stmt.copy()
        for table in stmt.find_all(exp.Table):
            if table.db == EXTERNAL_SCHEMA and table.name in _LOGICAL_STREAM:
                physical = getattr(names, _LOGICAL_STREAM[table.name])
                table.set("this", exp.to_identifier(physical, quoted=True))
        out.append(SqlObject(kind, name, stmt.sql("redshift", comments=False)))
    return out


def _per_stream(stmts: list[exp.Expr]) -> list[exp.Expr]:
    """The one stream MV of ingestion.sql, and after it the same SELECT over every other stream."""
    out = []
    for stmt in stmts:
        out.append(stmt)
        if _kind_and_name(stmt)[0] != "materialized_view":
            continue
        for logical, mv in _LOGICAL_STREAM.items():
            if mv != stmt.this.name:
                other = stmt.copy()
                other.this.set("this", exp.to_identifier(mv))
                (source,) = [t for t in other.find_all(exp.Table) if t.db == EXTERNAL_SCHEMA]
                source.set("this", exp.to_identifier(logical, quoted=True))
                out.append(other)
    return out


def redshift_statements(names: config.Names | None = None, iam_role: str | None = None) -> list[str]:
    return [o.sql for o in redshift_objects(names, iam_role)]


# ---------------------------------------------------------------- the embedded stand-in


def _is_super_ref(node: exp.Expr) -> bool:
    return (
        isinstance(node, exp.Column)
        and node.table.lower() == SUPER_COLUMN
        and not node.args.get("db")
        and not node.args.get("catalog")
    )


def duckdb_adapt(stmt: exp.Expr) -> exp.Expr:
    """SUPER -> JSON for DuckDB: payload.x -> payload ->> '$.x' under TRY_CAST; SUPER type -> JSON."""

    def casts(node: exp.Expr) -> exp.Expr:
        if type(node) is exp.Cast and any(_is_super_ref(c) for c in node.find_all(exp.Column)):
            return exp.TryCast(this=node.this, to=node.args["to"])
        return node

    def refs(node: exp.Expr) -> exp.Expr:
        if _is_super_ref(node):
            assert isinstance(node, exp.Column)
            return exp.JSONExtractScalar(
                this=exp.column(SUPER_COLUMN),
                expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=node.name)]),
            )
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.SUPER:
            return exp.DataType.build("JSON")
        return node

    return stmt.copy().transform(casts).transform(refs)


def local_statements() -> list[exp.Expr]:
    """DuckDB: the MV stand-in tables, then the typed views of ingestion.sql (adapted)."""
    views = [s for s in parse("ingestion.sql") if _kind_and_name(s)[0] == "view"]
    return [duckdb_adapt(s) for s in (*parse("local.sql"), *views)]


def ensure_local(ex: Any) -> None:
    """Create the stand-in tables and (re)create the typed views: idempotent, one transaction."""
    ex.run(local_statements())


def _strict_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # JSON_PARSE refuses NaN / Infinity; Python would not


def mv_row(
    data: bytes,
    *,
    arrival: datetime | None,
    partition_key: str,
    shard_id: str,
    sequence_number: str,
    refresh_time: datetime,
) -> tuple[Any, ...]:
    """One record as the streaming MV's SELECT stores it: (approximate_arrival_timestamp,
    partition_key, shard_id, sequence_number, refresh_time, payload JSON text or None,
    failed_payload bytes or None). Times are naive UTC like Redshift's TIMESTAMP."""
    try:
        text = data.decode("utf-8")
        json.loads(text, parse_constant=_strict_constant)
        payload, failed = text, None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        payload, failed = None, data
    return (_naive(arrival), partition_key, shard_id, sequence_number, _naive(refresh_time), payload, failed)


def _naive(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value

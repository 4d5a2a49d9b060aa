"""The warehouse: Redshift-dialect SQL from batch/sql/*.sql, run on Redshift (the Data API) or,
in the embedded default, on a DuckDB file.

The SQL is parsed once with sqlglot (dialect redshift). The DuckDB executor translates each
statement tree, and the two things DuckDB cannot do are handled by an explicit adapter on the
tree, never by editing SQL text:
  * COPY <table> FROM '<manifest>' ... FORMAT AS PARQUET MANIFEST (an exp.Copy node) becomes
    INSERT INTO <table> SELECT * FROM read_parquet([...files of the manifest...]) after the
    files are fetched from S3 (the emulator); both map Parquet columns by position;
  * DISTSTYLE / DISTKEY / SORTKEY properties of CREATE TABLE are dropped (DuckDB has no slices).
CREATE TABLE t (LIKE parent), which DuckDB lacks, is spelled out for both engines (expand_like).
The column lists a record contract defines are filled into the SQL text before it is parsed
(batch/contract_sql.py), the same for both engines.
Parameters are sqlglot placeholders (:trade_date) bound as literals on the tree.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import sqlglot
from sqlglot import exp

from batch import contract_sql, manifests
from gridtape import config, isos
from gridtape.errors import GridtapeError, TerminalError, TransientError

log = logging.getLogger(__name__)

SQL_FILES = ("schema.sql", "seed.sql", "load.sql", "checks.sql")
_REDSHIFT_ONLY_PROPERTIES = (exp.DistKeyProperty, exp.DistStyleProperty, exp.SortKeyProperty)


class WarehouseError(GridtapeError):
    """A warehouse statement failed; the message names the statement."""


def sql_text(name: str) -> str:
    """batch/sql/<name> (a path below it, e.g. "streaming/ingestion.sql") with its contract
    holes filled (batch/contract_sql.py)."""
    return contract_sql.render(resources.files("batch").joinpath("sql", *name.split("/")).read_text())


def statements(name: str) -> list[exp.Expr]:
    """The statements of batch/sql/<name>, parsed as Redshift SQL (CREATE TABLE LIKE expanded)."""
    return expand_like([s for s in sqlglot.parse(sql_text(name), read="redshift") if s is not None])


def expand_like(stmts: Sequence[exp.Expr]) -> list[exp.Expr]:
    """CREATE TABLE t (LIKE parent) of a parent created earlier in `stmts` -> the parent's column
    definitions (NOT NULL kept) and DIST/SORT properties, no primary key: what Redshift's LIKE
    makes, spelled out because DuckDB has no LIKE and migrations() compares columns."""
    creates: dict[str, exp.Create] = {}
    out: list[exp.Expr] = []
    for stmt in stmts:
        if isinstance(stmt, exp.Create) and stmt.kind == "TABLE" and isinstance(stmt.this, exp.Schema):
            like = stmt.this.find(exp.LikeProperty)
            if like is not None:
                parent = creates[like.this.name]
                stmt = stmt.copy()
                stmt.this.set(
                    "expressions", [c.copy() for c in parent.this.expressions if isinstance(c, exp.ColumnDef)]
                )
                stmt.set("properties", parent.args["properties"].copy() if parent.args.get("properties") else None)
            creates[stmt.this.this.name] = stmt
        out.append(stmt)
    return out


def named_queries(name: str) -> dict[str, exp.Expr]:
    """Statements introduced by a '-- name: x' comment line (checks.sql)."""
    out: dict[str, exp.Expr] = {}
    current: str | None = None
    chunk: list[str] = []
    for line in [*sql_text(name).splitlines(), "-- name: <end>"]:
        if line.startswith("-- name:"):
            if current is not None:
                parsed = sqlglot.parse_one("\n".join(chunk), read="redshift")
                out[current] = parsed
            current, chunk = line.split(":", 1)[1].strip(), []
        elif current is not None:
            chunk.append(line)
    return out


def bind(statement: exp.Expr, **params: Any) -> exp.Expr:
    """Replace :name placeholders with literals (dates validated first: no injection)."""
    values = {key: value.isoformat() if isinstance(value, date) else value for key, value in params.items()}
    return exp.replace_placeholders(statement.copy(), **values)


def manifest_url(curated_bucket: str, day: date) -> str:
    return f"s3://{curated_bucket}/{manifests.manifest_key(day.isoformat())}"


class Executor(Protocol):
    def run(self, stmts: Sequence[exp.Expr]) -> None:
        """Run statements as one transaction."""

    def query(self, stmt: exp.Expr) -> list[dict[str, Any]]:
        """Run one query and return its rows."""


# ---------------------------------------------------------------- DuckDB (embedded default)


class DuckDBExecutor:
    def __init__(self, path: Path | None = None, cache_dir: Path | None = None) -> None:
        import duckdb

        self.path = path or config.home() / "warehouse.duckdb"
        self.cache_dir = cache_dir or self.path.parent / "warehouse-cache"
        self.con = duckdb.connect(str(self.path))
        # Warehouse timestamps are naive UTC (as in Redshift); Parquet's UTC-adjusted
        # timestamps must not be shifted to the host zone on the way in.
        self.con.execute("SET TimeZone = 'UTC'")

    def close(self) -> None:
        self.con.close()

    def translate(self, stmt: exp.Expr) -> list[str]:
        """One Redshift statement -> the DuckDB statements that do the same."""
        if isinstance(stmt, exp.Copy):
            return [self._copy(stmt)]
        if isinstance(stmt, exp.Create):
            stmt = stmt.copy()
            props = stmt.args.get("properties")
            if props is not None:
                for prop in list(props.expressions):
                    if isinstance(prop, _REDSHIFT_ONLY_PROPERTIES):
                        prop.pop()
                if not props.expressions:
                    props.pop()
            # Redshift's primary keys are informational, never enforced; DuckDB would keep an
            # index per key (half the first load's time). The nightly `duplicates` check is
            # what proves each natural key is held once, on both engines.
            for key in list(stmt.find_all(exp.PrimaryKey)):
                key.pop()
        return [stmt.sql(dialect="duckdb")]

    def _copy(self, node: exp.Copy) -> str:
        params = {p.this.name.upper(): p for p in node.args.get("params", [])}
        fmt = params.get("FORMAT")
        if (
            fmt is None
            or fmt.expression is None
            or fmt.expression.name.upper() != "PARQUET"
            or "MANIFEST" not in params
        ):
            raise WarehouseError(
                f"only COPY ... FORMAT AS PARQUET MANIFEST is adapted for DuckDB: {node.sql('redshift')}"
            )
        files = node.args.get("files") or []
        if len(files) != 1 or not files[0].is_string:
            raise WarehouseError(f"COPY needs one literal manifest URL: {node.sql('redshift')}")
        local = self._fetch_manifest_files(files[0].name)
        table = node.this.sql(dialect="duckdb")
        if not local:
            return f"SELECT 0 WHERE FALSE /* empty manifest: nothing to copy into {table} */"
        listing = exp.Array(expressions=[exp.Literal.string(str(p)) for p in local]).sql("duckdb")
        return f"INSERT INTO {table} SELECT * FROM read_parquet({listing}, hive_partitioning = false)"

    def _fetch_manifest_files(self, url: str) -> list[Path]:
        from gridtape import aws

        s3 = aws.client("s3")
        bucket, key = _split_s3(url)
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        out = []
        for entry in manifest.get("entries", []):
            b, k = _split_s3(entry["url"])
            target = self.cache_dir / b / k
            if not target.exists() or target.stat().st_size != entry.get("meta", {}).get("content_length"):
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(b, k, str(target))
            out.append(target)
        return out

    def run(self, stmts: Sequence[exp.Expr]) -> None:
        self.con.execute("BEGIN TRANSACTION")
        try:
            for stmt in stmts:
                for sql in self.translate(stmt):
                    self.con.execute(sql)
        except Exception as exc:
            self.con.execute("ROLLBACK")
            raise WarehouseError(f"{exc} (in: {stmt.sql('redshift')[:300]})") from exc
        self.con.execute("COMMIT")

    def query(self, stmt: exp.Expr) -> list[dict[str, Any]]:
        (sql,) = self.translate(stmt)
        cur = self.con.execute(sql)
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _split_s3(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise WarehouseError(f"not an s3:// URL: {url}")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


# ---------------------------------------------------------------- Redshift Data API (AWS)

_FINAL = {"FINISHED", "FAILED", "ABORTED"}


@dataclass
class DataApiExecutor:
    """Redshift Serverless through the Data API: a BatchExecuteStatement is one transaction;
    the executor waits for it (DescribeStatement) with a bounded poll."""

    workgroup: str
    database: str
    poll_seconds: float = 2.0
    timeout_seconds: float = 840.0  # under the Lambda's 15-minute ceiling

    def _client(self) -> Any:
        from gridtape import aws

        return aws.client("redshift-data")

    def _wait(self, statement_id: str) -> dict[str, Any]:
        client = self._client()
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            desc = client.describe_statement(Id=statement_id)
            if desc["Status"] in _FINAL:
                break
            if time.monotonic() > deadline:
                client.cancel_statement(Id=statement_id)
                raise TransientError(
                    f"Redshift statement {statement_id} still {desc['Status']} after {self.timeout_seconds:.0f}s"
                )
            time.sleep(self.poll_seconds)
        if desc["Status"] != "FINISHED":
            raise TerminalError(f"Redshift statement {statement_id} {desc['Status']}: {desc.get('Error', '')}")
        return dict(desc)

    def run(self, stmts: Sequence[exp.Expr]) -> None:
        sqls = [s.sql(dialect="redshift") for s in stmts]
        resp = self._client().batch_execute_statement(WorkgroupName=self.workgroup, Database=self.database, Sqls=sqls)
        self._wait(resp["Id"])

    def query(self, stmt: exp.Expr) -> list[dict[str, Any]]:
        client = self._client()
        resp = client.execute_statement(
            WorkgroupName=self.workgroup, Database=self.database, Sql=stmt.sql(dialect="redshift")
        )
        self._wait(resp["Id"])
        return statement_rows(client, resp["Id"])


def statement_rows(client: Any, statement_id: str) -> list[dict[str, Any]]:
    """Every page of a finished Data API statement's result, one dict per row."""
    rows: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = client.get_statement_result(Id=statement_id, **({"NextToken": token} if token else {}))
        names = [c["name"] for c in page["ColumnMetadata"]]
        rows += [{n: _field_value(f) for n, f in zip(names, record, strict=True)} for record in page["Records"]]
        token = page.get("NextToken")
        if not token:
            return rows


def _field_value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    return next((v for k, v in field.items() if k.endswith("Value")), None)


# ---------------------------------------------------------------- the load step


def seed_statements() -> list[exp.Expr]:
    """seed.sql (empties the seeded tables) + the rows of the ISO table."""

    def rows(table: str, columns: list[str], values: Sequence[Sequence[str]]) -> exp.Insert:
        return exp.insert(
            exp.Values(expressions=[exp.tuple_(*map(exp.convert, r)) for r in values]), table, columns=columns
        )

    return [
        *statements("seed.sql"),
        rows("tracked_hubs", ["iso", "hub"], [(iso.code, hub) for iso in isos.TABLE for hub in iso.hubs]),
        rows("hub_neighbours", ["iso_a", "hub_a", "iso_b", "hub_b"], isos.neighbour_pairs()),
        rows("settlement_markets", ["iso", "market"], isos.settlement_markets()),
    ]


def _creates() -> dict[str, exp.Create]:
    return {s.this.this.name: s for s in statements("schema.sql") if isinstance(s, exp.Create) and s.kind == "TABLE"}


def declared_columns() -> dict[str, list[exp.ColumnDef]]:
    """Every table schema.sql creates -> its column definitions, in order."""
    return {t: [c for c in s.this.expressions if isinstance(c, exp.ColumnDef)] for t, s in _creates().items()}


def migrations(ex: Executor) -> list[exp.Expr]:
    """What brings tables created by an older schema.sql up to it: a missing column is added
    (nullable, as every column added since is); a staging table is recreated instead, since
    COPY fills it by column position (staging holds nothing between loads)."""
    q = sqlglot.parse_one(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = CURRENT_SCHEMA()",
        read="redshift",
    )
    present: dict[str, list[str]] = {}
    for row in ex.query(q):
        present.setdefault(str(row["table_name"]), []).append(str(row["column_name"]))
    creates = _creates()
    out: list[exp.Expr] = []
    for table, cols in declared_columns().items():
        have = present.get(table)
        missing = [c for c in cols if have is not None and c.name not in have]
        if not missing:
            continue
        if table.startswith("stg_"):
            out += [sqlglot.parse_one(f"DROP TABLE IF EXISTS {table}", read="redshift"), creates[table]]
        else:
            out += [
                sqlglot.parse_one(f"ALTER TABLE {table} ADD COLUMN {c.sql('redshift')}", read="redshift")
                for c in missing
            ]
    return out


def ensure_schema(ex: Executor) -> None:
    ex.run(statements("schema.sql"))
    upgrades = migrations(ex)
    if upgrades:
        log.warning("warehouse schema upgrade: %s", "; ".join(u.sql("redshift", comments=False)[:80] for u in upgrades))
        ex.run(upgrades)
    ex.run(seed_statements())


def load_day(ex: Executor, curated_bucket: str, day: date, *, has_data: bool = True) -> None:
    """COPY the day's manifest into staging and MERGE into the facts, one transaction."""
    # An empty manifest: Redshift refuses a COPY of no files, and there is nothing to load.
    stmts = [s for s in statements("load.sql") if has_data or not isinstance(s, exp.Copy)]
    ex.run([bind(s, trade_date=day, manifest_url=manifest_url(curated_bucket, day)) for s in stmts])


def table_counts(ex: Executor, day: date) -> dict[str, int]:
    out = {}
    for table in ("prices", "load_mw"):
        q = sqlglot.parse_one(f"SELECT COUNT(*) AS n FROM {table} WHERE trade_date = :d", read="redshift")
        out[table] = int(ex.query(bind(q, d=day))[0]["n"])
    return out

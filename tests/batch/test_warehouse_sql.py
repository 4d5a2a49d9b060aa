"""The Redshift SQL under version control parses as Redshift, and the DuckDB adapter maps the
Redshift-only parts on the syntax tree (COPY -> read_parquet; DIST/SORT keys dropped)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from batch import contract_sql, warehouse
from batch.transforms import CURATED_COLUMNS
from gridtape import bounds, contract, isos
from gridtape.contract import TICK, Field


def test_every_sql_file_parses_as_redshift() -> None:
    for name in warehouse.SQL_FILES:
        stmts = warehouse.statements(name)
        assert stmts, name
        for stmt in stmts:
            assert not isinstance(stmt, exp.Command), (
                f"{name}: sqlglot fell back to an opaque command: {stmt.sql()[:80]}"
            )


def test_fact_tables_declare_dist_and_sort_keys_for_the_trader_queries() -> None:
    creates = {
        s.this.this.name: s
        for s in warehouse.statements("schema.sql")
        if isinstance(s, exp.Create) and s.kind == "TABLE"
    }
    for table in ("prices", "load_mw"):
        props = creates[table].args["properties"].expressions
        dist = next(p for p in props if isinstance(p, exp.DistKeyProperty))
        sort = next(p for p in props if isinstance(p, exp.SortKeyProperty))
        assert dist.this.name == "interval_start"
        assert [c.name for c in sort.this] == ["interval_start", "iso", "location"]
    stg_cols = [c.this.name for c in creates["stg_ticks"].this.expressions if isinstance(c, exp.ColumnDef)]
    assert tuple(stg_cols) == CURATED_COLUMNS  # COPY ... PARQUET maps by position


def test_duckdb_adapter_drops_redshift_properties(tmp_path: Path) -> None:
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    try:
        create = next(
            s for s in warehouse.statements("schema.sql") if isinstance(s, exp.Create) and s.this.this.name == "prices"
        )
        (sql,) = ex.translate(create)
        assert "DISTKEY" not in sql.upper() and "SORTKEY" not in sql.upper()
        assert "DISTKEY" in create.sql("redshift").upper()  # the source tree is left alone
    finally:
        ex.close()


def test_copy_manifest_becomes_read_parquet_of_the_manifest_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = []
    for i in range(2):
        path = tmp_path / f"part-{i}.parquet"
        pq.write_table(pa.table({"a": [i], "b": [f"x{i}"]}), path)
        files.append(path)
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    monkeypatch.setattr(ex, "_fetch_manifest_files", lambda url: files if url == "s3://bkt/day.manifest" else [])
    try:
        ex.con.execute("CREATE TABLE t (a BIGINT, b VARCHAR)")
        copy = sqlglot.parse_one(
            "COPY t FROM 's3://bkt/day.manifest' IAM_ROLE default FORMAT AS PARQUET MANIFEST", read="redshift"
        )
        assert isinstance(copy, exp.Copy)
        (sql,) = ex.translate(copy)
        assert sql.startswith("INSERT INTO t SELECT * FROM read_parquet(")
        ex.run([copy])
        assert ex.con.execute("SELECT a, b FROM t ORDER BY a").fetchall() == [(0, "x0"), (1, "x1")]
        csv = sqlglot.parse_one("COPY t FROM 's3://bkt/x.csv' IAM_ROLE default CSV", read="redshift")
        with pytest.raises(warehouse.WarehouseError, match="only COPY"):
            ex.translate(csv)
    finally:
        ex.close()


def test_load_binds_the_day_and_manifest_as_literals() -> None:
    stmts = [
        warehouse.bind(s, trade_date=date(2024, 11, 3), manifest_url="s3://c/m")
        for s in warehouse.statements("load.sql")
    ]
    copy = next(s for s in stmts if isinstance(s, exp.Copy))
    assert copy.sql("redshift") == "COPY stg_ticks FROM 's3://c/m' IAM_ROLE default FORMAT PARQUET MANIFEST"
    assert not any(s.find(exp.Placeholder) for s in stmts)
    merges = [s for s in stmts if isinstance(s, exp.Merge)]
    assert [m.this.name for m in merges] == ["prices", "load_mw", "locations"]
    assert json.dumps([s.sql("redshift") for s in stmts]).count("CAST('2024-11-03' AS DATE)") == 1


def test_merge_sources_are_tables() -> None:
    """Redshift's MERGE refuses a subquery, view or CTE as its source."""
    for stmt in warehouse.statements("load.sql"):
        if isinstance(stmt, exp.Merge):
            assert isinstance(stmt.args["using"], exp.Table), stmt.sql("redshift")[:120]


def _type(col: exp.ColumnDef) -> exp.DataType:
    kind = col.args["kind"]
    assert isinstance(kind, exp.DataType)
    return kind


def _width(col: exp.ColumnDef) -> int | None:
    params = _type(col).expressions
    return int(params[0].name) if params else None


def _expected_type(f: Field) -> str:
    return {"string": "VARCHAR", "timestamp": "TIMESTAMP", "float": "DOUBLE", "int": "BIGINT"}[f.kind]


def test_warehouse_columns_follow_the_contract_and_its_bounds() -> None:
    """Every contract column of every table has the contract's type and nullability, and a width
    that holds what the bounds let through: a field change fails here until schema.sql follows."""
    widths = {"location": bounds.LOCATION_MAX_BYTES, "source": bounds.SOURCE_MAX_BYTES}
    tables = warehouse.declared_columns()
    checked = 0
    for table, cols in tables.items():
        for col in cols:
            if col.name in ("hub", "hub_a", "hub_b"):
                assert _width(col) == bounds.LOCATION_MAX_BYTES, (table, col.name)
            if col.name not in TICK.names:
                continue
            f = TICK.field(col.name)
            assert _type(col).this.name.startswith(_expected_type(f)), (table, col.sql("redshift"))
            if table in ("stg_ticks", "prices", "load_mw", "stg_prices", "stg_load"):
                not_null = any(isinstance(c.args.get("kind"), exp.NotNullColumnConstraint) for c in col.constraints)
                if col.name not in ("lmp", "load_mw"):  # the split tables require their own measure
                    assert not_null == (not f.nullable), (table, col.name)
            if f.kind == "string":
                want = widths.get(f.name) or max(len(a.encode()) for a in f.allowed or ("",))
                assert _width(col) == want if f.name in widths else (_width(col) or 0) >= want, (table, col.name)
            checked += 1
    assert checked > 60
    facts = {t: {c.name for c in tables[t]} for t in ("prices", "load_mw")}
    assert facts["prices"] >= set(TICK.names) - {"dataset", "load_mw"}
    assert facts["load_mw"] >= set(TICK.names) - {"dataset", "lmp", "energy", "congestion", "loss"}


def _primary_key(create: exp.Create) -> list[str]:
    (key,) = create.find_all(exp.PrimaryKey)
    return [c.name for c in key.expressions]


@pytest.mark.parametrize("name", ["load.sql", "context.sql"])
def test_every_load_statement_carries_every_column_of_its_target(name: str) -> None:
    """The INSERT and MERGE lists name every column of the table they fill, so a new column
    (revision) cannot be declared and then dropped on the way in; each MERGE matches on the
    table's primary key and takes the staging table the schema declares LIKE it."""
    tables = {t: [c.name for c in cols] for t, cols in warehouse.declared_columns().items()}
    creates = {s.this.this.name: s for s in warehouse.statements("schema.sql") if isinstance(s, exp.Create)}
    merged = []
    for stmt in warehouse.statements(name):
        if isinstance(stmt, exp.Insert):
            target = stmt.this.this.name
            assert sorted(c.name for c in stmt.this.expressions) == sorted(tables[target]), target
        if isinstance(stmt, exp.Merge):
            target = stmt.this.name
            merged.append(target)
            whens = stmt.args["whens"].expressions
            update = next(w for w in whens if w.args.get("matched")).args["then"]
            insert = next(w for w in whens if not w.args.get("matched")).args["then"]
            key = {c.name for c in stmt.args["on"].find_all(exp.Column) if c.table == target}
            assert key == set(_primary_key(creates[target])), target
            assert {e.this.name for e in update.expressions} == set(tables[target]) - key, target
            assert sorted(c.name for c in insert.this.expressions) == sorted(tables[target]), target
            staging = creates[stmt.args["using"].name]
            like = [*raw_creates("schema.sql")[staging.this.this.name].find_all(exp.LikeProperty)]
            assert [p.this.name for p in like] == [target], staging.sql("redshift")
    assert (
        merged
        == {"load.sql": ["prices", "load_mw", "locations"], "context.sql": ["outages", "weather_obs", "customers_out"]}[
            name
        ]
    )


def raw_creates(name: str) -> dict[str, exp.Create]:
    """The CREATE TABLE statements of a SQL file as written (LIKE not expanded)."""
    return {
        s.this.this.name: s
        for s in sqlglot.parse(warehouse.sql_text(name), read="redshift")
        if isinstance(s, exp.Create) and s.kind == "TABLE"
    }


def test_upsert_drops_the_staged_versions_that_lose_before_merging() -> None:
    """Each fact's upsert: the DELETE of staged rows the fact row beats, on the same key, then
    its MERGE; written once (batch/sql/upsert.sql) for every fact of both loads."""
    for name, facts in (
        ("load.sql", ("prices", "load_mw")),
        ("context.sql", ("outages", "weather_obs", "customers_out")),
    ):
        stmts = warehouse.statements(name)
        for fact in facts:
            shape = contract_sql.SHAPES[fact]
            (merge,) = [s for s in stmts if isinstance(s, exp.Merge) and s.this.name == fact]
            (delete,) = [
                s for s in stmts if isinstance(s, exp.Delete) and [t.name for t in s.args.get("using") or []] == [fact]
            ]
            assert stmts.index(delete) < stmts.index(merge) and delete.this.name == shape.staging
            on = {(c.table, c.name) for c in merge.args["on"].find_all(exp.Column)}
            where = {(c.table, c.name) for c in delete.args["where"].find_all(exp.Column)}
            assert on == {(t, k) for t in (fact, shape.staging) for k in shape.key}
            assert (
                on | {(t, c) for t in (fact, shape.staging) for c in ("revision", "published_at", "ingested_at")}
                == where
            )


def test_seeds_are_the_iso_table(tmp_path: Path) -> None:
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    try:
        warehouse.ensure_schema(ex)
        warehouse.ensure_schema(ex)  # idempotent
        pairs = ex.con.execute("SELECT iso_a, hub_a, iso_b, hub_b FROM hub_neighbours").fetchall()
        assert sorted(pairs) == sorted(isos.neighbour_pairs())
        hubs = ex.con.execute("SELECT iso, hub FROM tracked_hubs").fetchall()
        assert sorted(hubs) == sorted((i.code, h) for i in isos.TABLE for h in i.hubs)
    finally:
        ex.close()
    # No second copy of the table: seed.sql only empties what the ISO table fills.
    assert not any(isinstance(st, exp.Insert) for st in warehouse.statements("seed.sql"))


def test_an_older_warehouse_is_brought_up_to_the_schema(tmp_path: Path) -> None:
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    try:
        cols = [c for c in warehouse.declared_columns()["prices"] if c.name != "revision"]
        ex.con.execute(f"CREATE TABLE prices ({', '.join(c.sql('duckdb') for c in cols)})")
        ex.con.execute("CREATE TABLE stg_ticks (iso VARCHAR)")
        warehouse.ensure_schema(ex)
        assert warehouse.migrations(ex) == []
        stg = [
            r[0]
            for r in ex.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'stg_ticks' ORDER BY ordinal_position"
            ).fetchall()
        ]
        assert tuple(stg) == CURATED_COLUMNS
    finally:
        ex.close()


def _staged_day(path: Path, rows: list[dict[str, object]]) -> Path:
    from datetime import datetime as dt

    schema = pa.schema([*contract.arrow_schema(), pa.field("trade_date", pa.date32())])
    conv = []
    for r in rows:
        rec = dict(r)
        for k in ("interval_start", "interval_end", "published_at", "ingested_at"):
            rec[k] = dt.fromisoformat(str(rec[k]).replace("Z", "+00:00"))
        rec["trade_date"] = date(2024, 7, 1)
        conv.append(rec)
    pq.write_table(pa.Table.from_pylist(conv, schema=schema), path)
    return path


@pytest.mark.parametrize(
    ("held", "incoming", "kept"),
    [
        (
            {"revision": 2, "published_at": "2024-07-01T12:06:00Z"},
            {"revision": 1, "published_at": "2024-07-01T18:00:00Z"},
            2,
        ),
        ({"revision": 1}, {"revision": 2}, 2),
        ({"revision": None, "published_at": "2024-07-01T18:00:00Z"}, {"revision": 0}, 0),
        ({"revision": 0}, {"revision": None, "published_at": "2024-07-01T18:00:00Z"}, 0),
        (
            {"revision": 1, "published_at": "2024-07-01T12:06:00Z"},
            {"revision": 1, "published_at": "2024-07-01T12:30:00Z"},
            1,
        ),
    ],
)
def test_a_load_never_replaces_a_later_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: dict[str, object], incoming: dict[str, object], kept: object
) -> None:
    """Latest wins in the warehouse as in compaction: highest revision, then published_at."""
    from tests.batch.conftest import tick, utc

    base = tick("PJM", "lmp", "WESTERN HUB", utc(2024, 7, 1, 12, 0), 30.0)
    first = _staged_day(tmp_path / "a.parquet", [{**base, **held, "lmp": 1.0}])
    second = _staged_day(tmp_path / "b.parquet", [{**base, **incoming, "lmp": 2.0}])
    ex = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    try:
        warehouse.ensure_schema(ex)
        for staged in (first, second):
            monkeypatch.setattr(ex, "_fetch_manifest_files", lambda url, f=staged: [f])
            warehouse.load_day(ex, "bkt", date(2024, 7, 1))
        ((revision, lmp),) = ex.con.execute("SELECT revision, lmp FROM prices").fetchall()
    finally:
        ex.close()
    winner = 1.0 if held.get("revision") == kept and incoming.get("revision") != kept else 2.0
    if held.get("revision") == incoming.get("revision"):
        winner = 2.0  # same revision: the later published_at (incoming) wins
    assert (revision, lmp) == (kept, winner)


def test_like_tables_get_their_parents_columns_and_keys_but_no_primary_key() -> None:
    """Every CREATE TABLE (LIKE parent) of the warehouse SQL comes out as Redshift makes it."""
    expanded = {}
    for name in (*warehouse.SQL_FILES, "streaming/local.sql"):
        for s in warehouse.statements(name):
            if isinstance(s, exp.Create) and s.kind == "TABLE":
                expanded[s.this.this.name] = s
    raw = [
        s
        for name in ("schema.sql", "streaming/local.sql")
        for s in raw_creates(name).values()
        if any(isinstance(e, exp.LikeProperty) for e in s.this.expressions)
    ]
    assert {s.this.this.name for s in raw} >= {"stg_prices", "stg_load", "stg_locations", "analytics_stream"}
    for s in raw:
        table, parent = expanded[s.this.this.name], expanded[s.this.expressions[0].this.name]
        assert table.this.expressions == [c for c in parent.this.expressions if isinstance(c, exp.ColumnDef)]
        assert not list(table.find_all(exp.PrimaryKey)) and not list(table.find_all(exp.LikeProperty))
        props = parent.args.get("properties")
        assert table.args.get("properties") == props, table.sql("redshift")

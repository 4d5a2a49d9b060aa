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

from batch import warehouse
from batch.compaction import CURATED_COLUMNS


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

"""`gridtape query`: the trader query pack (batch/queries/), and `gridtape ingest`: the local
streaming ingestion that fills the streaming views of the embedded warehouse.

gridtape query                                    list the queries
gridtape query NAME [--param k=v ...] [--source nightly|streaming] [--as-of T]
                    [--format table|csv|json] [--redshift]
gridtape ingest [--once] [--interval S]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.commands import command


def register(sub: Any) -> None:
    q = command(sub, "query", "run a named trader query on the warehouse (embedded DuckDB, or Redshift)", __doc__)
    q.add_argument("name", nargs="?", help="query name (omit to list them)")
    q.add_argument("--param", action="append", default=[], metavar="K=V", help="a parameter; repeatable")
    q.add_argument("--source", choices=("nightly", "streaming"), default=None, help="default nightly")
    q.add_argument("--as-of", metavar="T", help="as known at T (UTC ISO 8601): every version, streaming source")
    q.add_argument("--format", choices=("table", "csv", "json"), default="table")
    q.add_argument("--redshift", action="store_true", help="run on Redshift instead of the embedded warehouse")
    q.add_argument("--warehouse", type=Path, help="DuckDB file (default $GRIDTAPE_HOME/warehouse.duckdb)")
    q.set_defaults(func=_query)
    i = command(sub, "ingest", "local streaming ingestion: ticks/analytics streams -> warehouse views")
    i.add_argument("--once", action="store_true", help="one refresh (every stream read to its tip), then exit")
    i.add_argument("--interval", type=float, default=10.0, metavar="S", help="seconds between refreshes")
    i.add_argument("--warehouse", type=Path, help="DuckDB file (default $GRIDTAPE_HOME/warehouse.duckdb)")
    i.set_defaults(func=_ingest)


def _usage(message: str) -> int:
    print(f"gridtape query: error: {message}", file=sys.stderr)
    return 2


def _listing() -> str:
    from batch import querypack

    lines = []
    for name in querypack.names():
        q = querypack.load(name)
        lines.append(f"{name}: {q.answers}")
        for p in q.params:
            lines.append(f"    {p.name} ({p.kind}, default {p.default or repr('')}): {p.doc}")
    return "\n".join(lines)


def _query(args: argparse.Namespace) -> int:
    from batch import querypack
    from gridtape.errors import GridtapeError

    if not args.name:
        print(_listing())
        return 0
    params: dict[str, str] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            return _usage(f"--param {item!r}: expected KEY=VALUE")
        params[key.strip()] = value.strip()
    try:
        as_of = querypack.parse_time(args.as_of) if args.as_of else None
        tree = querypack.render(args.name, params, source=args.source, as_of=as_of)
    except querypack.QueryError as exc:
        return _usage(str(exc))
    ex = _executor(args, streaming=(args.source == "streaming" or as_of is not None or "source" in params))
    try:
        rows = ex.query(tree)
    except GridtapeError:
        raise
    except Exception as exc:  # duckdb / redshift_connector errors: one line at the CLI, not a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            " (empty warehouse? run `gridtape batch` or `gridtape ingest` first)" if "does not exist" in first else ""
        )
        raise GridtapeError(f"query {args.name} failed: {first}{hint}") from exc
    finally:
        if hasattr(ex, "close"):
            ex.close()
    columns = [c for c, _ in querypack.load(args.name).columns]
    print(render_rows(rows, columns, args.format))
    return 0


def _executor(args: argparse.Namespace, *, streaming: bool) -> Any:
    if args.redshift:
        from batch import querypack_redshift

        settings = querypack_redshift.redshift_settings()
        if settings is not None:
            return querypack_redshift.redshift_executor(settings)
        from batch.warehouse import DataApiExecutor
        from gridtape import config

        names = config.names(args.env)
        return DataApiExecutor(workgroup=names.redshift_workgroup, database=names.redshift_database)
    from batch import streaming_ingestion
    from batch.warehouse import DuckDBExecutor

    ex = DuckDBExecutor(args.warehouse)
    if streaming:
        streaming_ingestion.ensure_local(ex)  # empty views rather than "no such table" before any ingest
    return ex


def _text(value: Any, *, short: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, float) and short:
        return f"{value:.6g}"  # the table is for eyes; csv and json keep every digit
    return str(value)


def render_rows(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> str:
    columns = columns or (list(rows[0]) if rows else [])
    if fmt == "json":
        return json.dumps(rows, default=_text, indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_text(r.get(c)) for c in columns])
        return buf.getvalue().rstrip("\n")
    cells = [[_text(r.get(c), short=True) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _ingest(args: argparse.Namespace) -> int:
    from app.local import ingest
    from app.stack import emulator
    from gridtape import aws, config

    url = aws.endpoint_url() or config.emulator_url()
    emulator.require(url)
    aws.use_emulator(url)
    names = config.names(args.env)
    if args.once:
        print(json.dumps(ingest.refresh(names, args.warehouse).as_dict()))
        return 0
    ingest.refresh_forever(names, args.warehouse, interval=args.interval)
    return 0

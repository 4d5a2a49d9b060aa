"""The trader query pack: named, parameterized Redshift-dialect queries (batch/queries/*.sql),
each run unchanged in meaning on the nightly facts or on the streaming views, on Redshift or on
the embedded DuckDB warehouse.

A query file starts with a header of comment lines:
    -- name: spreads
    -- answers: what the query answers (continued on indented comment lines)
    -- param: market (str) = RT5 | doc          kinds: str, int, float, timestamp, list
    -- column: spread | doc                       the output columns, in order
Placeholders are :name. Two names are reserved: :as_of (the reference time: --as-of T, or now;
always bound) and `source`. Defaults: '' is the empty string, @as_of the reference time, ALL
(for a list) every ISO of the ISO table.

Relations are swapped on the parsed tree, never by editing text:
  * a view of the warehouse schema (hub_spreads, dart) is inlined first, so the query pack and the
    view share one definition and the facts under the view are swapped like any other;
  * tracked_hubs (iso, hub), hub_neighbours (iso_a, hub_a, iso_b, hub_b), settlement_markets
    (iso, market) and iso_datasets (iso, dataset) are built from gridtape/isos.py, the one truth for them (the warehouse seeds
    tables of the first two names from it too; deriving them keeps a streaming-only or
    unseeded warehouse answering);
  * source=streaming reads prices / load_mw / volatility from the typed streaming views
    stream_prices / stream_load_mw / stream_volatility (batch/sql/streaming/ingestion.sql);
  * --as-of T replaces them with those views' own definitions (as_of_relation) over only the
    versions ingested and published at or before T: the highest revision among them. The
    nightly facts keep only the latest revision, so as-of on the nightly source is refused
    rather than wrong.

run() takes any executor with query(stmt): batch.warehouse's DuckDBExecutor (the embedded
default) or DataApiExecutor, or batch.querypack_redshift.RedshiftExecutor (redshift_connector).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Final

import sqlglot
from sqlglot import exp

from gridtape import isos
from gridtape.errors import GridtapeError

SOURCES: Final = ("nightly", "streaming")
KINDS: Final = ("str", "int", "float", "timestamp", "list")
FACTS: Final = ("prices", "load_mw", "volatility")
STREAMING: Final = {"prices": "stream_prices", "load_mw": "stream_load_mw", "volatility": "stream_volatility"}
RESERVED: Final = ("as_of", "source")
# The relations under the streaming views that hold every version, and when a version was known.
_KNOWN_AT: Final = {"stream_ticks": ("ingested_at", "published_at"), "stream_volatility_versions": ("computed_at",)}

_PARAM = re.compile(r"^(\w+)\s*\((\w+)\)\s*=\s*(.*?)\s*\|\s*(.*)$")


class QueryError(GridtapeError):
    """An unknown query, parameter or value: the caller's mistake (the CLI exits 2)."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str
    default: str
    doc: str


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    answers: str
    params: tuple[Param, ...]
    columns: tuple[tuple[str, str], ...]  # (name, doc)
    sql: str

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise QueryError(f"query {self.name} has no parameter {name!r} (parameters: {known})")

    @property
    def tree(self) -> exp.Expr:
        return _parse(self.sql)


def _folder() -> Any:
    return resources.files("batch").joinpath("queries")


def names() -> list[str]:
    return sorted(p.name[:-4] for p in _folder().iterdir() if p.name.endswith(".sql"))


@cache
def load(name: str) -> Query:
    if name not in names():
        raise QueryError(f"unknown query {name!r}; known: {', '.join(names())}")
    return parse_header(_folder().joinpath(f"{name}.sql").read_text())


def parse_header(text: str) -> Query:
    fields: dict[str, list[str]] = {"name": [], "answers": [], "param": [], "column": []}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        key, sep, rest = body.partition(":")
        if sep and key in fields:
            fields[key].append(rest.strip())
            last = key
        elif last == "answers" and line.startswith("--   "):
            fields["answers"][-1] += " " + body
    params = []
    for spec in fields["param"]:
        m = _PARAM.match(spec)
        if m is None or m.group(2) not in KINDS:
            raise ValueError(f"bad param header {spec!r}: expected 'name (kind) = default | doc'")
        params.append(Param(m.group(1), m.group(2), "" if m.group(3) == "''" else m.group(3), m.group(4)))
    columns = tuple(tuple(part.strip() for part in c.split("|", 1)) for c in fields["column"])
    return Query(
        name=fields["name"][0],
        answers=" ".join(fields["answers"]),
        params=tuple(params),
        columns=columns,  # type: ignore[arg-type]
        sql=text,
    )


@cache
def _parse(sql: str) -> exp.Expr:
    (tree,) = [s for s in sqlglot.parse(sql, read="redshift") if s is not None]
    for node in tree.walk():
        node.comments = None  # the header is documentation, not SQL to ship to the warehouse
    return tree


# ---------------------------------------------------------------- values and binding


def utc_naive(value: datetime) -> datetime:
    """Warehouse timestamps are naive UTC (as in Redshift)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def parse_time(text: str) -> datetime:
    """ISO 8601: 2024-11-03T06:05:00Z, an offset, or no zone (= UTC); a date is its midnight."""
    try:
        return utc_naive(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise QueryError(f"{text!r} is not a time: expected ISO 8601, e.g. 2024-11-03T06:05:00Z") from None


def parse_value(param: Param, text: str, as_of: datetime) -> Any:
    if param.kind == "timestamp":
        return as_of if text == "@as_of" else parse_time(text)
    if param.kind == "list":
        items = [v.strip() for v in text.split(",") if v.strip()]
        return list(isos.CODES) if items == ["ALL"] else items
    if param.kind in ("int", "float"):
        try:
            return int(text) if param.kind == "int" else float(text)
        except ValueError:
            raise QueryError(f"parameter {param.name}: {text!r} is not {param.kind}") from None
    return text


def _literal(value: Any) -> exp.Expr:
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, bool) or value is None:
        raise TypeError(f"no literal for {value!r}")
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def bind(tree: exp.Expr, values: Mapping[str, Any]) -> exp.Expr:
    """Placeholders -> literals on the tree. A list binds as the IN list it stands in."""
    tree = tree.copy()
    for node in list(tree.find_all(exp.In)):
        items = node.expressions
        if len(items) == 1 and isinstance(items[0], exp.Placeholder) and isinstance(values.get(items[0].name), list):
            node.set("expressions", [_literal(v) for v in values[items[0].name]] or [exp.null()])

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            if node.name not in values or isinstance(values[node.name], list):
                raise QueryError(f"placeholder :{node.name} has no scalar value")
            return _literal(values[node.name])
        return node

    return tree.transform(replace)


# ---------------------------------------------------------------- relations


def _union(columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> exp.Expr:
    # Redshift has no VALUES in FROM: one SELECT of literals per row, UNION ALL.
    selects = [
        exp.select(*(exp.alias_(exp.Literal.string(v), c) for v, c in zip(row, columns, strict=True))) for row in rows
    ]
    out: exp.Expr = selects[0]
    for s in selects[1:]:
        out = exp.union(out, s, distinct=False)
    return out


def iso_relations() -> dict[str, exp.Expr]:
    return {
        "tracked_hubs": _union(("iso", "hub"), [(i.code, h) for i in isos.TABLE for h in i.hubs]),
        "hub_neighbours": _union(("iso_a", "hub_a", "iso_b", "hub_b"), isos.neighbour_pairs()),
        "settlement_markets": _union(("iso", "market"), isos.settlement_markets()),
        "iso_datasets": _union(("iso", "dataset"), [(i.code, d) for i in isos.TABLE for d in i.tick_datasets]),
    }


@cache
def _views(source: str) -> dict[str, exp.Select]:
    """The views of the warehouse schema (source nightly) or of streaming ingestion, by name."""
    from batch import streaming_ingestion, warehouse

    stmts = warehouse.statements("schema.sql") if source == "nightly" else streaming_ingestion.parse("ingestion.sql")
    return {s.this.name: s.expression for s in stmts if isinstance(s, exp.Create) and s.kind == "VIEW"}


def as_of_relation(table: str) -> exp.Expr:
    """The streaming view of a fact over only the versions known at :as_of: its definition with
    the views under it inlined down to the versioned relations (_KNOWN_AT), each filtered on
    the times that say when a version was known."""
    views = _views("streaming")

    def inline(tree: exp.Expr) -> exp.Expr:
        tree = tree.copy()
        for node in list(tree.find_all(exp.Table)):
            if node.name in _KNOWN_AT:
                select = node.find_ancestor(exp.Select)
                assert select is not None, node.sql("redshift")
                select.where(
                    *(exp.column(c) <= exp.Placeholder(this="as_of") for c in _KNOWN_AT[node.name]), copy=False
                )
            elif node.name in views:
                node.replace(_aliased(node, inline(views[node.name])))
        return tree

    return inline(views[STREAMING[table]])


def _aliased(table: exp.Table, relation: exp.Expr) -> exp.Subquery:
    return exp.Subquery(this=relation.copy(), alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name)))


def _inline_views(tree: exp.Expr) -> None:
    """A view of the warehouse schema -> its definition, keeping only the columns the query
    names (hub_spreads' trade_date exists on the nightly facts only)."""
    named = {c.name for c in tree.find_all(exp.Column)}
    for table in list(tree.find_all(exp.Table)):
        view = _views("nightly").get(table.name)
        if view is not None and not (table.db or table.catalog):
            body = view.copy()
            body.set("expressions", [e for e in body.expressions if e.alias_or_name in named])
            table.replace(_aliased(table, body))


def substitute(tree: exp.Expr, *, source: str, as_of: datetime | None) -> exp.Expr:
    """Swap the logical relations for the chosen source (see the module doc)."""
    tree = tree.copy()
    _inline_views(tree)
    derived = iso_relations()
    if as_of is not None:
        derived.update({t: bind(as_of_relation(t), {"as_of": as_of}) for t in FACTS})
    for table in list(tree.find_all(exp.Table)):
        if table.db or table.catalog:
            continue
        name = table.name
        if name in derived:
            table.replace(_aliased(table, derived[name]))
        elif source == "streaming" and name in STREAMING:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(table.alias_or_name)))
            table.set("this", exp.to_identifier(STREAMING[name]))
    return tree


def render(
    name: str,
    params: Mapping[str, str] | None = None,
    *,
    source: str | None = None,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> exp.Expr:
    """The bound Redshift tree of a query. `params` are text (as typed on the command line)."""
    query = load(name)
    params = dict(params or {})
    source = params.pop("source", None) or source
    if source is None:
        source = "streaming" if as_of is not None else "nightly"
    if source not in SOURCES:
        raise QueryError(f"source {source!r}: expected one of {', '.join(SOURCES)}")
    if as_of is not None and source == "nightly":
        raise QueryError(
            "--as-of needs every version of a value; the nightly facts keep only the latest revision: "
            "use source=streaming"
        )
    reference = utc_naive(as_of) if as_of is not None else utc_naive(now or datetime.now(UTC)).replace(microsecond=0)
    for key in params:
        if key in RESERVED:
            raise QueryError(f"{key} is not a parameter: use --{key.replace('_', '-')}")
        query.param(key)  # unknown names fail here, naming the known ones
    values: dict[str, Any] = {"as_of": reference}
    for p in query.params:
        values[p.name] = parse_value(p, params.get(p.name, p.default), reference)
    tree = substitute(query.tree, source=source, as_of=utc_naive(as_of) if as_of is not None else None)
    return bind(tree, values)


def run(
    ex: Any,
    name: str,
    params: Mapping[str, str] | None = None,
    *,
    source: str | None = None,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Render and run a query on an executor (batch.warehouse's DuckDB / Data API, or Redshift)."""
    return list(ex.query(render(name, params, source=source, as_of=as_of, now=now)))

"""The query pack and the streaming-ingestion SQL: every query returns the expected rows on a
small known dataset, on the nightly facts and on the streaming views alike; as-of sees what was
known then; the typed views follow the record contracts; all SQL parses as Redshift."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from batch import querypack as qp
from batch import streaming_ingestion as si
from gridtape import config, contract, isos
from tests.batch import querypack_data as data
from tests.batch.querypack_data import T0

REPO = Path(__file__).resolve().parents[2]
SQL_FILES = [
    *sorted((REPO / "batch" / "queries").rglob("*.sql")),
    *sorted((REPO / "batch" / "sql" / "streaming").glob("*.sql")),
]


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[data.Loaded]:
    loaded = data.load(tmp_path_factory.mktemp("querypack") / "warehouse.duckdb")
    yield loaded
    loaded.ex.close()


def run(wh: data.Loaded, name: str, source: str | None = "nightly", **params: Any) -> list[dict[str, Any]]:
    as_of = params.pop("as_of", None)
    text = {k: str(v) for k, v in params.items()}
    return qp.run(wh.ex, name, text, source=source, as_of=as_of, now=T0)


def both(wh: data.Loaded, name: str, **params: Any) -> list[dict[str, Any]]:
    """The query on both sources; they must agree (the streaming views hold every version)."""
    nightly = run(wh, name, "nightly", **params)
    streaming = run(wh, name, "streaming", **params)
    assert streaming == approx_rows(nightly)
    return nightly


def approx_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Floats compared to 1e-12: the sources sum in a different order."""
    return [{k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def lmp_of(records: list[dict[str, Any]], iso: str, location: str, market: str = "RT5") -> dict[datetime, float]:
    return {
        data.naive(r["interval_start"]): r["lmp"]
        for r in records
        if (r["iso"], r["location"], r["dataset"], r["market"]) == (iso, location, "lmp", market)
    }


# ---------------------------------------------------------------- parsing and headers


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_sql_parses_as_redshift(path: Path) -> None:
    # The streaming SQL as it runs: its contract holes filled (batch/contract_sql.py).
    text = si.sql_text(path.name) if path.parent.name == "streaming" else path.read_text()
    statements = [s for s in sqlglot.parse(text, read="redshift") if s is not None]
    assert statements
    # Only CREATE EXTERNAL SCHEMA is opaque to sqlglot; everything else is a real tree.
    assert all(
        not isinstance(s, exp.Command) or s.sql(comments=False).startswith("CREATE EXTERNAL SCHEMA") for s in statements
    )


@pytest.mark.parametrize("name", qp.names())
@pytest.mark.parametrize("source", qp.SOURCES)
def test_rendered_query_round_trips_as_redshift(name: str, source: str) -> None:
    sql = qp.render(name, source=source, now=T0).sql("redshift")
    assert sqlglot.parse_one(sql, read="redshift").sql("redshift") == sql
    assert ":" not in re.sub(r"'[^']*'", "", sql)  # every placeholder bound


@pytest.mark.parametrize("name", qp.names())
def test_header_declares_every_placeholder_and_column(wh: data.Loaded, name: str) -> None:
    q = qp.load(name)
    assert q.name == name and q.answers and q.columns
    used = {p.name for p in q.tree.find_all(exp.Placeholder)} - {"as_of"}
    assert used == {p.name for p in q.params}
    for source in qp.SOURCES:
        rows = run(wh, name, source)
        assert rows, f"{name} on {source} returned nothing on the test data"
        assert list(rows[0]) == [c for c, _ in q.columns]


def test_bad_requests_are_query_errors() -> None:
    with pytest.raises(qp.QueryError, match="unknown query"):
        qp.render("no_such_query")
    with pytest.raises(qp.QueryError, match="no parameter 'hub'"):
        qp.render("prices", {"hub": "X"})
    with pytest.raises(qp.QueryError, match="not int"):
        qp.render("prices", {"hours": "many"})
    with pytest.raises(qp.QueryError, match="not a time"):
        qp.render("prices", {"until": "yesterday"})
    with pytest.raises(qp.QueryError, match="source"):
        qp.render("prices", source="lake")
    with pytest.raises(qp.QueryError, match="use --as-of"):
        qp.render("prices", {"as_of": "2024-11-04T00:00:00Z"})
    with pytest.raises(qp.QueryError, match="nightly facts keep only the latest"):
        qp.render("prices", source="nightly", as_of=T0)


def test_parameters_are_bound_as_literals_not_text(wh: data.Loaded) -> None:
    hostile = "WESTERN HUB' OR '1'='1"
    tree = sqlglot.parse_one(qp.render("prices", {"location": hostile}, now=T0).sql("redshift"), read="redshift")
    (eq,) = [e for e in tree.find_all(exp.EQ) if e.this.name == "location"]
    assert eq.expression.is_string and eq.expression.this == hostile
    assert run(wh, "prices", location=hostile) == []


# ---------------------------------------------------------------- the queries


def test_latest_prices_every_tracked_hub_with_its_age(wh: data.Loaded) -> None:
    rows = both(wh, "latest_prices")
    assert [(r["iso"], r["location"]) for r in rows] == sorted((i.code, h) for i in isos.TABLE for h in i.hubs)
    by_hub = {(r["iso"], r["location"]): r for r in rows}
    pjm = by_hub["PJM", "WESTERN HUB"]
    last = data.BASE.replace(tzinfo=None) + timedelta(minutes=5 * (data.N - 1))
    assert (pjm["interval_start"], pjm["lmp"]) == (last, 20.0 + data.N - 1)
    assert pjm["age_seconds"] == (T0 - (last + timedelta(minutes=5))).total_seconds()
    assert by_hub["ERCOT", "HB_NORTH"]["lmp"] == -5.0 + data.N - 1
    assert by_hub["PJM", "AEP GEN HUB"]["lmp"] is None and by_hub["PJM", "AEP GEN HUB"]["age_seconds"] is None
    only = both(wh, "latest_prices", isos="MISO,SPP")
    assert {r["iso"] for r in only} == {"MISO", "SPP"}


def test_prices_take_the_highest_revision(wh: data.Loaded) -> None:
    rows = both(wh, "prices", iso="PJM", location="WESTERN HUB")
    assert {r["interval_start"]: r["lmp"] for r in rows} == lmp_of(wh.latest, "PJM", "WESTERN HUB")
    assert rows[6]["lmp"] == 77.0  # revision 2, whatever its publication time says


def test_volatility_over_time(wh: data.Loaded) -> None:
    rows = both(wh, "volatility", iso="PJM", location="WESTERN HUB", window_minutes=60)
    assert [(r["window_end"].minute, r["n"], r["price_mean"]) for r in rows] == [
        (30, 6, 22.5),
        (35, 8, 23.5),
        (40, 8, 24.0),
    ]
    assert both(wh, "volatility", window_minutes=1440) == []


def test_demand_vs_price_aligned_with_correlation(wh: data.Loaded) -> None:
    rows = both(wh, "demand_vs_price", iso="PJM", hub="WESTERN HUB")
    prices = lmp_of(wh.latest, "PJM", "WESTERN HUB")
    loads = {
        data.naive(r["interval_start"]): r["load_mw"] for r in wh.latest if r["dataset"] == "load" and r["iso"] == "PJM"
    }
    assert [(r["interval_start"], r["load_mw"], r["lmp"]) for r in rows] == [
        (t, loads[t], prices[t]) for t in sorted(prices)
    ]
    expected = statistics.correlation([loads[t] for t in sorted(prices)], [prices[t] for t in sorted(prices)])
    assert all(r["n"] == data.N for r in rows)
    assert rows[0]["correlation"] == pytest.approx(expected, rel=1e-9)
    # ERCOT's load is hourly: each 5-minute price meets the hour that contains it; a flat load
    # has no correlation (NULL, not a division by zero).
    ercot = both(wh, "demand_vs_price", iso="ERCOT", hub="HB_NORTH")
    assert len(ercot) == data.N and {r["load_mw"] for r in ercot} == {45_000.0}
    assert ercot[0]["correlation"] is None


def test_spreads_between_neighbouring_isos(wh: data.Loaded) -> None:
    rows = both(wh, "spreads")
    pairs = {(r["iso_a"], r["hub_a"], r["iso_b"], r["hub_b"]) for r in rows}
    assert pairs == {
        ("PJM", "WESTERN HUB", "MISO", "INDIANA.HUB"),
        ("PJM", "WESTERN HUB", "NYISO", "WEST"),
        ("SPP", "SPPSOUTH_HUB", "ERCOT", "HB_NORTH"),
    }
    assert pairs <= set(isos.neighbour_pairs())
    for a_iso, a_hub, b_iso, b_hub in pairs:
        a, b = lmp_of(wh.latest, a_iso, a_hub), lmp_of(wh.latest, b_iso, b_hub)
        got = {r["interval_start"]: r["spread"] for r in rows if (r["iso_a"], r["iso_b"]) == (a_iso, b_iso)}
        assert got == {t: pytest.approx(a[t] - b[t]) for t in a}
    assert {r["iso_b"] for r in both(wh, "spreads", iso_a="PJM", iso_b="NYISO")} == {"NYISO"}


def test_dart_is_the_hourly_settlement_price_minus_the_day_ahead(wh: data.Loaded) -> None:
    rows = both(wh, "dart")
    got = {(r["iso"], r["location"]): r for r in rows}
    # Only the hour that has both prices: 12:00's day-ahead has no real-time hour yet.
    assert {r["interval_start"] for r in rows} == {data.naive(data.tick("PJM", "lmp", "x", 0, 0)["interval_start"])}
    assert set(got) == set(data.DAM)
    for (iso, hub), da in data.DAM.items():
        rt = [
            v["lmp"]
            for v in wh.latest
            if (v["iso"], v["location"], v["market"]) == (iso, hub, isos.get(iso).rt_settlement)
        ]
        r = got[iso, hub]
        assert r["rt_intervals"] == len(rt) == (4 if iso == "ERCOT" else 12)
        assert r["da_lmp"] == da
        assert r["rt_lmp"] == pytest.approx(statistics.fmean(rt))
        assert r["dart"] == pytest.approx(statistics.fmean(rt) - da)
    # ERCOT settles real time on 15-minute prices: its 5-minute SCED prices are not averaged in.
    assert got["ERCOT", "HB_NORTH"]["rt_lmp"] == pytest.approx(statistics.fmean(data.ERCOT_RT15))
    assert [r["location"] for r in both(wh, "dart", hub="INDIANA.HUB")] == ["INDIANA.HUB"]


def test_freshness_per_iso_and_dataset(wh: data.Loaded) -> None:
    rows = both(wh, "freshness")
    assert [(r["iso"], r["dataset"]) for r in rows] == sorted((i.code, d) for i in isos.TABLE for d in i.tick_datasets)
    by = {(r["iso"], r["dataset"]): r for r in rows}
    for (iso, dataset), r in by.items():
        mine = [v for v in wh.latest if (v["iso"], v["dataset"]) == (iso, dataset)]
        if not mine:
            assert (r["locations"], r["last_ingested_at"], r["ingest_age_seconds"]) == (0, None, None)
            continue
        last_ingest = max(data.naive(v["ingested_at"]) for v in mine)
        last_end = max(data.naive(v["interval_end"]) for v in mine)
        assert (r["last_ingested_at"], r["last_interval_end"]) == (last_ingest, last_end)
        assert r["ingest_age_seconds"] == (T0 - last_ingest).total_seconds()
        assert r["data_age_seconds"] == (T0 - last_end).total_seconds()


# ---------------------------------------------------------------- as of


def test_as_of_sees_the_value_before_a_revision(wh: data.Loaded) -> None:
    at = data.BASE.replace(tzinfo=None) + timedelta(minutes=40)
    rows = run(wh, "prices", None, as_of=at)
    known = {r["interval_start"]: r["lmp"] for r in rows}
    # 11:35's price was ingested at 11:41:20, after T: not known yet; 11:30 still at revision 0.
    assert max(known) == at - timedelta(minutes=10)
    assert known[at - timedelta(minutes=10)] == 26.0
    # Revision 2 arrived at 11:45:20, revision 1 at 11:52:20: at 11:50 revision 2 is the answer,
    # and revision 1 arriving later does not displace it.
    for minutes, expected in ((50, 77.0), (55, 77.0)):
        later = {
            r["interval_start"]: r["lmp"] for r in run(wh, "prices", None, as_of=at + timedelta(minutes=minutes - 40))
        }
        assert later[at - timedelta(minutes=10)] == expected


def test_spreads_as_of_use_what_both_sides_knew(wh: data.Loaded) -> None:
    at = data.BASE.replace(tzinfo=None) + timedelta(minutes=40)
    rows = run(wh, "spreads", None, as_of=at, iso_a="PJM", iso_b="MISO")
    t = at - timedelta(minutes=10)
    assert {r["interval_start"]: r["spread"] for r in rows}[t] == pytest.approx(26.0 - 28.0)
    assert max(r["interval_start"] for r in rows) == t


def test_as_of_in_the_future_equals_the_latest(wh: data.Loaded) -> None:
    for name in ("prices", "spreads", "demand_vs_price", "volatility"):
        latest = run(wh, name, "streaming", until=T0)
        assert latest and run(wh, name, None, as_of=T0 + timedelta(days=1), until=T0) == approx_rows(latest)


def test_as_of_volatility_sees_the_window_before_its_reemission(wh: data.Loaded) -> None:
    at = data.BASE.replace(tzinfo=None) + timedelta(minutes=42)
    rows = run(wh, "volatility", None, as_of=at, until=at)
    assert [(r["window_end"].minute, r["n"]) for r in rows] == [(30, 6), (35, 7), (40, 8)]


# ---------------------------------------------------------------- the streaming views vs the contracts


_TYPES = {"string": "VARCHAR", "timestamp": "TIMESTAMP", "float": "DOUBLE", "int": "BIGINT"}


@pytest.mark.parametrize(
    ("view", "rec"), [("stream_ticks", contract.TICK), ("stream_volatility_versions", contract.VOLATILITY)]
)
def test_typed_views_expose_the_contract(wh: data.Loaded, view: str, rec: contract.RecordContract) -> None:
    described = wh.ex.con.execute(f"DESCRIBE {view}").fetchall()
    types = {row[0]: row[1] for row in described}
    assert [c for c in types if c in rec.names] == list(rec.names)
    assert {n: types[n].split("(")[0] for n in rec.names} == {f.name: _TYPES[f.kind] for f in rec.fields}


@pytest.mark.parametrize("rec", [contract.TICK, contract.VOLATILITY], ids=lambda c: c.name)
def test_typed_views_keep_only_records_with_every_required_field(tmp_path: Path, rec: contract.RecordContract) -> None:
    from batch.warehouse import DuckDBExecutor

    ex = DuckDBExecutor(tmp_path / "w.duckdb")
    si.ensure_local(ex)
    good = data.versions()[0] if rec is contract.TICK else data.volatility_versions()[0]
    table, view = (
        ("ticks_stream", "stream_ticks") if rec is contract.TICK else ("analytics_stream", "stream_volatility_versions")
    )
    bad: list[bytes] = [b"not json", b"\xff\xfe", b"[1, 2]", b'{"lmp": NaN}']
    for f in rec.fields:
        broken = dict(good)
        broken[f.name] = None
        bad.append(contract.dumps(broken).encode())
    rows = data.stream_rows([good])
    seq = 2
    for payload in bad:
        rows.append(
            si.mv_row(payload, arrival=T0, partition_key="k", shard_id="s", sequence_number=str(seq), refresh_time=T0)
        )
        seq += 1
    ex.con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    assert ex.con.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (len(rows),)  # nothing dropped
    kept_raw = ex.con.execute(f"SELECT failed_payload FROM {table} WHERE payload IS NULL").fetchall()
    assert sorted(bytes(r[0]) for r in kept_raw) == sorted([b"not json", b"\xff\xfe", b'{"lmp": NaN}'])
    n_nullable = sum(f.nullable for f in rec.fields)
    assert ex.con.execute(f"SELECT COUNT(*) FROM {view}").fetchone() == (1 + n_nullable,)
    ex.close()


def test_redshift_statements_in_order_with_the_deployment_names() -> None:
    names = config.Names(env="prod", account="210987654321")
    objects = si.redshift_objects(names, iam_role="arn:aws:iam::210987654321:role/gridtape-prod-redshift-streaming")
    assert [o.kind for o in objects[:3]] == ["external_schema", "materialized_view", "materialized_view"]
    assert "IAM_ROLE 'arn:aws:iam::210987654321:role/gridtape-prod-redshift-streaming'" in objects[0].sql
    mvs = {o.name: o.sql for o in objects if o.kind == "materialized_view"}
    assert 'FROM kds."gridtape-prod-ticks"' in mvs["ticks_stream"]
    assert 'FROM kds."gridtape-prod-analytics"' in mvs["analytics_stream"]
    for sql in mvs.values():
        assert "AUTO REFRESH YES" in sql and "CAN_JSON_PARSE(kinesis_data)" in sql and "failed_payload" in sql
    views = [o.name for o in objects if o.kind == "view"]
    assert {"stream_ticks", "stream_prices", "stream_load_mw", "stream_volatility"} <= set(views)
    for o in objects[1:]:
        assert sqlglot.parse_one(o.sql, read="redshift") is not None
    assert "IAM_ROLE default" in si.redshift_statements(names)[0]
    with pytest.raises(ValueError, match="not an IAM role ARN"):
        si.redshift_objects(names, iam_role="x'; DROP TABLE prices; --")


# ---------------------------------------------------------------- Redshift connection


def test_redshift_settings_from_the_environment() -> None:
    from batch import querypack_redshift as rs
    from gridtape.errors import GridtapeError

    assert rs.redshift_settings({}) is None
    env = {
        config.ENV_REDSHIFT_HOST: "wg.123.us-east-1.redshift-serverless.amazonaws.com",
        config.ENV_REDSHIFT_DATABASE: "gridtape",
        config.ENV_REDSHIFT_USER: "trader",
        config.ENV_REDSHIFT_PASSWORD: "pw",
    }
    assert rs.redshift_settings(env) == {
        "host": env[config.ENV_REDSHIFT_HOST],
        "port": 5439,
        "database": "gridtape",
        "user": "trader",
        "password": "pw",
    }
    with pytest.raises(GridtapeError, match="missing password"):
        rs.redshift_settings({k: v for k, v in env.items() if k != config.ENV_REDSHIFT_PASSWORD})


def test_redshift_executor_sends_redshift_sql() -> None:
    from batch import querypack_redshift as rs

    sent: list[str] = []

    class Cursor:
        description = (("iso",), ("n",))

        def execute(self, sql: str) -> None:
            sent.append(sql)

        def fetchall(self) -> list[tuple[Any, ...]]:
            return [("PJM", 1)]

        def close(self) -> None:
            pass

    class Conn:
        def cursor(self) -> Cursor:
            return Cursor()

    rows = rs.RedshiftExecutor(Conn()).query(qp.render("spreads", now=T0))
    assert rows == [{"iso": "PJM", "n": 1}]
    (sql,) = sent
    assert "DATEADD(HOUR, -24, CAST('2024-11-04 12:10:00' AS TIMESTAMP))" in sql
    assert sqlglot.parse_one(sql, read="redshift").sql("redshift") == sql

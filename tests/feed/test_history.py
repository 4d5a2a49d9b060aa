"""History from the warehouse file: the warehouse's own schema (batch/sql/schema.sql), read
with plain SQL by the feed (which may not import batch; the test may)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feed.history import load_history
from feed.live import headline_hubs

T = datetime(2025, 3, 9, 0, 0)  # naive UTC, as the warehouse stores it


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from batch.warehouse import DuckDBExecutor, ensure_schema

    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    ex = DuckDBExecutor(path)
    ensure_schema(ex)
    con = ex.con
    for i in range(48):  # four hours of 5-minute intervals
        t = T + timedelta(minutes=5 * i)
        for iso, hub, price in (("PJM", "WESTERN HUB", 30 + i), ("MISO", "INDIANA.HUB", 25 + i), ("PJM", "NODE X", 1)):
            con.execute(
                "INSERT INTO prices (iso, market, location, location_type, interval_start, interval_end, trade_date,"
                " lmp, published_at, ingested_at, source) VALUES (?, 'RT5', ?, 'hub', ?, ?, ?, ?, ?, ?, 'test')",
                [iso, hub, t, t + timedelta(minutes=5), t.date(), price, t, t],
            )
        con.execute(
            "INSERT INTO load_mw (iso, market, location, location_type, interval_start, interval_end, trade_date,"
            " load_mw, published_at, ingested_at, source) VALUES ('PJM', 'RT5', 'PJM RTO', 'system', ?, ?, ?, ?, ?, ?, 'test')",
            [t, t + timedelta(minutes=5), t.date(), 90000 + i, t, t],
        )
        con.execute(
            "INSERT INTO volatility (iso, market, location, window_start, window_end, window_minutes, slide_minutes, n,"
            " n_nonpositive, price_first, price_last, price_min, price_max, price_mean, vol_log, vol_abs, computed_at)"
            " VALUES ('PJM', 'RT5', 'WESTERN HUB', ?, ?, 60, 5, 12, 0, 1, 2, 0, 3, 1.5, 0.1, ?, ?)",
            [t - timedelta(minutes=60), t, 0.5 + i, t],
        )
    ex.close()
    return path


def test_the_last_hours_the_warehouse_holds(warehouse: Path) -> None:
    h = load_history(warehouse, 1, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert (h["from"], h["to"]) == ("2025-03-09T02:55:00Z", "2025-03-09T03:55:00Z")
    prices = [p for p in h["points"] if p["k"] == "price"]
    assert {p["location"] for p in prices} == {"WESTERN HUB", "INDIANA.HUB"}  # hubs the page shows, not nodes
    assert len(prices) == 2 * 13 and all(h["from"] <= p["t"] <= h["to"] for p in prices)
    loads = [p for p in h["points"] if p["k"] == "load"]
    assert [p["v"] for p in loads][-1] == 90047
    spreads = [p for p in h["points"] if p["k"] == "spread"]
    assert {p["v"] for p in spreads} == {5.0}
    assert spreads[0]["pair"] == ["PJM", "WESTERN HUB", "MISO", "INDIANA.HUB"]
    assert len(h["volatility"]) == 13 and h["volatility"][-1]["vol_abs"] == 47.5


def test_history_never_reaches_past_now(warehouse: Path) -> None:
    h = load_history(warehouse, 2, now=datetime(2025, 3, 9, 1, 0, tzinfo=UTC))
    assert h["to"] == "2025-03-09T01:00:00Z"
    assert max(p["t"] for p in h["points"]) == "2025-03-09T01:00:00Z"


def test_no_or_empty_warehouse_is_an_empty_answer(tmp_path: Path) -> None:
    assert load_history(tmp_path / "absent.duckdb", 6)["points"] == []
    import duckdb

    duckdb.connect(str(tmp_path / "bare.duckdb")).close()
    bare = load_history(tmp_path / "bare.duckdb", 6)
    assert bare["points"] == [] and "no tables" in bare["note"]


def test_headline_hubs_are_all_in_the_history_query() -> None:
    from feed.history import hubs_shown

    assert set(headline_hubs().items()) <= set(hubs_shown())

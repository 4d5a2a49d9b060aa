"""The "Price vs context" panel's data: enriched_prices read from the warehouse's own schema
(batch/sql/schema.sql), unknown (NULL) values and missing hours as null, never zero."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from feed.app import make_app, warehouse_history
from feed.enrichment import COLUMNS, load_enrichment
from feed.live import LiveFeed, headline_hubs

T = datetime(2025, 7, 1, 0, 0)  # naive UTC, as the warehouse stores it
HUB = "WESTERN HUB"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _row(t: datetime, k: int) -> list[Any]:
    outage = None if 5 <= k <= 8 else 1000.0 + 10 * k  # no outage report for hours 5..8
    temp = None if k == 10 else 20.0 + k / 2
    customers = 120 + k if k >= 20 else None
    return [
        "PJM", HUB, "WEST", t, t.date(), 30.0 + k, 90000.0 + k, outage, None if outage is None else "zone",
        customers, temp, 12.5, 3.0,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from batch.warehouse import DuckDBExecutor, ensure_schema

    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    ex = DuckDBExecutor(path)
    ensure_schema(ex)
    insert = f"INSERT INTO enriched_prices VALUES ({', '.join('?' * 13)})"
    for k in range(30):
        if k == 15:
            continue  # an hour with no row at all
        ex.con.execute(insert, _row(T + timedelta(hours=k), k))
    unpriced = _row(T + timedelta(hours=30), 30)
    ex.con.execute(insert, [*unpriced[:5], None, *unpriced[6:]])  # context but no price yet: not shown
    # Another hub of PJM whose zone had no outage report all day; another ISO with nothing.
    for k in range(6):
        row = _row(T + timedelta(hours=k), 5)
        ex.con.execute(insert, [row[0], "EASTERN HUB", "EAST", *row[3:]])
    ex.close()
    return path


def test_the_last_hours_with_unknowns_as_null(warehouse: Path) -> None:
    d = load_enrichment(warehouse, "PJM", HUB, 24, now=NOW)
    assert (d["iso"], d["hub"], d["zone"]) == ("PJM", HUB, "WEST")
    assert (d["from"], d["to"]) == ("2025-07-01T06:00:00Z", "2025-07-02T06:00:00Z")  # ends at the newest hour
    assert d["t"][0] == "2025-07-01T06:00:00Z" and d["t"][-1] == "2025-07-02T05:00:00Z"
    assert all(len(v) == 24 for v in d["series"].values()) and set(d["series"]) == set(COLUMNS)
    s = d["series"]
    at = {t: k + 6 for k, t in enumerate(d["t"])}  # hour index of T
    for t, k in at.items():
        i = d["t"].index(t)
        if k == 15:  # no row: every column unknown
            assert all(s[c][i] is None for c in COLUMNS), t
            continue
        assert s["lmp"][i] == 30.0 + k
        assert s["outage_mw"][i] == (None if 5 <= k <= 8 else 1000.0 + 10 * k)
        assert s["temperature_c"][i] == (None if k == 10 else 20.0 + k / 2)
        assert s["customers_out"][i] == (120 + k if k >= 20 else None)
    assert 0 not in s["outage_mw"] and 0 not in s["customers_out"]
    assert d["known"]["lmp"] == 23 and d["known"]["outage_mw"] == 23 - 3 and d["known"]["customers_out"] == 10


def test_a_range_with_no_outage_report_is_all_null(warehouse: Path) -> None:
    d = load_enrichment(warehouse, "PJM", "EASTERN HUB", 48, now=NOW)
    assert len(d["t"]) == 6 and d["known"]["outage_mw"] == 0 and d["known"]["lmp"] == 6
    assert d["series"]["outage_mw"] == [None] * 6


def test_never_past_the_current_hour(warehouse: Path) -> None:
    d = load_enrichment(warehouse, "PJM", HUB, 6, now=datetime(2025, 7, 1, 9, 30, tzinfo=UTC))
    assert d["to"] == "2025-07-01T10:00:00Z" and d["t"][-1] == "2025-07-01T09:00:00Z"


def test_nothing_to_show_is_an_empty_answer_with_a_note(warehouse: Path, tmp_path: Path) -> None:
    none = load_enrichment(warehouse, "SPP", "", 24, now=NOW)
    assert none["t"] == [] and none["hub"] == headline_hubs()["SPP"] and "no enriched prices" in none["note"]
    assert load_enrichment(tmp_path / "absent.duckdb", "PJM", HUB)["t"] == []
    import duckdb

    duckdb.connect(str(tmp_path / "bare.duckdb")).close()
    assert "no enriched_prices" in load_enrichment(tmp_path / "bare.duckdb", "PJM", HUB)["note"]


def test_the_api_answers_from_the_warehouse_and_refuses_unknown_hubs(warehouse: Path) -> None:
    async def main() -> None:
        client = TestClient(TestServer(make_app(LiveFeed(), warehouse_history(warehouse))))
        await client.start_server()
        try:
            resp = await client.get("/api/enrichment", params={"iso": "PJM", "hub": HUB, "hours": "72"})
            d = await resp.json()
            assert resp.status == 200 and len(d["t"]) == 30 and d["series"]["outage_mw"][5] is None
            default = await (await client.get("/api/enrichment?iso=pjm")).json()
            assert default["hub"] == headline_hubs()["PJM"] and HUB in default["hubs"]
            for bad in ("iso=NOPE", "iso=PJM&hub=NODE%20X", "iso=PJM&hours=lots"):
                assert (await client.get(f"/api/enrichment?{bad}")).status == 400, bad
        finally:
            await client.close()
        bare = TestClient(TestServer(make_app(LiveFeed(), None)))
        await bare.start_server()
        try:
            d = await (await bare.get("/api/enrichment?iso=PJM")).json()
            assert d["t"] == [] and d["note"]
        finally:
            await bare.close()

    asyncio.run(main())


def test_the_query_pack_reader_gives_the_same_answer(warehouse: Path) -> None:
    """batch/queries price_vs_outages + price_vs_temperature, merged, answer as the plain SQL does."""
    from app.local.feed_service import querypack_rows

    for hub, hours in ((HUB, 24), (HUB, 72), ("EASTERN HUB", 48)):
        plain = load_enrichment(warehouse, "PJM", hub, hours, now=NOW)
        via_pack = load_enrichment(warehouse, "PJM", hub, hours, now=NOW, read=querypack_rows)
        assert via_pack == plain and plain["t"], (hub, hours)

"""The contract holes of the warehouse SQL (batch/contract_sql.py): every column list, type and
key a record contract defines is rendered from it, so a field change reaches every table,
staging split, MERGE and typed stream view that holds the contract's records."""

from __future__ import annotations

import dataclasses

import pytest
import sqlglot
from sqlglot import exp

from batch import contract_sql
from batch.contract_sql import SHAPES
from gridtape.contract import TICK, Field


def test_every_string_field_of_the_warehouse_contracts_has_a_width() -> None:
    for shape in SHAPES.values():
        for f in shape.contract.fields:
            if f.kind == "string":
                assert f.name in contract_sql.WIDTHS, (shape.contract.name, f.name)


def test_a_new_contract_field_reaches_the_table_its_upsert_and_its_typed_view() -> None:
    gust = Field("gust_mps", "float", True, "wind gust, m/s")
    weather = SHAPES["weather_obs"]
    grown = dataclasses.replace(
        weather,
        contract=dataclasses.replace(weather.contract, fields=(*weather.contract.fields, gust)),
        columns=(*weather.columns, gust.name),
    )
    names = {"weather_obs": grown}
    (create,) = sqlglot.parse(
        contract_sql.render("CREATE TABLE weather_obs (\n    {weather_obs.definitions}\n);", names), read="redshift"
    )
    assert isinstance(create, exp.Create)
    assert create.this.expressions[-2].sql("redshift") == "gust_mps DOUBLE PRECISION"
    upsert = sqlglot.parse(contract_sql.render("{weather_obs.upsert}", names), read="redshift")
    merge = next(s for s in upsert if isinstance(s, exp.Merge))
    assert "gust_mps = stg_weather_obs.gust_mps" in merge.sql("redshift")
    assert "INSERT (station, observed_at, temperature_c" in merge.sql("redshift")
    assert merge.sql("redshift").endswith("stg_weather_obs.revision, stg_weather_obs.gust_mps)")
    casts = contract_sql.render("SELECT\n    {weather_obs.casts}\nFROM s", names)
    assert "CAST(payload.gust_mps AS DOUBLE PRECISION) AS gust_mps" in casts


def test_the_tick_facts_split_the_tick_by_dataset() -> None:
    prices, load = SHAPES["prices"], SHAPES["load_mw"]
    assert set(prices.columns) | set(load.columns) == {*TICK.names, "trade_date"} - {"dataset"}
    assert set(prices.columns) & set(load.columns) == set(TICK.names) - {
        "dataset",
        "lmp",
        "energy",
        "congestion",
        "loss",
        "load_mw",
    } | {"trade_date"}
    assert prices.not_null("lmp") and not prices.not_null("energy") and load.not_null("load_mw")
    assert prices.key == load.key == ("iso", "market", "location", "interval_start")


def test_typed_casts_read_wire_times_as_text_first() -> None:
    tick = SHAPES["tick"]
    rendered = contract_sql.render("SELECT\n        {tick.casts}\nFROM t WHERE {tick.required}")
    assert "        CAST(CAST(payload.interval_start AS VARCHAR(32)) AS TIMESTAMP) AS interval_start,\n" in rendered
    assert "        CAST(payload.location AS VARCHAR(128)) AS location,\n" in rendered
    assert rendered.endswith(
        "WHERE " + " AND ".join(f"{f.name} IS NOT NULL" for f in tick.contract.fields if not f.nullable)
    )


def test_holes_are_filled_outside_comments_and_unknown_ones_raise() -> None:
    text = "-- {prices.columns} stays as written\nSELECT {prices.columns} FROM {fact}"
    assert contract_sql.render(text, {"prices": SHAPES["prices"], "fact": "prices"}) == (
        "-- {prices.columns} stays as written\nSELECT " + ", ".join(SHAPES["prices"].columns) + " FROM prices"
    )
    for bad in ("{nope.columns}", "{prices.nope}", "{fact.columns}"):
        with pytest.raises(ValueError, match="unknown SQL hole"):
            contract_sql.render(bad, {"prices": SHAPES["prices"], "fact": "prices"})
    with pytest.raises(ValueError, match="no staging table"):
        contract_sql.render("{volatility.upsert}")

"""The query pack's enrichment queries on the known ERCOT day of tests/batch/test_context.py."""

from __future__ import annotations

from typing import Any

import pytest

from batch import context
from batch import querypack as qp
from tests.batch.test_context import BUCKET, DAY, ex, landed  # noqa: F401  (ex: the fixture)

RANGE = {"iso": "ERCOT", "hub": "HB_HOUSTON", "until": "2026-06-11T09:00:00Z", "hours": "4"}


def test_price_vs_outages(ex: Any) -> None:  # noqa: F811
    context.load_context(ex, BUCKET, DAY, ["ERCOT"], s3=landed())
    rows = qp.run(ex, "price_vs_outages", RANGE, source="nightly")
    assert [c for c, _ in qp.load("price_vs_outages").columns] == list(rows[0])
    assert len(rows) == 1  # only the hour with a price: 05:00 (06..08 have none)
    (r,) = rows
    assert (r["lmp"], r["outage_mw"], r["outage_scope"], r["customers_out"]) == (
        pytest.approx(30.0), pytest.approx(1500.0), "system", 35
    )  # fmt: skip


def test_price_vs_temperature_keeps_unknown_as_null(ex: Any) -> None:  # noqa: F811
    context.load_context(ex, BUCKET, DAY, ["ERCOT"], s3=landed())
    (r,) = qp.run(ex, "price_vs_temperature", RANGE, source="nightly")
    assert list(r) == [c for c, _ in qp.load("price_vs_temperature").columns]
    assert r["load_mw"] == pytest.approx(150.0) and r["temperature_c"] == pytest.approx(26.0)
    assert r["dew_point_c"] == pytest.approx(10.0) and r["wind_mps"] == pytest.approx(4.0)

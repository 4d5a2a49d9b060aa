"""Contract records for the feed tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gridtape import contract
from tests.batch import conftest

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SOURCE = "https://example.invalid/feed-test"


def tick(
    iso: str, location: str, value: float, i: int = 0, *, dataset: str = "lmp", market: str = "RT5", **kw: Any
) -> dict[str, Any]:
    """The i-th interval after T0 at a location (lmp or load), revision 0 unless told, validated
    (keywords: tests.batch.conftest.tick's)."""
    start = T0 + (timedelta(hours=i) if market == "RTH" else timedelta(minutes=5 * i))
    kw.setdefault("revision", 0)
    return contract.validate(conftest.tick(iso, dataset, location, start, value, market=market, source=SOURCE, **kw))


def volatility(iso: str, location: str, vol_abs: float | None, i: int = 0, minutes: int = 60) -> dict[str, Any]:
    end = T0 + timedelta(minutes=5 * i)
    record = {
        "iso": iso,
        "market": "RT5",
        "location": location,
        "window_start": contract.format_ts(end - timedelta(minutes=minutes)),
        "window_end": contract.format_ts(end),
        "window_minutes": minutes,
        "slide_minutes": 5,
        "n": 12,
        "n_nonpositive": 0,
        "price_first": 30.0,
        "price_last": 31.0,
        "price_min": 29.0,
        "price_max": 33.0,
        "price_mean": 31.0,
        "vol_log": 0.05 if vol_abs is not None else None,
        "vol_abs": vol_abs,
        "computed_at": contract.format_ts(end + timedelta(minutes=15, seconds=i)),
    }
    return contract.validate(record, contract.VOLATILITY)

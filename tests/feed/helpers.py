"""Contract records for the feed tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gridtape import contract

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def tick(
    iso: str,
    location: str,
    value: float,
    i: int = 0,
    *,
    dataset: str = "lmp",
    market: str = "RT5",
    revision: int | None = 0,
    ingested: datetime | None = None,
    location_type: str = "hub",
) -> dict[str, Any]:
    """The i-th 5-minute interval after T0 at a location (lmp or load)."""
    start = T0 + timedelta(minutes=5 * i)
    minutes = 60 if market == "RTH" else 15 if market == "RT15" else 5
    if market == "RTH":
        start = T0 + timedelta(hours=i)
    published = start + timedelta(minutes=minutes + 1)
    return contract.validate(
        contract.tick(
            iso=iso,
            market=market,
            dataset=dataset,
            location=location,
            location_type=location_type,
            interval_start=start,
            interval_end=start + timedelta(minutes=minutes),
            lmp=value if dataset == "lmp" else None,
            load_mw=value if dataset == "load" else None,
            published_at=published,
            ingested_at=ingested or published + timedelta(seconds=20),
            source="https://example.invalid/feed-test",
            revision=revision,
        )
    )


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

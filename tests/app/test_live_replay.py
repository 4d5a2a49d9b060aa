"""The demo's live replay: recorded hub prices restamped to now, as valid ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.live_replay import replay_ticks, series_from_warehouse
from gridtape import contract, isos

T0 = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


def rows() -> list[dict[str, object]]:
    out = []
    for i, price in enumerate((30.0, 31.5, -4.0)):
        start = T0 + timedelta(minutes=5 * i)
        out.append(dict(iso="PJM", market="RT5", location="WESTERN HUB", interval_start=start, lmp=price,
                        energy=price, congestion=0.0, loss=0.0))  # fmt: skip
        out.append(dict(iso="PJM", market="RT5", location="some node", interval_start=start, lmp=1.0,
                        energy=None, congestion=None, loss=None))  # fmt: skip
    return out


def test_only_tracked_hubs_replay_in_interval_order_and_cycle() -> None:
    (series,) = series_from_warehouse(list(reversed(rows())))
    assert (series.iso, series.location) == ("PJM", "WESTERN HUB")
    assert "WESTERN HUB" in isos.get("PJM").hubs
    assert [next(series.prices)[0] for _ in range(4)] == [30.0, 31.5, -4.0, 30.0]


def test_replayed_ticks_are_valid_contract_ticks_stamped_now() -> None:
    series = series_from_warehouse(rows())
    now = datetime.now(UTC).replace(microsecond=0)
    start = now.replace(second=0) - timedelta(minutes=now.minute % 5 + 5)
    (tick,) = replay_ticks(series, start, revision=3, now=now)
    assert contract.validate(tick) is tick
    assert tick["interval_start"] == contract.format_ts(start)
    assert tick["revision"] == 3 and tick["lmp"] == 30.0
    assert contract.parse_ts(tick["published_at"]) == now

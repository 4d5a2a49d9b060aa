"""The published-state store against the emulator's DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gridtape import contract
from producers.state import StateStore, content_hash, item_key
from tests.producers.conftest import Resources

T0 = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)


def tick(location: str = "HUB", minute: int = 0, lmp: float = 30.0, **kw: Any) -> dict[str, Any]:
    start = T0 + timedelta(minutes=minute)
    return contract.tick(
        iso=kw.pop("iso", "CAISO"),
        market="RT5",
        dataset="lmp",
        location=location,
        location_type="hub",
        interval_start=start,
        interval_end=start + timedelta(minutes=5),
        published_at=kw.pop("published_at", start),
        ingested_at=kw.pop("ingested_at", start),
        source="https://iso.example/x",
        lmp=lmp,
        **kw,
    )


def test_hash_covers_values_not_times_or_representation() -> None:
    a = tick(lmp=25)
    assert content_hash(a) == content_hash(tick(lmp=25.0, ingested_at=T0 + timedelta(hours=1)))
    assert content_hash(a) != content_hash(tick(lmp=25.01))
    assert content_hash(a) != content_hash(tick(lmp=25, congestion=0.0))  # null vs 0 differ
    assert content_hash(tick(lmp=-3.5)) != content_hash(tick(lmp=3.5))


def test_item_key_is_per_iso_and_dataset() -> None:
    k = item_key(tick("TH_NP15", 5))
    assert k == {"pk": {"S": "tick#CAISO#lmp"}, "sk": {"S": "RT5#TH_NP15#2025-06-10T18:05:00Z"}}


def test_round_trip_more_than_one_batch(resources: Resources) -> None:
    store = StateStore(resources.table, resources.dynamodb, wall_clock=lambda: 1_750_000_000.0)
    ticks = [tick(f"N{i}", m) for i in range(30) for m in (0, 5, 10, 15)]  # 120 > 100 per BatchGetItem
    assert store.published_hashes(ticks) == {}
    assert store.mark_published(ticks[:70]) == 70
    seen = store.published_hashes(ticks)
    assert len(seen) == 70
    assert seen[contract.natural_key(ticks[0])] == content_hash(ticks[0])
    item = resources.dynamodb.get_item(TableName=resources.table, Key=item_key(ticks[0]))["Item"]
    assert int(item["expires_at"]["N"]) == 1_750_000_000 + 14 * 24 * 3600


def test_isos_do_not_share_state(resources: Resources) -> None:
    store = StateStore(resources.table, resources.dynamodb)
    store.mark_published([tick(iso="CAISO")])
    assert store.published_hashes([tick(iso="SPP")]) == {}


def test_lease_is_exclusive_until_released_or_expired(resources: Resources) -> None:
    clock = [1_000_000.0]
    store = StateStore(resources.table, resources.dynamodb, wall_clock=lambda: clock[0])
    token = store.acquire_lease("CAISO", "lmp", seconds=300)
    assert token
    assert store.acquire_lease("CAISO", "lmp") is None  # a second poller is kept out
    assert store.acquire_lease("CAISO", "load")  # other datasets are independent
    store.release_lease("CAISO", "lmp", "not-the-owner")  # only the owner can release
    assert store.acquire_lease("CAISO", "lmp") is None
    store.release_lease("CAISO", "lmp", token)
    again = store.acquire_lease("CAISO", "lmp", seconds=300)
    assert again
    clock[0] += 301  # a crashed holder's lease runs out
    assert store.acquire_lease("CAISO", "lmp")

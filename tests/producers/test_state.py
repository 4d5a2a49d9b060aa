"""The published-state store against the emulator's DynamoDB."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridtape import contract
from producers.state import LeaseLost, Outcome, Published, StateStore, content_hash, item_key
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
    ticks = [tick(f"N{i}", m, revision=i % 3) for i in range(30) for m in (0, 5, 10, 15)]  # 120 > 100 a batch
    lease = store.acquire_lease("CAISO", "lmp")
    assert lease is not None
    assert store.published(ticks) == {}
    assert store.mark_published(ticks[:110], lease) == 110  # more than one transaction
    seen = store.published(ticks)
    assert len(seen) == 110
    assert seen[contract.natural_key(ticks[0])] == Published(content_hash(ticks[0]), 0)
    assert seen[contract.natural_key(ticks[101])] == Published(content_hash(ticks[101]), ticks[101]["revision"])
    item = resources.dynamodb.get_item(TableName=resources.table, Key=item_key(ticks[0]))["Item"]
    assert int(item["expires_at"]["N"]) == 1_750_000_000 + 14 * 24 * 3600


def test_isos_do_not_share_state(resources: Resources) -> None:
    store = StateStore(resources.table, resources.dynamodb)
    lease = store.acquire_lease("CAISO", "lmp")
    assert lease is not None
    store.mark_published([tick(iso="CAISO")], lease)
    assert store.published([tick(iso="SPP")]) == {}


def test_lease_is_exclusive_until_released_or_expired(resources: Resources) -> None:
    clock = [1_000_000.0]
    store = StateStore(resources.table, resources.dynamodb, wall_clock=lambda: clock[0])
    token = store.acquire_lease("CAISO", "lmp", seconds=300)
    assert token
    assert store.acquire_lease("CAISO", "lmp") is None  # a second poller is kept out
    assert store.acquire_lease("CAISO", "load")  # other datasets are independent
    store.release_lease(dataclasses.replace(token, fence=token.fence - 1))  # only the holder can release
    assert store.acquire_lease("CAISO", "lmp") is None
    store.release_lease(token)
    again = store.acquire_lease("CAISO", "lmp", seconds=300)
    assert again
    clock[0] += 301  # a crashed holder's lease runs out
    assert store.acquire_lease("CAISO", "lmp")


def test_expired_holder_cannot_mark_or_record(resources: Resources) -> None:
    """The fencing token: once a second poller takes an expired lease, every write of the first
    is refused, whatever it tries, and the second one's go through."""
    clock = [1_000_000.0]
    store = StateStore(resources.table, resources.dynamodb, wall_clock=lambda: clock[0], sleep=lambda _s: None)
    first = store.acquire_lease("CAISO", "lmp", seconds=90)
    assert first is not None
    store.mark_published([tick("A")], first)  # while it holds the lease, it may write
    clock[0] += 91  # it stalls past its lease; another poller takes over
    second = store.acquire_lease("CAISO", "lmp")
    assert second is not None and second.fence > first.fence
    for write in (
        lambda: store.mark_published([tick("B"), tick("C")], first),
        lambda: store.mark_published([tick(f"N{i}") for i in range(150)], first),  # several transactions
        lambda: store.record(first, Outcome("published", cursor="2025-06-10T18:05:00Z")),
    ):
        with pytest.raises(LeaseLost):
            write()
    store.release_lease(first)  # a no-op: the lease is the second's
    assert store.acquire_lease("CAISO", "lmp") is None
    assert set(store.published([tick("A"), tick("B"), tick("C"), tick("N0")])) == {contract.natural_key(tick("A"))}
    store.mark_published([tick("B")], second)
    store.record(second, Outcome("published", cursor="2025-06-10T18:10:00Z"))
    [feed] = store.feeds([("CAISO", "lmp")])
    assert feed.cursor == "2025-06-10T18:10:00Z" and feed.last_status == "published"


def test_a_released_lease_keeps_counting_fences(resources: Resources) -> None:
    """Release never deletes the feed item: a restarted counter would hand an old holder's
    token to a new one."""
    store = StateStore(resources.table, resources.dynamodb)
    fences = []
    for _ in range(3):
        lease = store.acquire_lease("SPP", "load")
        assert lease is not None
        fences.append(lease.fence)
        store.release_lease(lease)
    assert fences == sorted(set(fences))


def test_cursor_only_moves_forward_and_counts_add_up(resources: Resources) -> None:
    store = StateStore(resources.table, resources.dynamodb)
    steps = [
        Outcome("published", cursor="2025-06-10T18:10:00Z", rows_quarantined=2),
        Outcome("published", cursor="2025-06-10T18:05:00Z"),  # an older poll replayed late
        Outcome("failed", error="HTTP 503", responses_quarantined=1, cursor=None),
        Outcome("nothing_new", cursor="2025-06-10T18:10:00Z", rows_quarantined=1),
    ]
    cursors = []
    for outcome in steps:
        lease = store.acquire_lease("SPP", "lmp")
        assert lease is not None
        store.record(lease, outcome)
        store.release_lease(lease)
        cursors.append(store.feeds([("SPP", "lmp")])[0].cursor)
    assert cursors == ["2025-06-10T18:10:00Z"] * 4
    [feed, never] = store.feeds([("SPP", "lmp"), ("SPP", "load")])
    assert (feed.last_status, feed.last_error, feed.rows_quarantined, feed.responses_quarantined) == (
        "nothing_new",
        "HTTP 503",  # the last error stays until another one replaces it
        3,
        1,
    )
    assert never.cursor is None and never.last_status is None


def test_validators_are_kept_per_feed_replaced_by_each_good_poll_and_handed_to_the_next_lease(
    resources: Resources,
) -> None:
    store = StateStore(resources.table, resources.dynamodb)
    steps = [
        Outcome("published", validators={"u1": ('"a"', None), "u2": (None, "Tue, 10 Jun 2025 18:40:00 GMT")}),
        Outcome("failed", error="HTTP 503"),  # a failed poll leaves the last good ones
        Outcome("not_modified", validators={"u1": ('"b"', None)}),  # this poll's URLs only
    ]
    seen = []
    for outcome in steps:
        lease = store.acquire_lease("SPP", "lmp")
        assert lease is not None
        seen.append(dict(lease.feed.validators))
        store.record(lease, outcome)
    lease = store.acquire_lease("SPP", "lmp")
    assert lease is not None
    seen.append(dict(lease.feed.validators))
    first = {"u1": ('"a"', None), "u2": (None, "Tue, 10 Jun 2025 18:40:00 GMT")}
    assert seen == [{}, first, first, {"u1": ('"b"', None)}]
    assert store.feeds([("SPP", "load")])[0].validators == {}  # per feed

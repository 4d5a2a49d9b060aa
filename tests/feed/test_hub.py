"""The SSE hub: a reconnect replays exactly what was missed, or gets a snapshot when it cannot."""

from __future__ import annotations

import asyncio
import json

from feed.hub import SNAPSHOT, Hub


def ids(events: list) -> list[str]:
    return [e.id for e in events]


def test_wire_format() -> None:
    event = Hub(epoch="e").publish("ticks", [{"v": 1}])
    assert event.encode() == b'id: e-1\nevent: ticks\ndata: [{"v":1}]\n\n'


def test_replay_after_any_kept_id_is_exactly_the_rest() -> None:
    hub = Hub(epoch="e", keep=10)
    published = [hub.publish("ticks", i) for i in range(25)]  # ids e-1 .. e-25, keeps e-16 .. e-25
    for seq in range(15, 26):
        assert ids(hub.replay(f"e-{seq}") or []) == [e.id for e in published[seq:]]
    for gone in ("e-1", "e-14"):
        assert hub.replay(gone) is None  # older than what is kept: a gap, so a snapshot instead


def test_foreign_unknown_or_missing_ids_get_a_snapshot() -> None:
    hub = Hub(lambda: {"state": 42}, epoch="now")
    hub.publish("ticks", 1)
    for last in (None, "", "before-1", "now-7", "now-x", "garbage"):
        assert hub.replay(last) is None
        events, sub = hub.open(last)
        assert [e.type for e in events] == [SNAPSHOT]
        assert json.loads(events[0].data) == {"epoch": "now", "state": 42}
        assert events[0].id == "now-1"  # reconnecting with it resumes after the snapshot
        sub.close()
    assert hub.subscribers == 0


def test_subscribers_get_every_later_event_and_slow_ones_are_dropped() -> None:
    async def scenario() -> None:
        hub = Hub(epoch="e", queue_size=3)
        _, fast = hub.open("e-0")
        _, slow = hub.open("e-0")
        got = []
        for i in range(5):
            hub.publish("ticks", i)
            got.append(await fast.next())
        assert [e.data for e in got if e] == ["0", "1", "2", "3", "4"]
        assert slow.dropped and await slow.next() is None
        assert hub.subscribers == 1
        # The dropped reader reconnects with the last id it saw and misses nothing.
        assert ids(hub.replay("e-2") or []) == ["e-3", "e-4", "e-5"]
        hub.close_all()
        assert await fast.next() is None

    asyncio.run(scenario())

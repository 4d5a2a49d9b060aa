"""The fan-out hub: every update gets an event id, the recent ones are kept, and each browser
connection has its own bounded queue.

Event ids are "<epoch>-<seq>": the epoch names this process, so after the feed restarts a
browser's Last-Event-ID (from the old process) is recognised as foreign and the browser gets a
fresh snapshot instead of a silent gap. A reconnect within the same process replays exactly
the events after its Last-Event-ID while they are still kept; an id older than the buffer also
gets a snapshot. A browser that cannot keep up (its queue is full) is disconnected: it
reconnects with its Last-Event-ID and catches up from the buffer, so one slow reader never
holds up the feed or grows memory.

The hub lives on one asyncio loop; publish() must be called on that loop (the KCL driver's
thread hands records over with loop.call_soon_threadsafe).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SNAPSHOT = "snapshot"
_CLOSED: Any = object()  # queue sentinel: the subscriber was dropped


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    data: str  # JSON

    def encode(self) -> bytes:
        """The event in the text/event-stream wire format."""
        return f"id: {self.id}\nevent: {self.type}\ndata: {self.data}\n\n".encode()


class Subscription:
    def __init__(self, hub: Hub, size: int) -> None:
        self.hub = hub
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=size)
        self.dropped = False

    async def next(self) -> Event | None:
        """The next event, or None once the hub dropped this subscriber."""
        item = await self.queue.get()
        return None if item is _CLOSED else item

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    def __init__(
        self,
        snapshot: Callable[[], dict[str, Any]] = dict,
        *,
        keep: int = 5000,
        queue_size: int = 2000,
        epoch: str | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.epoch = epoch or format(time.time_ns() // 1000, "x")
        self.queue_size = queue_size
        self._seq = itertools.count(1)
        self._last = 0
        self._kept: deque[tuple[int, Event]] = deque(maxlen=keep)
        self._subs: set[Subscription] = set()

    @property
    def last_id(self) -> str:
        return f"{self.epoch}-{self._last}"

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def publish(self, type_: str, payload: Any) -> Event:
        seq = next(self._seq)
        event = Event(f"{self.epoch}-{seq}", type_, json.dumps(payload, separators=(",", ":")))
        self._last = seq
        self._kept.append((seq, event))
        for sub in list(self._subs):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._drop(sub)
        return event

    def _drop(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        sub.dropped = True
        while not sub.queue.empty():  # make room for the sentinel; the reader reconnects and replays
            sub.queue.get_nowait()
        sub.queue.put_nowait(_CLOSED)

    def replay(self, last_event_id: str | None) -> list[Event] | None:
        """The kept events after last_event_id, or None when they cannot be replayed without a
        gap (no id, another process's id, or older than what is kept): send a snapshot."""
        if not last_event_id:
            return None
        epoch, _, seq_text = last_event_id.rpartition("-")
        if epoch != self.epoch or not seq_text.isdigit():
            return None
        seq = int(seq_text)
        if seq > self._last:
            return None
        oldest = self._kept[0][0] if self._kept else self._last + 1
        if seq + 1 < oldest:
            return None
        return [event for s, event in self._kept if s > seq]

    def open(self, last_event_id: str | None = None) -> tuple[list[Event], Subscription]:
        """Start a connection: what to send first, then the subscription for what follows. Both
        are taken without yielding to the loop, so nothing published in between is lost."""
        sub = Subscription(self, self.queue_size)
        self._subs.add(sub)
        events = self.replay(last_event_id)
        if events is None:
            payload = {"epoch": self.epoch, **self.snapshot()}
            events = [Event(self.last_id, SNAPSHOT, json.dumps(payload, separators=(",", ":")))]
        return events, sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def close_all(self) -> None:
        """End every connection (the app is shutting down; browsers reconnect to the next one)."""
        for sub in list(self._subs):
            self._drop(sub)

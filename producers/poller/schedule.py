"""One ISO's feeds polled on their rhythm (producers.rhythm): fast with conditional GETs while a
feed's next interval is due, idle otherwise.

run_window() polls whatever is due until a monotonic end: the Lambda calls it with the end of
its minute (the next scheduled invocation carries on; a warm container keeps the schedule),
`gridtape poll` with no end, one thread per ISO (each ISO has its own rate limiter, so a slow
one never holds up another). The fenced lease still keeps two pollers off one feed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Final

from gridtape import isos
from producers import rhythm
from producers.poller.once import PollSummary

# A poll after the first of a window starts only with this much of the window left, so it
# ends inside the Lambda's timeout instead of being cut off by the budget mid-way.
MIN_POLL_S: Final = 15.0

PollFeed = Callable[[str, datetime, float], PollSummary]  # (feed name, now, monotonic deadline)


class IsoSchedule:
    """When each feed of one ISO is to be polled next (a cold schedule: every feed at once)."""

    def __init__(self, iso: str, names: tuple[str, ...]) -> None:
        self.iso = isos.get(iso)
        self.next_poll: dict[str, datetime | None] = dict.fromkeys(names)
        self.beats: dict[str, rhythm.Beat] = {}

    def due(self, now: datetime) -> list[str]:
        """Feeds whose poll time has come, the longest waiting first."""
        waiting = [(t or now, n) for n, t in self.next_poll.items() if t is None or t <= now]
        return [n for _, n in sorted(waiting)]

    def next_at(self, now: datetime) -> datetime:
        return min((t or now for t in self.next_poll.values()), default=now + rhythm.SLOW)

    def after(self, s: PollSummary, now: datetime, requests: int = 1) -> rhythm.Beat:
        """Reschedule the feed polled by `s`, from its cursor as the poll left it."""
        beat = rhythm.beat(self.iso, s.dataset, s.cursor, now, max(1, requests))
        if s.failed:  # the fetch layer already retried; a failing feed is not polled fast
            beat = rhythm.Beat(beat.due, False, max(beat.next_poll, now + rhythm.SLOW))
        self.beats[s.dataset] = beat
        self.next_poll[s.dataset] = beat.next_poll
        return beat


def run_window(
    schedule: IsoSchedule,
    poll_feed: PollFeed,
    *,
    clock: Callable[[], datetime],
    wait: Callable[[float], bool],
    end: float | None,
    budget_s: float,
    monotonic: Callable[[], float] = time.monotonic,
    on_poll: Callable[[PollSummary], None] | None = None,
) -> list[PollSummary]:
    """Poll the schedule's due feeds until `end` (monotonic; None: until `wait` returns True,
    i.e. its stop event is set). `wait(seconds)` sleeps on the clock's scale."""
    out: list[PollSummary] = []
    first = True
    while True:
        now = clock()
        names = schedule.due(now)
        for name in names:
            left = None if end is None else end - monotonic()
            if left is not None and not first and left < MIN_POLL_S:
                return out
            first = False
            deadline = monotonic() + (budget_s if left is None else min(budget_s, max(left, MIN_POLL_S)))
            s = poll_feed(name, clock(), deadline)
            schedule.after(s, clock(), s.responses)
            out.append(s)
            if on_poll:
                on_poll(s)
        now = clock()
        delay = max(0.0, (schedule.next_at(now) - now).total_seconds())
        if end is not None and monotonic() + delay > end - MIN_POLL_S:
            return out  # nothing more due in this window: the next invocation carries on
        if wait(delay):
            return out


def run_threads(
    schedules: list[IsoSchedule],
    poll_for: Callable[[str], PollFeed],
    stop: threading.Event,
    *,
    clock: Callable[[], datetime],
    wait: Callable[[threading.Event, float], bool],
    budget_s: float,
    on_poll: Callable[[PollSummary], None] | None = None,
) -> None:
    """Each ISO's schedule in its own thread until `stop` is set."""

    def one(schedule: IsoSchedule) -> None:
        run_window(
            schedule,
            poll_for(schedule.iso.code),
            clock=clock,
            wait=lambda s: wait(stop, s),
            end=None,
            budget_s=budget_s,
            on_poll=on_poll,
        )

    threads = [threading.Thread(target=one, args=(s,), name=f"poll-{s.iso.code}", daemon=True) for s in schedules]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.5)  # short joins: Ctrl-C still reaches the main thread

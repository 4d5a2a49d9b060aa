"""producers.poller.schedule: one ISO's feeds polled on their rhythm within a window (the
Lambda's minute) or until stopped (`gridtape poll`), on a simulated clock."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from gridtape import contract, isos
from producers import rhythm
from producers.poller import schedule
from producers.poller.once import PollSummary

T0 = datetime(2026, 6, 10, 15, 0, 20, tzinfo=UTC)
POLL_S = 0.5  # how long each simulated poll takes


class Sim:
    """A clock, its monotonic twin and a wait that only moves time on."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def mono(self) -> float:
        return self.t

    def wait(self, seconds: float) -> bool:
        self.t += seconds
        return False


def _etiquette(monkeypatch: pytest.MonkeyPatch, code: str, seconds: float) -> isos.Iso:
    row = dataclasses.replace(isos.get(code), min_poll_interval_s=seconds)
    monkeypatch.setitem(isos.BY_CODE, code, row)
    return row


def _run(
    iso: isos.Iso, cursors: dict[str, datetime | None], sched: schedule.IsoSchedule | None = None
) -> tuple[list[tuple[float, str, float]], schedule.IsoSchedule, Sim]:
    sim = Sim()
    polls: list[tuple[float, str, float]] = []  # (when, feed, deadline)
    sched = sched or schedule.IsoSchedule(iso.code, iso.datasets)

    def poll_feed(name: str, now: datetime, deadline: float) -> PollSummary:
        polls.append((sim.t, name, deadline))
        sim.t += POLL_S
        c = cursors[name]
        cursor = None if c is None else contract.format_ts(c)
        return PollSummary(iso.code, name, contract.format_ts(now), "not_modified", cursor=cursor, responses=1)

    out = schedule.run_window(
        sched, poll_feed, clock=sim.now, wait=sim.wait, end=50.0, budget_s=45.0, monotonic=sim.mono
    )
    assert len(out) == len(polls)
    return polls, sched, sim


def _cursors(iso: isos.Iso, lmp_due_in_s: float) -> dict[str, datetime | None]:
    """lmp's next interval due `lmp_due_in_s` from T0; every other feed idle (just published)."""
    out: dict[str, datetime | None] = {}
    for name in iso.datasets:
        if rhythm.day_ahead(iso, name) is not None:  # tomorrow's results are in
            out[name] = datetime.combine(T0.astimezone(iso.tz).date() + timedelta(days=2), datetime.min.time(), iso.tz)
        else:
            f = min(iso.feeds_named(name), key=lambda f: f.minutes)
            lag = timedelta(minutes=f.minutes, seconds=f.lag_s)
            out[name] = T0 + timedelta(seconds=lmp_due_in_s) - lag if name == "lmp" else T0 - timedelta(seconds=30)
    return out


@pytest.mark.parametrize("etiquette", [5.0, 20.0, 60.0])
def test_a_cold_window_polls_every_feed_then_only_the_fast_one_until_the_window_ends(
    monkeypatch: pytest.MonkeyPatch, etiquette: float
) -> None:
    iso = _etiquette(monkeypatch, "SPP", etiquette)
    polls, _sched, _ = _run(iso, _cursors(iso, lmp_due_in_s=10))
    first = [name for _, name, _ in polls[: len(iso.datasets)]]
    assert sorted(first) == sorted(iso.datasets)  # cold: everything at once
    later = polls[len(iso.datasets) :]
    assert {name for _, name, _ in later} <= {"lmp"}  # only the feed whose interval is due
    gap = rhythm.fast_gap(iso).total_seconds()
    times = [t for t, name, _ in polls if name == "lmp"]
    assert all(gap <= b - a <= gap + POLL_S * len(iso.datasets) for a, b in itertools.pairwise(times))
    # as many fast polls as fit, and none starting too late to finish inside the window
    assert all(t <= 50.0 - schedule.MIN_POLL_S for t, _, _ in later)
    assert len(times) >= 1 + int((50.0 - schedule.MIN_POLL_S - len(iso.datasets) * POLL_S) // (gap + POLL_S))
    assert all(deadline <= max(50.0, t + schedule.MIN_POLL_S) for t, _, deadline in later)
    if etiquette >= 60:  # MISO-like etiquette: one poll a minute, never fast
        assert len(times) == 1


def test_a_warm_window_with_nothing_due_returns_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    iso = _etiquette(monkeypatch, "SPP", 5.0)
    cursors = _cursors(iso, lmp_due_in_s=600)  # lmp due in 10 minutes: idle
    _, sched, _ = _run(iso, cursors)
    polls, _, sim = _run(iso, cursors, sched)  # the next invocation, a moment later by its clock
    assert polls == [] and sim.t == 0.0


def test_until_stopped_a_feed_follows_its_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    """`gridtape poll`: no end; fast while an interval is due, idle after it arrived, and each
    interval picked up within one fast gap of being posted (here 15 s later than lag_s says)."""
    iso = _etiquette(monkeypatch, "SPP", 5.0)
    feed = iso.feed("lmp")
    sim = Sim()
    first_end = T0 - timedelta(minutes=feed.minutes, seconds=feed.lag_s) + timedelta(seconds=10)  # next due at T0+10s
    late = timedelta(seconds=15)

    def posted(k: int) -> datetime:  # when the ISO posts the interval ending at first_end + k intervals
        return first_end + timedelta(minutes=feed.minutes * k, seconds=feed.lag_s) + late

    polls: list[datetime] = []

    def poll_feed(name: str, now: datetime, deadline: float) -> PollSummary:
        polls.append(now)
        k = max(k for k in range(0, 50) if k == 0 or posted(k) <= now)
        cursor = contract.format_ts(first_end + timedelta(minutes=feed.minutes * k))
        return PollSummary(iso.code, name, contract.format_ts(now), "nothing_new", cursor=cursor)

    def wait(seconds: float) -> bool:
        sim.wait(seconds)
        return sim.now() > posted(4)  # "Ctrl-C" after four intervals

    schedule.run_window(
        schedule.IsoSchedule(iso.code, ("lmp",)),
        poll_feed,
        clock=sim.now,
        wait=wait,
        end=None,
        budget_s=45.0,
        monotonic=sim.mono,
    )
    gap = rhythm.fast_gap(iso)
    for k in range(1, 4):
        first_after = min(p for p in polls if p >= posted(k))
        assert first_after - posted(k) <= gap
    # idle between intervals: far fewer polls than polling every gap all along
    span = polls[-1] - polls[0]
    assert len(polls) < span / gap / 2

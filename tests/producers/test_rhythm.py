"""producers.rhythm: when each feed's next interval is due and how soon to poll it, for every
ISO and feed of the table (pure: no clock, no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gridtape import contract, isos
from producers import rhythm
from producers.poller import steps

FEEDS = [(iso, name) for iso in isos.TABLE for name in iso.datasets]
REAL_TIME = [(iso, name) for iso, name in FEEDS if rhythm.day_ahead(iso, name) is None]
DAY_AHEAD = [(iso, name) for iso, name in FEEDS if rhythm.day_ahead(iso, name) is not None]
T0 = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def _id(p: tuple[isos.Iso, str]) -> str:
    return f"{p[0].code}-{p[1]}"


@pytest.mark.parametrize("feed", REAL_TIME, ids=_id)
def test_a_real_time_feed_is_fast_from_just_before_due_until_the_cap_then_once_a_minute(
    feed: tuple[isos.Iso, str],
) -> None:
    iso, name = feed
    due = rhythm.due(iso, name, T0)
    assert due is not None and due > T0
    step = timedelta(seconds=1)
    t = T0
    polls: list[tuple[datetime, rhythm.Beat]] = []
    # Walk the feed's clock poll by poll while the next interval never arrives (cursor stays).
    while t < due + rhythm.late_cap(iso, name) + timedelta(minutes=5):
        b = rhythm.beat(iso, name, T0, t)
        assert b.next_poll > t  # never a busy loop
        polls.append((t, b))
        t = b.next_poll
    gap = rhythm.fast_gap(iso)
    for at, b in polls:
        in_window = due - rhythm.LEAD <= at <= due + rhythm.late_cap(iso, name)
        assert b.fast == in_window, (at, b)
        spacing = b.next_poll - at
        if in_window:
            assert spacing == gap  # as fast as the ISO allows, no faster
        elif at < due:
            assert b.next_poll <= due - rhythm.LEAD and spacing <= rhythm.IDLE_MAX  # wakes up in time
        else:
            assert spacing == max(rhythm.SLOW, gap)  # a dead feed: once a minute
    assert polls[-1][1].fast is False
    # No poll lands later than the fast gap after the interval is due (its latency bound).
    after = [at for at, _ in polls if at >= due]
    assert after and after[0] - due <= gap + step


@pytest.mark.parametrize("feed", REAL_TIME, ids=_id)
def test_the_next_interval_arriving_ends_the_fast_window(feed: tuple[isos.Iso, str]) -> None:
    iso, name = feed
    due = rhythm.due(iso, name, T0)
    assert due is not None
    minutes = min(f.minutes for f in iso.feeds_named(name))
    arrived = T0 + timedelta(minutes=minutes)  # the poll at `due` published it: cursor moved on
    b = rhythm.beat(iso, name, arrived, due)
    assert not b.fast and b.due == rhythm.due(iso, name, arrived) and b.due > due
    assert b.next_poll <= b.due - rhythm.LEAD


def test_etiquette_and_rate_limit_bound_the_fast_gap() -> None:
    for iso in isos.TABLE:
        gap = rhythm.fast_gap(iso, requests=3).total_seconds()
        assert gap >= iso.min_poll_interval_s
        assert gap >= 3 / iso.requests_per_second
        assert gap >= rhythm.FAST.total_seconds()
    miso = isos.get("MISO")
    assert miso.min_poll_interval_s >= 60 and not rhythm.can_poll_fast(miso)


def test_no_cursor_means_once_a_minute_not_fast() -> None:
    for iso, name in FEEDS:
        b = rhythm.beat(iso, name, None, T0)
        assert not b.fast and b.next_poll - T0 >= rhythm.SLOW


@pytest.mark.parametrize("feed", DAY_AHEAD, ids=_id)
@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1), date(2026, 7, 15)])  # both DST days
def test_day_ahead_is_fast_around_posts_at_until_tomorrows_results_are_in(
    feed: tuple[isos.Iso, str], day: date
) -> None:
    iso, name = feed
    dam = rhythm.day_ahead(iso, name)
    assert dam is not None and dam.posts_at
    tz = iso.tz
    # Today's results published: the cursor is the end of `day` (its local midnight).
    cursor = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    posted = rhythm.posts_at(dam, tz, day + timedelta(days=1))
    local = posted.astimezone(tz)
    assert local.date() == day and local.strftime("%H:%M") == dam.posts_at
    assert rhythm.due(iso, name, cursor) == posted
    morning = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC) + timedelta(hours=6)
    assert not rhythm.beat(iso, name, cursor, morning).fast
    assert rhythm.beat(iso, name, cursor, posted - rhythm.LEAD + timedelta(seconds=1)).fast
    assert rhythm.beat(iso, name, cursor, posted + timedelta(hours=1)).fast
    # Tomorrow's results in: the cursor is tomorrow's end, and the feed idles until the next day.
    tomorrow_end = datetime.combine(day + timedelta(days=2), datetime.min.time(), tz).astimezone(UTC)
    b = rhythm.beat(iso, name, tomorrow_end, posted + timedelta(minutes=1))
    assert not b.fast and b.due == rhythm.posts_at(dam, tz, day + timedelta(days=2))


@pytest.mark.parametrize("feed", DAY_AHEAD, ids=_id)
def test_day_ahead_staleness_is_tomorrow_missing_after_posts_at_plus_margin(feed: tuple[isos.Iso, str]) -> None:
    iso, name = feed
    dam = rhythm.day_ahead(iso, name)
    assert dam is not None
    day = date(2026, 6, 10)
    tz = iso.tz
    today_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    limit = steps.stale_after(iso.code, name)
    posted = rhythm.posts_at(dam, tz, day + timedelta(days=1))
    cursor = contract.format_ts(today_end)

    def stale(now: datetime) -> bool:
        return (now - today_end) > limit

    assert not stale(posted) and not stale(posted + rhythm.DAM_MARGIN - timedelta(minutes=1))
    assert stale(posted + rhythm.DAM_MARGIN + timedelta(minutes=1))
    # the poll's check agrees: no tick past the margin is an error, before it is not
    assert steps.nothing_tracked(iso.code, name, "u", [], [], may_be_empty=True, cursor=cursor, now=posted) is None
    late = posted + rhythm.DAM_MARGIN + timedelta(minutes=1)
    assert steps.nothing_tracked(iso.code, name, "u", [], [], may_be_empty=True, cursor=cursor, now=late)


def test_real_time_staleness_uses_the_feed_named_not_the_dataset() -> None:
    for iso, name in REAL_TIME:
        minutes = min(f.minutes for f in iso.feeds_named(name))
        assert steps.stale_after(iso.code, name) == max(timedelta(minutes=15), timedelta(minutes=3 * minutes))

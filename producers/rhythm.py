"""Each feed's rhythm: when its next interval is due and how soon to poll it again. Pure: no
clock, no network, no AWS (the poller's scheduler, producers.poller.schedule, asks this).

A real-time feed posts each interval about `lag_s` after it ends, so the next one is due at
cursor + interval + lag_s (the cursor is the end of the newest interval published). The feed
is polled fast (every FAST_S, conditional GETs) from LEAD before it is due until it arrives;
one that is late stays fast up to a cap, then falls back to once a minute (a dead feed costs
little). A day-ahead feed posts the next operating day at `posts_at` (market clock) the day
before: fast around posts_at until tomorrow's results are in. Otherwise the feed idles, with
a heartbeat poll every IDLE_MAX (revisions of past intervals, and the DataAgeSeconds alarm
treats a 5-minute period with no data point as breaching).

The ISO's etiquette always wins: never more often than its min_poll_interval_s (MISO asks for
one request a minute per feed, so MISO cannot poll fast: its feeds reach Kinesis up to a
minute after MISO posts them), nor faster than its rate limit allows for the requests one
poll of the feed makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from gridtape import contract, isos

FAST: Final = timedelta(seconds=5)  # the gap between polls in a fast window
LEAD: Final = timedelta(seconds=30)  # how long before an interval is due polling turns fast
SLOW: Final = timedelta(minutes=1)  # a feed late past its cap: once a minute, as before
IDLE_MAX: Final = timedelta(minutes=4)  # heartbeat while idle (< the data-age alarm's 5-minute period)
# How long a late real-time feed stays fast: one interval, within these bounds.
LATE_CAP_MIN: Final = timedelta(minutes=10)
LATE_CAP_MAX: Final = timedelta(minutes=30)
# Day-ahead results run late some days (a market rerun): fast for this long after posts_at.
DAM_LATE_CAP: Final = timedelta(hours=3)
# Day-ahead results missing this long after posts_at: the feed is stale (alarm, nothing_tracked).
DAM_MARGIN: Final = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Beat:
    """What the rhythm says after a poll: when the feed's next interval (or next operating day)
    is due (None: unknown, no cursor yet), whether the feed is in its fast window, and when to
    poll it next."""

    due: datetime | None
    fast: bool
    next_poll: datetime

    def delay_s(self, now: datetime) -> float:
        return max(0.0, (self.next_poll - now).total_seconds())


def _as_dt(cursor: str | datetime | None) -> datetime | None:
    if cursor is None or isinstance(cursor, datetime):
        return cursor
    return contract.parse_ts(cursor)


def _day_ahead(feeds: tuple[isos.Feed, ...]) -> isos.Feed | None:
    return next((f for f in feeds if f.posts_at), None)


def posts_at(feed: isos.Feed, tz: ZoneInfo, operating_day: date) -> datetime:
    """When the ISO posts `operating_day`'s day-ahead results: posts_at the day before (UTC)."""
    assert feed.posts_at, f"{feed.name} {feed.market} is not a day-ahead feed"
    hh, mm = (int(x) for x in feed.posts_at.split(":"))
    local = datetime.combine(operating_day - timedelta(days=1), time(hh, mm), tz)
    return local.astimezone(UTC)


def due(iso: isos.Iso, name: str, cursor: str | datetime | None) -> datetime | None:
    """When the feed's next interval (day-ahead: the next operating day's results) is due, UTC;
    None without a cursor (nothing published yet: poll at once)."""
    end = _as_dt(cursor)
    if end is None:
        return None
    feeds = iso.feeds_named(name)
    dam = _day_ahead(feeds)
    if dam is not None:
        # The cursor of a day-ahead feed is the end of the newest day published (its last hour).
        last_day = (end - timedelta(seconds=1)).astimezone(iso.tz).date()
        return posts_at(dam, iso.tz, last_day + timedelta(days=1))
    # Several markets under one name (ERCOT's RT5 and RT15 lmp) share the cursor: the fastest sets the pace.
    return min(end + timedelta(minutes=f.minutes, seconds=f.lag_s) for f in feeds)


def late_cap(iso: isos.Iso, name: str) -> timedelta:
    """How long after it was due a feed is still polled fast."""
    feeds = iso.feeds_named(name)
    if _day_ahead(feeds) is not None:
        return DAM_LATE_CAP
    interval = timedelta(minutes=min(f.minutes for f in feeds))
    return min(LATE_CAP_MAX, max(LATE_CAP_MIN, interval))


def fast_gap(iso: isos.Iso, requests: int = 1) -> timedelta:
    """The shortest gap between two polls of one feed: FAST_S, unless the ISO's etiquette or its
    rate limit (for the `requests` one poll makes) asks for more."""
    limited = requests / iso.requests_per_second if iso.requests_per_second > 0 else 0.0
    return max(FAST, timedelta(seconds=iso.min_poll_interval_s), timedelta(seconds=limited))


def can_poll_fast(iso: isos.Iso) -> bool:
    """False for an ISO whose etiquette forbids polling faster than once a minute (MISO)."""
    return fast_gap(iso) < SLOW


def beat(iso: isos.Iso, name: str, cursor: str | datetime | None, now: datetime, requests: int = 1) -> Beat:
    """After a poll at `now` that left the feed's cursor at `cursor`: when to poll it next."""
    gap = fast_gap(iso, requests)
    when = due(iso, name, cursor)
    if when is None:  # nothing published yet, so no rhythm to follow: once a minute, as before
        return Beat(None, False, now + max(SLOW, gap))
    if now < when - LEAD:  # the next interval is not due yet: idle (with a heartbeat)
        return Beat(when, False, min(when - LEAD, now + IDLE_MAX))
    if now - when <= late_cap(iso, name):
        return Beat(when, True, now + gap)
    return Beat(when, False, now + max(SLOW, gap))  # late past its cap: a dead feed costs little


def dam_stale_after(feed: isos.Feed) -> timedelta:
    """A day-ahead feed's staleness as a data age (now - end of the newest day published):
    tomorrow's results missing DAM_MARGIN after posts_at. Negative: when tomorrow's results
    are due, today's last hour still lies ahead (24 h - posts_at away)."""
    assert feed.posts_at, f"{feed.name} {feed.market} is not a day-ahead feed"
    hh, mm = (int(x) for x in feed.posts_at.split(":"))
    return timedelta(hours=hh, minutes=mm) + DAM_MARGIN - timedelta(days=1)


def day_ahead(iso: isos.Iso, name: str) -> isos.Feed | None:
    """The day-ahead feed called `name`, if that is what it is."""
    return _day_ahead(iso.feeds_named(name))

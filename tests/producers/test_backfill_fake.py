"""A fake ISO archive for the backfill tests: FakeSource's CSV, one file per operating day at
BASE/archive/<feed>/<YYYYMMDD>.csv, and a replay tree (producers/replay.py format) of them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gridtape import contract
from producers.backfill import plan
from producers.base import HttpClient, Request, Response
from producers.http import FetchLayer, Recordings, replay
from tests.producers.fakes import BASE, FakeSource

HUBS = ("SPPNORTH_HUB", "SPPSOUTH_HUB")


class FakeArchive(FakeSource):
    """SPP (America/Chicago) with an archive of its lmp feed."""

    archives = frozenset({"lmp"})
    may_be_empty = frozenset()

    def __init__(self, include_nodes: bool = False, credentials: Mapping[str, str] | None = None) -> None:
        super().__init__(include_nodes, credentials)
        self.fetched: list[date] = []

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self.fetched.append(day)
        return [http.get(Request(archive_url(dataset, day)))]


def archive_url(feed: str, day: date) -> str:
    return f"{BASE}/archive/{feed}/{day:%Y%m%d}.csv"


def value(location: str, start: datetime, shift: float = 0.0) -> float:
    """A price per hub and interval, negative now and then, as real ones are."""
    return round((start.hour * 60 + start.minute) / 10 - 30 + (5 if location.endswith("SOUTH_HUB") else 0) + shift, 2)


def day_csv(
    day: date, *, shift: float = 0.0, neighbour: bool = True, bad_rows: int = 0, value_of: Callable[..., float] = value
) -> bytes:
    """A day's archive file; with `neighbour`, also the next day's first interval (as some ISOs'
    day files hold), which the backfill must leave to that day."""
    lo, hi = plan.day_bounds("SPP", day)
    lines = ["location,interval_start,lmp"]
    t = lo
    while t < hi or (neighbour and t == hi):
        for hub in HUBS:
            lines.append(f"{hub},{contract.format_ts(t)},{value_of(hub, t, shift)}")
        t += timedelta(minutes=5)
    for n in range(bad_rows):
        lines.append(f"{HUBS[0]},{contract.format_ts(lo + timedelta(minutes=5 * n))},n/a")
    return ("\n".join(lines) + "\n").encode()


def intervals(day: date) -> int:
    lo, hi = plan.day_bounds("SPP", day)
    return int((hi - lo).total_seconds() // 300)


def write_archive(root: Path, bodies: dict[date, bytes | tuple[bytes, int]], feed: str = "lmp") -> Path:
    """A replay tree root/spp/manifest.json answering each day's archive URL (others: 404)."""
    d = root / "spp"
    d.mkdir(parents=True, exist_ok=True)
    responses = []
    for day, spec in sorted(bodies.items()):
        body, status = spec if isinstance(spec, tuple) else (spec, 200)
        name = f"{feed}_{day:%Y%m%d}.csv"
        (d / name).write_bytes(body)
        responses.append(
            {
                "url": archive_url(feed, day),
                "file": name,
                "status": status,
                "headers": {"Content-Type": "text/csv", "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"},
            }
        )
    (d / "manifest.json").write_text(json.dumps({"iso": "SPP", "polls": [], "responses": responses}, indent=1))
    return root


class DayClock:
    """A replay's clock: each day fetched at a fixed time after it, so reruns give the same bytes."""

    def __init__(self) -> None:
        self.value = datetime(2000, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.value

    def at(self, day: date) -> None:
        self.value = plan.day_bounds("SPP", day)[1] + timedelta(hours=6)


def replay_http(root: Path) -> tuple[FetchLayer, DayClock]:
    clock = DayClock()
    return replay(Recordings.load(root / "spp"), clock=clock), clock


def days(first: date, n: int) -> Sequence[date]:
    return [first + timedelta(days=i) for i in range(n)]

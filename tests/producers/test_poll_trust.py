"""Trust in one poll, each property shown by injecting its fault: rows refused one by one,
revisions that win over skewed clocks, a fenced lease, the time budget, the cursor, and feeds
whose tracked hubs vanish."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract
from producers.http import FetchLayer, RateLimiter, Recordings, replay
from producers.poller import MemoryMetrics, once, poll
from producers.state import StateStore
from producers.transport import TransportRefusal
from tests.producers import fakes
from tests.producers.conftest import Resources, clients
from tests.test_kinesis_io import PutSpy

NOW = datetime(2025, 6, 10, 19, 1, tzinfo=UTC)


def layer(root: Path, body: bytes, now: datetime, dataset: str = "lmp") -> FetchLayer:
    """A replayed fetch layer serving `body` for the fake ISO's `dataset` file of `now`'s day."""
    d = fakes.write_recordings(root, "SPP", [], {(dataset, f"{now:%Y%m%d}"): (body, 200, "text/csv")})
    return replay(Recordings.load(d), clock=lambda: now)


def poll_body(res: Resources, root: Path, body: bytes, now: datetime = NOW, **kw: Any) -> once.PollSummary:
    sinks = kw.pop("sinks", None) or res.sinks(kw.pop("metrics", None))
    source = kw.pop("source", None) or fakes.FakeSource()
    return poll(source, "lmp", layer(root, body, now), sinks, now, **kw)


def feed(res: Resources, dataset: str = "lmp") -> Any:
    return StateStore(res.table, res.dynamodb).feeds([("SPP", dataset)])[0]


# --- rows refused one by one --------------------------------------------------------------

BAD_ROWS = {  # how one row goes wrong -> what its reason says
    "non_numeric": ("HUB_S,2025-06-10T18:20:00Z,n/a", "could not convert"),
    "price_out_of_bounds": ("HUB_S,2025-06-10T18:20:00Z,250000.0", "lmp"),
    "bad_timestamp": ("HUB_S,2025-06-10 18:20,21.0", "Z"),
    "far_from_the_fetch": ("HUB_S,2024-01-01T00:00:00Z,21.0", "days before"),
    "short_row": ("HUB_S,2025-06-10T18:20:00Z", "fields"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_row_is_quarantined_alone_and_the_rest_published(case: str, resources: Resources, tmp_path: Path) -> None:
    line, reason = BAD_ROWS[case]
    rows = [r for r in fakes.hour_rows() if not (r[0] == "HUB_S" and r[1] == "2025-06-10T18:20:00Z")]
    body = fakes.csv_body("lmp", rows).replace(b"\n", f"\n{line}\n".encode(), 1)
    metrics = MemoryMetrics()
    s = poll_body(resources, tmp_path, body, metrics=metrics)
    assert (s.status, s.parsed, s.refused, s.published) == ("published", 23, 1, 23), s.as_dict()
    assert s.quarantined is None and s.rows_quarantined
    assert len(resources.stream_records()) == 23
    [key] = resources.quarantined()
    assert key.endswith("-lmp-rows.json") and s.rows_quarantined == f"s3://{resources.bucket}/{key}"
    doc = json.loads(resources.get_object(key))
    assert doc["rows"] == 1 and sum(doc["reasons"].values()) == 1
    [refused] = doc["refused"]
    assert reason in refused["reason"] and refused["url"].startswith(f"{fakes.BASE}/lmp.csv")
    assert line.split(",")[0] in refused["row"]
    assert metrics.total("RowsQuarantined") == 1 and metrics.total("ResponsesQuarantined") == 0
    assert metrics.total("PollErrors") == 0 and feed(resources).rows_quarantined == 1


def test_refused_rows_of_one_poll_share_one_object_with_reasons_counted(resources: Resources, tmp_path: Path) -> None:
    rows = fakes.hour_rows(locations=[f"HUB_{i}" for i in range(10)])  # 120 rows
    bad = {i: "n/a" if i % 2 else "250000.0" for i in range(0, 120, 12)}  # 10 rows, two kinds of fault
    lines = [f"{loc},{ts},{bad.get(i, v)}" for i, (loc, ts, v) in enumerate(rows)]
    body = ("location,interval_start,lmp\n" + "\n".join(lines) + "\n").encode()
    s = poll_body(resources, tmp_path, body)
    assert (s.parsed, s.refused, s.published) == (110, 10, 110)
    [key] = resources.quarantined()
    doc = json.loads(resources.get_object(key))
    assert doc["rows"] == 10 and len(doc["refused"]) == 10 and sum(doc["reasons"].values()) == 10


def test_too_many_bad_rows_refuse_the_whole_response(resources: Resources, tmp_path: Path) -> None:
    body = fakes.csv_body("lmp", fakes.hour_rows()).replace(b".0\n", b".0 USD\n")
    metrics = MemoryMetrics()
    s = poll_body(resources, tmp_path, body, metrics=metrics)
    assert s.status == "failed" and s.published == 0 and s.quarantined and "rows refused" in (s.error or "")
    assert metrics.total("ResponsesQuarantined") == 1 and metrics.total("PollErrors") == 1
    assert resources.stream_records() == [] and feed(resources).responses_quarantined == 1


# --- revisions ----------------------------------------------------------------------------


def test_a_revision_wins_even_when_its_clock_is_behind(resources: Resources, tmp_path: Path) -> None:
    """The second version is fetched by a poller whose clock is an hour behind (so its
    published_at is older than the first version's): it still gets the higher revision."""
    rows = fakes.hour_rows()
    original = rows[3][2]
    assert poll_body(resources, tmp_path / "a", fakes.csv_body("lmp", rows)).published == 24
    rows[3] = (rows[3][0], rows[3][1], -12.5)
    skewed = NOW - timedelta(hours=1)
    s = poll_body(resources, tmp_path / "b", fakes.csv_body("lmp", rows), now=skewed)
    assert (s.revised, s.published) == (1, 1)
    rows[3] = (rows[3][0], rows[3][1], 99.0)
    assert poll_body(resources, tmp_path / "c", fakes.csv_body("lmp", rows), now=skewed - timedelta(hours=1)).published
    versions = [r for r in resources.stream_records() if (r["location"], r["interval_start"]) == rows[3][:2]]
    by_revision = sorted(versions, key=lambda r: r["revision"])
    assert [(r["revision"], r["lmp"]) for r in by_revision] == [(0, original), (1, -12.5), (2, 99.0)]
    published_at = [contract.parse_ts(r["published_at"]) for r in by_revision]
    assert published_at == sorted(published_at, reverse=True)  # the clocks say the opposite


# --- the fenced lease ---------------------------------------------------------------------


class StolenMidPublish:
    """A publisher during whose publish the poller's lease runs out and another takes it."""

    def __init__(self, real: Any, res: Resources) -> None:
        self.real, self.res = real, res

    def publish(self, records: Sequence[Mapping[str, Any]], on_delivered: Any = None) -> Any:
        later = StateStore(self.res.table, self.res.dynamodb, wall_clock=lambda: datetime.now(UTC).timestamp() + 3600)
        assert later.acquire_lease("SPP", "lmp") is not None  # the lease had expired
        return self.real.publish(records, on_delivered=on_delivered)


def test_a_poller_that_lost_its_lease_stops_publishing_and_marks_nothing(resources: Resources, tmp_path: Path) -> None:
    rows = fakes.hour_rows(locations=[f"HUB_{i}" for i in range(50)])  # 600 ticks: two PutRecords
    body = fakes.csv_body("lmp", rows)
    sinks = resources.sinks()
    stolen = once.Sinks(sinks.state, StolenMidPublish(sinks.publisher, resources), sinks.quarantine, sinks.metrics)  # type: ignore[arg-type]
    s = poll_body(resources, tmp_path / "a", body, sinks=stolen)
    assert s.status == "failed" and "taken over" in (s.error or "") and s.published == 0
    assert len(resources.stream_records()) == 500  # the first request went out; the second never did
    assert StateStore(resources.table, resources.dynamodb).published([dict(t) for t in _ticks(body)]) == {}
    assert feed(resources).cursor is None  # nor did it move the cursor or record anything


def _ticks(body: bytes) -> list[dict[str, Any]]:
    return fakes.FakeSource().parse_rows("lmp", [layer_response(body)], live=False).ticks


def layer_response(body: bytes) -> Any:
    from producers.base import Response

    return Response(f"{fakes.BASE}/lmp.csv", 200, body, {}, NOW)


# --- the time budget ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_spent_budget_publishes_nothing(
    resources: Resources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(once.time, "monotonic", clock)

    class SlowFetch(fakes.FakeSource):
        def fetch(self, dataset: str, http: Any, now: datetime, since: datetime | None = None) -> list[Any]:
            out = super().fetch(dataset, http, now, since)
            clock.t += 50  # the ISO took 50 s to answer
            return out

    body = fakes.csv_body("lmp", fakes.hour_rows())
    s = poll_body(resources, tmp_path / "a", body, source=SlowFetch(), deadline=1045.0)
    assert s.status == "failed" and "budget" in (s.error or "") and s.responses == 1
    assert resources.stream_records() == [] and feed(resources).cursor is None
    late = poll_body(resources, tmp_path / "b", body, deadline=clock.t - 1)  # spent before it began
    assert late.status == "failed" and late.responses == 0


def test_the_live_poller_hands_its_budget_to_the_fetch_layer(
    resources: Resources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from producers.poller import loop

    clock = Clock()
    monkeypatch.setattr(loop.time, "monotonic", clock)
    layers: list[FetchLayer] = []

    def fetch_layer(iso: str, rps: float, secrets: tuple[str, ...] = ()) -> FetchLayer:
        layers.append(layer(tmp_path, b"", datetime.now(UTC)))
        return layers[-1]

    monkeypatch.setattr(loop, "live", fetch_layer)
    monkeypatch.setattr(loop.registry, "create", lambda iso, include_nodes=None: fakes.FakeSource())
    loop.LivePoller(["SPP"], resources.sinks(), budget_s=30.0).poll_iso("SPP")
    assert layers[0].deadline == 1030.0


# --- the cursor ---------------------------------------------------------------------------


class Remembers(fakes.FakeSource):
    def __init__(self) -> None:
        super().__init__()
        self.since: list[datetime | None] = []

    def fetch(self, dataset: str, http: Any, now: datetime, since: datetime | None = None) -> list[Any]:
        self.since.append(since)
        return super().fetch(dataset, http, now, since)


def test_the_cursor_is_the_newest_complete_interval_and_reaches_fetch(resources: Resources, tmp_path: Path) -> None:
    source = Remembers()
    metrics = MemoryMetrics()
    rows = fakes.hour_rows() + fakes.hour_rows(hour=19)  # 19:00-19:05 and later: not over at 19:01
    s = poll_body(resources, tmp_path / "a", fakes.csv_body("lmp", rows), source=source, metrics=metrics)
    assert s.cursor == "2025-06-10T19:00:00Z" and feed(resources).cursor == s.cursor
    assert metrics.total("DataAgeSeconds") == 60.0
    poll_body(resources, tmp_path / "b", fakes.csv_body("lmp", rows), source=source)
    assert source.since == [None, datetime(2025, 6, 10, 19, 0, tzinfo=UTC)]


def test_the_cursor_does_not_move_after_a_failed_publish(resources: Resources, tmp_path: Path) -> None:
    flaky = clients(resources.url)["kinesis"]
    PutSpy(flaky, lambda call, rs: {0})  # one record never goes through
    metrics = MemoryMetrics()
    sinks = resources.sinks(metrics, kinesis=flaky, max_attempts=2)
    s = poll_body(resources, tmp_path / "a", fakes.csv_body("lmp", fakes.hour_rows()), sinks=sinks)
    assert s.status == "failed" and s.cursor is None and feed(resources).cursor is None
    assert metrics.total("PollErrors") == 1 and feed(resources).last_error


# --- tracked hubs gone --------------------------------------------------------------------


class HubsOnly(fakes.FakeSource):
    """Like a real module: reads only the tracked hubs, and its window always holds rows."""

    may_be_empty = frozenset()

    def parse_rows(self, dataset: str, responses: Sequence[Any], *, live: bool = True) -> Any:
        parsed = super().parse_rows(dataset, responses, live=live)
        parsed.ticks = [t for t in parsed.ticks if t["location"] in ("SPPNORTH_HUB", "SPPSOUTH_HUB")]
        return parsed


@pytest.mark.parametrize("source", [HubsOnly(), fakes.FakeSource()], ids=["answered", "window_may_be_empty"])
def test_zero_ticks_where_the_hubs_should_be_is_an_error(source: Any, resources: Resources, tmp_path: Path) -> None:
    renamed = fakes.csv_body("lmp", fakes.hour_rows(locations=("SPP_NORTH_HUB_2",)))
    empty = fakes.csv_body("lmp", [])
    metrics = MemoryMetrics()
    sinks = resources.sinks(metrics)
    good = fakes.hour_rows(locations=("SPPNORTH_HUB", "SPPSOUTH_HUB"))
    assert poll_body(resources, tmp_path / "a", fakes.csv_body("lmp", good), sinks=sinks).published == 24
    body = renamed if isinstance(source, HubsOnly) else empty
    fresh = poll_body(resources, tmp_path / "b", body, now=NOW + timedelta(minutes=5), sinks=sinks, source=source)
    later = poll_body(resources, tmp_path / "c", body, now=NOW + timedelta(hours=1), sinks=sinks, source=source)
    if isinstance(source, HubsOnly):  # data came and none of it was a hub: at once
        assert fresh.status == "failed" and "SPPNORTH_HUB" in (fresh.error or "")
    else:  # an empty window is normal for a while, not for long
        assert fresh.status == "nothing_new"
    assert later.status == "failed" and "renamed hubs" in (later.error or "")
    assert metrics.total("PollErrors") >= 1 and feed(resources).last_status == "failed"


# --- what the transport refuses -----------------------------------------------------------


class _Transport:
    """Refuses every answer (too large, a zip bomb) or cannot reach the ISO at all."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "counted"),
    [(TransportRefusal("body is larger than 1,000 bytes"), 1), (ConnectionError("connection refused"), 0)],
)
def test_a_refused_answer_counts_as_quarantined_and_an_iso_that_is_down_does_not(
    error: Exception, counted: int, resources: Resources
) -> None:
    metrics = MemoryMetrics()
    fetch = FetchLayer("SPP", _Transport(error), clock=lambda: NOW, sleep=lambda _: None, limiter=RateLimiter(0))
    s = poll(fakes.FakeSource(), "lmp", fetch, resources.sinks(metrics), NOW)
    assert s.status == "failed" and s.responses_refused == counted, s.as_dict()
    assert metrics.total("ResponsesQuarantined") == counted and metrics.total("PollErrors") == 1


def test_refused_rows_are_quarantined_without_the_api_key(resources: Resources, tmp_path: Path) -> None:
    body = fakes.csv_body("lmp", [*fakes.hour_rows(), ("HUB_S", "2025-06-10T18:20:00Z", "n/a")])
    fetch = layer(tmp_path, body, NOW)
    fetch.secrets = ("day=20250610",)  # stands for a key in the query string
    s = poll(fakes.FakeSource(), "lmp", fetch, resources.sinks(), NOW)
    assert s.rows_quarantined and s.refused == 1
    saved = resources.get_object(s.rows_quarantined.removeprefix(f"s3://{resources.bucket}/")).decode()
    assert "day=20250610" not in saved and "***" in saved

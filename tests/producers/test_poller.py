"""fetch -> parse -> validate -> dedup -> publish -> mark, end to end on the emulator, with a
fake ISO replayed from recordings (and the real ISO modules on their own recordings)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract, isos
from gridtape.errors import SourceError
from producers import poller, registry
from producers.http import Recordings, replay
from producers.poller import MemoryMetrics, check, plan, poll, poll_replay
from producers.state import Published, content_hash
from tests.producers import fakes
from tests.producers.conftest import Resources, clients, poll_module
from tests.test_kinesis_io import PutSpy

RECORDINGS = Path(__file__).resolve().parents[2] / "producers" / "recordings"


@pytest.fixture
def fake_isos(monkeypatch: pytest.MonkeyPatch) -> None:
    """SPP and MISO are served by the fake sources; the other ISOs stay as they are."""
    poll_module(monkeypatch, "SPP", "tests.producers.fakes")
    poll_module(monkeypatch, "MISO", "tests.producers.fakes")


def two_day_recordings(root: Path, iso: str = "SPP") -> Path:
    return fakes.write_recordings(
        root,
        iso,
        polls=[("lmp", "2025-06-10T19:01:00Z"), ("load", "2025-06-10T19:01:00Z"), ("lmp", "2025-06-11T19:01:00Z")],
        bodies={
            ("lmp", "20250610"): (fakes.csv_body("lmp", fakes.hour_rows()), 200, "text/csv"),
            ("load", "20250610"): (fakes.csv_body("load", fakes.hour_rows(locations=("SYS",))), 200, "text/csv"),
            ("lmp", "20250611"): (fakes.csv_body("lmp", fakes.hour_rows("2025-06-11")), 200, "text/csv"),
        },
    )


def keys(records: list[dict[str, Any]]) -> Counter[tuple[str, ...]]:
    return Counter(contract.natural_key(r) for r in records)


# --- pure steps ---------------------------------------------------------------------------


def test_plan_splits_new_revised_unchanged() -> None:
    ticks = fakes.FakeSource().parse("lmp", [resp(fakes.csv_body("lmp", fakes.hour_rows()))])
    published = {contract.natural_key(t): Published(content_hash(t), 2) for t in ticks[:10]}
    published[contract.natural_key(ticks[0])] = Published("an older value", 3)
    p = plan(ticks, published)
    assert len(p.new) == 14 and len(p.revised) == 1 and p.unchanged == 9
    assert p.revised[0] == dict(ticks[0], revision=4)  # the last published revision + 1
    assert {t["revision"] for t in p.new} == {0}
    assert ticks[0]["revision"] is None  # the parser's tick is not touched


def test_check_refuses_conflicting_ticks_and_ticks_of_another_feed() -> None:
    ticks = fakes.FakeSource().parse("lmp", [resp(fakes.csv_body("lmp", fakes.hour_rows()))])
    same = check("SPP", "lmp", "u", [*ticks, dict(ticks[0])])
    assert len(same.ticks) == len(ticks) and same.refused == []  # exact duplicate: collapsed
    conflicting = check("SPP", "lmp", "u", [*ticks, dict(ticks[0], lmp=999.0)])
    assert len(conflicting.ticks) == len(ticks) - 1  # neither value of that interval goes out
    assert [r.reason.startswith("two different values") for r in conflicting.refused] == [True, True]
    with pytest.raises(SourceError, match="not SPP lmp"):  # a module bug: the whole parse goes
        check("SPP", "lmp", "u", [dict(ticks[1], iso="MISO")])


def resp(body: bytes, status: int = 200) -> Any:
    from producers.base import Response

    return Response("https://fake.example/lmp.csv", status, body, {}, datetime(2025, 6, 10, 19, tzinfo=UTC))


# --- replay, end to end -------------------------------------------------------------------


def test_replay_publishes_every_tick_once_and_again_nothing(
    resources: Resources, tmp_path: Path, fake_isos: None
) -> None:
    two_day_recordings(tmp_path, "SPP")
    two_day_recordings(tmp_path, "MISO")
    metrics = MemoryMetrics()
    first = poll_replay(tmp_path, ["SPP", "MISO"], resources.sinks(metrics))
    assert [s.status for s in first] == ["published"] * 6
    assert sum(s.published for s in first) == 2 * (24 + 12 + 24)
    on_stream = resources.stream_records()
    assert len(on_stream) == 120 and set(keys(on_stream).values()) == {1}
    assert metrics.total("TicksPublished") == 120 and metrics.total("PollErrors") == 0
    assert {r["revision"] for r in on_stream} == {0}
    # ingested_at comes from the replayed poll's own clock, not today's
    assert {r["ingested_at"] for r in on_stream} == {"2025-06-10T19:01:00Z", "2025-06-11T19:01:00Z"}

    second = poll_replay(tmp_path, ["SPP", "MISO"], resources.sinks())
    assert [s.status for s in second] == ["nothing_new"] * 6
    assert sum(s.unchanged for s in second) == 120 and sum(s.published for s in second) == 0
    assert len(resources.stream_records()) == 120


def test_revised_fixture_publishes_only_the_revision(resources: Resources, tmp_path: Path, fake_isos: None) -> None:
    d = two_day_recordings(tmp_path)
    poll_replay(tmp_path, ["SPP"], resources.sinks())
    rows = fakes.hour_rows()
    original = rows[3][2]
    rows[3] = (rows[3][0], rows[3][1], -12.5)  # the ISO re-ran the interval: a negative price
    (d / "lmp_20250610.dat").write_bytes(fakes.csv_body("lmp", rows))

    summaries = poll_replay(tmp_path, ["SPP"], resources.sinks())
    assert [(s.dataset, s.revised, s.published) for s in summaries] == [("lmp", 1, 1), ("load", 0, 0), ("lmp", 0, 0)]
    on_stream = resources.stream_records()
    assert len(on_stream) == 61
    versions = [r for r in on_stream if r["location"] == rows[3][0] and r["interval_start"] == rows[3][1]]
    assert sorted((v["revision"], v["lmp"]) for v in versions) == [(0, original), (1, -12.5)]


def test_partial_failure_exhausted_then_next_poll_completes_exactly_once(
    resources: Resources, tmp_path: Path, fake_isos: None
) -> None:
    two_day_recordings(tmp_path)
    flaky = clients(resources.url)["kinesis"]
    poison = {"HUB_N:2025-06-10T18:05:00Z", "HUB_S:2025-06-11T18:55:00Z", "SYS:2025-06-10T18:30:00Z"}

    def always_fail(call: int, records: list[dict[str, Any]]) -> set[int]:
        def key(r: dict[str, Any]) -> str:
            t = json.loads(r["Data"])
            return f"{t['location']}:{t['interval_start']}"

        return {i for i, r in enumerate(records) if key(r) in poison}

    PutSpy(flaky, always_fail)  # the same three ticks fail on every attempt
    first = poll_replay(tmp_path, ["SPP"], resources.sinks(kinesis=flaky, max_attempts=3))
    assert [s.status for s in first] == ["failed"] * 3
    assert all("1 record(s) unsent" in (s.error or "") for s in first)
    assert sum(s.published for s in first) == 60 - 3
    assert len(resources.stream_records()) == 57

    second = poll_replay(tmp_path, ["SPP"], resources.sinks())  # the stream is healthy again
    assert [s.published for s in second] == [1, 1, 1] and sum(s.unchanged for s in second) == 57
    on_stream = resources.stream_records()
    assert len(on_stream) == 60 and set(keys(on_stream).values()) == {1}


def test_partial_failure_recovered_by_retries_delivers_each_once(
    resources: Resources, tmp_path: Path, fake_isos: None
) -> None:
    two_day_recordings(tmp_path)
    flaky = clients(resources.url)["kinesis"]
    PutSpy(flaky, lambda call, rs: set(range(0, len(rs), 2)) if call % 2 == 0 else set())
    summaries = poll_replay(tmp_path, ["SPP"], resources.sinks(kinesis=flaky))
    assert [s.status for s in summaries] == ["published"] * 3
    on_stream = resources.stream_records()
    assert len(on_stream) == 60 and set(keys(on_stream).values()) == {1}
    assert poll_replay(tmp_path, ["SPP"], resources.sinks())[0].published == 0


def test_not_modified_publishes_nothing_and_skips_parsing(resources: Resources, tmp_path: Path) -> None:
    d = fakes.write_recordings(tmp_path, "SPP", [], {})
    body = fakes.csv_body("lmp", fakes.hour_rows())
    (d / "v1.csv").write_bytes(body)
    (d / "empty").write_bytes(b"")
    manifest = Recordings.load(d)
    request = dict(url=f"{fakes.BASE}/lmp.csv", params={"day": "20250610"})

    doc = json.loads((d / "manifest.json").read_text())
    doc["responses"] = [
        {**request, "file": "v1.csv", "status": 200, "headers": {"ETag": '"a1"'}},
        {**request, "file": "empty", "status": 304, "headers": {"ETag": '"a1"'}},
    ]
    (d / "manifest.json").write_text(json.dumps(doc))
    manifest = Recordings.load(d)
    now = datetime(2025, 6, 10, 19, 1, tzinfo=UTC)
    http = replay(manifest, clock=lambda: now)
    sinks = resources.sinks()
    assert poll(fakes.FakeSource(), "lmp", http, sinks, now).published == 24
    again = poll(fakes.FakeSource(), "lmp", http, sinks, now)
    assert again.status == "not_modified" and again.parsed == 0 and again.published == 0
    assert len(resources.stream_records()) == 24


def test_a_held_lease_is_busy_without_fetching_or_publishing(
    resources: Resources, tmp_path: Path, fake_isos: None
) -> None:
    two_day_recordings(tmp_path)
    sinks = resources.sinks()
    assert sinks.state.acquire_lease("SPP", "lmp")  # another poller is mid-run
    summaries = poll_replay(tmp_path, ["SPP"], sinks)
    assert [(s.status, s.responses) for s in summaries] == [("busy", 0), ("published", 1), ("busy", 0)]
    assert all(s.ok for s in summaries)  # another poller is doing it: not a failure
    assert {r["dataset"] for r in resources.stream_records()} == {"load"}


def test_missing_recordings_and_broken_module_are_contained(
    resources: Resources, tmp_path: Path, fake_isos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_day_recordings(tmp_path, "SPP")
    two_day_recordings(tmp_path, "MISO")
    poll_module(monkeypatch, "MISO", "tests.producers.no_such_module")
    summaries = poll_replay(tmp_path, ["MISO", "NYISO", "SPP"], resources.sinks())
    by_iso = {s.iso: s for s in summaries}
    assert by_iso["MISO"].status == "failed" and "no_such_module" in (by_iso["MISO"].error or "")
    assert by_iso["NYISO"].status == "no_recordings" and "no recordings" in (by_iso["NYISO"].error or "")
    assert [s.status for s in summaries if s.iso == "SPP"] == ["published"] * 3
    assert {r["iso"] for r in resources.stream_records()} == {"SPP"}


def test_live_poll_without_pjm_key_skips_pjm_with_one_line(
    resources: Resources, caplog: pytest.LogCaptureFixture, pjm_without_key: None
) -> None:
    live = poller.LivePoller(["PJM"], resources.sinks())
    with caplog.at_level(logging.WARNING, logger="producers.poller"):
        first = live.poll_once()
        second = live.poll_once()
    # a missing key is a failure of every dataset, counted each time, logged once
    assert [(s.dataset, s.status, s.failed) for s in first + second] == [
        (name, "skipped", True) for name in isos.get("PJM").datasets
    ] * 2
    assert live.sinks.metrics.total("PollSkipped", "PJM") == 2 * len(isos.get("PJM").datasets)  # type: ignore[attr-defined]
    lines = [r.getMessage() for r in caplog.records if "PJM" in r.getMessage()]
    assert len(lines) == 1 and "PJM_API_KEY" in lines[0] and "PJM_API_KEY_SECRET_ID" in lines[0]


def test_pjm_key_from_env_or_replay_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.delenv(isos.get("PJM").api_key.secret_env, raising=False)
    monkeypatch.setenv(isos.get("PJM").api_key.env, "k-123")
    assert registry.credentials("PJM") == {"api_key": "k-123"}
    monkeypatch.delenv(isos.get("PJM").api_key.env)
    assert registry.credentials("PJM", replay=True)["api_key"]
    assert registry.credentials("ERCOT") == {} or "ERCOT_API_KEY" in __import__("os").environ
    assert registry.credentials("CAISO") == {}


def test_parse_isos() -> None:
    assert registry.parse_isos("all") == list(contract.ISOS)
    assert registry.parse_isos("caiso,iso-ne") == ["CAISO", "ISONE"]
    with pytest.raises(registry.RegistryError, match="FOO"):
        registry.parse_isos("caiso,foo")


# --- the real ISO modules on their committed recordings -----------------------------------


def recorded_isos() -> list[str]:
    return [iso for iso in contract.ISOS if (RECORDINGS / iso.lower() / "manifest.json").is_file()]


@pytest.mark.parametrize("iso", recorded_isos() or ["none"])
def test_real_recordings_publish_once_then_nothing(resources: Resources, iso: str) -> None:
    if iso == "none":
        pytest.skip("no ISO recordings committed yet")
    first = poll_replay(RECORDINGS, [iso], resources.sinks())
    bad = [s for s in first if not s.ok]
    # A recorded bad response (e.g. an error page kept on purpose) must fail alone.
    published = sum(s.published for s in first)
    assert published > 0, [s.as_dict() for s in first]
    on_stream = resources.stream_records()
    assert len(on_stream) == published and set(keys(on_stream).values()) == {1}
    for s in bad:
        assert s.error and s.quarantined, s.as_dict()
    second = poll_replay(RECORDINGS, [iso], resources.sinks())
    assert sum(s.published for s in second) == 0
    assert len(resources.stream_records()) == published


def test_live_loop_is_bounded_and_respects_each_isos_poll_interval(
    resources: Resources, tmp_path: Path, fake_isos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from producers import http as fetch
    from producers.poller import loop

    today = f"{datetime.now(UTC):%Y%m%d}"  # the live poll asks for today's file, of today's intervals
    rows = fakes.hour_rows(f"{datetime.now(UTC):%Y-%m-%d}", hour=0)
    rec = fakes.write_recordings(tmp_path, "SPP", [], {("lmp", today): (fakes.csv_body("lmp", rows), 200, "text/csv")})
    # the live code path, with the transport answering from a recording instead of the network
    monkeypatch.setattr(
        loop, "live", lambda iso, rps, secrets=(): fetch.replay(Recordings.load(rec), lambda: datetime.now(UTC))
    )
    monkeypatch.setattr(fakes.FakeSource, "datasets", ("lmp", "load"))  # the fake has no day-ahead feed
    cycles: list[list[poller.PollSummary]] = []
    live = poller.LivePoller(["SPP"], resources.sinks())
    assert live.run(0.0, threading.Event(), max_cycles=3, on_cycle=cycles.append) == 3
    # first cycle polls both datasets (load has no file today: nothing new); the next two come
    # within SPP's 60 s etiquette, so they poll nothing
    assert [[(s.dataset, s.status) for s in c] for c in cycles] == [
        [("lmp", "published"), ("load", "nothing_new")],
        [],
        [],
    ]
    stop = threading.Event()
    stop.set()
    assert live.run(0.0, stop) == 0

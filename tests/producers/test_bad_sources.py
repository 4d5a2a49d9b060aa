"""Bad sources are contained: each case fails its own ISO's poll with a logged error naming
ISO, URL and reason, a metric, and the raw body (plus a JSON sidecar) under quarantine/ in the
raw bucket; nothing from the bad response is published; another ISO polled alongside
publishes everything it should."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gridtape import contract
from producers import http
from producers.poller import MemoryMetrics, poll, poll_replay
from tests.producers import fakes
from tests.producers.conftest import Resources, poll_module
from tests.producers.test_http import Script, server  # noqa: F401 - the scripted HTTP server fixture

NOW = "2025-06-10T19:01:00Z"
GOOD = fakes.csv_body("lmp", fakes.hour_rows())
HTML_ERROR = b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>Maintenance</body></html>"

CASES: dict[str, tuple[bytes, int, str, str]] = {
    # name: (body, status, content type, what the reason must say)
    "html_error_page": (HTML_ERROR, 200, "text/html", "HTML page"),
    "truncated_file": (GOOD[: len(GOOD) // 2 - 7], 200, "text/csv", "truncated"),
    "empty_body": (b"", 200, "text/csv", "empty body"),
    "renamed_columns": (
        GOOD.replace(b"location,interval_start,lmp", b"node,interval_start,lmp"),
        200,
        "text/csv",
        "columns",
    ),
    "missing_column": (fakes.csv_body("load", fakes.hour_rows()), 200, "text/csv", "columns"),
    # most rows unreadable: a changed format, not the odd bad row (that one is refused alone)
    "non_numeric_values": (GOOD.replace(b".0\n", b".0 USD\n"), 200, "text/csv", "could not convert"),
    "server_error_after_retries": (HTML_ERROR, 503, "text/html", "HTTP 503"),
}


@pytest.fixture
def fake_isos(monkeypatch: pytest.MonkeyPatch) -> None:
    poll_module(monkeypatch, "SPP", "tests.producers.fakes")
    poll_module(monkeypatch, "MISO", "tests.producers.fakes")
    poll_module(monkeypatch, "ERCOT", "tests.producers.fakes")


def good_miso(root: Path, iso: str = "MISO") -> None:
    fakes.write_recordings(
        root,
        iso,
        polls=[("lmp", NOW), ("load", NOW)],
        bodies={
            ("lmp", "20250610"): (GOOD, 200, "text/csv"),
            ("load", "20250610"): (fakes.csv_body("load", fakes.hour_rows(locations=("SYS",))), 200, "text/csv"),
        },
    )


def assert_quarantined(
    res: Resources, iso: str, dataset: str, reason: str, body: bytes, status: int | None
) -> dict[str, Any]:
    keys = res.quarantined()
    bodies = [k for k in keys if not k.endswith(".json")]
    assert len(bodies) == 1, keys
    key = bodies[0]
    prefix, name = key.rsplit("/", 1)
    assert prefix == f"quarantine/iso={iso}/date={datetime.now(UTC):%Y-%m-%d}"  # quarantined just now
    assert re.fullmatch(rf"\d{{6}}\.\d{{3}}Z-{dataset}\.[a-z]+", name), name
    assert f"{key}.json" in keys
    assert res.get_object(key) == body
    sidecar = json.loads(res.get_object(f"{key}.json"))
    assert sidecar["iso"] == iso and sidecar["dataset"] == dataset and sidecar["status"] == status
    assert reason in sidecar["reason"]
    assert sidecar["url"].startswith(("https://", "http://"))
    return sidecar


@pytest.mark.parametrize("case", list(CASES))
def test_bad_response_is_quarantined_and_other_isos_publish(
    case: str, resources: Resources, tmp_path: Path, fake_isos: None, caplog: pytest.LogCaptureFixture
) -> None:
    body, status, ctype, reason = CASES[case]
    good_miso(tmp_path)
    fakes.write_recordings(
        tmp_path,
        "SPP",
        polls=[("lmp", NOW), ("load", NOW)],
        bodies={
            ("lmp", "20250610"): (body, status, ctype),
            ("load", "20250610"): (fakes.csv_body("load", fakes.hour_rows(locations=("SYS",))), 200, "text/csv"),
        },
    )
    metrics = MemoryMetrics()
    with caplog.at_level(logging.ERROR, logger="producers.poller"):
        summaries = poll_replay(tmp_path, ["SPP", "MISO"], resources.sinks(metrics))

    by = {(s.iso, s.dataset): s for s in summaries}
    bad = by[("SPP", "lmp")]
    assert bad.status == "failed" and reason in (bad.error or ""), bad.as_dict()
    assert bad.published == 0 and bad.quarantined
    # the logged line names ISO, dataset, URL and reason
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("SPP lmp"))
    assert f"{fakes.BASE}/lmp.csv" in line and reason in line and "quarantined at s3://" in line
    refused_answer = case != "server_error_after_retries"  # an ISO that is down is a poll error, not a format alarm
    assert metrics.total("PollErrors", "SPP") == 1
    assert metrics.total("ResponsesQuarantined", "SPP") == (1 if refused_answer else 0)
    sidecar = assert_quarantined(resources, "SPP", "lmp", reason, body, status)
    assert sidecar["url"].startswith(f"{fakes.BASE}/lmp.csv?day=20250610")

    # nothing of the bad response was published; everything else was
    assert by[("SPP", "load")].published == 12
    assert by[("MISO", "lmp")].published == 24 and by[("MISO", "load")].published == 12
    on_stream = resources.stream_records()
    assert {(r["iso"], r["dataset"]) for r in on_stream} == {("SPP", "load"), ("MISO", "lmp"), ("MISO", "load")}
    assert len(on_stream) == 48


def test_timeout_is_quarantined_and_contained(
    server: tuple[str, Script],  # noqa: F811
    resources: Resources,
    tmp_path: Path,
    fake_isos: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base, script = server
    script.then(200, GOOD, delay=1.0)

    class SlowSpp(fakes.FakeSource):
        pass

    SlowSpp.base = base
    now = datetime(2025, 6, 10, 19, 1, tzinfo=UTC)
    layer = http.FetchLayer("SPP", http.RequestsTransport(), timeout=0.2, max_attempts=2, sleep=lambda _s: None)
    sinks = resources.sinks()
    with caplog.at_level(logging.ERROR, logger="producers.poller"):
        s = poll(SlowSpp(), "lmp", layer, sinks, now)
    assert s.status == "failed" and "timed out after 0.2 s" in (s.error or "") and s.published == 0
    assert any("SPP lmp: fetch failed from http://127.0.0.1" in r.getMessage() for r in caplog.records)
    sidecar = assert_quarantined(resources, "SPP", "lmp", "timed out", b"", None)
    assert sidecar["error_type"] == "FetchError"

    good_miso(tmp_path)
    assert [x.published for x in poll_replay(tmp_path, ["MISO"], sinks)] == [24, 12]


def test_a_parser_bug_is_contained_like_a_bad_source(resources: Resources, tmp_path: Path, fake_isos: None) -> None:
    good_miso(tmp_path)
    fakes.write_recordings(tmp_path, "ERCOT", [("lmp", NOW)], {("lmp", "20250610"): (GOOD, 200, "text/csv")})
    summaries = poll_replay(tmp_path, ["ERCOT", "MISO"], resources.sinks())
    ercot = summaries[0]
    assert ercot.status == "failed" and ercot.error == "KeyError: 'LMP'" and ercot.quarantined
    assert [s.published for s in summaries[1:]] == [24, 12]


def test_a_failing_quarantine_does_not_hide_the_error(
    resources: Resources, tmp_path: Path, fake_isos: None, caplog: pytest.LogCaptureFixture
) -> None:
    fakes.write_recordings(tmp_path, "SPP", [("lmp", NOW)], {("lmp", "20250610"): (b"", 200, "text/csv")})
    sinks = resources.sinks()
    resources.s3.delete_bucket(Bucket=resources.bucket)
    with caplog.at_level(logging.ERROR, logger="producers.poller"):
        [s] = poll_replay(tmp_path, ["SPP"], sinks)
    assert s.status == "failed" and "empty body" in (s.error or "") and s.quarantined is None
    assert sinks.metrics.total("PollErrors") == 1 and sinks.metrics.total("ResponsesQuarantined") == 1  # type: ignore[attr-defined]
    assert any("could not quarantine" in r.getMessage() for r in caplog.records)


# --- the real ISO modules, fed broken bodies in place of their recordings -----------------

RECORDINGS = Path(__file__).resolve().parents[2] / "producers" / "recordings"
BREAKERS: dict[str, Callable[[bytes], bytes]] = {"html_error_page": lambda _b: HTML_ERROR, "empty_body": lambda _b: b""}


def real_isos() -> list[str]:
    return [iso for iso in contract.ISOS if (RECORDINGS / iso.lower() / "manifest.json").is_file()] or ["none"]


@pytest.mark.parametrize("breaker", list(BREAKERS))
@pytest.mark.parametrize("iso", real_isos())
def test_real_module_contains_broken_bodies(
    iso: str, breaker: str, resources: Resources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if iso == "none":
        pytest.skip("no ISO recordings committed yet")
    other = "MISO" if iso != "MISO" else "SPP"  # a healthy (fake) ISO polled alongside
    poll_module(monkeypatch, other, "tests.producers.fakes")
    good_miso(tmp_path, other)
    broken = tmp_path / iso.lower()
    shutil.copytree(RECORDINGS / iso.lower(), broken)
    doc = json.loads((broken / "manifest.json").read_text())
    for r in doc["responses"]:
        if 200 <= int(r.get("status", 200)) < 300:
            f = broken / r["file"]
            f.write_bytes(BREAKERS[breaker](f.read_bytes()))

    summaries = poll_replay(tmp_path, [iso, other], resources.sinks())
    ours = [s for s in summaries if s.iso == iso]
    assert ours and all(s.published == 0 for s in ours), [s.as_dict() for s in ours]
    failed = [s for s in ours if s.status == "failed"]
    # a poll may legitimately find nothing (a 404 it handles); every poll that read a broken
    # body failed and was quarantined with ISO, URL and reason
    assert failed, [s.as_dict() for s in ours]
    assert all(s.quarantined and s.url and s.error for s in failed)
    assert {r["iso"] for r in resources.stream_records()} == {other}
    assert [s.published for s in summaries if s.iso == other] == [24, 12]


def test_quarantine_key_layout_and_extension() -> None:
    from producers import quarantine

    at = datetime(2025, 6, 10, 18, 42, 7, 123456, tzinfo=UTC)
    body_key, sidecar_key = quarantine.keys("CAISO", "lmp", at, "zip")
    assert body_key == "quarantine/iso=CAISO/date=2025-06-10/184207.123Z-lmp.zip"
    assert sidecar_key == body_key + ".json"
    # the body's own bytes win over a Content-Type that lies
    assert quarantine.extension("application/zip", "https://x/a.zip", HTML_ERROR) == "html"
    assert quarantine.extension("text/csv", "https://x/a", b"PK\x03\x04rest") == "zip"
    assert quarantine.extension("application/json; charset=utf-8", "https://x/a", b"{") == "json"
    assert quarantine.extension(None, "https://x/report.xml?x=1", b"<?xml") == "xml"
    assert quarantine.extension(None, "https://x/download", b"") == "bin"

"""`gridtape backfill --dataset outage|weather` on the recorded context day, into an in-memory
raw bucket, then the nightly context step on what it wrote: the replayed day's hub prices get
outage and weather context (the issue's "done when"), and a re-backfill changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch import context as batch_context
from gridtape import landing
from producers import http
from producers.backfill import context
from producers.backfill.run import Sinks
from producers.backfill.store import RawStore
from producers.context import registry
from producers.poller import find_recordings
from producers.registry import RegistryError
from tests.batch.context_fakes import FakeS3
from tests.batch.test_context import ex  # noqa: F401  (the warehouse fixture, ERCOT prices)

DAY = date(2026, 6, 11)
CONTEXT = Path(__file__).resolve().parents[2] / "producers" / "recordings" / "context"


class _Cursors:
    def __init__(self) -> None:
        self.days: set[tuple[str, str, date]] = set()

    def done(self, iso: str, feed: str, days: list[date]) -> set[date]:
        return {d for d in days if (iso, feed, d) in self.days}

    def advance(self, iso: str, feed: str, day: date, rows: int, objects: Any) -> None:
        self.days.add((iso, feed, day))


class _Quarantine:
    def save_rows(self, **_: Any) -> Any:
        return type("Q", (), {"uri": "s3://q/rows"})()

    def save(self, **_: Any) -> Any:
        return type("Q", (), {"uri": "s3://q/body"})()


def sinks(s3: FakeS3) -> Sinks:
    return Sinks(cursors=_Cursors(), raw=RawStore("raw", client=s3), state=None, quarantine=_Quarantine())  # type: ignore[arg-type]


def run(kind: str, iso: str, s3: FakeS3, snk: Sinks, redo: bool = False) -> Any:
    source = registry.create(iso, kind, replay=True)
    module = type(source).__module__.rsplit(".", 1)[-1]
    where = find_recordings(CONTEXT / module, iso)
    assert where is not None, f"no {kind} recordings for {iso}"
    at = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=12)
    layer = http.replay(http.Recordings.load(where), clock=lambda: at)
    try:
        return context.backfill(source, kind, [DAY], layer, snk, redo=redo)
    finally:
        layer.close()


def test_registry_names_what_is_missing() -> None:
    with pytest.raises(RegistryError, match="no context kind"):
        registry.create("ERCOT", "tides")
    with pytest.raises(RegistryError, match="no outage source for NOPE"):
        registry.create("NOPE", "outage")
    for kind, sources in registry.KINDS.items():
        for iso in sources:
            assert registry.source_class(iso, kind).iso == iso


@pytest.mark.parametrize(("kind", "iso"), [(k, i) for k in ("outage", "weather") for i in registry.isos_of(k)])
def test_backfill_lands_context_keys_and_marks(kind: str, iso: str) -> None:
    s3 = FakeS3()
    snk = sinks(s3)
    (r,) = run(kind, iso, s3, snk)
    assert r.status == "done" and r.rows > 0, r.error
    for key in r.objects:
        assert key.startswith(landing.context_partition(kind, iso, key.split("date=")[1][:10]))
        assert key.endswith(f"backfill-{kind}-{DAY}.gz")
    assert ("raw", landing.mark_key(DAY, iso, kind)) in s3.objects
    before = dict(s3.objects)
    (again,) = run(kind, iso, s3, snk)
    assert again.status == "already_done"
    (redo,) = run(kind, iso, s3, snk, redo=True)
    assert redo.status == "done" and redo.changed == 0
    assert {k: v for k, v in s3.objects.items() if "/context/" in k[1]} == {
        k: v for k, v in before.items() if "/context/" in k[1]
    }  # same records, same revisions, same bytes


def test_replayed_day_carries_context_beside_every_hour(ex: Any) -> None:  # noqa: F811
    s3 = FakeS3()
    snk = sinks(s3)
    for kind in ("outage", "weather"):
        (r,) = run(kind, "ERCOT", s3, snk)
        assert r.status == "done", r.error
    load = batch_context.load_context(ex, "raw", DAY, ["ERCOT"], s3=s3)
    assert load.refused == {"outage": 0, "weather": 0, "customers": 0}
    rows = ex.query(batch_context.sqlglot_parse(
        "SELECT * FROM enriched_prices WHERE location = 'HB_HOUSTON' ORDER BY interval_start"))  # fmt: skip
    assert len(rows) == 24
    assert all(r["outage_mw"] is not None and r["outage_scope"] in ("zone", "system") for r in rows)
    assert all(r["temperature_c"] is not None for r in rows)


def test_command_reads_the_context_recordings_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from app.commands import backfill as command

    s3 = FakeS3()
    args = argparse.Namespace(replay=CONTEXT, redo=False, include_nodes=False, json=False)
    results = command.run(["ERCOT", "PJM"], "outage", [DAY], sinks(s3), args)
    assert [(r.iso, r.status) for r in results] == [("ERCOT", "done"), ("PJM", "done")]
    monkeypatch.setitem(registry.KINDS, "outage", {"ERCOT": registry.KINDS["outage"]["ERCOT"]})
    (nyiso,) = command.run(["NYISO"], "outage", [DAY], sinks(s3), args)  # no source: the ISO fails, not the run
    assert nyiso.status == "failed" and "no outage source for NYISO" in (nyiso.error or "")


def test_every_iso_hub_hour_gets_outage_and_weather(tmp_path: Path) -> None:
    """The recorded day of every source: each tracked hub of every ISO, each hour of its day,
    carries outage MW and a temperature (the recordings cover the whole day), except the one
    hour whose only station sent none."""
    from batch import warehouse

    s3 = FakeS3()
    snk = sinks(s3)
    for kind in ("outage", "weather"):
        for iso in registry.isos_of(kind):
            (r,) = run(kind, iso, s3, snk)
            assert r.status == "done", r.error
    wh = warehouse.DuckDBExecutor(tmp_path / "w.duckdb")
    try:
        warehouse.ensure_schema(wh)
        batch_context.load_context(wh, "raw", DAY, s3=s3)
        rows = wh.query(batch_context.sqlglot_parse("SELECT * FROM enriched_prices"))
    finally:
        wh.close()
    assert {r["iso"] for r in rows} == set(registry.isos_of("weather"))
    no_outage = sorted({(r["iso"], r["location"]) for r in rows if r["outage_mw"] is None})
    no_weather = sorted(
        (r["iso"], r["location"], f"{r['interval_start']:%H}") for r in rows if r["temperature_c"] is None
    )
    assert no_outage == []
    # KROC (GENESE's one station) reported no temperature at 17:56Z: unknown, not 0 or a neighbour's
    assert no_weather == [("NYISO", "GENESE", "17")]


def test_demo_backfills_every_context_recording(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from app import demo
    from producers import backfill

    s3 = FakeS3()
    snk = sinks(s3)
    monkeypatch.setattr(backfill.Sinks, "from_config", classmethod(lambda cls, names=None: snk))
    demo._backfill_context(None, CONTEXT)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "outage: 7 of 7 ISO(s)" in out and "weather: 7 of 7 ISO(s)" in out, out
    kinds = {k.split("/")[2] for _, k in s3.objects if k.startswith(landing.CONTEXT_PREFIX)}
    assert kinds == {"kind=outage", "kind=weather", "kind=customers"}

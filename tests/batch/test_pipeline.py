"""The embedded nightly on the emulator: raw objects in S3 -> compaction (Spark) -> curated
Parquet + manifest -> DuckDB warehouse (the Redshift SQL through sqlglot) -> checks -> SNS,
read back through an SQS subscription. Re-running a day leaves identical tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from batch import manifests, nightly
from gridtape import aws, config, isos
from tests.batch.conftest import alerts_queue, day_grid, put_raw_s3, tick

pytestmark = [pytest.mark.emulator, pytest.mark.spark]

GOOD_DAY = date(2024, 11, 3)  # fall-back day: 300 five-minute intervals for the Eastern and Central ISOs
GAP_DAY = date(2024, 11, 5)
NO_OVERLAP = timedelta(0)  # the runs here follow each other within seconds


def day_lines(day: date, skip: tuple[str, str, int, int] | None = None) -> list[str]:
    """Every feed of every ISO over the full local grid of the day, prices at every tracked hub,
    load at the ISO's system location; `skip` = (iso, hub, from, to) drops that hub's RT5
    grid positions [from, to)."""
    lines = []
    for iso in isos.TABLE:
        for feed in iso.feeds:
            locations = iso.hubs if feed.dataset == "lmp" else (iso.system,)
            ltype = "hub" if feed.dataset == "lmp" else "system"
            for location in locations:
                for i, start in enumerate(day_grid(iso.code, day, feed.minutes)):
                    if skip and (iso.code, location) == skip[:2] and feed.market == "RT5" and skip[2] <= i < skip[3]:
                        continue
                    value = 25.0 + (i % 12) if feed.dataset == "lmp" else 10000.0 + i
                    rec = tick(iso.code, feed.dataset, location, start, value, market=feed.market, location_type=ltype)
                    lines.append(json.dumps(rec))
    # A revision and a duplicate, so the load sees what compaction resolved.
    first = day_grid("PJM", day)[0]
    hub = isos.get("PJM").hubs[0]
    lines.append(json.dumps(tick("PJM", "lmp", hub, first, 31.5, published=first + timedelta(hours=2))))
    lines.append(lines[0])
    return lines


def expected_rows(day: date) -> dict[str, int]:
    return {
        iso.code: sum(
            len(day_grid(iso.code, day, f.minutes)) * (len(iso.hubs) if f.dataset == "lmp" else 1) for f in iso.feeds
        )
        for iso in isos.TABLE
    }


@pytest.fixture(scope="module")
def names(batch_stack: config.Names) -> config.Names:
    """Buckets and a topic of this module's own, so other tests' raw ticks never mix in."""
    own = config.Names(env=f"{batch_stack.env}-batch", account=batch_stack.account)
    for bucket in (own.raw_bucket, own.curated_bucket):
        aws.client("s3").create_bucket(Bucket=bucket)
    aws.client("sns").create_topic(Name=own.alerts_topic)
    return own


@pytest.fixture(scope="module")
def alerts(names: config.Names) -> Iterator[Any]:
    """The alerts topic's messages since the last read."""
    with alerts_queue(names, f"{names.env}-alerts") as read:
        read()
        yield read


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"


def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in ("prices", "load_mw", "locations", "hub_neighbours"):
            out[table] = sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
        out["dq_results"] = sorted(con.execute("SELECT * EXCLUDE (checked_at) FROM dq_results").fetchall(), key=repr)
        return out
    finally:
        con.close()


def test_nightly_twice_leaves_identical_tables(
    names: config.Names, spark: Any, warehouse_path: Path, alerts: Any
) -> None:
    put_raw_s3(names.raw_bucket, day_lines(GOOD_DAY))
    first = nightly.run(GOOD_DAY, names=names, spark=spark, warehouse_path=warehouse_path)
    assert first["status"] == "SUCCEEDED", first.get("cause")
    # A first run takes every raw object as new: raw date 11-03 can hold local 11-02 as well,
    # which turns out to have no rows, so it is compacted but not loaded.
    assert first["planned"] == ["2024-11-02", "2024-11-03"] and first["days"] == ["2024-11-03"]
    rows = expected_rows(GOOD_DAY)
    assert first["compaction"]["per_iso"] == rows
    load = sum(len(day_grid(iso.code, GOOD_DAY, f.minutes)) for iso in isos.TABLE for f in iso.feeds_named("load"))
    assert first["load"]["tables"] == {"prices": sum(rows.values()) - load, "load_mw": load}
    assert first["checks"]["passed"] is True
    before = snapshot(warehouse_path)
    revised = [r for r in before["prices"] if r[0] == "PJM" and r[7] == 31.5]
    assert len(revised) == 1  # the later revision won, once

    store = manifests.Store(names.raw_bucket, names.curated_bucket)
    manifest_1 = manifests.read_manifest(store, "2024-11-03")
    second = nightly.run(GOOD_DAY, names=names, spark=spark, warehouse_path=warehouse_path, overlap=NO_OVERLAP)
    assert second["status"] == "SUCCEEDED"
    assert second["planned"] == ["2024-11-03"]  # nothing arrived since the first run
    assert snapshot(warehouse_path) == before

    manifest_2 = manifests.read_manifest(store, "2024-11-03")
    assert manifest_1 and manifest_2 and manifest_1["runs"] != manifest_2["runs"]
    # The day's files: the new run and the one before it (kept one cycle for in-flight readers).
    runs = {k["Key"].split("/run=")[1].split("/")[0] for k in store.keys(names.curated_bucket, "curated/ticks/")}
    assert runs == {*manifest_1["runs"], *manifest_2["runs"]}

    messages = alerts()
    assert [m["status"] for m in messages] == ["SUCCEEDED", "SUCCEEDED"]
    assert messages[0]["subject"] == "gridtape nightly 2024-11-03 SUCCEEDED"


def test_a_late_revision_reaches_the_warehouse_the_next_night_and_a_hub_hole_is_named(
    names: config.Names, spark: Any, warehouse_path: Path, alerts: Any
) -> None:
    """After 11-03 was compacted and loaded, PJM revises one of its intervals (revision 1,
    stamped with an older clock: the revision number wins). The night of 11-05 brings 11-03
    back, reloads it, and checks both days; 11-05 lacks one NYISO hub's afternoon hour."""
    hub = isos.get("PJM").hubs[0]
    start = day_grid("PJM", GOOD_DAY)[5]
    revision = tick("PJM", "lmp", hub, start, 77.25, published=start + timedelta(minutes=1), revision=1)
    put_raw_s3(names.raw_bucket, [json.dumps(revision)])
    # NYISO's WEST loses 14:00-15:00 local (EST) = 19:00-20:00Z: grid positions 168..179.
    put_raw_s3(names.raw_bucket, day_lines(GAP_DAY, skip=("NYISO", "WEST", 168, 180)))
    summary = nightly.run(GAP_DAY, names=names, spark=spark, warehouse_path=warehouse_path, overlap=NO_OVERLAP)

    assert summary["planned"] == ["2024-11-02", "2024-11-03", "2024-11-04", "2024-11-05"]
    assert summary["days"] == ["2024-11-03", "2024-11-05"]
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        held = con.execute(
            "SELECT lmp, revision FROM prices WHERE iso = 'PJM' AND location = ? AND interval_start = ?",
            [hub, start.replace(tzinfo=None)],
        ).fetchall()
        failing = con.execute(
            "SELECT trade_date, iso, dataset, market, location, check_name FROM dq_results WHERE NOT passed"
        ).fetchall()
    finally:
        con.close()
    assert held == [(77.25, 1)]

    assert summary["status"] == "FAILED" and summary["failed_step"] == "Checks"
    failures = summary["checks"]["failures"]
    assert [(f["trade_date"], f["iso"], f["location"], f["check"]) for f in failures] == [
        ("2024-11-05", "NYISO", "WEST", "missing_intervals")
    ]
    assert failures[0]["observed"] == 276 and failures[0]["expected"] == 288
    assert (
        "NYISO lmp RT5 [WEST] missing_intervals: 12 of 288 5-minute intervals missing: 2024-11-05T19:00Z-20:00Z (14:00-15:00 EST"
        in summary["cause"]
    )
    assert failing == [(GAP_DAY, "NYISO", "lmp", "RT5", "WEST", "missing_intervals")]

    (message,) = alerts()
    assert message["status"] == "FAILED" and message["failed_step"] == "Checks"
    assert "NYISO lmp RT5 [WEST] missing_intervals" in message["cause"] and "19:00Z-20:00Z" in message["cause"]

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

from batch import compaction, nightly
from gridtape import aws, config
from gridtape.contract import DATASETS, ISOS
from tests.batch.conftest import day_grid, put_raw_s3, tick

pytestmark = [pytest.mark.emulator, pytest.mark.spark]

GOOD_DAY = date(2024, 11, 3)  # fall-back day: 300 intervals for the Eastern and Central ISOs
GAP_DAY = date(2024, 11, 5)
HUBS = {
    "CAISO": "TH_NP15_GEN-APND",
    "ERCOT": "HB_NORTH",
    "ISONE": ".H.INTERNAL_HUB",
    "MISO": "INDIANA.HUB",
    "NYISO": "WEST",
    "PJM": "WESTERN HUB",
    "SPP": "SPPNORTH_HUB",
}


def day_lines(day: date, skip: tuple[str, str, int, int] | None = None) -> list[str]:
    """Every ISO, both datasets, the full local grid; `skip` = (iso, dataset, from, to) drops
    grid positions [from, to)."""
    lines = []
    for iso in ISOS:
        for dataset in DATASETS:
            location = HUBS[iso] if dataset == "lmp" else f"{iso} TOTAL"
            ltype = "hub" if dataset == "lmp" else "system"
            for i, start in enumerate(day_grid(iso, day)):
                if skip and (iso, dataset) == skip[:2] and skip[2] <= i < skip[3]:
                    continue
                value = 25.0 + (i % 12) if dataset == "lmp" else 10000.0 + i
                lines.append(json.dumps(tick(iso, dataset, location, start, value, location_type=ltype)))
    # A revision and a duplicate, so the load sees what compaction resolved.
    first = day_grid("PJM", day)[0]
    lines.append(json.dumps(tick("PJM", "lmp", HUBS["PJM"], first, 31.5, published=first + timedelta(hours=2))))
    lines.append(lines[0])
    return lines


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
    """An SQS queue subscribed to the alerts topic; yields a reader of the messages since the last read."""
    sqs, sns = aws.client("sqs"), aws.client("sns")
    url = sqs.create_queue(QueueName=f"{names.env}-alerts")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=nightly.alerts_topic_arn(names), Protocol="sqs", Endpoint=qarn)

    def read() -> list[dict[str, Any]]:
        out = []
        for _ in range(20):  # bounded: the emulator delivers synchronously, a few polls suffice
            resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            msgs = resp.get("Messages", [])
            if not msgs:
                break
            for m in msgs:
                envelope = json.loads(m["Body"])
                out.append({"subject": envelope.get("Subject"), **json.loads(envelope["Message"])})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    read()
    yield read
    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    sqs.delete_queue(QueueUrl=url)


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
    # Every DST-observing ISO has 300 intervals on the fall-back day; MISO (fixed EST) 288.
    expected_rows = {iso: 2 * (288 if iso == "MISO" else 300) for iso in ISOS}
    assert first["compaction"]["per_iso"] == expected_rows
    assert first["load"]["tables"] == {
        "prices": sum(expected_rows.values()) // 2,
        "load_mw": sum(expected_rows.values()) // 2,
    }
    assert first["checks"]["passed"] is True
    before = snapshot(warehouse_path)
    revised = [r for r in before["prices"] if r[0] == "PJM" and r[7] == 31.5]
    assert len(revised) == 1  # the later revision won, once

    manifest_1 = compaction.read_manifest(compaction.Store(names.raw_bucket, names.curated_bucket), "2024-11-03")
    second = nightly.run(GOOD_DAY, names=names, spark=spark, warehouse_path=warehouse_path)
    assert second["status"] == "SUCCEEDED"
    assert snapshot(warehouse_path) == before

    store = compaction.Store(names.raw_bucket, names.curated_bucket)
    manifest_2 = compaction.read_manifest(store, "2024-11-03")
    assert manifest_1 and manifest_2 and manifest_1["runs"] != manifest_2["runs"]
    # The day's files: the new run and the one before it (kept one cycle for in-flight readers).
    runs = {k["Key"].split("/run=")[1].split("/")[0] for k in store.keys(names.curated_bucket, "curated/ticks/")}
    assert runs == {*manifest_1["runs"], *manifest_2["runs"]}

    messages = alerts()
    assert [m["status"] for m in messages] == ["SUCCEEDED", "SUCCEEDED"]
    assert messages[0]["subject"] == "gridtape nightly 2024-11-03 SUCCEEDED"


def test_missing_hour_fails_checks_naming_iso_dataset_and_intervals(
    names: config.Names, spark: Any, warehouse_path: Path, alerts: Any
) -> None:
    # NYISO lmp loses 14:00-15:00 local (EST) = 19:00-20:00Z: grid positions 168..179.
    put_raw_s3(names.raw_bucket, day_lines(GAP_DAY, skip=("NYISO", "lmp", 168, 180)))
    summary = nightly.run(GAP_DAY, names=names, spark=spark, warehouse_path=warehouse_path)
    assert summary["status"] == "FAILED"
    assert summary["failed_step"] == "Checks"
    failures = summary["checks"]["failures"]
    assert [(f["iso"], f["dataset"], f["check"]) for f in failures] == [("NYISO", "lmp", "missing_intervals")]
    assert failures[0]["observed"] == 276 and failures[0]["expected"] == 288
    assert (
        "NYISO lmp missing_intervals: 12 of 288 5-minute intervals missing: 2024-11-05T19:00Z-20:00Z (14:00-15:00 EST"
        in summary["cause"]
    )

    (message,) = alerts()
    assert message["status"] == "FAILED" and message["failed_step"] == "Checks"
    assert "NYISO lmp missing_intervals" in message["cause"] and "19:00Z-20:00Z" in message["cause"]

    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT iso, dataset, check_name, passed FROM dq_results WHERE trade_date = DATE '2024-11-05' AND NOT passed"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("NYISO", "lmp", "missing_intervals", False)]

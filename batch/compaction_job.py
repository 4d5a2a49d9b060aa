"""Glue 5.0 entry point (uploaded as s3://<artifacts>/glue/compaction_job.py; the gridtape wheel
comes in through --additional-python-modules). Same transforms as the local run, reading
s3:// directly: Spark writes to a staging prefix, the driver places the files under the run
prefix and flips the day's manifest (batch.compaction.publish semantics)."""

from __future__ import annotations

import json
import sys
from typing import Any


def _s3_publish(store: Any, staging: str, days: list[Any], run_id: str) -> list[str]:
    """Copy staged s3:// objects into the run layout, then flip manifests (as publish())."""
    from batch import compaction

    bucket, _, prefix = staging[5:].partition("/")
    by_day: dict[str, list[dict[str, Any]]] = {d.isoformat(): [] for d in days}
    for obj in store.keys(bucket, prefix + "/"):
        key = obj["Key"]
        name = key.rsplit("/", 1)[-1]
        if not name.startswith("part-"):
            continue
        parts = dict(seg.split("=", 1) for seg in key[len(prefix) + 1 :].split("/")[:-1] if "=" in seg)
        if "/ticks/" in key:
            dest = f"{compaction.TICKS_PREFIX}iso={parts['_iso']}/date={parts['_date']}/run={run_id}/{name}"
            by_day.setdefault(parts["_date"], []).append(
                {
                    "url": f"s3://{store.curated_bucket}/{dest}",
                    "mandatory": True,
                    "meta": {"content_length": obj["Size"]},
                }
            )
        else:
            dest = f"{compaction.REJECTS_PREFIX}date={parts['_date']}/run={run_id}/{name}"
        store.s3.copy_object(Bucket=store.curated_bucket, Key=dest, CopySource={"Bucket": bucket, "Key": key})
        store.s3.delete_object(Bucket=bucket, Key=key)
    manifests = []
    for day, entries in sorted(by_day.items()):
        previous = compaction.read_manifest(store, day)
        key = f"{compaction.MANIFEST_PREFIX}date={day}.manifest"
        store.s3.put_object(Bucket=store.curated_bucket, Key=key, Body=json.dumps({"entries": entries}).encode())
        manifests.append(key)
        compaction._expire_runs(store, day, keep={run_id, *(previous.get("runs", []) if previous else [])})
    return manifests


def main(argv: list[str]) -> None:  # pragma: no cover - runs on Glue only
    from awsglue.context import GlueContext
    from pyspark.context import SparkContext

    from batch import compaction
    from batch import days as _days

    glue = GlueContext(SparkContext.getOrCreate())
    spark = glue.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    args = compaction.parse_args(argv)
    first = _days.parse_day(args.date)
    days = _days.day_range(first, _days.parse_day(args.end_date) if args.end_date else first)
    store = compaction.Store(args.raw_bucket, args.curated_bucket)
    raw = [f"s3://{args.raw_bucket}/{k}" for k in store.raw_keys(_days.raw_dates_for(days))]
    run_id = compaction.new_run_id()
    staging = f"s3://{args.curated_bucket}/tmp/compaction/{run_id}"
    lines = compaction.read_lines(spark, raw)
    per_iso, n_rejects = compaction.transform_and_write(spark, lines, compaction.CompactParams(tuple(days)), staging)
    manifests = _s3_publish(store, staging, days, run_id)
    print(json.dumps({"run_id": run_id, "rows": per_iso, "rejects": n_rejects, "manifests": manifests}))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])

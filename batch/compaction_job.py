"""Glue 5.0 entry point (uploaded as s3://<artifacts>/glue/compaction_job.py; the gridtape wheel
comes in through --additional-python-modules). Same transforms as the local run, reading
s3:// directly: Spark writes to a staging prefix, then batch.manifests.publish places the
files under the run prefix and flips each day's manifest, exactly as for the local run."""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:  # pragma: no cover - runs on Glue only
    from awsglue.context import GlueContext
    from pyspark.context import SparkContext

    from batch import compaction, manifests
    from batch import days as _days
    from batch.transforms import CompactParams

    glue = GlueContext(SparkContext.getOrCreate())
    spark = glue.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    args = compaction.parse_args(argv)
    days = compaction.days_of(args)
    store = manifests.Store(args.raw_bucket, args.curated_bucket)
    raw = [f"s3://{args.raw_bucket}/{k}" for k in store.raw_keys(_days.raw_dates_for(days))]
    run_id = manifests.new_run_id()
    staging = f"s3://{args.curated_bucket}/tmp/compaction/{run_id}"
    lines = compaction.read_lines(spark, raw)
    counts, n_rejects = compaction.transform_and_write(spark, lines, CompactParams(tuple(days)), staging)
    staged = manifests.staged_s3(store, staging)
    flipped = manifests.publish(store, staged, days, run_id)
    for f in staged:  # placed (or superseded): the staging copy is no longer needed
        if f.s3:
            store.s3.delete_object(Bucket=f.s3[0], Key=f.s3[1])
    print(json.dumps(compaction.summarize(days, run_id, counts, n_rejects, flipped).as_dict()))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])

"""The local SparkSession used by the embedded runtime and the tests (on Glue the session comes
from GlueContext; jobs take a session as an argument and never build their own), and the
reading of wire times that the Spark jobs share."""

from __future__ import annotations

import os
import sys
from typing import Any, Final

from gridtape.wire_time import TS_PATTERN

# TS_PATTERN matched to the very end: Java's (like Python's) $ also matches before a final newline.
TS_WHOLE: Final = TS_PATTERN.removesuffix("$") + r"\z"


def local_session(app_name: str = "gridtape", cores: int = 2, extra: dict[str, str] | None = None) -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this venv's Python
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")  # every timestamp is UTC, whatever the host says
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
    )
    for key, value in (extra or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def fast_timestamp(sql: str) -> Any:
    """A wire time whose shape is checked (TS_WHOLE, so it ends in "Z") -> a timestamp: the text
    before the Z, read in the session zone, which must be UTC (the jobs set it). Reading the "Z"
    as a zone id on every row (what a TimestampType field of from_json does: a zone lookup with
    two regex replacements) cost a tenth of the compaction job (JFR profile)."""
    from pyspark.sql import functions as F

    return F.expr(f"try_cast(substring({sql}, 1, length({sql}) - 1) AS TIMESTAMP)")


def wire_time(sql: str) -> Any:
    """A wire time's text -> its timestamp; null unless contract.parse_ts reads it (the shape
    TS_WHOLE, and a real date and time: 24:00 or February 30 are null)."""
    from pyspark.sql import functions as F

    return F.when(F.expr(sql).rlike(TS_WHOLE), fast_timestamp(sql))

"""What the volatility stream refuses before it computes anything, and counts.

* Future ticks: interval_start at least FUTURE_TOLERANCE after now. A Spark watermark is global
  to the query and never goes back, so one tick from the year 2999 would make every later tick
  "late" and stop all windows for good. The tolerance is the contract's LIVE_FUTURE (2 days):
  a poller may legitimately publish tomorrow's day-ahead prices today; nothing the job prices
  (real-time markets) starts after now. "Now" is the micro-batch's UTC date (see
  future_tick): a tick is refused from the third midnight (UTC) after now on, so between 2
  and 3 days ahead.
* Invalid ticks: anything contract.validate would refuse - a row that is not a tick at all, a
  value outside the allowed codes, or outside the bounds of gridtape/bounds.py (a 1e300 price,
  a NaN, the year 2999, an interval off its grid, a name the warehouse cannot hold). The
  producers enforce the contract; this is the stream's own copy of it, so no record put on the
  stream by anyone else can reach the watermark or the statistics. tests/streaming compare it
  with contract.validate tick by tick.

Both are dropped before the watermark and the stateful operator. The counts of each
micro-batch come out of Spark's progress (observedMetrics, see dropped()): the local runner
sums them in RunCounts, the Glue job publishes them (metrics.FUTURE_TICKS_DROPPED).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from gridtape import bounds, contract, isos

FUTURE_TOLERANCE: Final = bounds.LIVE_FUTURE
OBSERVATION: Final = "gridtape_tick_guard"
FUTURE_DROPPED: Final = "future_dropped"
INVALID_DROPPED: Final = "invalid_dropped"
# Any character Python's str.isprintable() refuses, in Java's regex syntax (Spark's rlike):
# other (control, format, unassigned), line and paragraph separators, spaces but the plain one.
_NOT_PRINTABLE: Final = r"[\p{C}\p{Zl}\p{Zp}[\p{Zs}&&[^ ]]]"
_US: Final = 1_000_000


def _us(when: datetime) -> int:
    return int(when.timestamp()) * _US


def _micros(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.expr(f"unix_micros({name})")


def _case(column: str, values: dict[str, Any]) -> Any:
    """CASE column WHEN key THEN value ... END (null for any other key)."""
    from pyspark.sql import functions as F

    out = None
    for key, value in values.items():
        out = (
            F.when(F.col(column) == key, F.lit(value)) if out is None else out.when(F.col(column) == key, F.lit(value))
        )
    return out


def _name_ok(name: str, max_bytes: int) -> Any:
    from pyspark.sql import functions as F

    col = F.col(name)
    return (
        (F.length(col) > 0)
        & ~col.rlike(_NOT_PRINTABLE)
        & (col == F.trim(col))  # trim: spaces only, the one white space left after the rlike
        & (F.expr(f"octet_length({name})") <= max_bytes)
    )


def valid_tick() -> Any:
    """A boolean column: true where contract.validate would accept the typed tick (the contract's
    Spark schema already holds the types)."""
    from pyspark.sql import functions as F

    t = contract.TICK
    ok = F.lit(True)
    for f in t.fields:
        if not f.nullable:
            ok = ok & F.col(f.name).isNotNull()
        if f.allowed:
            ok = ok & F.col(f.name).isin(*f.allowed)
    for name in bounds.TIME_FIELDS:
        ok = ok & _micros(name).between(_us(bounds.ERA_START), _us(bounds.ERA_END) - 1)
    minutes_us = _case("market", {m: n * 60 * _US for m, n in bounds.MARKET_MINUTES.items()})
    ok = ok & (_micros("interval_end") - _micros("interval_start") == minutes_us)
    ok = ok & (F.pmod(_micros("interval_start"), minutes_us) == 0)
    ok = ok & _name_ok("location", bounds.LOCATION_MAX_BYTES) & _name_ok("source", bounds.SOURCE_MAX_BYTES)
    for name in bounds.PRICE_FIELDS:  # NaN sorts above every number in Spark: it fails <= PRICE_MAX
        ok = ok & (F.col(name).isNull() | F.col(name).between(bounds.PRICE_MIN, bounds.PRICE_MAX))
    load = F.col("load_mw")
    ok = ok & (load.isNull() | ((load > 0) & (load <= bounds.LOAD_MAX_MW)))
    ok = ok & ((F.col("dataset") != "lmp") | F.col("lmp").isNotNull())
    ok = ok & ((F.col("dataset") != "load") | load.isNotNull())
    parts = [F.col(n) for n in bounds.COMPONENTS]
    gap = F.col("lmp") - (parts[0] + parts[1] + parts[2])  # null unless lmp and all parts are published
    low = _case("iso", {code: isos.get(code).component_gap[0] - 1e-9 for code in isos.CODES})
    high = _case("iso", {code: isos.get(code).component_gap[1] + 1e-9 for code in isos.CODES})
    ok = ok & (gap.isNull() | gap.between(low, high))
    ok = ok & (F.col("revision").isNull() | (F.col("revision") >= 0))
    return F.coalesce(ok, F.lit(False))


def future_tick(tolerance_days: int = FUTURE_TOLERANCE.days) -> Any:
    """A boolean column: interval_start on or after the first UTC midnight at least
    tolerance_days after the batch's now, i.e. between tolerance_days and a day more ahead.

    Now is read as the batch's date, not its time: in a streaming query Spark writes
    current_timestamp() into the generated code as a literal, a new one every micro-batch, so
    the whole parse stage was recompiled each batch (0.2 s of Janino per stage, and the JIT's
    work on the new class, measured); the date changes once a day."""
    from pyspark.sql import functions as F

    first_refused = f"(unix_date(current_date()) + {tolerance_days + 1}) * {86_400 * _US}"
    return F.coalesce(_micros("interval_start") >= F.expr(first_refused), F.lit(False))


def guard(ticks: Any, exempt: Any = None) -> Any:
    """Typed ticks -> the future-free, valid ones, the others counted in the observed metrics
    OBSERVATION of each batch. Rows where `exempt` holds (the end-of-input marker) pass uncounted."""
    from pyspark.sql import functions as F

    exempt = F.lit(False) if exempt is None else exempt
    flagged = ticks.withColumn("_future", ~exempt & future_tick()).withColumn(
        "_invalid", ~exempt & ~F.col("_future") & ~valid_tick()
    )
    observed = flagged.observe(
        OBSERVATION,
        F.coalesce(F.sum(F.col("_future").cast("long")), F.lit(0)).alias(FUTURE_DROPPED),
        F.coalesce(F.sum(F.col("_invalid").cast("long")), F.lit(0)).alias(INVALID_DROPPED),
    )
    return observed.where(~F.col("_future") & ~F.col("_invalid")).drop("_future", "_invalid")


def dropped(progress: dict[str, Any]) -> tuple[int, int]:
    """(future, invalid) ticks dropped in one micro-batch, from its progress (as a dict)."""
    metrics = (progress.get("observedMetrics") or {}).get(OBSERVATION) or {}
    if hasattr(metrics, "asDict"):  # a Row where the progress is pyspark 4's object, not parsed JSON
        metrics = metrics.asDict()
    return int(metrics.get(FUTURE_DROPPED) or 0), int(metrics.get(INVALID_DROPPED) or 0)

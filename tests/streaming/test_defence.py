"""The stream against what should never reach it: a tick from the year 2999, a 1e300 price, a NaN,
a negative revision, a line that is no tick. Each is dropped before the watermark and counted;
the query keeps running and emits every later window exactly as if they had never come. And
revisions win by revision number, whatever order they arrive in."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from gridtape.contract import dumps, validate
from gridtape.errors import ContractError
from streaming.volatility import END_OF_INPUT, VolatilityParams, WindowSpec
from tests.streaming import reference, scenario

pytestmark = [pytest.mark.spark, pytest.mark.glue]

WINDOWS = ((60, 5),)


def _far_future() -> dict[str, Any]:
    t = scenario.price_tick("PJM", "WESTERN HUB", 0, 31.0)
    t["interval_start"], t["interval_end"] = "2999-01-01T00:00:00Z", "2999-01-01T00:05:00Z"
    return t


def _bad_ticks() -> tuple[list[str], int, int]:
    """(lines, future count, invalid count)."""
    # 1e300 and NaN would, as later publications of real intervals, replace their prices.
    huge = scenario.price_tick("PJM", "AEP-DAYTON HUB", 14, 1e300, published_delay_s=900)
    nan = scenario.price_tick("ERCOT", "HB_NORTH", 15, 0.0, published_delay_s=900)
    nan["lmp"] = float("nan")
    negative_revision = {**scenario.price_tick("PJM", "WESTERN HUB", 16, 55.0, published_delay_s=900), "revision": -1}
    invalid = [dumps(huge), json.dumps(nan, allow_nan=True), dumps(negative_revision), END_OF_INPUT, "not json"]
    return [dumps(_far_future()), *invalid], 1, len(invalid)


def _contract_accepts(tick: dict[str, Any]) -> bool:
    try:
        validate(tick)
    except ContractError:
        return False
    return True


def _revisions() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Revision 2 arrives first with the oldest clocks; revision 1 and an unnumbered version come
    a batch later, published later: revision 2 must stay."""
    first = [scenario.price_tick("PJM", "WESTERN HUB", 4, 77.0, published_delay_s=10) | {"revision": 2}]
    later = [
        scenario.price_tick("PJM", "WESTERN HUB", 4, -3.0, published_delay_s=1200) | {"revision": 1},
        scenario.price_tick("PJM", "WESTERN HUB", 4, 5.0, published_delay_s=2400),
    ]
    return first, later


def test_future_and_out_of_bounds_ticks_leave_the_stream_running(spark: Any, tmp_path: Path) -> None:
    from streaming.job import read_jsonl, run_files

    batches = scenario.batches()
    first, later = _revisions()
    batches[0] += first
    batches[1] += later
    bad, want_future, want_invalid = _bad_ticks()
    folder = tmp_path / "in"
    folder.mkdir()
    for n, batch in enumerate(batches):
        lines = [dumps(t) for t in batch] + ([*bad, ""] if n == 1 else [])  # and a blank line: no record
        (folder / f"ticks-{n:03d}.jsonl").write_text("\n".join(lines) + "\n")
    params = VolatilityParams(windows=tuple(WindowSpec(*w) for w in WINDOWS), watermark_minutes=15)
    counts = run_files(spark, folder, tmp_path / "out.jsonl", params, max_files_per_trigger=1)
    # the scenario's day-ahead tick has a 5-minute interval: the contract refuses it too
    want_invalid += sum(not _contract_accepts(t) for t in scenario.flat(batches))
    assert (counts["future_dropped"], counts["invalid_dropped"]) == (want_future, want_invalid)
    want, want_late = reference.volatility(batches, WINDOWS, 15)
    assert counts["late_dropped"] == want_late
    got = read_jsonl(tmp_path / "out.jsonl")
    reference.assert_matches(got, want)  # every window up to the final watermark, none beyond it
    assert max(r["window_end"] for r in got) >= "2024-03-04T04:30:00Z"  # the last hours too
    for rec in got:
        for name in reference.FLOAT_FIELDS:
            assert rec[name] is None or math.isfinite(rec[name]), (name, rec)
    hour = next(r for r in got if r["location"] == "WESTERN HUB" and r["window_start"] == "2024-03-04T00:00:00Z")
    assert hour["price_max"] >= 77.0 and hour["price_min"] > -3.0  # revision 2 kept, revision 1 lost

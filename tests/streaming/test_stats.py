"""The numpy statistics kernel on its own (no Spark): its fields follow the VOLATILITY contract,
revisions win by revision number, every statistic is finite or null whatever the prices, and
its windows match the independent reference."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from gridtape.contract import VOLATILITY
from streaming import stats
from tests.streaming import reference, scenario

pytestmark = pytest.mark.glue

EPOCH = reference.EPOCH


def _us(text: str) -> int:
    return (reference.ts(text) - EPOCH) // timedelta(microseconds=1)


def _obs(rows: list[tuple[int, int, int | None, int, int, float]]) -> np.ndarray:
    obs = np.empty(len(rows), dtype=stats.OBS)
    for i, (k, t, rev, pub, ing, p) in enumerate(rows):
        obs[i] = (k, t, stats.NO_REVISION if rev is None else rev, pub, ing, p)
    return obs


def test_fields_are_the_contracts() -> None:
    computed = {f.name for f in VOLATILITY.fields} - {*stats.KEY, "computed_at"}
    assert set(stats.STATS_NAMES) == computed
    out = stats.window_stats(_obs([(0, 0, None, 0, 0, 1.0)]), (stats.WindowSpec(60, 5),), stats.NEVER, stats.ALWAYS)
    assert tuple(out) == ("k", *stats.STATS_NAMES)
    assert stats.NULLABLE & set(stats.STATS_NAMES) == {"vol_log", "vol_abs"}


def test_highest_revision_wins_whatever_the_clocks_and_arrival() -> None:
    """Random versions of a few intervals, in random order: the winner is the highest revision
    (none lowest), then published_at, then ingested_at, then price."""
    rng = random.Random(3)
    for _ in range(200):
        rows = [
            (
                rng.randrange(2),
                rng.randrange(3) * 300_000_000,
                rng.choice([None, 0, 1, 2]),
                rng.randrange(3),
                rng.randrange(3),
                float(rng.randrange(5)),
            )
            for _ in range(rng.randrange(1, 12))
        ]
        got = stats.latest_revisions(_obs(rows))
        want = {}
        for row in sorted(rows, key=lambda r: (-1 if r[2] is None else r[2], r[3], r[4], r[5])):
            want[(row[0], row[1])] = row  # the last in rank order wins
        assert [(int(o["k"]), int(o["t"])) for o in got] == sorted(want)
        for o in got:
            _, _, rev, pub, ing, p = want[(int(o["k"]), int(o["t"]))]
            assert (int(o["rev"]), int(o["pub"]), int(o["ing"]), float(o["p"])) == (
                -1 if rev is None else rev,
                pub,
                ing,
                p,
            )


def test_revision_beats_a_later_published_at() -> None:
    rows = [(0, 0, 1, 100, 100, 10.0), (0, 0, 0, 999, 999, 20.0), (0, 0, None, 5000, 5000, 30.0)]
    for order in itertools.permutations(rows):
        (winner,) = stats.latest_revisions(_obs(list(order)))
        assert float(winner["p"]) == 10.0


MAGNITUDES = (0.0, 1e-300, 0.5, 1.0, 37.25, 5e3, 1e300, 1.7e308)


@pytest.mark.parametrize("seed", range(6))
def test_statistics_are_finite_or_null_for_any_prices(seed: int) -> None:
    """Prices of any finite magnitude and sign (and non-finite ones, which are not observations):
    non-nullable statistics are finite, nullable ones finite or NaN (null on the wire)."""
    rng = random.Random(seed)
    rows = []
    for k in range(3):
        for i in range(40):
            p = rng.choice(MAGNITUDES) * rng.choice((1, -1))
            if rng.random() < 0.05:
                p = rng.choice((float("nan"), float("inf"), -float("inf")))
            rows.append((k, i * 300_000_000, None, 0, 0, p))
    obs = stats.latest_revisions(_obs(rows))
    assert np.isfinite(obs["p"]).all()
    specs = (stats.WindowSpec(60, 5), stats.WindowSpec(120, 60))
    out = stats.window_stats(obs, specs, stats.NEVER, stats.ALWAYS)
    assert len(out["k"]) > 0
    for name in stats.STATS_NAMES:
        values = out[name]
        if name in stats.NULLABLE:
            assert not np.isinf(values).any(), name
        else:
            assert np.isfinite(values).all(), name
    # a window of two huge prices has a huge but finite vol_abs and price_mean
    pair = _obs([(0, 0, None, 0, 0, 1e300), (0, 300_000_000, None, 0, 0, -1e300), (0, 600_000_000, None, 0, 0, 1e300)])
    one = stats.window_stats(pair, (stats.WindowSpec(60, 60),), stats.NEVER, stats.ALWAYS)
    assert one["vol_abs"][0] == pytest.approx(2 * np.sqrt(2) * 1e300)  # stdev of -2e300, 2e300
    assert one["price_mean"][0] == pytest.approx(1e300 / 3)


def test_kernel_matches_the_reference_without_spark() -> None:
    """Every tick of the scenario at once (emit_all), straight through the kernel."""
    ticks = [t for t in scenario.flat(scenario.batches()) if t["dataset"] == "lmp" and t["market"] == "RT5"]
    keys = sorted({(t["iso"], t["market"], t["location"]) for t in ticks})
    rows = [
        (
            keys.index((t["iso"], t["market"], t["location"])),
            _us(t["interval_start"]),
            t.get("revision"),
            _us(t["published_at"]),
            _us(t["ingested_at"]),
            t["lmp"],
        )
        for t in ticks
    ]
    windows = ((60, 5), (1440, 60))
    specs = tuple(stats.WindowSpec(*w) for w in windows)
    out = stats.window_stats(stats.latest_revisions(_obs(rows)), specs, stats.NEVER, stats.ALWAYS)
    got: list[dict[str, Any]] = []
    for i in range(len(out["k"])):
        rec = dict(zip(stats.KEY, keys[int(out["k"][i])], strict=True))
        for name, kind in stats.STATS_FIELDS:
            value = out[name][i].item()
            if kind == "timestamp":
                value = reference.wire_ts(EPOCH + timedelta(microseconds=value))
            elif kind == "float" and value != value:
                value = None
            rec[name] = value
        got.append(rec)
    want, _ = reference.volatility([ticks], windows, emit_all=True)
    reference.assert_matches(got, want)

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


def _random_obs(rng: np.random.Generator, n: int, locations: int = 4, intervals: int = 40) -> np.ndarray:
    obs = np.empty(n, dtype=stats.OBS)
    obs["k"] = rng.integers(0, locations, n)
    obs["t"] = rng.integers(-intervals, intervals, n) * 300_000_000 + rng.choice([0, 0, 60_000_000, 1], n)
    obs["rev"], obs["pub"], obs["ing"] = rng.integers(-1, 3, n), rng.integers(0, 3, n), rng.integers(0, 3, n)
    obs["p"] = rng.choice([30.0, -4.5, 0.0, 1e300, np.nan, 12.25], n) + rng.integers(0, 3, n)
    return obs


def test_windows_due_in_a_range_are_those_of_all_windows_ending_there() -> None:
    """window_stats(after, upto) enumerates only the windows ending in (after, upto]: the same
    windows, with the same statistics, as every window's filtered."""
    rng = np.random.default_rng(5)
    for i in range(300):
        obs = stats.latest_revisions(_random_obs(rng, int(rng.integers(1, 60))))
        if not len(obs):
            continue
        specs = ((stats.WindowSpec(60, 5), stats.WindowSpec(1440, 60)), (stats.WindowSpec(15, 15),))[i % 2]
        every = stats.window_stats(obs, specs, stats.NEVER, stats.ALWAYS)
        after, upto = sorted(int(x) * 60_000_000 for x in rng.integers(-300, 300, 2))
        due = (every["window_end"] > after) & (every["window_end"] <= upto)
        got = stats.window_stats(obs, specs, after, upto)
        for name, values in every.items():  # floats to rounding: a row's padded width varies per call
            np.testing.assert_allclose(got.get(name, values[:0]), values[due], rtol=1e-12, err_msg=name)


def test_merging_new_ticks_is_latest_revisions_of_all() -> None:
    rng = np.random.default_rng(6)
    for _ in range(500):
        old = stats.latest_revisions(_random_obs(rng, int(rng.integers(0, 80))))
        new = _random_obs(rng, int(rng.integers(0, 30)))
        want = stats.latest_revisions(np.concatenate((old, new)))
        assert stats.merge_revisions(old, new).tobytes() == want.tobytes()


def test_packed_state_keeps_what_a_later_batch_can_change() -> None:
    """Observations before the watermark lose their revision and clocks in the state (a tick for
    them is late from the next batch on); merging on-time ticks gives the same observations."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        obs = stats.latest_revisions(_random_obs(rng, int(rng.integers(0, 80))))
        watermark = int(rng.integers(-45, 45)) * 300_000_000
        n_open = int((obs["t"] >= watermark).sum())
        back = stats.unpack(stats.pack(obs, watermark), len(obs), n_open)
        for name in ("k", "t", "p"):
            assert np.array_equal(back[name], obs[name])
        on_time = _random_obs(rng, int(rng.integers(0, 30)))
        on_time = on_time[on_time["t"] >= watermark]
        got, want = stats.merge_revisions(back, on_time), stats.merge_revisions(obs, on_time)
        for name in ("k", "t", "p"):
            assert np.array_equal(got[name], want[name])
        still_open = want["t"] >= watermark
        assert got[still_open].tobytes() == want[still_open].tobytes()


def test_scaling_by_a_power_of_two_scales_every_statistic_exactly() -> None:
    """Everyday prices take the plain path (no per-window scaling); the same prices times 2**-600
    take the scaled one (their squares would underflow). Scaling by a power of two is exact, so
    both paths must agree bit for bit: prices, means and vol_abs scale, vol_log does not change."""
    rng = np.random.default_rng(8)
    n = 400
    obs = np.zeros(n, dtype=stats.OBS)
    obs["k"] = np.repeat(np.arange(4), n // 4)
    obs["t"] = np.tile(np.arange(n // 4), 4) * 300_000_000
    obs["p"] = np.round(rng.normal(30.0, 25.0, n), 2)
    tiny = obs.copy()
    tiny["p"] = obs["p"] * 2.0**-600
    assert stats._plain(obs["p"]) and not stats._plain(tiny["p"])
    specs = (stats.WindowSpec(60, 5), stats.WindowSpec(1440, 60))
    got, want = (stats.window_stats(o, specs, stats.NEVER, stats.ALWAYS) for o in (tiny, obs))
    for name in stats.STATS_NAMES:
        factor = 2.0**-600 if name.startswith("price_") or name == "vol_abs" else 1
        np.testing.assert_array_equal(got[name], want[name] * factor, err_msg=name)

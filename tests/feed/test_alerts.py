"""Alert rules: parsing refuses what it cannot evaluate; evaluation fires once per episode."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from feed.alerts import DEFAULT_RULES, AlertEngine, Rule, View, load_rules, parse_rules
from gridtape.errors import GridtapeError


def test_the_shipped_rules_file_parses() -> None:
    rules = load_rules(DEFAULT_RULES)
    assert {r.kind for r in rules} == {"price_above", "price_below", "spread_above", "stale"}


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ({"when": "price_sideways", "iso": "PJM", "hub": "WESTERN HUB", "level": 1}, "'when' must be one of"),
        ({"when": "price_above", "iso": "PJM", "hub": "WESTERN HUB", "level": 1, "lvl": 2}, "unknown key 'lvl'"),
        ({"when": "price_above", "iso": "XYZ", "hub": "WESTERN HUB", "level": 1}, "XYZ"),
        ({"when": "price_above", "iso": "PJM", "hub": "NO SUCH HUB", "level": 1}, "NO SUCH HUB"),
        ({"when": "price_above", "iso": "PJM", "hub": "WESTERN HUB"}, "level"),
        ({"when": "price_above", "iso": "PJM", "hub": "WESTERN HUB", "level": "high"}, "high"),
        ({"when": "spread_above", "pair": ["PJM", "WESTERN HUB", "MISO"], "level": 5}, "rule 1"),
        ({"when": "stale", "iso": "NOWHERE", "minutes": 5}, "NOWHERE"),
    ],
)
def test_a_bad_rule_is_refused_naming_it(rule: dict, complaint: str) -> None:
    with pytest.raises(GridtapeError) as err:
        parse_rules({"rule": [{"name": "r", **rule}]}, "rules.toml")
    assert "rules.toml rule 1 (r)" in str(err.value)
    assert complaint in str(err.value)


def test_duplicate_names_are_refused() -> None:
    rule = {"name": "same", "when": "stale", "minutes": 5}
    with pytest.raises(GridtapeError, match="another rule has this name"):
        parse_rules({"rule": [rule, rule]})


def test_a_broken_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("[[rule]\nname = ")
    with pytest.raises(GridtapeError, match=str(path)):
        load_rules(path)


ABOVE = Rule("hot", "price_above", 100.0, iso="ERCOT", hub="HB_NORTH")
BELOW = Rule("negative", "price_below", 0.0, iso="PJM", hub="WESTERN HUB")
SPREAD = Rule("seam", "spread_above", 20.0, pair=("PJM", "WESTERN HUB", "MISO", "INDIANA.HUB"))
STALE = Rule("stale", "stale", 10.0)


def prices(ercot: float | None = None, pjm: float | None = None) -> View:
    p = {}
    if ercot is not None:
        p["ERCOT", "HB_NORTH", "RT5"] = ercot
    if pjm is not None:
        p["PJM", "WESTERN HUB", "RT5"] = pjm
    return View(prices=p)


def test_fires_once_per_episode_and_rearms_when_cleared() -> None:
    sent: list = []
    engine = AlertEngine([ABOVE], sent.append)
    states = []
    for price in (50, 150, 160, 300, 90, 95, 120, 99):
        states += [(a.state, a.value) for a in engine.evaluate(prices(ercot=price), "t")]
    assert states == [("firing", 150), ("cleared", 90), ("firing", 120), ("cleared", 99)]
    assert [a.value for a in sent] == [150, 120]  # the notifier hears firings only


def test_firings_equal_rising_edges_over_random_walks() -> None:
    rng = random.Random(3)
    for _ in range(50):
        engine = AlertEngine([ABOVE, BELOW])
        series = [(rng.choice([None, rng.uniform(-50, 200)]), rng.uniform(-20, 20)) for _ in range(60)]
        fired = {"hot": 0, "negative": 0}
        for ercot, pjm in series:
            for a in engine.evaluate(prices(ercot, pjm), "t"):
                fired[a.rule] += a.state == "firing"
        # Expected: count rising edges, where an unknown value (None) keeps the previous state.
        expected = {"hot": 0, "negative": 0}
        state = {"hot": False, "negative": False}
        for ercot, pjm in series:
            for name, value, holds in (("hot", ercot, lambda v: v > 100), ("negative", pjm, lambda v: v < 0)):
                if value is None:
                    continue
                if holds(value) and not state[name]:
                    expected[name] += 1
                state[name] = holds(value)
        assert fired == expected


def test_spread_uses_its_magnitude() -> None:
    engine = AlertEngine([SPREAD])
    key = ("PJM", "WESTERN HUB", "MISO", "INDIANA.HUB", "RT5")
    assert engine.evaluate(View(spreads={key: 5.0}), "t") == []
    [fired] = engine.evaluate(View(spreads={key: -25.0}), "t")
    assert fired.state == "firing" and "PJM WESTERN HUB / MISO INDIANA.HUB" in fired.message


def test_stale_for_every_iso_is_one_episode_per_iso() -> None:
    engine = AlertEngine([STALE])
    first = engine.evaluate(View(ages={"PJM": 700, "SPP": 60, "ERCOT": 900}), "t")
    assert sorted((a.subject, a.state) for a in first) == [("ERCOT", "firing"), ("PJM", "firing")]
    again = engine.evaluate(View(ages={"PJM": 800, "SPP": 61, "ERCOT": 30}), "t")
    assert [(a.subject, a.state) for a in again] == [("ERCOT", "cleared")]
    assert "PJM feed is 12 min old" in engine.active["stale", "PJM"].message  # as it fired (700 s)


def test_only_the_kinds_asked_for_are_evaluated() -> None:
    engine = AlertEngine([ABOVE, STALE])
    view = View(prices={("ERCOT", "HB_NORTH", "RT5"): 500.0}, ages={"PJM": 9999})
    assert [a.rule for a in engine.evaluate(view, "t", ("stale",))] == ["stale"]
    assert [a.rule for a in engine.evaluate(view, "t")] == ["hot"]

"""The live state: what a page shows, idempotent under redelivery, health from the clock."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

from feed.alerts import AlertEngine, Rule
from feed.live import LiveFeed, headline_hubs
from gridtape import isos
from tests.feed.helpers import T0, tick, volatility


def events(live: LiveFeed, since: str) -> list[tuple[str, Any]]:
    return [(e.type, json.loads(e.data)) for e in live.hub.replay(since) or []]


def feed(**kw: Any) -> LiveFeed:
    return LiveFeed(clock=kw.pop("clock", lambda: T0 + timedelta(minutes=10)), **kw)


def test_headline_hubs_are_real_hubs_of_every_iso() -> None:
    heads = headline_hubs()
    assert set(heads) == set(isos.CODES)
    assert all(hub in isos.get(iso).hubs for iso, hub in heads.items())


def test_hub_prices_and_system_load_are_kept_other_locations_only_count_for_health() -> None:
    live = feed()
    start = live.hub.last_id
    live.ingest(
        "tick",
        [
            tick("PJM", "WESTERN HUB", 31.5),
            tick("PJM", "SOME NODE", 99.0, location_type="node"),
            tick("PJM", "PJM RTO", 90000.0, dataset="load", location_type="system"),
            tick("PJM", "AECO", 80.0, dataset="load", location_type="zone"),
        ],
    )
    [(kind, points), (kind2, health)] = events(live, start)
    assert kind == "ticks" and kind2 == "health"
    assert [(p["k"], p.get("location"), p["v"]) for p in points] == [
        ("price", "WESTERN HUB", 31.5),
        ("load", None, 90000.0),
    ]
    assert health["PJM"]["ticks"] == 4 and health["PJM"]["status"] == "ok"
    assert health["SPP"]["status"] == "none"


def test_redelivered_and_older_revisions_change_nothing() -> None:
    live = feed()
    rng = random.Random(5)
    versions = [tick("ERCOT", "HB_NORTH", float(r * 10), revision=r) for r in range(5)]
    live.ingest("tick", versions)
    assert live.prices["ERCOT", "HB_NORTH", "RT5"].latest() == ("2026-06-01T12:00:00Z", 40.0)
    mark = live.hub.last_id
    for _ in range(20):  # any replay of old versions, in any order
        live.ingest("tick", rng.sample(versions, rng.randint(1, 5)))
    assert [k for k, _ in events(live, mark)] == ["health"] * 20  # no price event at all
    assert live.prices["ERCOT", "HB_NORTH", "RT5"].latest() == ("2026-06-01T12:00:00Z", 40.0)


def test_spreads_pair_the_same_interval_and_follow_revisions() -> None:
    live = feed()
    live.ingest("tick", [tick("PJM", "WESTERN HUB", 40.0, 0), tick("MISO", "INDIANA.HUB", 35.0, 1)])
    assert ("PJM", "WESTERN HUB", "MISO", "INDIANA.HUB") not in live.spreads  # different intervals
    mark = live.hub.last_id
    live.ingest("tick", [tick("MISO", "INDIANA.HUB", 33.0, 0)])
    live.ingest("tick", [tick("PJM", "WESTERN HUB", 50.0, 0, revision=1)])
    spreads = [p for k, pts in events(live, mark) if k == "ticks" for p in pts if p["k"] == "spread"]
    assert [(p["pair"][3], p["v"]) for p in spreads] == [("INDIANA.HUB", 7.0), ("INDIANA.HUB", 17.0)]


def test_health_turns_stale_with_the_clock_and_stale_rules_fire_once() -> None:
    now = [T0]
    live = LiveFeed(AlertEngine([Rule("stale", "stale", 15)]), clock=lambda: now[0], stale_after_s=600)
    live.ingest("tick", [tick("SPP", "SPPNORTH_HUB", 20.0, ingested=T0)])
    assert live.check() == [] and live.health_view()["SPP"]["status"] == "ok"
    now[0] = T0 + timedelta(minutes=11)
    assert live.check() == [] and live.health_view()["SPP"]["status"] == "stale"  # stale shown, rule not yet
    now[0] = T0 + timedelta(minutes=16)
    assert [a.state for a in live.check()] == ["firing"]
    now[0] = T0 + timedelta(minutes=20)
    assert live.check() == []
    live.ingest("tick", [tick("SPP", "SPPNORTH_HUB", 21.0, 1, ingested=now[0])])
    assert [a.state for a in live.check()] == ["cleared"]


def test_price_rules_fire_from_ingest_and_show_in_the_snapshot() -> None:
    live = feed(engine=AlertEngine([Rule("hot", "price_above", 100, iso="ERCOT", hub="HB_NORTH")]))
    live.ingest("tick", [tick("ERCOT", "HB_NORTH", 150.0)])
    live.ingest("tick", [tick("ERCOT", "HB_NORTH", 250.0, 1)])
    snap = live.snapshot()
    assert [a["state"] for a in snap["alerts"]] == ["firing"]
    assert snap["active"][0]["subject"] == "ERCOT HB_NORTH"


def test_volatility_at_hubs_only_and_newest_computation_wins() -> None:
    live = feed()
    mark = live.hub.last_id
    live.ingest("volatility", [volatility("PJM", "WESTERN HUB", 1.5), volatility("PJM", "NODE 7", 9.9)])
    again = volatility("PJM", "WESTERN HUB", 2.5)
    again["computed_at"] = "2026-06-01T13:00:00Z"
    live.ingest("volatility", [again, volatility("PJM", "WESTERN HUB", 1.5)])
    vols = [v for k, batch in events(live, mark) for v in batch]
    assert [(v["location"], v["vol_abs"]) for v in vols] == [("WESTERN HUB", 1.5), ("WESTERN HUB", 2.5)]
    assert live.counts["volatility"] == 4


def test_snapshot_has_headline_series_in_full_and_other_hubs_latest() -> None:
    live = feed(keep=5)
    live.ingest("tick", [tick("PJM", "WESTERN HUB", float(i), i) for i in range(8)])
    live.ingest("tick", [tick("PJM", "EASTERN HUB", float(i), i) for i in range(8)])
    points = live.snapshot()["points"]
    west = [p["v"] for p in points if p.get("location") == "WESTERN HUB"]
    east = [p["v"] for p in points if p.get("location") == "EASTERN HUB"]
    assert west == [3.0, 4.0, 5.0, 6.0, 7.0]  # the newest `keep` intervals
    assert east == [7.0]


def test_times_with_and_without_milliseconds_order_by_time() -> None:
    live = feed()
    early = tick("PJM", "WESTERN HUB", 1.0, revision=None)
    late = dict(early, lmp=2.0, published_at=early["published_at"].replace("Z", ".250Z"))
    live.ingest("tick", [late, early])  # the later publication arrives first: it still wins
    assert live.prices["PJM", "WESTERN HUB", "RT5"].latest() == ("2026-06-01T12:00:00Z", 2.0)
    later = dict(early, ingested_at=early["ingested_at"].replace("Z", ".5Z"))
    live.ingest("tick", [later, early])
    assert live.health["PJM"]["ingested_at"] == later["ingested_at"]

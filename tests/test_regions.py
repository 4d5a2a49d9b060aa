"""gridtape/regions.py: every ISO covered, every tracked hub set beside a zone of its own ISO,
weights that add up, station ids an NWS request can name, zones named as the load ticks name them."""

from __future__ import annotations

import math

import pytest

from gridtape import isos, regions

# Zone names as each ISO module's zone load ticks carry them (checked against the modules where
# they hold the list; MISO's LRZ names sit only in docstrings there).
ISO_ZONES = {
    "MISO": {"LRZ1", "LRZ2_7", "LRZ3_5", "LRZ4", "LRZ6", "LRZ8_9_10"},
    "NYISO": set(isos.get("NYISO").hubs),
    "SPP": {"SPP"},
}


def _module_zones(iso: str) -> set[str]:
    if iso == "CAISO":
        from producers.caiso.oasis import TAC_AREAS

        return set(TAC_AREAS)
    if iso == "ERCOT":
        from producers.ercot.zones import PREFIX, WEATHER, ZONES

        return {PREFIX[WEATHER] + z for z in ZONES[WEATHER]}
    if iso == "ISONE":
        from producers.isone.files import HUB_AND_ZONES, type_by_name

        return {name for name in HUB_AND_ZONES.values() if type_by_name(name) == "zone"}
    if iso == "PJM":
        from tools.recordings.pjm_model import AREAS  # the inst_load areas the PJM recordings carry

        return set(AREAS)
    return ISO_ZONES[iso]


def test_every_iso_has_exactly_one_region() -> None:
    assert [r.iso for r in regions.TABLE] == list(isos.CODES)
    for code in isos.CODES:
        assert regions.get(code).system == isos.get(code).system
    with pytest.raises(KeyError, match="no regions"):
        regions.get("ERCOT2")


@pytest.mark.parametrize("iso", isos.CODES)
def test_zones_are_named_as_the_load_ticks_name_them(iso: str) -> None:
    names = [z.name for z in regions.get(iso).zones]
    assert len(names) == len(set(names)), f"{iso}: a zone listed twice"
    assert set(names) == _module_zones(iso)


@pytest.mark.parametrize("iso", isos.CODES)
def test_every_tracked_hub_sits_in_a_zone_of_its_iso(iso: str) -> None:
    region = regions.get(iso)
    assert set(region.hubs) == set(isos.get(iso).hubs), f"{iso}: hubs mapped != hubs tracked"
    for hub in isos.get(iso).hubs:
        zone, why = region.hubs[hub]
        assert zone in region.areas, f"{iso} {hub} -> {zone!r}: not a zone of {iso}"
        assert regions.zone_of(iso, hub) == zone
        assert why.strip(), f"{iso} {hub}: the choice is not documented"


@pytest.mark.parametrize("iso", isos.CODES)
def test_weights_are_positive_and_add_up_per_zone_and_per_iso(iso: str) -> None:
    region = regions.get(iso)
    assert all(z.weight > 0 for z in region.zones)
    assert math.isclose(sum(z.weight for z in region.zones), 1.0, abs_tol=1e-9), f"{iso}: zone weights"
    for zone in region.zones:
        assert 1 <= len(zone.stations) <= 3, f"{iso} {zone.name}: 1-3 stations"
        assert all(s.weight > 0 for s in zone.stations), f"{iso} {zone.name}"
        total = sum(s.weight for s in zone.stations)
        assert math.isclose(total, 1.0, abs_tol=1e-9), f"{iso} {zone.name}: station weights add to {total}"


@pytest.mark.parametrize("iso", isos.CODES)
def test_station_ids_are_icao_and_unique_per_zone(iso: str) -> None:
    for zone in regions.get(iso).zones:
        ids = [s.id for s in zone.stations]
        assert len(ids) == len(set(ids)), f"{iso} {zone.name}: a station listed twice"
        for s in zone.stations:
            assert regions.ICAO.fullmatch(s.id), f"{iso} {zone.name}: {s.id!r} is no ICAO airport id"
            assert s.place.strip()


def test_seed_rows_cover_the_table() -> None:
    stations = regions.station_rows()
    assert {r[0] for r in stations} == set(isos.CODES)
    assert len({(i, z, s) for i, z, s, _ in stations}) == len(stations)
    hubs = regions.hub_rows()
    assert sorted((i, h) for i, h, _ in hubs) == sorted((i.code, h) for i in isos.TABLE for h in i.hubs)
    per_iso: dict[str, float] = {}
    for iso, system, _zone, weight in regions.zone_rows():
        assert system == isos.get(iso).system
        per_iso[iso] = per_iso.get(iso, 0.0) + weight
    assert all(math.isclose(w, 1.0) for w in per_iso.values()) and set(per_iso) == set(isos.CODES)


def test_a_region_finds_its_zones_and_lists_each_station_once() -> None:
    nyiso = regions.get("NYISO")
    assert nyiso.zone("MILLWD").stations[0].id == "KHPN"
    assert nyiso.stations.count("KHPN") == 1  # shared by DUNWOD and MILLWD, fetched once
    with pytest.raises(KeyError):
        nyiso.zone("ZONE J")

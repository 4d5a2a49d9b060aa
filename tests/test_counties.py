"""The county -> (ISO, zone) mapping table: the shipped version loads and is sane, and the
loader refuses every kind of broken row, naming its line."""

from __future__ import annotations

import csv
import io

import pytest

from gridtape import contract, counties, regions

HEADER = "fips,state,county,iso,zone,basis\n"
GOOD = "36061,NY,New York,NYISO,N.Y.C.,approximate\n"


def test_the_shipped_table_covers_every_iso_with_known_zones() -> None:
    table = counties.load()
    assert {c.iso for c in table.values()} == set(contract.ISOS)
    for c in table.values():
        assert len(c.fips) == 5 and c.fips.isdigit()
        assert c.zone is None or c.zone in regions.get(c.iso).areas
        assert c.basis
    # every zone of the smaller zonal ISOs receives counties (a typo would leave one empty)
    for iso in ("NYISO", "ISONE", "MISO", "ERCOT", "CAISO"):
        used = {c.zone for c in table.values() if c.iso == iso}
        assert set(regions.get(iso).areas) - {regions.get(iso).system, "MILLWD"} <= used, iso


@pytest.mark.parametrize(
    ("fips", "iso", "zone"),
    [
        ("36061", "NYISO", "N.Y.C."),  # Manhattan
        ("36103", "NYISO", "LONGIL"),  # Suffolk NY
        ("48201", "ERCOT", "WZ_COAST"),  # Harris (Houston)
        ("48113", "ERCOT", "WZ_NORTH_C"),  # Dallas
        ("48375", "SPP", "SPP"),  # Potter (Amarillo): SPS
        ("48245", "MISO", "LRZ8_9_10"),  # Jefferson TX (Beaumont): Entergy Texas
        ("25025", "ISONE", ".Z.NEMASSBOST"),  # Suffolk MA (Boston)
        ("06073", "CAISO", "SDGE-TAC"),  # San Diego
        ("17031", "PJM", "COMED"),  # Cook IL
        ("42101", "PJM", "PE"),  # Philadelphia: PECO
        ("42003", "PJM", "DUQ"),  # Allegheny (Pittsburgh): Duquesne
        ("24510", "PJM", "BC"),  # Baltimore city: BGE
        ("51059", "PJM", "DOM"),  # Fairfax: Dominion
        ("17019", "MISO", "LRZ4"),  # Champaign IL: Ameren
        ("27053", "MISO", "LRZ1"),  # Hennepin MN
        ("40109", "SPP", "SPP"),  # Oklahoma County
    ],
)
def test_known_counties_map_to_their_iso_and_zone(fips: str, iso: str, zone: str) -> None:
    c = counties.place(fips)
    assert c is not None and (c.iso, c.zone) == (iso, zone)


@pytest.mark.parametrize(
    "fips",
    [
        "48141",
        "06067",
        "23003",
        "13121",
        "01073",
        "04013",
        "47093",
        "53033",
    ],  # El Paso, SMUD, N. Maine, Southeast, West
)
def test_counties_outside_every_footprint_are_left_out(fips: str) -> None:
    assert counties.place(fips) is None


def test_the_file_is_sorted_and_has_no_stray_columns() -> None:
    from importlib import resources

    text = resources.files("gridtape").joinpath("data", counties.file_name()).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == counties.COLUMNS
    fips = [r[0] for r in rows[1:]]
    assert fips == sorted(fips) and all(len(r) == len(counties.COLUMNS) for r in rows)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("fips,state,county,iso,zone\n" + GOOD, "header"),
        (HEADER + "3606,NY,New York,NYISO,N.Y.C.,approximate\n", "line 2: '3606' is not a 5-digit"),
        (HEADER + GOOD + "36O61,NY,New York,NYISO,,x\n", "line 3: '36O61'"),
        (HEADER + "36061,NY,New York,NYSO,N.Y.C.,approximate\n", "line 2: ISO 'NYSO'"),
        (HEADER + "36061,NY,New York,NYISO,NYC,approximate\n", "line 2: NYISO has no zone 'NYC'"),
        (HEADER + "36061,NY,New York,PJM,N.Y.C.,approximate\n", "PJM has no zone"),
        (HEADER + GOOD + GOOD, "line 3: FIPS 36061 listed twice"),
        (HEADER + "36061,NY,New York,NYISO,N.Y.C.\n", "line 2: 5 columns"),
        (HEADER + "36061,NY,New York,NYISO,N.Y.C.,\n", "line 2: state, county and basis"),
    ],
)
def test_a_broken_table_is_refused_naming_the_line(text: str, why: str) -> None:
    with pytest.raises(counties.MappingError, match=why.replace(".", r"\.")):
        counties.parse(text, "t.csv")


def test_an_empty_zone_reads_as_none_and_a_missing_version_is_refused() -> None:
    table = counties.parse(HEADER + "42101,PA,Philadelphia,PJM,,state-wide\n")
    assert table["42101"].zone is None
    with pytest.raises(counties.MappingError, match="county_zones_v0"):
        counties.load("v0")

"""County FIPS -> (ISO, load zone): the versioned mapping table customer-outage records are
placed with (gridtape/context.py CUSTOMERS_OUT), under version control as
gridtape/data/county_zones_<VERSION>.csv with columns fips,state,county,iso,zone,basis.

- fips: the 5-digit county FIPS code (Census); state: postal code; county: Census name
  without "County"/"Parish".
- iso: the ISO whose footprint holds the county; zone: that ISO's load zone exactly as its
  zone load ticks name it (gridtape/regions.py), empty where the table cannot say it.
- basis: how the row was decided (state-wide, utility territory, approximate ...). ISO
  footprints follow utility territories, not county lines: a county split between two ISOs
  sits in the one holding most of its customers, and says "approximate".
- A county in no row maps to no ISO (El Paso, Sacramento, the non-RTO Southeast, ...): its
  records keep iso/zone null and are reported as unmapped, never dropped.

v1 was written from the Census county list and general knowledge of the seven footprints; a
later version is a new file (county_zones_v2.csv) so a record's placement stays reproducible.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from gridtape import contract, regions

VERSION: Final = "v1"
COLUMNS: Final = ("fips", "state", "county", "iso", "zone", "basis")


class MappingError(ValueError):
    """The mapping table is broken (a bad row names its line)."""


@dataclass(frozen=True, slots=True)
class County:
    fips: str
    state: str
    county: str
    iso: str
    zone: str | None
    basis: str


def file_name(version: str = VERSION) -> str:
    return f"county_zones_{version}.csv"


def parse(text: str, name: str = "county table") -> dict[str, County]:
    """The table's rows by FIPS, each checked; raises MappingError naming the line."""
    reader = csv.reader(io.StringIO(text))
    header = tuple(next(reader, ()))
    if header != COLUMNS:
        raise MappingError(f"{name}: header {','.join(header)!r}, expected {','.join(COLUMNS)!r}")
    out: dict[str, County] = {}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            county = _row(row)
        except ValueError as exc:
            raise MappingError(f"{name} line {line}: {exc}") from None
        if county.fips in out:
            raise MappingError(f"{name} line {line}: FIPS {county.fips} listed twice")
        out[county.fips] = county
    return out


def _row(row: list[str]) -> County:
    if len(row) != len(COLUMNS):
        raise ValueError(f"{len(row)} columns, expected {len(COLUMNS)}")
    fips, state, name, iso, zone, basis = (c.strip() for c in row)
    if len(fips) != 5 or not fips.isascii() or not fips.isdigit():
        raise ValueError(f"{fips!r} is not a 5-digit county FIPS code")
    if iso not in contract.ISOS:
        raise ValueError(f"ISO {iso!r} is not one of {', '.join(contract.ISOS)}")
    if zone and zone not in regions.get(iso).areas:
        raise ValueError(f"{iso} has no zone {zone!r} (gridtape/regions.py: {', '.join(regions.get(iso).areas)})")
    if not (state and name and basis):
        raise ValueError("state, county and basis must not be empty")
    return County(fips, state, name, iso, zone or None, basis)


@cache
def load(version: str = VERSION) -> dict[str, County]:
    """The shipped table of `version` (package data gridtape/data/)."""
    name = file_name(version)
    try:
        text = resources.files("gridtape").joinpath("data", name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"no county mapping table {name}") from None
    return parse(text, name)


def place(fips: str, version: str = VERSION) -> County | None:
    """The county's row, None where it maps to no ISO."""
    return load(version).get(fips)

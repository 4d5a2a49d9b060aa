"""Which context source serves which (kind, ISO): KINDS maps kind -> {ISO -> "module:Class"},
and create(iso, kind) builds one. A kind or ISO with no source raises RegistryError naming what
exists, so `gridtape backfill --dataset outage --iso NYISO` says "no outage source for NYISO"
instead of failing somewhere in the loop.

customers (DOE EAGLE-I) is not per ISO: one source reads every county and the county table
places it (producers/backfill/customers.py); KINDS lists it under the provider's code.
"""

from __future__ import annotations

import importlib
from typing import Final

from producers.base import IsoSource
from producers.registry import MissingCredentials, RegistryError, credentials

_NWS: Final = "producers.context.nws"
KINDS: Final[dict[str, dict[str, str]]] = {
    "outage": {
        "CAISO": "producers.context.outages_caiso:CaisoOutages",
        "ERCOT": "producers.context.outages_ercot:ErcotOutages",
        "ISONE": "producers.context.outages_isone:IsoneOutages",
        "MISO": "producers.context.outages_miso:MisoOutages",
        "NYISO": "producers.context.outages_nyiso:NyisoOutages",
        "PJM": "producers.context.outages_pjm:PjmOutages",
        "SPP": "producers.context.outages_spp:SppOutages",
    },
    "weather": {
        "CAISO": f"{_NWS}:NwsCaiso",
        "ERCOT": f"{_NWS}:NwsErcot",
        "ISONE": f"{_NWS}:NwsIsone",
        "MISO": f"{_NWS}:NwsMiso",
        "NYISO": f"{_NWS}:NwsNyiso",
        "PJM": f"{_NWS}:NwsPjm",
        "SPP": f"{_NWS}:NwsSpp",
    },
    "customers": {"EAGLEI": "producers.context.eaglei:EagleiSource"},
}


def isos_of(kind: str) -> list[str]:
    """The ISOs with a source of `kind`."""
    return sorted(_kind(kind))


def _kind(kind: str) -> dict[str, str]:
    try:
        return KINDS[kind]
    except KeyError:
        raise RegistryError(f"no context kind {kind!r}; expected one of {', '.join(KINDS)}") from None


def source_class(iso: str, kind: str) -> type[IsoSource]:
    sources = _kind(kind)
    if iso not in sources:
        raise RegistryError(f"no {kind} source for {iso}; {kind} is read for: {', '.join(sorted(sources))}")
    module_name, _, name = sources[iso].partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except Exception as exc:  # one source's import failure is its own, not the run's
        raise RegistryError(f"{iso} {kind}: {sources[iso]} failed to load: {type(exc).__name__}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, IsoSource)) or cls.iso != iso:
        raise RegistryError(f"{iso} {kind}: {sources[iso]} is not an IsoSource with iso = {iso!r}")
    return cls


def create(iso: str, kind: str, *, replay: bool = False) -> IsoSource:
    """The context source of `kind` for `iso` (raises RegistryError when there is none), with the
    ISO's API key where one is configured (PJM's Data Miner serves its outages too). A keyless
    source (NWS) must not fail for want of the ISO's key: without one it gets none, and a
    source that needs it says so itself."""
    cls = source_class(iso, kind)
    if kind == "weather" or iso not in KINDS["outage"]:
        return cls()
    try:
        keys = credentials(iso, replay=replay)
    except MissingCredentials:
        keys = {}
    return cls(credentials=keys)

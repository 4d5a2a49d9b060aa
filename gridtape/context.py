"""The enrichment contracts: what sits beside a price -- generation out of service, customers
without power, the weather -- one definition each, beside the tick's (gridtape/contract.py, whose
Field, RecordContract, validate, natural_key, JSON/Arrow/Spark schema functions serve these too).

Wire format as for ticks: one JSON object per record, UTC times with a trailing Z. Every record
carries its provenance (published_at, ingested_at, source) and a nullable revision, the tick's
fields (contract.provenance), so a later version of one natural key wins downstream exactly as
for ticks.

- OUTAGE: megawatts of generation unavailable, per ISO and area (the ISO-wide total, or a zone
  where the ISO splits it), fuel ("all" where not split) and kind (planned / forced / ...), for
  one interval (an hour, or the ISO's own period). Forecast rows (an interval in the future) are
  allowed: ISOs publish outage schedules ahead.
- CUSTOMERS_OUT: customers without power per county and 15-minute interval (DOE EAGLE-I, or a
  live provider later: `provider` names it), with the ISO and load zone the county maps to
  (gridtape/counties.py); a county that maps to no ISO keeps null there and is reported, never
  dropped.
- WEATHER: one station's observation (NWS api.weather.gov) at its observation time;
  aggregation to (ISO, zone, hour) with documented weights happens in the nightly batch.
"""

from __future__ import annotations

import math
from typing import Any, Final

from gridtape.contract import ISOS, Field, RecordContract, parse_ts, provenance
from gridtape.errors import ContractError

OUTAGE_KINDS: Final = ("planned", "forced", "maintenance", "unplanned", "total")
AREA_TYPES: Final = ("system", "zone")
PROVIDERS: Final = ("eaglei",)

OUTAGE_MW_MAX: Final = 1_000_000.0  # more than every US plant together
CUSTOMERS_MAX: Final = 20_000_000  # more customers than any state has
TEMPERATURE_C: Final = (-80.0, 60.0)  # beyond the records of every US station
DEW_POINT_C: Final = (-90.0, 45.0)
WIND_MPS_MAX: Final = 120.0


def _number_in(record: dict[str, Any], contract: str, name: str, low: float, high: float) -> None:
    value = record.get(name)
    if value is not None and not (math.isfinite(value) and low <= value <= high):
        raise ContractError(contract, name, f"{value!r} is outside {low:,g}..{high:,g}")


def _interval(record: dict[str, Any], contract: str) -> None:
    if parse_ts(record["interval_end"]) <= parse_ts(record["interval_start"]):
        raise ContractError(contract, "interval_end", "must be after interval_start")


def check_outage(record: dict[str, Any]) -> None:
    _interval(record, "outage")
    _number_in(record, "outage", "outage_mw", 0.0, OUTAGE_MW_MAX)


def check_customers(record: dict[str, Any]) -> None:
    _interval(record, "customers_out")
    _number_in(record, "customers_out", "customers_out", 0, CUSTOMERS_MAX)
    fips = record["fips"]
    if len(fips) != 5 or not fips.isascii() or not fips.isdigit():
        raise ContractError("customers_out", "fips", f"{fips!r} is not a 5-digit county FIPS code")


def check_weather(record: dict[str, Any]) -> None:
    _number_in(record, "weather", "temperature_c", *TEMPERATURE_C)
    _number_in(record, "weather", "dew_point_c", *DEW_POINT_C)
    _number_in(record, "weather", "wind_mps", 0.0, WIND_MPS_MAX)


OUTAGE: Final = RecordContract(
    name="outage",
    natural_key=("iso", "area", "fuel", "kind", "interval_start"),
    check=check_outage,
    fields=(
        Field("iso", "string", False, "ISO/RTO code", ISOS),
        Field("area", "string", False, "the ISO's system name, or the zone the MW sit in"),
        Field("area_type", "string", False, "system or zone", AREA_TYPES),
        Field("fuel", "string", False, "fuel type as the ISO names it; 'all' where not split"),
        Field("kind", "string", False, "planned, forced, maintenance, unplanned or total", OUTAGE_KINDS),
        Field("interval_start", "timestamp", False, "start of the period the MW apply to, UTC"),
        Field("interval_end", "timestamp", False, "end of the period, UTC"),
        Field("outage_mw", "float", False, "generation capacity unavailable, MW"),
        *provenance("the source"),
    ),
)

CUSTOMERS_OUT: Final = RecordContract(
    name="customers_out",
    natural_key=("provider", "fips", "interval_start"),
    check=check_customers,
    fields=(
        Field("provider", "string", False, "who counted them: eaglei", PROVIDERS),
        Field("fips", "string", False, "5-digit county FIPS code"),
        Field("county", "string", False, "county name as the provider writes it"),
        Field("state", "string", False, "state name as the provider writes it"),
        Field("iso", "string", True, "ISO the county maps to; null: no ISO (reported)", ISOS),
        Field("zone", "string", True, "the ISO's load zone the county maps to; null where unmapped"),
        Field("interval_start", "timestamp", False, "start of the 15-minute interval, UTC"),
        Field("interval_end", "timestamp", False, "end of the interval, UTC"),
        Field("customers_out", "int", False, "customers without power"),
        *provenance("the source"),
    ),
)

WEATHER: Final = RecordContract(
    name="weather",
    natural_key=("station", "observed_at"),
    check=check_weather,
    fields=(
        Field("station", "string", False, "NWS/ICAO station id, e.g. KDFW"),
        Field("observed_at", "timestamp", False, "observation time, UTC"),
        Field("temperature_c", "float", True, "air temperature, degrees C; null when not reported"),
        Field("dew_point_c", "float", True, "dew point, degrees C"),
        Field("wind_mps", "float", True, "wind speed, m/s"),
        *provenance("the source"),
    ),
)

CONTRACTS: Final = {c.name: c for c in (OUTAGE, CUSTOMERS_OUT, WEATHER)}

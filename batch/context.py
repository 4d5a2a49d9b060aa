"""The nightly context step: one trade date's enrichment records (raw/context/, gridtape/
context.py) into the warehouse's context facts (outages, weather_obs, customers_out), then
enriched_prices rebuilt for that date (batch/sql/context.sql holds the join rules).

Why no Spark: a day of context is small (per ISO a few hundred outage rows, ~24 observations per
station, EAGLE-I's counties with customers out), read once from a handful of gzip JSON Lines
objects; reading them here and staging them in the warehouse costs less than a Spark session,
and the facts are still MERGEd by SQL in one transaction, as the ticks are.

Per day:
1. every object under raw/context/kind=<kind>/iso=<ISO>/date=<UTC date>/ for the UTC dates the
   ISOs' operating day spans (customers also under iso=UNMAPPED: never joined, not loaded);
2. each record validated with its contract (a refused line is logged and counted, never
   loaded), then one version per natural key: highest revision, then published_at, then
   ingested_at (the order compaction uses for ticks);
3. staged (stg_outages, stg_weather_obs, stg_customers_out), with the hour grid of each ISO's
   day (stg_context_hours) and the seeds hub_zones / area_stations (gridtape/regions.py,
   gridtape/counties.py), then context.sql: MERGE, delete the day's enriched rows, rebuild.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import sqlglot
from sqlglot import exp

from batch import warehouse
from gridtape import aws, contract, counties, isos, landing, regions
from gridtape.context import CONTRACTS, CUSTOMERS_OUT, OUTAGE, WEATHER
from gridtape.errors import ContractError

log = logging.getLogger(__name__)

KINDS: Final = {"outage": OUTAGE, "weather": WEATHER, "customers": CUSTOMERS_OUT}
STAGING: Final = {"outage": "stg_outages", "weather": "stg_weather_obs", "customers": "stg_customers_out"}
_TIMESTAMPS: Final = {name for c in CONTRACTS.values() for name in c.names if c.field(name).kind == "timestamp"}
CHUNK: Final = 500  # rows per INSERT ... VALUES (Redshift caps a statement at 16 MB)


@dataclass
class ContextLoad:
    trade_date: str
    records: dict[str, int] = field(default_factory=dict)  # kind -> records staged
    refused: dict[str, int] = field(default_factory=dict)  # kind -> lines that broke the contract
    enriched: int = 0  # enriched_prices rows of the day

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def day_hours(iso: str, day: date) -> list[tuple[datetime, datetime]]:
    """The UTC hours [start, end) of the ISO's operating day on its market clock (23 / 25 on
    the DST days)."""
    tz = isos.get(iso).tz
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    return [
        (start + timedelta(hours=i), start + timedelta(hours=i + 1))
        for i in range(int((end - start) / timedelta(hours=1)))
    ]


def utc_dates(codes: Iterable[str], day: date) -> list[date]:
    """The raw partitions (UTC dates) the ISOs' operating day `day` reaches."""
    out: set[date] = set()
    for iso in codes:
        hours = day_hours(iso, day)
        out |= {hours[0][0].date(), (hours[-1][1] - timedelta(microseconds=1)).date()}
    return sorted(out)


def order(record: Mapping[str, Any]) -> tuple[int, str, str]:
    """ "Latest wins": highest revision (none: lowest), then published_at, then ingested_at."""
    rev = record.get("revision")
    return (
        -1 if rev is None else int(rev),
        str(record.get("published_at") or ""),
        str(record.get("ingested_at") or ""),
    )


def latest(lines: Iterable[bytes], kind: str) -> tuple[list[dict[str, Any]], int]:
    """Valid records of `kind`, one per natural key (the latest), and how many lines were refused."""
    rc = KINDS[kind]
    best: dict[tuple[str, ...], dict[str, Any]] = {}
    refused = 0
    for line in lines:
        try:
            record = contract.validate(json.loads(line), rc)
        except (ValueError, ContractError) as exc:  # ContractError: a field; ValueError: not JSON
            refused += 1
            log.warning("context %s: refused record: %s", kind, exc)
            continue
        key = contract.natural_key(record, rc)
        if key not in best or order(record) > order(best[key]):
            best[key] = record
    return [best[k] for k in sorted(best)], refused


def read_raw(s3: Any, bucket: str, kind: str, codes: Iterable[str], dates: Sequence[date]) -> list[bytes]:
    lines: list[bytes] = []
    for iso in codes:
        for d in dates:
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=landing.context_partition(kind, iso, d)
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                    lines += landing.decode(body)
    return lines


def _value(name: str, value: Any) -> exp.Expr:
    if value is not None and name in _TIMESTAMPS:
        text = contract.parse_ts(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return exp.cast(exp.Literal.string(text), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.convert(value)


def insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[exp.Expr]:
    """INSERT ... VALUES statements for `rows`, CHUNK rows each."""
    out: list[exp.Expr] = []
    for i in range(0, len(rows), CHUNK):
        values = [exp.tuple_(*(_value(c, v) for c, v in zip(columns, r, strict=True))) for r in rows[i : i + CHUNK]]
        out.append(exp.insert(exp.Values(expressions=values), table, columns=list(columns)))
    return out


def stage(kind: str, records: Sequence[Mapping[str, Any]]) -> list[exp.Expr]:
    names = KINDS[kind].names
    return insert(STAGING[kind], names, [[r.get(n) for n in names] for r in records])


def _customers_areas() -> dict[str, set[str]]:
    """ISO -> the zones the county table maps counties to."""
    out: dict[str, set[str]] = {}
    for county in counties.load().values():
        if county.iso and county.zone:
            out.setdefault(county.iso, set()).add(county.zone)
    return out


def seeds() -> list[exp.Expr]:
    """hub_zones and area_stations from gridtape/regions.py (replaced on every run)."""
    zoned = _customers_areas()
    hubs = []
    for iso, hub, zone in regions.hub_rows():
        system = regions.get(iso).system
        hubs.append((iso, hub, zone, system, zone if zone in zoned.get(iso, set()) else system))
    weights: dict[tuple[str, str, str], float] = {}
    for iso, zone, station, w in regions.station_rows():
        weights[(iso, zone, station)] = weights.get((iso, zone, station), 0.0) + w
    for region in regions.TABLE:
        if region.system in (z.name for z in region.zones):
            continue  # the system area is a zone of its own (SPP): its stations are its weights
        for z in region.zones:
            for s in z.stations:
                k = (region.iso, region.system, s.id)
                weights[k] = weights.get(k, 0.0) + z.weight * s.weight
    return [
        sqlglot_parse("DELETE FROM hub_zones"),
        sqlglot_parse("DELETE FROM area_stations"),
        *insert("hub_zones", ("iso", "hub", "zone", "system_area", "customers_area"), hubs),
        *insert("area_stations", ("iso", "area", "station", "weight"), [(*k, w) for k, w in sorted(weights.items())]),
    ]


def sqlglot_parse(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="redshift")


def hours_stmts(codes: Iterable[str], day: date) -> list[exp.Expr]:
    """stg_context_hours: every hour of each ISO's operating day."""
    rows = [
        (iso, contract.format_ts(lo), contract.format_ts(hi), day) for iso in codes for lo, hi in day_hours(iso, day)
    ]
    return insert("stg_context_hours", ("iso", "interval_start", "interval_end", "trade_date"), rows)


def load_context(
    ex: warehouse.Executor, raw_bucket: str, day: date, codes: Iterable[str] | None = None, s3: Any = None
) -> ContextLoad:
    """Load the day's context and rebuild its enriched_prices rows, one transaction."""
    wanted = [c for c in (codes if codes is not None else isos.CODES) if c in regions.BY_ISO]
    s3 = s3 or aws.client("s3")
    dates = utc_dates(wanted, day)
    result = ContextLoad(day.isoformat())
    staged: list[exp.Expr] = []
    for kind in KINDS:
        records, refused = latest(read_raw(s3, raw_bucket, kind, wanted, dates), kind)
        result.records[kind], result.refused[kind] = len(records), refused
        staged += stage(kind, records)
    clear = [sqlglot_parse(f"DELETE FROM {t}") for t in (*STAGING.values(), "stg_context_hours")]
    body = [warehouse.bind(s, trade_date=day) for s in warehouse.statements("context.sql")]
    ex.run([*clear, *seeds(), *staged, *hours_stmts(wanted, day), *body])
    q = sqlglot_parse("SELECT COUNT(*) AS n FROM enriched_prices WHERE trade_date = :d")
    result.enriched = int(ex.query(warehouse.bind(q, d=day))[0]["n"])
    log.info("context %s: %s staged, %d enriched rows", day, result.records, result.enriched)
    return result

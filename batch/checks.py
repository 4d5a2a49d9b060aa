"""Data-quality checks after each load, per feed of each ISO (the ISO table's feeds: dataset,
market, grid) for a trade date:

- missing_intervals: the feed's grid of the ISO's local day (5-minute: 288, or 276 / 300 on
  the DST days, MISO's fixed EST always 288; 15-minute: 96; hourly: 24, 23 / 25) minus the
  intervals present. Price feeds are checked hub by hub (every tracked hub of the ISO table),
  so one missing hub is named even when the others cover the day; load feeds pool locations;
- duplicates: natural keys held more than once;
- stale_feed: no rows at all, or the feed's last interval ends more than STALE_AFTER before
  the local day ends (the feed went quiet);
- out_of_range: values outside gridtape/bounds.py (what compaction already rejects).

The probes are SQL (batch/sql/checks.sql, run on the warehouse); the verdicts are computed
here by pure functions, written to dq_results (a rerun replaces the day's rows), and returned
as a report whose message names ISO, dataset, market, hub and the missing intervals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlglot
from sqlglot import exp

from batch import days as _days
from batch import warehouse
from gridtape import bounds, isos

STALE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Target:
    """What one missing_intervals check covers: a feed, at one hub or every location pooled."""

    iso: str
    dataset: str
    market: str
    minutes: int
    location: str | None = None


def targets(codes: Iterable[str] | None = None, feeds: Collection[tuple[str, str]] | None = None) -> list[Target]:
    """Every feed of these ISOs (default: all) as the ISO table declares it, or only the
    (ISO, feed name) pairs in `feeds`; price feeds once per tracked hub."""
    out = []
    for code in codes if codes is not None else isos.CODES:
        iso = isos.get(code)
        for feed in iso.feeds:
            if feeds is not None and (iso.code, feed.name) not in feeds:
                continue
            if feed.dataset == "lmp":
                out += [Target(iso.code, feed.dataset, feed.market, feed.minutes, hub) for hub in iso.hubs]
            else:
                out.append(Target(iso.code, feed.dataset, feed.market, feed.minutes))
    return out


@dataclass(frozen=True, slots=True)
class CheckResult:
    trade_date: str
    iso: str
    dataset: str
    check: str
    passed: bool
    observed: int | None
    expected: int | None
    detail: str
    market: str | None = None
    location: str | None = None

    @property
    def label(self) -> str:
        where = f" {self.market}" if self.market else ""
        return f"{self.iso} {self.dataset}{where}" + (f" [{self.location}]" if self.location else "")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CheckReport:
    trade_date: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    @property
    def message(self) -> str:
        if self.passed:
            return f"gridtape data-quality checks for {self.trade_date}: all {len(self.results)} passed"
        lines = [f"gridtape data-quality checks FAILED for {self.trade_date}:"]
        lines += [f"- {r.label} {r.check}: {r.detail}" for r in self.failures]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "trade_date": self.trade_date,
            "passed": self.passed,
            "message": self.message,
            "failures": [r.as_dict() for r in self.failures],
            "checked": len(self.results),
        }


def _utc(value: Any) -> datetime:
    """DuckDB returns naive datetimes, the Data API strings; both are UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def expected_grid(iso: str, day: date, minutes: int = 5) -> list[datetime]:
    """Every interval_start (UTC) of the ISO's local day on a `minutes` grid."""
    start, end = _days.local_day_bounds(iso, day)
    step = timedelta(minutes=minutes)
    grid = [start + i * step for i in range(int((end - start) / step))]
    assert len(grid) == _days.expected_intervals(iso, day, minutes)
    return grid


def describe_ranges(iso: str, missing: Sequence[datetime], minutes: int = 5) -> str:
    """Consecutive missing intervals as ranges, in UTC and the ISO's local clock."""
    if not missing:
        return ""
    zone, step = isos.get(iso).tz, timedelta(minutes=minutes)
    ranges: list[tuple[datetime, datetime]] = []
    for ts in sorted(missing):
        if ranges and ts - ranges[-1][1] == step:
            ranges[-1] = (ranges[-1][0], ts)
        else:
            ranges.append((ts, ts))
    parts = []
    for a, b in ranges:
        la, lb = a.astimezone(zone), (b + step).astimezone(zone)
        parts.append(
            f"{a:%Y-%m-%dT%H:%M}Z-{b + step:%H:%M}Z ({la:%H:%M}-{lb:%H:%M} {la.tzname()}, {int((b - a) / step) + 1} intervals)"
        )
    return "; ".join(parts)


def _missing(d: str, t: Target, present: set[datetime], day: date) -> CheckResult:
    grid = expected_grid(t.iso, day, t.minutes)
    missing = [ts for ts in grid if ts not in present]
    detail = (
        f"{len(missing)} of {len(grid)} {t.minutes}-minute intervals missing: {describe_ranges(t.iso, missing, t.minutes)}"
        if missing
        else f"all {len(grid)} intervals present"
    )
    return CheckResult(
        d,
        t.iso,
        t.dataset,
        "missing_intervals",
        not missing,
        len(grid) - len(missing),
        len(grid),
        detail,
        t.market,
        t.location,
    )


def _feed_checks(d: str, day: date, feed: tuple[str, str, str], probes: dict[str, dict[Any, Any]]) -> list[CheckResult]:
    iso, dataset, market = feed
    n_dup = int(probes["duplicates"].get(feed, {}).get("extra_rows", 0))
    out = [CheckResult(d, iso, dataset, "duplicates", n_dup == 0, n_dup, 0, f"{n_dup} duplicate natural keys", market)]
    f = probes["freshness"].get(feed)
    _, day_end = _days.local_day_bounds(iso, day)
    if f is None or not f["n"]:
        out.append(CheckResult(d, iso, dataset, "stale_feed", False, 0, None, "no rows at all for the day", market))
    else:
        last_end = _utc(f["last_interval_end"])
        detail = (
            f"last interval ends {last_end:%Y-%m-%dT%H:%M}Z, day ends {day_end:%Y-%m-%dT%H:%M}Z; "
            f"last ingested {_utc(f['last_ingested']):%Y-%m-%dT%H:%M}Z"
        )
        out.append(
            CheckResult(
                d, iso, dataset, "stale_feed", last_end >= day_end - STALE_AFTER, int(f["n"]), None, detail, market
            )
        )
    b = probes["out_of_range"].get(feed)
    n_bad = int(b["n"]) if b else 0
    if dataset == "lmp":
        rule = f"LMP outside {bounds.PRICE_MIN:,.0f}..{bounds.PRICE_MAX:,.0f} $/MWh"
    else:
        rule = f"load outside (0, {bounds.LOAD_MAX_MW:,.0f}] MW"
    detail = f"{n_bad} values with {rule}" + (f" (lowest {b['lowest']}, highest {b['highest']})" if b else "")
    out.append(CheckResult(d, iso, dataset, "out_of_range", n_bad == 0, n_bad, 0, detail, market))
    return out


def evaluate(day: date, probes: dict[str, list[dict[str, Any]]], expected: Iterable[Target]) -> list[CheckResult]:
    """Pure: probe rows -> one missing_intervals result per target, and duplicates, stale_feed
    and out_of_range per feed."""
    d = day.isoformat()
    present: dict[tuple[Any, ...], set[datetime]] = defaultdict(set)
    for row in probes["intervals"]:
        present[(row["iso"], row["dataset"], row["market"], None)].add(_utc(row["interval_start"]))
    for row in probes.get("hub_intervals", []):
        present[(row["iso"], row["dataset"], row["market"], row["location"])].add(_utc(row["interval_start"]))
    by_feed = {
        name: {(r["iso"], r["dataset"], r["market"]): r for r in probes[name]}
        for name in ("duplicates", "freshness", "out_of_range")
    }
    wanted = sorted(set(expected), key=lambda t: (t.iso, t.dataset, t.market, t.location or ""))
    results = [_missing(d, t, present[(t.iso, t.dataset, t.market, t.location)], day) for t in wanted]
    for feed in sorted({(t.iso, t.dataset, t.market) for t in wanted}):
        results += _feed_checks(d, day, feed, by_feed)
    return results


def _insert_results(results: Sequence[CheckResult], checked_at: datetime) -> exp.Expr:
    rows = []
    for r in results:
        rows.append(
            exp.tuple_(
                exp.cast(exp.Literal.string(r.trade_date), "DATE"),
                *map(exp.convert, (r.iso, r.dataset, r.check, r.passed, r.observed, r.expected, r.detail[:4096])),
                exp.cast(exp.Literal.string(f"{checked_at:%Y-%m-%d %H:%M:%S}"), "TIMESTAMP"),
                *map(exp.convert, (r.market, r.location)),
            )
        )
    columns = [
        "trade_date", "iso", "dataset", "check_name", "passed", "observed", "expected", "detail", "checked_at",
        "market", "location",
    ]  # fmt: skip
    return exp.insert(exp.Values(expressions=rows), "dq_results", columns=columns)


def run_checks(
    ex: warehouse.Executor,
    day: date,
    codes: Iterable[str] | None = None,
    now: datetime | None = None,
    feeds: Collection[tuple[str, str]] | None = None,
) -> CheckReport:
    """Probe the warehouse for `day`, record and return the verdicts for these ISOs (default:
    all), or for only the (ISO, feed name) pairs in `feeds` (a day a backfill marked)."""
    queries = warehouse.named_queries("checks.sql")
    params = {
        "trade_date": day,
        "price_min": bounds.PRICE_MIN,
        "price_max": bounds.PRICE_MAX,
        "load_max": bounds.LOAD_MAX_MW,
    }
    probes = {name: ex.query(warehouse.bind(q, **params)) for name, q in queries.items() if name != "clear_results"}
    results = evaluate(day, probes, targets(codes, feeds))
    stmts = [warehouse.bind(queries["clear_results"], trade_date=day)]
    if results:
        stmts.append(_insert_results(results, (now or datetime.now(UTC)).astimezone(UTC)))
    ex.run(stmts)
    return CheckReport(day.isoformat(), results)


# ---------------------------------------------------------------- context coverage (issue 12)

_CONTEXT_COVERAGE = """
SELECT e.iso, COUNT(DISTINCT e.interval_start) AS hours,
    COUNT(DISTINCT CASE WHEN e.outage_mw IS NOT NULL THEN e.interval_start END) AS outage,
    COUNT(DISTINCT CASE WHEN e.temperature_c IS NOT NULL OR e.dew_point_c IS NOT NULL
        OR e.wind_mps IS NOT NULL THEN e.interval_start END) AS weather,
    MAX(CASE WHEN ho.iso IS NOT NULL THEN 1 ELSE 0 END) AS has_outage,
    MAX(CASE WHEN hw.iso IS NOT NULL THEN 1 ELSE 0 END) AS has_weather
FROM enriched_prices AS e
LEFT JOIN (
    SELECT DISTINCT iso FROM outages WHERE interval_start >= :lo AND interval_start < :hi
) AS ho ON ho.iso = e.iso
LEFT JOIN (
    SELECT DISTINCT a.iso FROM weather_obs AS w JOIN area_stations AS a ON a.station = w.station
    WHERE w.observed_at >= :lo AND w.observed_at < :hi
) AS hw ON hw.iso = e.iso
WHERE e.trade_date = CAST(:trade_date AS DATE)
GROUP BY e.iso
"""


def evaluate_context(
    day: date, rows: Iterable[dict[str, Any]], codes: Iterable[str] | None = None
) -> list[CheckResult]:
    """Pure: per ISO and kind (outage, weather), the hours of the day with that context in
    enriched_prices against the hours of the day. An ISO is held to a kind when the warehouse
    holds that context for it on the day or the day before (a source that went quiet fails the
    day; a day before any source ran, or an ISO no source covers, is not checked)."""
    wanted = set(codes) if codes is not None else None
    out = []
    for r in sorted(rows, key=lambda r: str(r["iso"])):
        if wanted is not None and r["iso"] not in wanted:
            continue
        for kind in ("outage", "weather"):
            if not int(r[f"has_{kind}"]):
                continue
            seen, hours = int(r[kind]), int(r["hours"])
            detail = f"{seen} of {hours} hours of the day carry {kind} context"
            out.append(
                CheckResult(
                    day.isoformat(), str(r["iso"]), kind, "context_coverage", seen == hours, seen, hours, detail
                )
            )
    return out


def context_checks(
    ex: warehouse.Executor,
    day: date,
    report: CheckReport,
    codes: Iterable[str] | None = None,
    now: datetime | None = None,
) -> CheckReport:
    """Add the context coverage verdicts of `day` to `report` (and to dq_results)."""
    start = datetime.combine(day, datetime.min.time())
    lo, hi = start - timedelta(days=1), start + timedelta(days=1, hours=12)  # the day before, the day (any US clock)
    q = warehouse.bind(
        sqlglot.parse_one(_CONTEXT_COVERAGE, read="redshift"),
        trade_date=day,
        lo=f"{lo:%Y-%m-%d %H:%M:%S}",
        hi=f"{hi:%Y-%m-%d %H:%M:%S}",
    )
    results = evaluate_context(day, ex.query(q), codes)
    if results:
        ex.run([_insert_results(results, (now or datetime.now(UTC)).astimezone(UTC))])
    report.results.extend(results)
    return report

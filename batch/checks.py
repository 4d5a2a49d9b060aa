"""Data-quality checks after each load, per ISO and dataset of a trade date:

- missing_intervals: the RT5 5-minute grid of the ISO's local day (288, or 276 / 300 on the
  DST days; MISO's fixed EST always 288) minus the intervals present;
- duplicates: natural keys held more than once;
- stale_feed: no rows at all, or the feed's last interval ends more than STALE_AFTER before
  the local day ends (the feed went quiet);
- out_of_range: LMP outside -2,000..10,000 $/MWh, load <= 0.

The probes are SQL (batch/sql/checks.sql, run on the warehouse); the verdicts are computed
here by pure functions, written to dq_results (a rerun replaces the day's rows), and returned
as a report whose message names ISO, dataset and the missing intervals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlglot import exp

from batch import days as _days
from batch import warehouse
from gridtape import isos
from gridtape.contract import DATASETS, ISOS

STEP = timedelta(minutes=5)
STALE_AFTER = timedelta(minutes=30)
LMP_RANGE = (-2000.0, 10000.0)


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
        lines += [f"- {r.iso} {r.dataset} {r.check}: {r.detail}" for r in self.failures]
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


def expected_grid(iso: str, day: date) -> list[datetime]:
    """Every 5-minute interval_start (UTC) of the ISO's local day."""
    start, end = _days.local_day_bounds(iso, day)
    n = int((end - start) / STEP)
    grid = [start + i * STEP for i in range(n)]
    assert len(grid) == _days.expected_intervals(iso, day)
    return grid


def describe_ranges(iso: str, missing: Sequence[datetime]) -> str:
    """Consecutive missing intervals as ranges, in UTC and the ISO's local clock."""
    if not missing:
        return ""
    zone = isos.get(iso).tz
    ranges: list[tuple[datetime, datetime]] = []
    for ts in sorted(missing):
        if ranges and ts - ranges[-1][1] == STEP:
            ranges[-1] = (ranges[-1][0], ts)
        else:
            ranges.append((ts, ts))
    parts = []
    for a, b in ranges:
        la, lb = a.astimezone(zone), (b + STEP).astimezone(zone)
        parts.append(
            f"{a:%Y-%m-%dT%H:%M}Z-{b + STEP:%H:%M}Z ({la:%H:%M}-{lb:%H:%M} {la.tzname()}, {int((b - a) / STEP) + 1} intervals)"
        )
    return "; ".join(parts)


def evaluate(
    day: date,
    probes: dict[str, list[dict[str, Any]]],
    expected: Iterable[tuple[str, str]],
) -> list[CheckResult]:
    """Pure: probe rows -> one result per (iso, dataset, check)."""
    d = day.isoformat()
    present: dict[tuple[str, str], set[datetime]] = defaultdict(set)
    for row in probes["intervals"]:
        present[(row["iso"], row["dataset"])].add(_utc(row["interval_start"]))
    dups = {(r["iso"], r["dataset"]): int(r["extra_rows"]) for r in probes["duplicates"]}
    fresh = {(r["iso"], r["dataset"]): r for r in probes["freshness"]}
    bad = {(r["iso"], r["dataset"]): r for r in probes["out_of_range"]}
    results = []
    for iso, dataset in sorted(set(expected)):
        key = (iso, dataset)
        grid = expected_grid(iso, day)
        missing = [ts for ts in grid if ts not in present[key]]
        results.append(
            CheckResult(
                d,
                iso,
                dataset,
                "missing_intervals",
                not missing,
                len(grid) - len(missing),
                len(grid),
                f"{len(missing)} of {len(grid)} 5-minute intervals missing: {describe_ranges(iso, missing)}"
                if missing
                else f"all {len(grid)} intervals present",
            )
        )
        n_dup = dups.get(key, 0)
        results.append(
            CheckResult(d, iso, dataset, "duplicates", n_dup == 0, n_dup, 0, f"{n_dup} duplicate natural keys")
        )
        f = fresh.get(key)
        _, day_end = _days.local_day_bounds(iso, day)
        if f is None or not f["n"]:
            results.append(CheckResult(d, iso, dataset, "stale_feed", False, 0, None, "no rows at all for the day"))
        else:
            last_end = _utc(f["last_interval_end"])
            ok = last_end >= day_end - STALE_AFTER
            detail = f"last interval ends {last_end:%Y-%m-%dT%H:%M}Z, day ends {day_end:%Y-%m-%dT%H:%M}Z; last ingested {_utc(f['last_ingested']):%Y-%m-%dT%H:%M}Z"
            results.append(CheckResult(d, iso, dataset, "stale_feed", ok, int(f["n"]), None, detail))
        b = bad.get(key)
        n_bad = int(b["n"]) if b else 0
        rule = "LMP outside -2000..10000 $/MWh" if dataset == "lmp" else "load <= 0 MW"
        detail = f"{n_bad} values with {rule}" + (f" (lowest {b['lowest']}, highest {b['highest']})" if b else "")
        results.append(CheckResult(d, iso, dataset, "out_of_range", n_bad == 0, n_bad, 0, detail))
    return results


def _insert_results(results: Sequence[CheckResult], checked_at: datetime) -> exp.Expr:
    rows = []
    for r in results:
        rows.append(
            exp.Tuple(
                expressions=[
                    exp.cast(exp.Literal.string(r.trade_date), "DATE"),
                    exp.convert(r.iso),
                    exp.convert(r.dataset),
                    exp.convert(r.check),
                    exp.convert(r.passed),
                    exp.convert(r.observed),
                    exp.convert(r.expected),
                    exp.convert(r.detail[:4096]),
                    exp.cast(exp.Literal.string(f"{checked_at:%Y-%m-%d %H:%M:%S}"), "TIMESTAMP"),
                ]
            )
        )
    columns = ["trade_date", "iso", "dataset", "check_name", "passed", "observed", "expected", "detail", "checked_at"]
    return exp.insert(exp.Values(expressions=rows), "dq_results", columns=columns)


def run_checks(
    ex: warehouse.Executor,
    day: date,
    expected: Iterable[tuple[str, str]] | None = None,
    now: datetime | None = None,
) -> CheckReport:
    queries = warehouse.named_queries("checks.sql")
    probes = {
        name: ex.query(warehouse.bind(q, trade_date=day)) for name, q in queries.items() if name != "clear_results"
    }
    pairs = list(expected) if expected is not None else [(i, d) for i in ISOS for d in DATASETS]
    results = evaluate(day, probes, pairs)
    stmts = [warehouse.bind(queries["clear_results"], trade_date=day)]
    if results:
        stmts.append(_insert_results(results, (now or datetime.now(UTC)).astimezone(UTC)))
    ex.run(stmts)
    return CheckReport(day.isoformat(), results)

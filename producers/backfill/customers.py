"""`gridtape backfill --dataset customers`: DOE EAGLE-I county customer outages
(producers/context/eaglei.py) for UTC days D..E, every ISO at once.

Each yearly file covering the range is fetched ONCE and streamed for the days not done yet;
per UTC day (EAGLE-I times are UTC: the operating day is the UTC date):
1. the day's records, split by the ISO their county maps to (gridtape/counties.py);
2. one object per (ISO, day) at landing.context_key("customers", ISO, "customers", day, day).
   Counties that map to no ISO land under the ISO partition "UNMAPPED"
   (raw/context/kind=customers/iso=UNMAPPED/...): kept, never joined, and listed in the
   run's report (FIPS, county, state, rows); an object of an ISO the day no longer holds is
   removed, so a redo replaces the day exactly;
3. revision per record as the tick backfill numbers it: 0 when new, the same when the value is
   unchanged, +1 when the file now says otherwise (against the object written before);
4. a mark per mapped ISO (landing.mark_key(day, ISO, "customers")) for the nightly run; the
   UNMAPPED partition gets none (nothing downstream loads it);
5. the day's cursor, under provider "EAGLEI" (pk backfill#EAGLEI#customers).
A year file that is missing fails its days as missing; one that cannot be read fails them and
is quarantined, as producers/backfill/run.py does for a day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import Any, Final

from gridtape import contract, landing
from gridtape.context import CUSTOMERS_OUT
from gridtape.errors import SourceError
from producers.backfill import objects
from producers.backfill import run as tick_run
from producers.backfill.run import DayResult, Sinks
from producers.context.eaglei import FEED, KIND, EagleiSource
from producers.http import FetchError, FetchLayer, RecordingError
from producers.transport import RequestsTransport

UNMAPPED: Final = "UNMAPPED"
CURSOR: Final = EagleiSource.iso
PARTITIONS: Final = (*contract.ISOS, UNMAPPED)
# A year file is hundreds of MB (the price feeds' cap, formats.MAX_BODY_BYTES, is 128 MB). The
# body is held once as fetched; the parse streams over it and keeps only the range's records.
MAX_FILE_BYTES: Final = 3 * 1024**3


@dataclass
class CustomersRun:
    results: list[DayResult] = field(default_factory=list)
    # FIPS -> (county, state, rows) of the counties no ISO holds, over the run
    unmapped: dict[str, tuple[str, str, int]] = field(default_factory=dict)

    def report_lines(self) -> list[str]:
        total = sum(n for _, _, n in self.unmapped.values())
        lines = [f"unmapped counties: {len(self.unmapped)} ({total:,} rows, kept under iso={UNMAPPED})"]
        for fips, (name, state, n) in sorted(self.unmapped.items()):
            lines.append(f"  unmapped: {fips} {name}, {state}: {n} rows")
        return lines


def live_layer() -> FetchLayer:
    """The fetch layer for the real files: retries and https only as for the ISOs, a larger cap."""
    transport = RequestsTransport(max_body=MAX_FILE_BYTES)
    return FetchLayer(CURSOR, transport, requests_per_second=EagleiSource().requests_per_second, https_only=True)


def backfill(days: list[date], http: FetchLayer, sinks: Sinks, *, redo: bool = False) -> CustomersRun:
    out = CustomersRun()
    done = set() if redo else sinks.cursors.done(CURSOR, FEED, days)
    out.results += [DayResult(CURSOR, FEED, d.isoformat(), "already_done") for d in days if d in done]
    todo = [d for d in days if d not in done]
    for _, group in groupby(todo, key=lambda d: d.year):
        year_days = list(group)
        _year(year_days, http, sinks, out)
    out.results.sort(key=lambda r: r.day)
    return out


def _year(days: list[date], http: FetchLayer, sinks: Sinks, out: CustomersRun) -> None:
    source = EagleiSource(days=days)
    results = {d: DayResult(CURSOR, FEED, d.isoformat()) for d in days}
    out.results += results.values()
    http.begin_poll()
    try:
        responses = source.history(FEED, days[0], http)
        if responses[0].status == 404:
            for r in results.values():
                r.status, r.url = "missing", http.redact(responses[0].url)
                r.error = f"no EAGLE-I file for {days[0].year} (HTTP 404)"
            return
        parsed = source.parse_rows(FEED, responses, live=False)
    except (FetchError, SourceError, RecordingError) as exc:
        for r in results.values():
            tick_run._fail(r, sinks, http, exc)
        return
    refused = len(parsed.refused)
    quarantined = tick_run._quarantine_rows(sinks, http, CURSOR, FEED, parsed.refused) if refused else None
    for fips, (name, state, n) in source.unmapped.items():
        _, _, before = out.unmapped.get(fips, (name, state, 0))
        out.unmapped[fips] = (name, state, before + n)
    by_day: dict[str, list[dict[str, Any]]] = {}
    for rec in parsed.ticks:
        by_day.setdefault(rec["interval_start"][:10], []).append(rec)
    for day, r in results.items():
        r.refused, r.quarantined = refused, quarantined
        records = by_day.get(day.isoformat(), [])
        if not records:
            r.status, r.error = "missing", f"no rows of {day} in the EAGLE-I {day.year} file"
            r.url = http.redact(responses[0].url)
            continue
        _write(day, records, sinks, r)


def _write(day: date, records: list[dict[str, Any]], sinks: Sinks, r: DayResult) -> None:
    parts: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        parts.setdefault(rec["iso"] or UNMAPPED, []).append(rec)
    s3, bucket = sinks.raw.client, sinks.raw.bucket
    for iso in PARTITIONS:
        key = landing.context_key(KIND, iso, FEED, day, day)
        if iso not in parts:
            s3.delete_object(Bucket=bucket, Key=key)
            continue
        stamped, changed = _revise(parts[iso], _before(s3, bucket, key))
        objects.put(s3, bucket, key, stamped, changed, r)
    for iso in sorted(set(parts) - {UNMAPPED}):
        sinks.raw.mark(iso, FEED, day, len(parts[iso]), [k for k in r.objects if f"/iso={iso}/" in k])
    sinks.cursors.advance(CURSOR, FEED, day, r.rows, r.objects)
    r.status = "done"


def _before(s3: Any, bucket: str, key: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """natural key -> record of the object written before at `key`."""
    return {contract.natural_key(rec, CUSTOMERS_OUT): rec for rec in objects.previous(s3, bucket, key)}


def _revise(
    records: list[dict[str, Any]], before: dict[tuple[Any, ...], dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    """A new revision only when the count changed (module doc, step 3)."""
    out, changed = objects.revise(
        records, before, lambda x: contract.natural_key(x, CUSTOMERS_OUT), lambda x: x["customers_out"]
    )
    return sorted(out, key=lambda x: (x["interval_start"], x["fips"])), changed

"""`gridtape backfill --dataset outage|weather`: one ISO's context source (producers/context/
registry.py), day by day, through the tick backfill's machinery: the same fetch layer, cursors
(pk backfill#<ISO>#<kind>), quarantine, marks (landing.mark_key(day, ISO, kind): the nightly run
re-enriches a marked day) and failure handling (producers/backfill/run.py).

Per operating day (the ISO's market clock):
1. history(kind, day) -> responses; a 404 or none: the day is missing;
2. parse_rows(live=False): records validated with the source's contract (gridtape/context.py),
   refused rows quarantined; too many refused fails the day;
3. keep the records whose time (interval_start; weather: observed_at) falls in the day;
4. revision per natural key against the day's objects written before (0 new, the same when the
   values are unchanged, +1 when they changed), so a re-backfill that changes nothing changes
   nothing downstream;
5. one object per UTC partition at landing.context_key(kind, ISO, kind, day, utc date) (a
   re-write replaces it; the day's object in a partition it no longer fills is removed);
6. mark, then cursor. A crash before 6 redoes the day: same keys, same records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Unpack

from gridtape import contract, landing
from gridtape.contract import RecordContract
from producers.backfill import objects, plan
from producers.backfill import run as tick_run
from producers.backfill.run import DayResult, Sinks, Walk
from producers.base import IsoSource
from producers.http import FetchLayer
from producers.poller import steps

_PROVENANCE = frozenset(contract.PROVENANCE_FIELDS)


def time_field(record_contract: RecordContract) -> str:
    """The field that places a record in time (and in its UTC partition)."""
    return "observed_at" if "observed_at" in record_contract.names else "interval_start"


def values(record: Mapping[str, Any], record_contract: RecordContract) -> tuple[Any, ...]:
    """What a reader sees of a record beyond its key: a change here is a new revision."""
    keyed = set(record_contract.natural_key) | _PROVENANCE
    return tuple(
        None if record.get(f) is None else (float(record[f]) if isinstance(record[f], int | float) else record[f])
        for f in record_contract.names
        if f not in keyed
    )


def revise(
    records: Iterable[dict[str, Any]], before: Mapping[tuple[Any, ...], dict[str, Any]], rc: RecordContract
) -> tuple[list[dict[str, Any]], int]:
    """Copies stamped with their revision (module doc, step 4), and how many changed."""
    out, changed = objects.revise(records, before, lambda x: contract.natural_key(x, rc), lambda x: values(x, rc))
    return sorted(out, key=lambda r: contract.natural_key(r, rc)), changed


def backfill(
    source: IsoSource,
    kind: str,
    days: list[date],
    http: FetchLayer,
    sinks: Sinks,
    **walk: Unpack[Walk],
) -> list[DayResult]:
    """Backfill `days` of one ISO's context `kind`, walked as `walk` says; never raises for one
    day's problem."""
    return tick_run.each_day(
        source.iso,
        kind,
        days,
        sinks,
        lambda day, r: _one_day(source, kind, day, http, sinks, r),
        **walk,
    )


def _one_day(source: IsoSource, kind: str, day: date, http: FetchLayer, sinks: Sinks, r: DayResult) -> None:
    iso = source.iso
    http.begin_poll()
    try:
        if (responses := tick_run.archived(source, kind, day, http, r)) is None:
            return
        url = http.redact(responses[-1].url)
        parsed = source.parse_rows(kind, responses, live=False)
        if (problem := steps.too_many_refused(iso, kind, url, len(parsed.ticks), parsed.refused)) is not None:
            raise problem
        rc = source.record_contract(kind)
        lo, hi = plan.day_bounds(iso, day)
        at = time_field(rc)
        records = [x for x in parsed.ticks if lo <= contract.parse_ts(x[at]) < hi]
        r.outside = len(parsed.ticks) - len(records)
        r.refused = len(parsed.refused)
        if parsed.refused:
            r.quarantined = tick_run._quarantine_rows(sinks, http, iso, kind, parsed.refused)
        _write(iso, kind, day, records, rc, sinks, r)
    except tick_run.DAY_FAILURES as exc:
        tick_run._fail(r, sinks, http, exc)


def _write(
    iso: str, kind: str, day: date, records: list[dict[str, Any]], rc: RecordContract, sinks: Sinks, r: DayResult
) -> None:
    s3, bucket = sinks.raw.client, sinks.raw.bucket
    at = time_field(rc)
    parts: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        parts.setdefault(rec[at][:10], []).append(rec)
    for stale in plan.utc_dates(iso, day):
        if stale.isoformat() not in parts:
            s3.delete_object(Bucket=bucket, Key=landing.context_key(kind, iso, kind, day, stale))
    for utc_date, part in sorted(parts.items()):
        key = landing.context_key(kind, iso, kind, day, utc_date)
        before = {contract.natural_key(x, rc): x for x in objects.previous(s3, bucket, key)}
        stamped, changed = revise(part, before, rc)
        objects.put(s3, bucket, key, stamped, changed, r)
    sinks.raw.mark(iso, kind, day, r.rows, r.objects)
    sinks.cursors.advance(iso, kind, day, r.rows, r.objects)
    r.status = "done"

"""The raw landing layout, defined once: where raw tick records live in the raw bucket, how
their objects are named and encoded, and where a backfill marks the days it wrote.

- Records are contract.dumps lines, gzip-compressed JSON Lines (a newline after every record).
- Partitioned as the Firehose dynamic-partitioning JQ query {iso: .iso, date: .interval_start[0:10]}:
  raw/iso=<ISO>/date=<UTC date of interval_start>/ (event time, so a revision lands in the
  partition compaction re-reads).
- Firehose objects (and the local stand-in, app/local/landing.py):
  <partition><delivery stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz
- Backfill objects (producers/backfill): one per (ISO, feed, operating day, UTC partition),
  <partition>backfill-<feed>-<operating day>.gz, so a day written again replaces itself.
- Backfill marks: marks/backfill/day=<operating day>/<ISO>-<feed>.json, one per (ISO, feed,
  day), rewritten on every backfill of the day; batch/catchup.py compacts and loads a marked day
  until a nightly run that started after the mark's LastModified loaded it (so a mark needs no
  delete, and a day backfilled again is marked again).
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Final

RAW_PREFIX: Final = "raw/"
ERROR_PREFIX: Final = "errors/"
MARKS_PREFIX: Final = "marks/backfill/"
CONTEXT_PREFIX: Final = f"{RAW_PREFIX}context/"
STREAM_VERSION: Final = 1
_MARK = re.compile(rf"^{re.escape(MARKS_PREFIX)}day=(\d{{4}}-\d{{2}}-\d{{2}})/([A-Z]+)-(\w+)\.json$")


def partition_keys(data: bytes) -> tuple[str, str]:
    """The JQ query {iso: .iso, date: .interval_start[0:10]}; raises ValueError like a failed extraction."""
    record = json.loads(data)
    if not isinstance(record, dict):
        raise ValueError("record is not a JSON object")
    iso, start = record.get("iso"), record.get("interval_start")
    if not isinstance(iso, str) or not iso or not isinstance(start, str) or len(start) < 10:
        raise ValueError("partition keys iso / interval_start missing")
    return iso, start[:10]


def partition(iso: str, utc_date: date | str) -> str:
    """raw/iso=<ISO>/date=<UTC date>/"""
    day = utc_date.isoformat() if isinstance(utc_date, date) else utc_date
    return f"{RAW_PREFIX}iso={iso}/date={day}/"


def context_partition(kind: str, iso: str, utc_date: date | str) -> str:
    """raw/context/kind=<outage|weather|customers>/iso=<ISO>/date=<UTC date>/: the enrichment
    records (gridtape/context.py), beside and never inside the ticks' partitions."""
    day = utc_date.isoformat() if isinstance(utc_date, date) else utc_date
    return f"{CONTEXT_PREFIX}kind={kind}/iso={iso}/date={day}/"


def context_key(kind: str, iso: str, feed: str, day: date, utc_date: date | str) -> str:
    """The one object of a context feed's operating day in one UTC partition (deterministic)."""
    return f"{context_partition(kind, iso, utc_date)}backfill-{feed}-{day.isoformat()}.gz"


def iso_prefix(iso: str) -> str:
    return f"{RAW_PREFIX}iso={iso}/"


def object_key(prefix: str, stream: str, when: datetime, content: str = "") -> str:
    """Firehose's key shape; the uuid is derived from `content` (what the object holds) when
    given, so the same records always land at the same key."""
    uid = uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}{stream}|{content}") if content else uuid.uuid4()
    return f"{prefix}{stream}-{STREAM_VERSION}-{when:%Y-%m-%d-%H-%M-%S}-{uid}.gz"


def backfill_key(iso: str, feed: str, day: date, utc_date: date | str) -> str:
    """The one object of a backfilled operating day in one UTC partition (deterministic)."""
    return f"{partition(iso, utc_date)}backfill-{feed}-{day.isoformat()}.gz"


def encode(lines: Iterable[bytes | str]) -> bytes:
    """JSON Lines, a newline after each record, gzip with no timestamp (same lines, same bytes)."""
    raw = b"".join((line.encode() if isinstance(line, str) else line).rstrip(b"\n") + b"\n" for line in lines)
    return gzip.compress(raw, mtime=0)


def decode(body: bytes) -> list[bytes]:
    """The records of one raw object (blank lines skipped)."""
    return [line for line in gzip.decompress(body).split(b"\n") if line.strip()]


def mark_key(day: date, iso: str, feed: str) -> str:
    return f"{MARKS_PREFIX}day={day.isoformat()}/{iso}-{feed}.json"


def parse_mark(key: str) -> tuple[date, str, str] | None:
    """(operating day, ISO, feed) of a mark key; None for any other key."""
    m = _MARK.match(key)
    return (date.fromisoformat(m.group(1)), m.group(2), m.group(3)) if m else None


def mark_day(key: str) -> date | None:
    """The operating day a mark key names; None for any other key."""
    mark = parse_mark(key)
    return mark[0] if mark else None


def is_raw(key: str) -> bool:
    return key.startswith(RAW_PREFIX)

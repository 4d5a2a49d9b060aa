"""Publishing a compacted day: the one place that places curated files, flips a day's manifest
and expires old runs, for the local compaction (files staged in a folder) and the Glue job
(files staged under an s3:// prefix) alike.

Atomic replacement of a day (what a reader sees): every run writes its Parquet under a new
run prefix, curated/ticks/iso=<ISO>/date=<D>/run=<run_id>/, and only then overwrites one
object, the day's manifest curated/_manifests/ticks/date=<D>.manifest (Redshift COPY manifest
format). A reader that goes through the manifest (the warehouse COPY ... MANIFEST, the local
loader) sees the old day or the new day, never a mix and never two copies. The previous run
is kept one cycle so a COPY that read the old manifest a moment before the flip still finds
its files; older runs are deleted after the flip. A reader that globs the prefix instead of
reading the manifest can see two runs for a moment: don't.

Two compactions of one day (the nightly and a manual rerun) are serialized per day by a lock
object taken with a conditional put (If-None-Match: *; a lock past its expiry is taken over
with If-Match on its ETag), so one run's expiry never deletes the files of a run that is
still placing them. Run ids sort by start time: a run that finds the manifest already
pointing at a newer run publishes nothing for that day (its input was older).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from gridtape import landing
from gridtape.errors import TransientError

log = logging.getLogger(__name__)

# Everything compaction writes lives under curated/ (the bucket's tiering rule covers it).
TICKS_PREFIX = "curated/ticks/"
MANIFEST_PREFIX = "curated/_manifests/ticks/"
REJECTS_PREFIX = "curated/rejects/"
LOCK_PREFIX = "curated/_locks/ticks/"
RAW_PREFIX = landing.RAW_PREFIX  # the layout is the kernel's (gridtape/landing.py)
LOCK_TTL = timedelta(minutes=30)  # longer than placing one day's files ever takes
LOCK_WAIT = timedelta(minutes=20)  # under the Glue job's timeout


class DayLocked(TransientError):
    """Another compaction of the day holds its lock beyond LOCK_WAIT."""


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by start time (microseconds), unique by its random tail."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


class Store:
    """The two buckets as the job sees them: boto3 (AWS or the emulator) for objects."""

    def __init__(self, raw_bucket: str, curated_bucket: str) -> None:
        from gridtape import aws

        self.s3 = aws.client("s3")
        self.raw_bucket = raw_bucket
        self.curated_bucket = curated_bucket

    def keys(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(page.get("Contents", []))
        return out

    def raw_objects(self, raw_dates: Sequence[date]) -> list[dict[str, Any]]:
        """The landed raw objects of these UTC dates, listed partition by partition (raw/ holds
        years of objects; the iso= partitions come from the listing, so an ISO code outside the
        table still reaches compaction and is rejected there with its reason), followed by every
        backfill mark (gridtape.landing.MARKS_PREFIX, any date), which the nightly plan reads
        beside them (batch/catchup.py)."""
        isos: list[str] = []
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.raw_bucket, Prefix=RAW_PREFIX, Delimiter="/"
        )
        for page in pages:
            # raw/context/ holds the enrichment records (batch/context), not ticks.
            isos += [p["Prefix"] for p in page.get("CommonPrefixes", []) if p["Prefix"] != landing.CONTEXT_PREFIX]
        out = []
        for prefix in isos:
            for d in sorted(set(raw_dates)):
                out += self.keys(self.raw_bucket, f"{prefix}date={d.isoformat()}/")
        return out + self.keys(self.raw_bucket, landing.MARKS_PREFIX)

    def raw_keys(self, raw_dates: Sequence[date]) -> list[str]:
        """The keys of the landed records alone (no marks): what compaction reads."""
        return [o["Key"] for o in self.raw_objects(raw_dates) if landing.is_raw(o["Key"])]


@dataclass(frozen=True, slots=True)
class StagedFile:
    """One output file of a run before it is placed: local (path) or on S3 (bucket, key)."""

    kind: str  # ticks | rejects
    day: str
    iso: str | None
    name: str
    size: int
    path: Path | None = None
    s3: tuple[str, str] | None = None

    def key(self, run_id: str) -> str:
        if self.kind == "ticks":
            return f"{TICKS_PREFIX}iso={self.iso}/date={self.day}/run={run_id}/{self.name}"
        return f"{REJECTS_PREFIX}date={self.day}/run={run_id}/{self.name}"


def _staged(kind: str, relative: str, name: str, size: int, **where: Any) -> StagedFile:
    parts = dict(seg.split("=", 1) for seg in relative.split("/") if "=" in seg)
    return StagedFile(kind, parts["_date"], parts.get("_iso"), name, size, **where)


def staged_local(folder: Path) -> list[StagedFile]:
    """The part files Spark wrote under folder/ticks and folder/rejects (partitioned by _iso, _date)."""
    out = []
    for kind in ("ticks", "rejects"):
        for p in sorted((folder / kind).rglob("part-*")):
            if not p.name.endswith(".crc"):
                rel = p.parent.relative_to(folder / kind).as_posix()
                out.append(_staged(kind, rel, p.name, p.stat().st_size, path=p))
    return out


def staged_s3(store: Store, staging: str) -> list[StagedFile]:
    """The same, for a staging prefix s3://bucket/prefix."""
    bucket, _, prefix = staging.removeprefix("s3://").partition("/")
    out = []
    for obj in store.keys(bucket, prefix.rstrip("/") + "/"):
        key = obj["Key"]
        rel, _, name = key[len(prefix.rstrip("/")) + 1 :].rpartition("/")
        kind = rel.split("/", 1)[0]
        if name.startswith("part-") and kind in ("ticks", "rejects"):
            out.append(_staged(kind, rel, name, int(obj["Size"]), s3=(bucket, key)))
    return out


def manifest_key(day: str) -> str:
    return f"{MANIFEST_PREFIX}date={day}.manifest"


def read_manifest(store: Store, day: str) -> dict[str, Any] | None:
    """The day's manifest, plus the run ids it points at (None when the day was never compacted)."""
    try:
        obj = store.s3.get_object(Bucket=store.curated_bucket, Key=manifest_key(day))
    except store.s3.exceptions.NoSuchKey:
        return None
    manifest = json.loads(obj["Body"].read())
    runs = sorted({e["url"].split("/run=")[1].split("/")[0] for e in manifest["entries"]})
    return {**manifest, "runs": runs, "run": manifest.get("run") or (runs[-1] if runs else "")}


class DayLock:
    """Exclusive right to publish one day: an object created only if absent (If-None-Match)."""

    def __init__(self, store: Store, day: str, run_id: str, wait: timedelta = LOCK_WAIT) -> None:
        self.store, self.day, self.run_id, self.wait = store, day, run_id, wait
        self.key = f"{LOCK_PREFIX}date={day}.lock"
        self.etag = ""

    def _body(self) -> bytes:
        expires = datetime.now(UTC) + LOCK_TTL
        return json.dumps({"run": self.run_id, "expires_at": expires.isoformat()}).encode()

    def _try(self) -> bool:
        s3, bucket = self.store.s3, self.store.curated_bucket
        try:
            self.etag = s3.put_object(Bucket=bucket, Key=self.key, Body=self._body(), IfNoneMatch="*")["ETag"]
            return True
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
        try:  # held: take it over only when it expired (a crashed run), and only that version
            held = s3.get_object(Bucket=bucket, Key=self.key)
        except s3.exceptions.NoSuchKey:
            return False  # released meanwhile: the next attempt creates it
        if datetime.fromisoformat(json.loads(held["Body"].read())["expires_at"]) > datetime.now(UTC):
            return False
        try:
            self.etag = s3.put_object(Bucket=bucket, Key=self.key, Body=self._body(), IfMatch=held["ETag"])["ETag"]
            log.warning("took over the expired compaction lock of %s", self.day)
            return True
        except s3.exceptions.ClientError:
            return False

    def __enter__(self) -> DayLock:
        deadline = time.monotonic() + self.wait.total_seconds()
        pause = 0.05
        while not self._try():
            if time.monotonic() > deadline:
                raise DayLocked(f"compaction of {self.day} is locked by another run ({self.key})")
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
        return self

    def __exit__(self, *exc: object) -> None:
        # Only our own version: a run that overran LOCK_TTL must not release its successor's lock.
        try:
            self.store.s3.delete_object(Bucket=self.store.curated_bucket, Key=self.key, IfMatch=self.etag)
        except self.store.s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] not in ("PreconditionFailed", "NoSuchKey", "404"):
                raise
            log.warning("the compaction lock of %s was taken over before run %s released it", self.day, self.run_id)


def _place(store: Store, f: StagedFile, run_id: str) -> str:
    key = f.key(run_id)
    if f.path is not None:
        store.s3.upload_file(str(f.path), store.curated_bucket, key)
    elif f.s3 is not None:
        store.s3.copy_object(Bucket=store.curated_bucket, Key=key, CopySource={"Bucket": f.s3[0], "Key": f.s3[1]})
    return key


def _expire_runs(store: Store, day: str, keep: set[str]) -> None:
    for prefix in (TICKS_PREFIX, REJECTS_PREFIX):
        for obj in store.keys(store.curated_bucket, prefix):
            key = obj["Key"]
            if f"date={day}/run=" in key and key.split("/run=")[1].split("/")[0] not in keep:
                store.s3.delete_object(Bucket=store.curated_bucket, Key=key)


def publish_day(store: Store, day: str, files: Iterable[StagedFile], run_id: str) -> str | None:
    """Place one day's files under the run prefix, flip its manifest, expire runs older than
    the previous one; all under the day's lock. Returns the manifest key, or None when a newer
    run already published the day."""
    with DayLock(store, day, run_id):
        previous = read_manifest(store, day)
        if previous and previous["run"] > run_id:
            log.warning("compaction %s of %s superseded by run %s: not published", run_id, day, previous["run"])
            return None
        entries = []
        for f in files:
            key = _place(store, f, run_id)
            if f.kind == "ticks":
                url = f"s3://{store.curated_bucket}/{key}"
                entries.append({"url": url, "mandatory": True, "meta": {"content_length": f.size}})
        body = json.dumps({"run": run_id, "entries": entries}, indent=1).encode()
        store.s3.put_object(  # the flip
            Bucket=store.curated_bucket, Key=manifest_key(day), Body=body, ContentType="application/json"
        )
        _expire_runs(store, day, keep={run_id, *(previous["runs"] if previous else [])})
    return manifest_key(day)


def publish(store: Store, staged: Sequence[StagedFile], days: Sequence[date], run_id: str) -> list[str]:
    """Publish every day of the run (a day without files gets an empty manifest: compacted,
    no data), one day lock at a time in date order. Returns the manifest keys it flipped."""
    by_day: dict[str, list[StagedFile]] = {d.isoformat(): [] for d in days}
    for f in staged:
        by_day.setdefault(f.day, []).append(f)
    flipped = []
    for day in sorted(by_day):
        key = publish_day(store, day, by_day[day], run_id)
        if key:
            flipped.append(key)
    return flipped

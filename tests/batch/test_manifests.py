"""Publishing days on the emulator's S3: a day's manifest only ever points at objects that
exist, however two compactions of the day interleave (per-day lock by conditional put)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch import manifests
from gridtape import aws, config

pytestmark = pytest.mark.emulator

DAY = date(2024, 11, 3)


@pytest.fixture
def store(batch_stack: config.Names, request: pytest.FixtureRequest) -> Iterator[manifests.Store]:
    bucket = f"gridtape-manifests-{request.node.name.lower().replace('_', '-')[:30]}-{id(request) % 10_000}"
    aws.client("s3").create_bucket(Bucket=bucket)
    yield manifests.Store(raw_bucket=bucket, curated_bucket=bucket)


def staged(tmp: Path, tag: str, n: int = 3) -> list[manifests.StagedFile]:
    out = []
    for i in range(n):
        path = tmp / f"{tag}-part-{i:05d}.parquet"
        path.write_bytes(f"{tag}-{i}".encode() * 10)
        out.append(manifests.StagedFile("ticks", DAY.isoformat(), "PJM", path.name, path.stat().st_size, path=path))
    reject = tmp / f"{tag}-part-r.json"
    reject.write_text("{}")
    out.append(manifests.StagedFile("rejects", DAY.isoformat(), None, reject.name, 2, path=reject))
    return out


def dangling(store: manifests.Store) -> list[str]:
    """Manifest entries whose object does not exist."""
    manifest = manifests.read_manifest(store, DAY.isoformat())
    assert manifest is not None
    missing = []
    for entry in manifest["entries"]:
        bucket, _, key = entry["url"][5:].partition("/")
        try:
            store.s3.head_object(Bucket=bucket, Key=key)
        except store.s3.exceptions.ClientError:
            missing.append(key)
    return missing


def test_a_second_compaction_places_nothing_while_the_first_holds_the_day(
    store: manifests.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = manifests.new_run_id(), manifests.new_run_id()
    manifests.publish(store, staged(tmp_path, "old"), [DAY], manifests.new_run_id(datetime(2024, 1, 1, tzinfo=UTC)))
    attempts = threading.Semaphore(0)
    real_try = manifests.DayLock._try

    def counted(self: manifests.DayLock) -> bool:
        got = real_try(self)
        if not got:
            attempts.release()
        return got

    monkeypatch.setattr(manifests.DayLock, "_try", counted)
    with manifests.DayLock(store, DAY.isoformat(), first):
        result: list[Any] = []
        t = threading.Thread(
            target=lambda: result.append(manifests.publish(store, staged(tmp_path, "b"), [DAY], second))
        )
        t.start()
        for _ in range(3):  # the second run has been refused the lock three times
            assert attempts.acquire(timeout=60)
        placed = [o["Key"] for o in store.keys(store.curated_bucket, manifests.TICKS_PREFIX)]
        assert not [k for k in placed if f"run={second}" in k]
    t.join(timeout=120)
    assert result == [[manifests.manifest_key(DAY.isoformat())]]
    assert manifests.read_manifest(store, DAY.isoformat())["runs"] == [second]  # type: ignore[index]
    assert dangling(store) == []


def test_concurrent_compactions_of_one_day_never_leave_a_dangling_manifest(
    store: manifests.Store, tmp_path: Path
) -> None:
    errors: list[BaseException] = []
    seen: list[list[str]] = []

    def worker(tag: str) -> None:
        try:
            for i in range(4):
                manifests.publish(store, staged(tmp_path, f"{tag}{i}"), [DAY], manifests.new_run_id())
                seen.append(dangling(store))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(tag,)) for tag in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(seen) == 12 and all(m == [] for m in seen)
    manifest = manifests.read_manifest(store, DAY.isoformat())
    assert manifest is not None and len(manifest["entries"]) == 3
    # What is left: the manifest's run and at most the one before it.
    runs = {o["Key"].split("/run=")[1].split("/")[0] for o in store.keys(store.curated_bucket, manifests.TICKS_PREFIX)}
    assert manifest["run"] in runs and len(runs) <= 2
    assert not store.keys(store.curated_bucket, manifests.LOCK_PREFIX)


def test_an_older_run_does_not_replace_a_newer_one(store: manifests.Store, tmp_path: Path) -> None:
    older = manifests.new_run_id(datetime.now(UTC) - timedelta(minutes=10))
    newer = manifests.new_run_id()
    assert manifests.publish(store, staged(tmp_path, "new"), [DAY], newer) == [manifests.manifest_key(DAY.isoformat())]
    assert manifests.publish(store, staged(tmp_path, "old"), [DAY], older) == []
    assert manifests.read_manifest(store, DAY.isoformat())["run"] == newer  # type: ignore[index]
    keys = [o["Key"] for o in store.keys(store.curated_bucket, "curated/")]
    assert not [k for k in keys if f"run={older}" in k]


def test_a_crashed_runs_lock_is_taken_over_once_expired(store: manifests.Store, tmp_path: Path) -> None:
    lock = manifests.DayLock(store, DAY.isoformat(), "crashed")
    expired = {"run": "crashed", "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    store.s3.put_object(Bucket=store.curated_bucket, Key=lock.key, Body=json.dumps(expired).encode())
    run = manifests.new_run_id()
    assert manifests.publish(store, staged(tmp_path, "x"), [DAY], run)
    assert dangling(store) == [] and manifests.read_manifest(store, DAY.isoformat())["run"] == run  # type: ignore[index]

    live = {"run": "busy", "expires_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat()}
    store.s3.put_object(Bucket=store.curated_bucket, Key=lock.key, Body=json.dumps(live).encode())
    with pytest.raises(manifests.DayLocked), manifests.DayLock(store, DAY.isoformat(), "late", wait=timedelta(0)):
        pass


def test_a_run_that_overran_its_lock_does_not_release_its_successors(store: manifests.Store) -> None:
    slow = manifests.DayLock(store, DAY.isoformat(), "slow")
    slow.__enter__()
    expired = {"run": "slow", "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    store.s3.put_object(Bucket=store.curated_bucket, Key=slow.key, Body=json.dumps(expired).encode())
    with manifests.DayLock(store, DAY.isoformat(), "next", wait=timedelta(0)):
        slow.__exit__(None, None, None)  # the overrunning run finishes while "next" holds the day
        body = json.loads(store.s3.get_object(Bucket=store.curated_bucket, Key=slow.key)["Body"].read())
        assert body["run"] == "next"
    assert not store.keys(store.curated_bucket, manifests.LOCK_PREFIX)

"""A month of NYISO archives, replayed: `gridtape backfill` killed halfway and started again
continues where it stopped and lands every record once; the nightly run then compacts and loads
all 31 days, and every feed of every day passes the checks (no missing interval)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from app import cli
from batch import nightly
from gridtape import aws, config, contract, isos, landing
from producers.backfill import store
from tools.recordings import generate_nyiso

pytestmark = [pytest.mark.emulator, pytest.mark.spark]

START, END = date(2026, 5, 1), date(2026, 5, 31)
DAYS = (END - START).days + 1
KILL_AFTER = 15  # days the first run completes before it is killed


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the run catches it."""


@pytest.fixture
def names(own_names: config.Names) -> config.Names:
    return own_names


def backfill(names: config.Names, root: Path, feed: str) -> int:
    args = ["backfill", "--env", names.env, "--iso", "NYISO", "--dataset", feed, "--replay", str(root)]
    return cli.main([*args, "--start", START.isoformat(), "--end", END.isoformat()])


def raw_records(names: config.Names) -> list[dict[str, Any]]:
    s3 = aws.client("s3")
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names.raw_bucket, Prefix=landing.RAW_PREFIX):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=names.raw_bucket, Key=o["Key"])["Body"].read()
            out += [json.loads(line) for line in gzip.decompress(body).splitlines() if line]
    return out


def test_a_killed_month_resumes_lands_once_and_loads_every_interval(
    names: config.Names, spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "archive"
    generate_nyiso.history_tree(root, START, END)

    advance = store.Cursors.advance
    calls = {"n": 0}

    def dies_halfway(self: store.Cursors, *args: Any, **kwargs: Any) -> None:
        if calls["n"] == KILL_AFTER:
            raise Killed  # the day's raw object is written, its cursor is not
        calls["n"] += 1
        advance(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(store.Cursors, "advance", dies_halfway)
        with pytest.raises(Killed):
            backfill(names, root, "lmp")
    done = store.Cursors(names.poller_state_table).done("NYISO", "lmp", [START + timedelta(d) for d in range(DAYS)])
    assert len(done) == KILL_AFTER

    for feed in ("lmp", "load", "dam"):
        assert backfill(names, root, feed) == 0
    records = raw_records(names)
    keys = Counter(contract.natural_key(r) for r in records)
    assert keys and max(keys.values()) == 1  # the day redone after the kill replaced itself

    summary = nightly.run(
        END, names=names, spark=spark, warehouse_path=tmp_path / "warehouse.duckdb", expected=["NYISO"],
        notify=False, overlap=timedelta(0),
    )  # fmt: skip
    assert summary["days"][:DAYS] == [(START + timedelta(d)).isoformat() for d in range(DAYS)]
    assert summary["status"] == "SUCCEEDED", summary["checks"]["message"][:2000]

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        per_day = con.execute(
            "SELECT trade_date, market, COUNT(DISTINCT interval_start) FROM prices WHERE iso = 'NYISO' "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        loads = con.execute("SELECT COUNT(*) FROM load_mw WHERE iso = 'NYISO'").fetchone()
    finally:
        con.close()
    grid = {m: 24 * 60 // isos.get("NYISO").feed(n, m).minutes for n, m in (("lmp", "RT5"), ("dam", "DAM"))}
    assert {(d, m): n for d, m, n in per_day} == {
        (START + timedelta(d), m): grid[m] for d in range(DAYS) for m in ("DAM", "RT5")
    }  # May has no DST change: 288 five-minute and 24 day-ahead intervals every day
    assert loads is not None and loads[0] == sum(1 for r in records if r["dataset"] == "load")

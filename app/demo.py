"""`gridtape demo`: the pipeline end to end on the embedded stack, on recorded ISO responses.

poll (7 ISOs, replayed) -> Kinesis ticks -> land (Firehose's layout in raw S3) and stream
(Spark volatility -> Kinesis analytics + curated Parquet) -> nightly batch per landed day
(compaction -> DuckDB warehouse -> data-quality checks -> SNS) -> summary. Stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.stack import lifecycle as stack
from gridtape import aws, config

RECORDINGS = Path(__file__).resolve().parents[1] / "producers" / "recordings"
CONTEXT_DAY = "2026-06-11"  # the day producers/recordings/context/<source>/ hold in full


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the embedded stack and print a summary")
    p.add_argument("--recordings", type=Path, default=RECORDINGS, help="replay folder (default: the project's)")
    p.add_argument("--keep", action="store_true", help="leave the emulator running afterwards")
    p.add_argument(
        "--for",
        dest="seconds",
        type=float,
        metavar="SECONDS",
        default=_default_seconds(),
        help=f"serve the live dashboard this long, then stop (default ${config.ENV_DEMO_SECONDS}, else until Ctrl-C)",
    )
    p.add_argument("--port", type=int, default=8080, help="dashboard port (default 8080)")
    p.set_defaults(func=_run)


def _default_seconds() -> float | None:
    value = os.environ.get(config.ENV_DEMO_SECONDS)
    return float(value) if value else None


def _step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.monotonic()


def _done(t0: float) -> None:
    print(f"   ({time.monotonic() - t0:.1f} s)", flush=True)


def _run(args: argparse.Namespace) -> int:
    from app.commands.producers import summary_table
    from app.local import landing as land
    from app.local.stream import run_embedded
    from batch import nightly
    from gridtape.contract import ISOS
    from producers.poller import poll_replay

    # A demo starts from nothing: its own home, emptied, so checkpoints (Kinesis positions,
    # Spark state) from an earlier run against an earlier emulator are never resumed.
    home = config.home() / "demo"
    if home.exists():
        shutil.rmtree(home)
    os.environ[config.ENV_HOME] = str(home)
    t0 = _step("stack up: emulator + CloudFormation deploy of infra/gridtape.yaml")
    info = stack.up(home=config.home())
    names = info.names
    print(f"   {names.stack} at {info.endpoint}")
    _done(t0)
    try:
        t0 = _step(f"poll: all seven ISOs, replaying {args.recordings}")
        # The complete day first: its polls are the newest, so the cursors they leave keep the
        # older recordings' polls from reaching back across recorded dates.
        day_dir = args.recordings / "day"
        polls = poll_replay(day_dir, list(ISOS)) if day_dir.is_dir() else []
        polls += poll_replay(args.recordings, list(ISOS))
        print(summary_table(polls))
        _done(t0)

        t0 = _step(f"land: {names.ticks_stream} -> s3://{names.raw_bucket}/raw/iso=.../date=.../ (Firehose layout)")
        landed = land.land_once(names)
        print(f"   {json.dumps(landed)}")
        days = _landed_days(names)
        print(f"   days landed: {len(days)} ({', '.join(days[:6])}{' ...' if len(days) > 6 else ''})")
        _done(t0)

        t0 = _step(f"stream: Spark volatility job {names.ticks_stream} -> {names.analytics_stream} + curated Parquet")
        streamed = run_embedded(until_idle_s=8.0)
        print(f"   {json.dumps({k: v for k, v in streamed.items() if not isinstance(v, list | dict)})}")
        _done(t0)

        t0 = _step(f"context: outages, weather, customers out of {CONTEXT_DAY} from {args.recordings / 'context'}")
        _backfill_context(names, args.recordings / "context")
        _done(t0)

        results = []
        for day in days:
            t0 = _step(f"batch {day}: compaction -> warehouse load -> data-quality checks -> SNS")
            # No look-back overlap: every raw object landed seconds ago, and the days run in
            # order, so each run takes its own day (a partial neighbour would fail it).
            summary = nightly.run(day, overlap=timedelta(0))
            results.append(summary)
            print(f"   {_batch_line(summary)}")
            _done(t0)

        _print_warehouse()
        _print_summary(polls, landed, streamed, results)
        _serve_live(names, args.port, args.seconds)
    finally:
        if info.started_emulator and not args.keep:
            stack.down(home=home)
    return 0


def _backfill_context(names: config.Names, recordings: Path) -> None:
    """The context recordings of the demo day through `gridtape backfill` (outage and weather
    per ISO with a source, EAGLE-I customers), so the day's nightly run enriches its prices."""
    from datetime import date

    from app.commands import backfill as command
    from producers import backfill
    from producers.context import registry

    if not recordings.is_dir():
        print(f"   no context recordings in {recordings}: prices stay without context")
        return
    day = date.fromisoformat(CONTEXT_DAY)
    sinks = backfill.Sinks.from_config(names)
    args = argparse.Namespace(replay=recordings, redo=False, include_nodes=False, json=False)
    for kind in command.CONTEXT_KINDS:
        results = command.run(registry.isos_of(kind), kind, [day], sinks, args)
        done = sum(r.status == "done" for r in results)
        print(f"   {kind}: {done} of {len(results)} ISO(s), {sum(r.rows for r in results):,} records")
        for r in results:
            if r.failed:
                print(f"     {r.iso}: {r.status}: {r.error}")
    command.customers([day], sinks, args)


def _landed_days(names: config.Names) -> list[str]:
    """The dates the raw bucket holds (from the date= partitions Firehose's layout writes; the
    context partitions, raw/context/, hold no ticks)."""
    from gridtape import landing

    s3 = aws.client("s3")
    days: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names.raw_bucket, Prefix="raw/"):
        for obj in page.get("Contents", []):
            if obj["Key"].startswith(landing.CONTEXT_PREFIX):
                continue
            for part in obj["Key"].split("/"):
                if part.startswith("date="):
                    days.add(part[5:])
    return sorted(days)


def _batch_line(summary: dict[str, Any]) -> str:
    checks = summary.get("checks", {})
    failed = checks.get("failures", [])
    line = f"{summary['status']}: {summary.get('compaction', {}).get('rows', 0)} rows compacted, {checks.get('checked', 0)} checks"
    if failed:
        first = failed[0]
        line += (
            f"; {len(failed)} failed, e.g. {first['iso']} {first['dataset']} {first['check']}: {first['detail'][:160]}"
        )
    return line


# What a trader asks first, in the warehouse's own (Redshift) dialect.
_PRICES_BY_ISO = """
SELECT iso, market, COUNT(DISTINCT location) AS locations, COUNT(*) AS rows,
       MIN(lmp) AS min_lmp, MAX(lmp) AS max_lmp, SUM(CASE WHEN lmp <= 0 THEN 1 ELSE 0 END) AS nonpositive,
       MAX(interval_end) AS latest_interval_end
FROM prices GROUP BY iso, market ORDER BY iso, market
"""


def _print_warehouse() -> None:
    import sqlglot

    from batch.warehouse import DuckDBExecutor

    ex = DuckDBExecutor()
    try:
        rows = ex.query(sqlglot.parse_one(_PRICES_BY_ISO, read="redshift"))
    finally:
        ex.close()
    print("\n== warehouse: prices by ISO and market (DuckDB, the same SQL Redshift runs)")
    print(
        f"   {'iso':<6} {'market':<6} {'locs':>5} {'rows':>7} {'min $/MWh':>10} {'max $/MWh':>10} {'<=0':>5}  latest interval end (UTC)"
    )
    for r in rows:
        print(
            f"   {r['iso']:<6} {r['market']:<6} {r['locations']:>5} {r['rows']:>7} {r['min_lmp']:>10.2f}"
            f" {r['max_lmp']:>10.2f} {r['nonpositive']:>5}  {r['latest_interval_end']:%Y-%m-%d %H:%MZ}"
        )


def _print_summary(polls: list[Any], landed: dict[str, Any], streamed: dict[str, Any], results: list[Any]) -> None:
    published = Counter[str]()
    for p in polls:
        published[p.iso] += p.published
    print("\n== summary")
    print(f"   ticks published per ISO: {dict(sorted(published.items()))} (total {sum(published.values())})")
    print(f"   raw records landed: {landed.get('read', 0)}")
    print(f"   volatility records emitted: {streamed.get('records_out', 0)}")
    ok = sum(1 for r in results if r["status"] == "SUCCEEDED")
    print(f"   nightly runs: {ok} of {len(results)} days passed every check")
    print(
        "   (2026-06-11 is recorded whole for every ISO; the other days in part, and the checks name every\n"
        "    missing interval, as they would for a feed that went quiet in production)"
    )


def _serve_live(names: config.Names, port: int, seconds: float | None) -> None:
    """The product: the dashboard, with history from the warehouse and recorded hub prices
    replayed as live ticks (one ISO deliberately goes quiet, to show a stale feed and its alert)."""
    import sqlglot

    from app.live_replay import LiveReplay, series_from_warehouse
    from app.local.feed_service import FeedService
    from batch.warehouse import DuckDBExecutor

    ex = DuckDBExecutor()
    try:
        rows = ex.query(sqlglot.parse_one(_HUB_SERIES, read="redshift"))
    finally:
        ex.close()
    t0 = _step("live: trader feed + dashboard, recorded hub prices replayed as live ticks")
    service = FeedService(names, port=port).start()
    replay = LiveReplay(names, series_from_warehouse(rows)).start()
    until = f"for {seconds:.0f} s" if seconds is not None else "until Ctrl-C"
    print(f"   dashboard: {service.url}/  ({until}; {replay.broken} goes quiet on purpose)", flush=True)
    try:
        threading.Event().wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        replay.stop()
        service.stop()
    counts = service.live.counts if service.live is not None else {}
    print(f"   replayed {replay.published} live ticks; feed saw {counts}")
    _done(t0)


_HUB_SERIES = """
SELECT iso, market, location, interval_start, lmp, energy, congestion, loss
FROM prices WHERE market = 'RT5' ORDER BY iso, location, interval_start
"""

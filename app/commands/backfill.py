"""`gridtape backfill`: past operating days from the ISOs' archives, written straight into the
raw landing layout (not through the live stream) and marked for the next nightly run.

gridtape backfill --iso SPP --dataset lmp --start 2024-03-01 --end 2024-03-31
gridtape backfill --iso all --dataset dam --start 2024-11-01 --end 2024-11-03 --replay DIR
gridtape backfill --dataset customers --start 2026-06-10 --end 2026-06-12 [--replay DIR]
gridtape backfill --iso all --dataset weather --start 2026-06-11 --end 2026-06-11 --replay DIR

--dataset outage|weather runs the ISO's context source (producers/context/registry.py: generation
outages, NWS station weather) day by day into raw/context/ (producers/backfill/context.py);
--iso all means every ISO that has such a source.

--dataset customers (every ISO; --iso is not needed) reads DOE EAGLE-I's yearly county outage
files once for the range (UTC days) and lists the counties no ISO holds: see
producers/backfill/customers.py.

Days are operating days on each ISO's market clock, --start to --end inclusive. A day done is
remembered (a cursor per ISO, feed and day in the poller state table): run the same command
again after a crash or Ctrl-C and it continues where it stopped; --redo fetches done days again
(an archive that was revised). Exit status 1 when a day failed or had no archive.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app.commands import command
from gridtape.isos import FEED_NAMES

CONTEXT_KINDS = ("outage", "weather")  # per-ISO context sources (producers/context/registry.py)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def register(sub: Any) -> None:
    p = command(
        sub, "backfill", "fill past operating days from the ISOs' archives into raw/ for the nightly run", __doc__
    )
    p.add_argument("--iso", help="one ISO, a comma-separated list, or all (not for customers)")
    p.add_argument(
        "--dataset",
        required=True,
        choices=(*FEED_NAMES, *CONTEXT_KINDS, "customers"),
        help="the feed: lmp, load or dam (day-ahead); outage, weather: context per ISO; "
        "customers: EAGLE-I county outages, every ISO",
    )
    p.add_argument("--start", required=True, type=_day, help="first operating day, YYYY-MM-DD (the ISO's market clock)")
    p.add_argument("--end", required=True, type=_day, help="last operating day, inclusive")
    p.add_argument(
        "--replay",
        type=Path,
        metavar="DIR",
        help="answer from recorded responses (DIR/<iso>/manifest.json), no network",
    )
    p.add_argument("--redo", action="store_true", help="fetch days already done again (a revised archive)")
    p.add_argument("--include-nodes", action="store_true", help="every node, not just hubs and zones")
    p.add_argument("--json", action="store_true", help="one JSON line per day instead of the summary")
    p.set_defaults(func=_backfill)


def _backfill(args: argparse.Namespace) -> int:
    from app.stack import emulator
    from gridtape import aws, config
    from producers import backfill, registry

    if args.iso is None and args.dataset != "customers":
        raise registry.RegistryError("--iso is required (one ISO, a comma-separated list, or all)")
    isos = registry.parse_isos(args.iso) if args.dataset != "customers" else []
    if args.dataset in CONTEXT_KINDS and args.iso.strip().lower() == "all":
        from producers.context import registry as context_registry

        isos = [i for i in isos if i in context_registry.isos_of(args.dataset)]
    try:
        days = backfill.operating_days(args.start, args.end)
    except ValueError as exc:
        raise registry.RegistryError(str(exc)) from None
    if args.replay and not args.replay.is_dir():
        raise registry.RegistryError(f"--replay {args.replay}: not a directory")
    url = aws.endpoint_url() or config.emulator_url()
    emulator.require(url)
    aws.use_emulator(url)
    if args.dataset == "customers":
        return customers(days, backfill.Sinks.from_config(config.names(args.env)), args)
    results = run(isos, args.dataset, days, backfill.Sinks.from_config(config.names(args.env)), args)
    return report(results, args.json)


def run(isos: list[str], feed: str, days: list[date], sinks: Any, args: argparse.Namespace) -> list[Any]:
    """Each ISO in turn, its days in order; an ISO that cannot start fails its days, not the run."""
    from gridtape.errors import GridtapeError
    from producers import backfill, registry

    progress = backfill.TerminalProgress(sys.stderr)
    results: list[Any] = []
    for iso in isos:
        try:
            if feed in CONTEXT_KINDS:
                from producers.context import registry as context_registry

                source = context_registry.create(iso, feed, replay=bool(args.replay))
            else:
                source = registry.create(
                    iso, include_nodes=True if args.include_nodes else None, replay=bool(args.replay)
                )
            http, at_day = _http(iso, source, args.replay, feed)
        except GridtapeError as exc:
            results += [backfill.DayResult(iso, feed, d.isoformat(), "failed", error=str(exc)) for d in days]
            print(f"gridtape: {iso}: {exc}", file=sys.stderr)
            continue
        try:
            if feed in CONTEXT_KINDS:
                from producers.backfill import context

                results += context.backfill(
                    source, feed, days, http, sinks, redo=args.redo, progress=progress, at_day=at_day
                )
            else:
                results += backfill.backfill(
                    source, feed, days, http, sinks, redo=args.redo, progress=progress, at_day=at_day
                )
        finally:
            http.close()
    return results


def _http(iso: str, source: Any, replay_dir: Path | None, feed: str = "") -> tuple[Any, Callable[[date], None] | None]:
    """The ISO's fetch layer: live (its rate limit, retries, throttling) or the replay tree
    (a context source's: DIR/<source>/<iso>/, DIR/<iso>/ or DIR/<source>/ -- see _recordings)."""
    from producers import http
    from producers.backfill import plan
    from producers.poller import find_recordings

    if replay_dir is None:
        return http.live(iso, source.requests_per_second, secrets=tuple(source.credentials.values())), None
    where = _recordings(replay_dir, iso, source) if feed in CONTEXT_KINDS else find_recordings(replay_dir, iso)
    if where is None:
        raise http.RecordingError(f"no recordings for {iso} in {replay_dir}")
    clock = _Clock()

    def at_day(day: date) -> None:  # each day "fetched" a fixed time after it: reruns give the same records
        clock.value = plan.day_bounds(iso, day)[1] + timedelta(hours=6)

    return http.replay(http.Recordings.load(where), clock=clock), at_day


def _recordings(replay_dir: Path, iso: str, source: Any) -> Path | None:
    """A context source's recordings: DIR as the source's own tree (DIR/<iso>/ or DIR/), or DIR
    holding every source's tree (producers/recordings/context/: DIR/<module>/...)."""
    from producers.poller import find_recordings

    module = type(source).__module__.rsplit(".", 1)[-1]
    return find_recordings(replay_dir, iso) or find_recordings(replay_dir / module, iso)


class _Clock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.value = datetime.now(UTC)

    def __call__(self) -> Any:
        return self.value


def report(results: list[Any], as_json: bool) -> int:
    from producers import backfill

    if as_json:
        for r in results:
            print(json.dumps(r.as_dict()))
    s = backfill.summary(results)
    print(
        f"backfill: {s['done']} day(s) written, {s['already_done']} already done, {s['failed']} failed; {s['rows']:,} rows",
        file=sys.stderr if as_json else sys.stdout,
    )
    for line in s["failed_days"]:
        print(f"  failed: {line}", file=sys.stderr)
    return 1 if s["failed"] else 0


def customers(days: list[date], sinks: Any, args: argparse.Namespace) -> int:
    """--dataset customers: EAGLE-I's yearly files, every ISO at once; the report lists the
    unmapped counties (FIPS, county, state, rows)."""
    from producers.backfill import customers as eaglei
    from producers.context.eaglei import EagleiSource

    if args.replay is None:
        http = eaglei.live_layer()
    else:  # fetched "6 hours after the range" for every file: a rerun writes the same records
        from datetime import UTC, datetime, time

        from producers import http as layer
        from producers.poller import find_recordings

        where = find_recordings(args.replay, EagleiSource.iso)
        if where is None:
            raise layer.RecordingError(f"no EAGLE-I recordings in {args.replay} (eaglei/manifest.json)")
        at = datetime.combine(days[-1] + timedelta(days=1), time(6), UTC)
        http = layer.replay(layer.Recordings.load(where), clock=lambda: at)
    try:
        done = eaglei.backfill(days, http, sinks, redo=args.redo)
    finally:
        http.close()
    code = report(done.results, args.json)
    if args.json:
        rows = [{"fips": f, "county": c, "state": s, "rows": n} for f, (c, s, n) in sorted(done.unmapped.items())]
        print(json.dumps({"unmapped": rows}))
    else:
        print("\n".join(done.report_lines()))
    return code

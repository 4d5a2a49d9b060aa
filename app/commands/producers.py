"""`gridtape parse` and `gridtape poll`: the producers from the command line.

gridtape parse --iso CAISO --dataset lmp FILE...     good ticks as JSON lines on stdout, refused rows on stderr
gridtape parse --iso CAISO --dataset load --url https://www.caiso.com/outlook/history/20260311/demand.csv FILE
                                                      a body whose day (or document) is named only by its address
gridtape poll --iso all --once                        one live poll of every ISO
gridtape poll --iso all                               each feed on its rhythm until Ctrl-C
gridtape poll --iso all --once --replay producers/recordings   recorded responses, no network
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridtape.isos import FEED_NAMES


def register(sub: Any) -> None:
    p = sub.add_parser("parse", help="parse saved ISO responses and print the ticks as JSON lines")
    p.add_argument("--iso", required=True, help="CAISO, ERCOT, ISONE, MISO, NYISO, PJM or SPP")
    p.add_argument("--dataset", required=True, choices=FEED_NAMES, help="the feed: lmp, load or dam (day-ahead)")
    p.add_argument("--include-nodes", action="store_true", help="every node, not just hubs and zones")
    p.add_argument(
        "--url",
        action="append",
        default=None,
        metavar="URL",
        help="the address FILE was fetched from, for formats that name their day or document only there "
        "(once per FILE, in order)",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="response bodies, as the ISO served them")
    p.set_defaults(func=_parse)

    p = sub.add_parser("poll", help="poll ISOs and publish new ticks to the ticks stream")
    p.add_argument("--iso", default="all", help="one ISO, a comma-separated list, or all (default)")
    p.add_argument("--once", action="store_true", help="one poll of each ISO, then exit")
    p.add_argument(
        "--replay",
        type=Path,
        metavar="DIR",
        help="answer HTTP from recordings (DIR/<iso>/manifest.json) instead of the network; runs each recorded poll once",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="S",
        help="poll every ISO every S seconds (default: each feed on its rhythm, fast while its next interval is due)",
    )
    p.add_argument("--include-nodes", action="store_true", help="every node, not just hubs and zones")
    p.add_argument("--json", action="store_true", help="one JSON summary per poll instead of a table")
    p.set_defaults(func=_poll)


def file_response(path: Path, url: str | None = None) -> Any:
    """A saved body as the fetch layer would have handed it to the parser, under the address it
    was fetched from when given (else the file's path)."""
    from producers.base import Response

    body = path.read_bytes()
    ctype = (
        mimetypes.guess_type(url or path.name)[0] or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    fetched = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    return Response(url=url or str(path), status=200, body=body, headers={"Content-Type": ctype}, fetched_at=fetched)


def parse_files(
    iso: str, dataset: str, files: list[Path], include_nodes: bool = False, urls: Sequence[str] | None = None
) -> Any:
    """Parse and check saved responses -> poller.Checked (good ticks, refused rows). `urls`, when
    given, are the addresses the files were fetched from, one per file. A problem with the
    files as a whole is one SourceError naming ISO, file and reason."""
    from gridtape.errors import SourceError
    from producers import poller, registry
    from producers.poller import steps

    source = registry.create(iso, include_nodes=include_nodes, replay=True)  # parsing needs no key
    if urls is not None and len(urls) != len(files):
        raise SourceError(
            iso, dataset, ", ".join(urls), f"{len(urls)} --url for {len(files)} file(s): give one per file"
        )
    responses = []
    for n, path in enumerate(files):
        try:
            responses.append(file_response(path, urls[n] if urls else None))
        except OSError as exc:
            raise SourceError(iso, dataset, str(path), f"cannot read: {exc.strerror or exc}") from None
    names = ", ".join(str(p) for p in files)
    if (empty := poller.empty_bodies(responses)) is not None:
        raise SourceError(iso, dataset, empty.url, "empty file")
    try:
        parsed = source.parse_rows(dataset, responses, live=False)  # saved files: any age
    except SourceError:
        raise
    except Exception as exc:  # a parser bug still gets one line naming ISO, file and problem
        raise SourceError(iso, dataset, names, f"{type(exc).__name__}: {exc}") from None
    checked = poller.check(iso, dataset, names, parsed.ticks)
    refused = [*parsed.refused, *checked.refused]
    if (problem := steps.too_many_refused(iso, dataset, names, len(checked.ticks), refused)) is not None:
        raise problem
    return poller.Checked(checked.ticks, refused)


def _parse(args: argparse.Namespace) -> int:
    """Good rows on stdout, each refused row named on stderr; 0 unless the whole input failed."""
    from gridtape import contract
    from producers import registry

    isos = registry.parse_isos(args.iso)
    if len(isos) != 1:
        raise registry.RegistryError(f"parse takes one ISO, got {args.iso!r}")
    checked = parse_files(isos[0], args.dataset, args.files, args.include_nodes, args.url)
    for r in checked.refused:
        print(f"gridtape: {isos[0]} {args.dataset}: refused row from {r.url}: {r.reason}: {r.row}", file=sys.stderr)
    try:
        for t in checked.ticks:
            sys.stdout.write(contract.dumps(t) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        sys.stderr.close()
    return 0


def _poll(args: argparse.Namespace) -> int:
    import threading

    from app.stack import emulator
    from gridtape import aws, config
    from producers import poller, registry

    isos = registry.parse_isos(args.iso)
    # The embedded stack: AWS_ENDPOINT_URL when set, else the local emulator (which must be up).
    url = aws.endpoint_url() or config.emulator_url()
    emulator.require(url)
    aws.use_emulator(url)
    sinks = poller.Sinks.from_config()
    nodes = True if args.include_nodes else None

    if args.replay:
        if not args.replay.is_dir():
            raise registry.RegistryError(f"--replay {args.replay}: not a directory")
        summaries = poller.poll_replay(args.replay, isos, sinks, include_nodes=nodes)
        _print(summaries, args.json)
        return 1 if any(s.failed for s in summaries) else 0

    live = poller.LivePoller(isos, sinks, include_nodes=nodes)
    if args.once:
        summaries = live.poll_once()
        _print(summaries, args.json)
        return 1 if any(s.failed for s in summaries) else 0

    stop = threading.Event()
    try:
        if args.interval is not None:  # the fixed schedule of old
            live.run(args.interval, stop, on_cycle=lambda summaries: _print(summaries, args.json))
        else:
            lock = threading.Lock()  # one ISO thread prints at a time
            header = [True]

            def printed(s: Any) -> None:
                if s.status == "not_modified":  # most fast polls: counted in PollsNotModified, not printed
                    return
                with lock:
                    if args.json:
                        print(json.dumps(s.as_dict()))
                    else:
                        lines = summary_table([s]).splitlines()
                        print("\n".join(lines if header[0] else lines[1:]))
                        header[0] = False
                    sys.stdout.flush()

            live.run_rhythm(stop, on_poll=printed)
    except KeyboardInterrupt:  # Ctrl-C between or during polls: stop cleanly
        stop.set()
        print("stopped", file=sys.stderr)
    return 0


def summary_table(summaries: Sequence[Any]) -> str:
    """One line per poll (producers.poller.PollSummary): what it parsed, refused and sent."""
    rows = [
        f"{'iso':<6} {'dataset':<7} {'status':<13} {'parsed':>6} {'refus':>5} {'new':>5} {'rev':>4} {'same':>5} "
        f"{'sent':>5}  detail"
    ]
    for s in summaries:
        detail = s.error or s.label or ""
        for uri in (s.quarantined, s.rows_quarantined):
            if uri:
                detail += f" -> {uri}"
        rows.append(
            f"{s.iso:<6} {s.dataset:<7} {s.status:<13} {s.parsed:>6} {s.refused:>5} {s.new:>5} {s.revised:>4} "
            f"{s.unchanged:>5} {s.published:>5}  {detail}"
        )
    return "\n".join(rows)


def _print(summaries: list[Any], as_json: bool) -> None:
    if as_json:
        for s in summaries:
            print(json.dumps(s.as_dict()))
    elif summaries:
        print(summary_table(summaries))
    sys.stdout.flush()

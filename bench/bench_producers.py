"""Producers: parse throughput on each ISO's largest recorded response, and the poller's
cold-start import time; gridstatus (the open-source ISO client, `bench` extra) beside them
wherever it can parse the same payload offline.

Largest response: every recorded poll is fetched through the replay fetch layer, in manifest
order (as `gridtape poll --replay` does), and every recorded 200 body is also tried alone with
include_nodes (a node-level file no poll asks for by default); the biggest input that parses
wins. Throughput is ticks out per second of parse() (a tick is one output row).

gridstatus is given the very bytes we parse, with its HTTP calls answered from them (its
parsing lives inside its fetch methods): CAISO OASIS zips through CAISO.get_lmp (one request,
as the recorded body answers one: see gridstatus_caiso), NYISO's real-time zone CSVs through
NYISO's own read/time/process steps. For the other ISOs it calls
different endpoints or needs live lookups, so there is no like-for-like figure.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock

from harness import Result, best_seconds, rate, side_by_side

os.environ.setdefault("TQDM_DISABLE", "1")  # gridstatus' progress bars would garble the table
# gridstatus gives its logger a DEBUG level and a stderr handler on import, unless it has a
# handler already: one that drops records keeps its per-request lines out of the table.
logging.getLogger("gridstatus").addHandler(logging.NullHandler())
logging.getLogger("gridstatus").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gridtape.contract import ISOS  # noqa: E402
from producers import registry  # noqa: E402
from producers.base import Response  # noqa: E402
from producers.http import Recordings, replay  # noqa: E402

RECORDINGS = ROOT / "producers" / "recordings"
REPEAT = 5


class Case(NamedTuple):  # (not a dataclass: bench/run.py loads this file outside sys.modules)
    iso: str
    dataset: str
    responses: list[Response]
    include_nodes: bool
    label: str

    @property
    def size(self) -> int:
        return sum(len(r.body) for r in self.responses)


def candidates(iso: str) -> list[Case]:
    rec = Recordings.load(RECORDINGS / iso.lower())
    out: list[Case] = []
    now = [datetime.now()]
    http = replay(rec, clock=lambda: now[0])
    source = registry.create(iso, replay=True)
    for poll in rec.polls:
        now[0] = poll.now
        try:
            responses = source.fetch(poll.dataset, http, poll.now)
        except Exception:  # a recorded failure case: nothing to time
            continue
        out.append(Case(iso, poll.dataset, responses, False, poll.label))
    for r in rec.responses:
        if r.status == 200:
            body = r.path.read_bytes()
            resp = Response(r.url, 200, body, r.headers, rec.polls[0].now if rec.polls else datetime.now())
            out.extend(Case(iso, ds, [resp], True, r.path.name) for ds in source.datasets)
    return out


def parse(source: Any, case: Case) -> list[dict[str, Any]]:
    """As the poller parses a poll; a saved file alone (include_nodes cases) as `gridtape parse`
    does: its fetch time is unknown, so the live time window does not apply."""
    return source.parse_rows(case.dataset, case.responses, live=not case.include_nodes).ticks


def largest(iso: str) -> tuple[Case, list[dict[str, Any]]] | None:
    best: tuple[Case, list[dict[str, Any]]] | None = None
    for case in sorted(candidates(iso), key=lambda c: c.size, reverse=True):
        source = registry.create(iso, include_nodes=case.include_nodes, replay=True)
        try:
            ticks = parse(source, case)
        except Exception:
            continue
        if ticks:
            best = (case, ticks)
            break
    return best


# --- gridstatus on the same bytes ---------------------------------------------------------


def _requests_response(url: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    import requests

    r = requests.Response()
    r.status_code, r._content, r.url = 200, body, url
    r.headers.update(headers or {})
    return r


def gridstatus_caiso(case: Case, ticks: Sequence[dict[str, Any]]) -> Callable[[], Any] | None:
    if case.dataset != "lmp" or len(case.responses) != 1:
        return None
    import gridstatus
    import gridstatus.caiso.caiso as cm
    import pandas as pd

    body = case.responses[0].body
    start = pd.Timestamp(min(t["interval_start"] for t in ticks))
    locations: Any = "ALL" if case.include_nodes else sorted({t["location"] for t in ticks})
    caiso = gridstatus.CAISO()
    answer = _requests_response("https://oasis", body, {"Content-Disposition": "attachment; filename=x.csv.zip"})

    def get(url: str, *a: Any, **k: Any) -> Any:
        return answer

    def parse() -> Any:
        # gridstatus asks OASIS an hour at a time and keeps every row of an answer (it filters
        # nothing by time): asked for the first hour, it parses the whole recorded body once.
        # (Asked for the whole span, it would also pay for 24 made-up "no data" answers and
        # their error reports, which is not parsing.)
        with mock.patch.object(cm.requests, "get", get), mock.patch.object(cm.time, "sleep"):
            return caiso.get_lmp(
                date=start, end=start + pd.Timedelta(hours=1), market="REAL_TIME_5_MIN", locations=locations, sleep=0
            )

    return parse


def gridstatus_nyiso(case: Case, ticks: Sequence[dict[str, Any]]) -> Callable[[], Any] | None:
    if case.dataset != "lmp":
        return None
    import gridstatus
    import gridstatus.nyiso as nm
    import pandas as pd
    from gridstatus.base import Markets

    current = next((r.body for r in case.responses if r.url.endswith("realtime_zone_lbmp.csv")), None)
    day = next((r for r in case.responses if r.url.endswith("realtime_zone.csv") and r.status == 200), None)
    if current is None or day is None:
        return None
    nyiso = gridstatus.NYISO()
    date = pd.Timestamp(Path(day.url).name[:8], tz=nyiso.default_timezone)

    def parse() -> Any:
        with mock.patch.object(nm, "_read_oasis_postings_csv", lambda url: pd.read_csv(io.BytesIO(current))):
            df = nyiso._handle_time(pd.read_csv(io.BytesIO(day.body)), dataset_name="realtime")
            return nyiso._process_lmp_data(df, date, Markets.REAL_TIME_5_MIN, nm.NYISOLocationType.ZONE, "ALL")

    return parse


PEERS: dict[str, Callable[[Case, Sequence[dict[str, Any]]], Callable[[], Any] | None]] = {
    "CAISO": gridstatus_caiso,
    "NYISO": gridstatus_nyiso,
}


def gridstatus_version() -> str | None:
    try:
        import gridstatus

        return f"gridstatus {gridstatus.__version__}"
    except ImportError:
        return None


# --- cold start ---------------------------------------------------------------------------


def import_ms(code: str) -> float:
    """Wall time of a fresh interpreter running `code`, minus an empty interpreter's."""

    def once(c: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", f"import time; t=time.perf_counter(); {c}; print(time.perf_counter()-t)"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1]) * 1000

    return sorted(once(code) for _ in range(REPEAT))[REPEAT // 2]


def cold_start() -> list[Result]:
    handler = "import producers.handler"
    all_isos = f"{handler}; from producers import registry; [registry.source_class(i) for i in {list(ISOS)!r}]"
    ours = import_ms(handler)
    ours_all = import_ms(all_isos)
    peer = gridstatus_version()
    peer_ms = import_ms("import gridstatus") if peer else None
    note = "import time in a fresh interpreter, median of 5; lower is better, ratio < 1 means gridtape starts faster"

    def against_peer(name: str, ms: float, why: str) -> Result:
        ratio = round(ms / peer_ms, 3) if peer_ms else None
        return Result(name, round(ms, 1), "ms", peer, round(peer_ms, 1) if peer_ms else None, ratio, why)

    return [
        against_peer("cold start: import producers.handler", ours, note + "; peer: import gridstatus"),
        against_peer("cold start: handler + all 7 ISO modules", ours_all, note),
    ]


def run() -> list[Result]:
    results: list[Result] = []
    peer_name = gridstatus_version()
    for iso in ISOS:
        if not (RECORDINGS / iso.lower() / "manifest.json").is_file():
            continue
        found = largest(iso)
        if found is None:
            results.append(Result(f"parse {iso}", 0.0, "ticks/s", notes="no recorded response parsed"))
            continue
        case, ticks = found
        source = registry.create(iso, include_nodes=case.include_nodes, replay=True)

        def ours(source: Any = source, case: Case = case) -> Any:
            return parse(source, case)

        peer_fn = PEERS[iso](case, ticks) if peer_name and iso in PEERS else None
        name = f"parse {iso} {case.dataset} ({case.size / 1024:,.0f} KiB)"
        note = f"{len(ticks)} ticks from {len(case.responses)} response(s): {case.label}"
        if peer_fn is not None:
            try:
                peer_rows = len(peer_fn())
                ours_s, peer_s = side_by_side(ours, peer_fn, REPEAT)
                note += f"; gridstatus returned {peer_rows} rows"
                results.append(rate(name, "ticks/s", len(ticks), ours_s, peer_name, peer_s, note))
                continue
            except Exception as exc:  # the peer failing on a payload is a finding, not a crash
                note += f"; gridstatus failed on it: {type(exc).__name__}: {str(exc)[:80]}"
        else:
            note += "; no like-for-like gridstatus parse for this payload"
        results.append(rate(name, "ticks/s", len(ticks), best_seconds(ours, REPEAT), notes=note))
    results.extend(cold_start())
    return results


if __name__ == "__main__":
    for r in run():
        print(r)

"""Enrichment sources: parse throughput of every context source (outages per ISO, NWS weather,
EAGLE-I customers out) on its recorded archive of the demo day, records out per second of
parse_rows(). No open-source client parses these payloads offline, so there is no peer: the
rows say where a source stands beside the price parsers (bench_producers)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from harness import Result, best_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from producers.context import registry  # noqa: E402
from producers.http import Recordings, replay  # noqa: E402
from producers.poller import find_recordings  # noqa: E402

CONTEXT = ROOT / "producers" / "recordings" / "context"
DAY = date(2026, 6, 11)  # the demo day: every source has recordings of it
REPEAT = 5


def _responses(source: Any, kind: str, iso: str) -> list[Any] | None:
    module = type(source).__module__.rsplit(".", 1)[-1]
    folder = find_recordings(CONTEXT / module, iso) or find_recordings(CONTEXT, iso)
    if folder is None:
        return None
    http = replay(Recordings.load(folder), lambda: datetime(DAY.year, DAY.month, DAY.day, 23, tzinfo=UTC))
    try:
        return list(source.history(kind, DAY, http))
    finally:
        http.close()


def run() -> list[Result]:
    out = []
    for kind, by_iso in registry.KINDS.items():
        for iso in sorted(by_iso):
            source = registry.create(iso, kind, replay=True)
            responses = _responses(source, kind, iso)
            if not responses:
                continue
            records = len(source.parse_rows(kind, responses, live=False).ticks)
            if not records:
                continue
            seconds = best_seconds(lambda s=source, r=responses, k=kind: s.parse_rows(k, r, live=False), REPEAT)
            size = sum(len(r.body) for r in responses) // 1024
            out.append(
                Result(
                    f"parse context {kind} {iso} ({size} KiB)",
                    round(records / seconds, 1),
                    "records/s",
                    notes=f"{records} records from {len(responses)} response(s) of {DAY}; no offline peer",
                )
            )
    return out

"""Regenerate producers/recordings/context/outages_nyiso/: snapshots of NYISO's Generation
Maintenance Report (P-15, gen_maint_report.csv) in the format producers/context/outages_nyiso.py
documents (what was checked against what is there), seeded synthetic MW.

    .venv/bin/python -m tools.recordings.context_outages_nyiso   (from the repository root)

NYISO keeps no archive of the report, so a day is covered only by a snapshot taken on it: the
replay tree outages_nyiso/ holds the live poll of the demo day 2026-06-11 (the file as served
that day: 31 days from the 11th), and outages_nyiso/dst/ one tree of live polls on the 2025 and
2026 DST days (one snapshot each, served in poll order), kept apart so that replaying the demo
day never meets an older snapshot of the same URL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from producers.context import outages_nyiso as nyiso
from producers.nyiso.files import ZONE
from tools.recordings import synth

DEMO = date(2026, 6, 11)
DST_DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1))
POLL_AT = time(14, 5)  # Eastern: the snapshot is taken in the day


def level(day: date) -> float:
    """The MW on scheduled outage of one day: high in the spring and fall maintenance seasons."""
    season = 5200 if day.month in (3, 4, 5, 10, 11) else 2100
    return round(season * synth.rng("nyiso-outage", day).uniform(0.75, 1.25))


def snapshot(taken: date) -> bytes:
    lines = [f'"{nyiso.DATE}","{nyiso.MW}"']
    for n in range(31):
        day = taken + timedelta(days=n)
        lines.append(f'"{day:%m/%d/%Y}","{level(day):g}"')
    return ("\r\n".join(lines) + "\r\n").encode()


def write(folder: Path, days: tuple[date, ...]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    polls: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    for day in days:
        now = datetime.combine(day, POLL_AT, ZONE).astimezone(UTC)
        modified = datetime.combine(day, time(6), ZONE).astimezone(UTC)
        name = f"gen_maint_report_{day:%Y%m%d}.csv"
        (folder / name).write_bytes(snapshot(day))
        headers = {"Content-Type": "text/csv", "Last-Modified": format_datetime(modified, usegmt=True)}
        responses.append({"url": nyiso.URL, "params": {}, "file": name, "status": 200, "headers": headers})
        polls.append({"dataset": nyiso.FEED, "now": f"{now:%Y-%m-%dT%H:%M:%SZ}", "label": f"snapshot of {day}"})
    manifest = {"iso": "NYISO", "polls": polls, "responses": responses}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def main() -> None:
    root = synth.out_dir("context") / "outages_nyiso"
    write(root, (DEMO,))
    write(root / "dst", DST_DAYS)
    print(f"wrote {root}")


if __name__ == "__main__":
    main()

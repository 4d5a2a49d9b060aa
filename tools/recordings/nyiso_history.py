"""NYISO's monthly archives (``/public/csv/<folder>/YYYYMM01<stem>_csv.zip``, one day file per
member, as mis.nyiso.com serves them) for history() replays, with generate_nyiso's writers and
its per-day seeds: a day's archive member holds the same values as the live day file.

- write_committed(): producers/recordings/history/nyiso/, the three recorded days (2025-03-09,
  2025-11-02 and 2026-06-11, the demo's complete day) with every zone and proxy bus; each
  archive holds only the members history() reads for them (the day; for pal the next day too).
- tree(root, start, end): every day of [start, end] (pal: and end + 1), zones only, for a
  backfill test.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

from tools.recordings import generate_nyiso as gen
from tools.recordings import synth

# feed -> (folder, stem): the same table as producers/nyiso/files.py
FILES = {"lmp": ("realtime", "realtime_zone"), "load": ("pal", "pal"), "dam": ("damlbmp", "damlbmp_zone")}
COMMITTED = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11))


def day_file(feed: str, day: date, names: Sequence[str]) -> str:
    rng = gen.day_rng(feed, day)
    if feed == "lmp":
        return gen.lmp_day_file(rng, f"{day}", names=names)
    if feed == "dam":
        return gen.dam_file(rng, f"{day}", names=names)
    return gen.pal_file(rng, f"{day}")


def _write(root: Path, days: Iterable[date], names: Sequence[str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for old in [*root.glob("*_csv.zip"), *root.glob("manifest.json")]:
        old.unlink()
    wanted = sorted(set(days))
    members: dict[tuple[str, str], dict[str, bytes]] = {}
    for feed, (_, stem) in FILES.items():
        feed_days = {d + timedelta(days=k) for d in wanted for k in ((0, 1) if feed == "load" else (0,))}
        for d in sorted(feed_days):
            month = members.setdefault((feed, f"{d:%Y%m01}"), {})
            month[f"{d:%Y%m%d}{stem}.csv"] = day_file(feed, d, names).encode()
    responses = []
    for (feed, month), files in sorted(members.items()):
        folder, stem = FILES[feed]
        name = f"{month}{stem}_csv.zip"
        (root / name).write_bytes(synth.zip_bytes(files))
        responses.append(
            {
                "url": f"{gen.BASE}/csv/{folder}/{name}",
                "params": {},
                "file": name,
                "status": 200,
                "headers": {"Content-Type": "application/x-zip-compressed"},
            }
        )
    manifest = {"iso": "NYISO", "polls": [], "responses": responses}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def write_committed() -> None:
    _write(synth.out_dir("history") / "nyiso", COMMITTED, tuple(gen.LOCATIONS))


def tree(root: Path, start: date, end: date) -> None:
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    _write(root, days, tuple(gen.ZONES))

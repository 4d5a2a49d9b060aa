"""SPP's archives as a replay tree (manifest.json + files) answering SppSource.history():
per operating day the RTBM By_Day file, the day-ahead By_Day file and the STLF-vs-actual file
of every interval end. Hubs and load areas only (the resource nodes are left out to keep the
committed tree small). The values are those of the live recordings of the same intervals
(generate_spp's seeded writers, or the live files handed in), so live and history agree."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

from producers.spp import DAM_URL, LMP_URL, STLF_URL, daily_lmp_path, dam_path, stlf_path
from producers.spp.files import INTERVAL, day_bounds, steps
from tools.recordings import generate_spp as gen
from tools.recordings import synth

STLF_ROWS = range(-2, 3)  # an STLF file holds the intervals ending 10 minutes around its stamp


def daily_lmp_file(day: date, rt_file: Callable[[datetime], str]) -> str:
    """RTBM-LMP-DAILY-SL: the rows of every interval file of `day`, hubs and load areas only."""
    start, stop = day_bounds(day)
    header, lines = "", []
    for end in steps(start + INTERVAL, stop, INTERVAL):
        header, *rows = rt_file(end).splitlines()
        where = header.split(",").index("Settlement Location")
        lines += [row for row in rows if row.split(",")[where] not in gen.NODES]
    return "\n".join([header, *lines]) + "\n"


def da_hubs_file(day: date) -> str:
    header, *rows = gen.da_file(day).splitlines()
    where = header.split(",").index("Settlement Location")
    return "\n".join([header, *(row for row in rows if row.split(",")[where] not in gen.NODES)]) + "\n"


def stlf_file(stamp: datetime) -> str:
    """OP-STLF-...: the intervals ending 10 minutes either side of `stamp`, the short-term
    forecast for each and the actual load up to the stamp (one row per BAA from 2026)."""
    areas = ("SPP", "SWPW") if stamp.year >= 2026 else ("SPP",)
    lines = ["Interval,GMTInterval,BAA,STLF,Actual" if len(areas) > 1 else "Interval,GMTInterval,STLF,Actual"]
    for k in STLF_ROWS:
        end = stamp + k * INTERVAL
        for area in areas:
            forecast = gen.system_load(end, area) * (1 + synth.rng("spp-stlf", area, stamp, end).gauss(0, 0.01))
            actual = f"{gen.system_load(end, area):.1f}" if end <= stamp else ""
            cells = [gen.wall(end), gen.gmt(end), *([area] if len(areas) > 1 else []), f"{forecast:.1f}", actual]
            lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def write_tree(root: Path, days: Iterable[date], rt_file: Callable[[datetime], str] = gen.interval_file) -> None:
    """A replay tree at `root` (its old CSV files removed) holding the archives of `days`."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.csv"):
        old.unlink()
    responses: list[dict] = []

    def record(url: str, path: str, text: str) -> None:
        name = path.rsplit("/", 1)[1]
        (root / name).write_text(text)
        headers = {"Content-Type": "text/csv", "Content-Disposition": f'attachment; filename="{name}"'}
        responses.append({"url": url, "params": {"path": path}, "file": name, "status": 200, "headers": headers})

    for day in days:
        record(LMP_URL, daily_lmp_path(day), daily_lmp_file(day, rt_file))
        record(DAM_URL, dam_path(day), da_hubs_file(day))
        start, stop = day_bounds(day)
        for stamp in steps(start + INTERVAL, stop, INTERVAL):
            record(STLF_URL, stlf_path(stamp), stlf_file(stamp))
    manifest = {"iso": "SPP", "polls": [], "responses": responses}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def history_tree(root: Path, start: date, end: date) -> None:
    """The archives of every operating day in [start, end] (seeded values), as a replay tree."""
    write_tree(root, (start + timedelta(days=n) for n in range((end - start).days + 1)))

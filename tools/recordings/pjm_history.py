"""PJM's history replay trees: what PjmSource.history() asks Data Miner for one operating day
(rt_fivemin_hrl_lmps, da_hrl_lmps, inst_load by datetime_beginning_ept range), answered in the
exact served envelope with the keyed synthetic market of tools/recordings/pjm_model.py (the
live recordings of the same intervals carry the same values).

    history_tree(root, start, end)   a replay tree (manifest.json + files) for every day
    committed()                      producers/recordings/history/pjm/ (both DST days, DAY)

The requests filter on every hub and zone (PjmSource without include_nodes); the answers hold
a subset of them (SELECTION), as the complete-day recordings do: what the checks and tests
need at a fraction of the size.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from producers.pjm import HUB_IDS, PjmSource
from tools.recordings import pjm_model, synth

JSON_TYPE = "application/json; charset=utf-8"
COMMITTED_DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11))


@dataclass(frozen=True)
class Selection:
    """Which pnodes (lmp, dam) and areas (load; None: every area) an answer holds."""

    lmp: tuple[int, ...]
    dam: tuple[int, ...]
    areas: tuple[str, ...] | None


# A backfill: every tracked hub and the RTO zone in 5-minute prices, every hub and zone in
# day-ahead prices, every area's load.
FULL = Selection(
    lmp=(*HUB_IDS.values(), 1),
    dam=tuple(pjm_model.PNODES),
    areas=None,
)
# The committed days (kept under ~1.5 MB): four hubs and the RTO zone, the hubs and three zones
# day-ahead, the RTO and two zones' load.
COMMITTED = Selection(
    lmp=(HUB_IDS["WESTERN HUB"], HUB_IDS["EASTERN HUB"], HUB_IDS["CHICAGO HUB"], HUB_IDS["DOMINION HUB"], 1),
    dam=(*HUB_IDS.values(), 1, 34964545, 33092371),
    areas=("PJM RTO", "DOM", "COMED"),
)


def day_files(folder: Path, day: date, pick: Selection) -> list[dict[str, Any]]:
    """Write the three archive answers for `day` into `folder`; their manifest entries."""
    source = PjmSource(credentials={"api_key": "generator"})
    first, end = pjm_model.day_bounds(day)
    entries = []
    for feed in ("lmp", "dam", "load"):
        request = source.history_request(feed, day)
        params = dict(request.params)
        fields = params["fields"].split(",")
        if feed == "lmp":
            items = pjm_model.price_items("rt", pjm_model.steps(first, end, pjm_model.FIVE), pick.lmp, fields)
        elif feed == "dam":
            items = pjm_model.price_items("da", pjm_model.steps(first, end, pjm_model.HOUR), pick.dam, fields)
        else:  # readings 00:00 .. next 00:00 inclusive, as the ept range asks
            stamps = pjm_model.steps(first, end + pjm_model.FIVE, pjm_model.FIVE)
            items = pjm_model.load_items(stamps, pick.areas, fields)
        name = f"{request.url.rsplit('/', 1)[1]}_{day:%Y-%m-%d}.json"
        (folder / name).write_text(pjm_model.envelope(request.url, params, items, fields))
        entries.append(
            {"url": request.url, "params": params, "file": name, "status": 200, "headers": {"Content-Type": JSON_TYPE}}
        )
    return entries


def write_tree(folder: Path, days: list[date], pick: Selection) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    responses = [entry for day in days for entry in day_files(folder, day, pick)]
    manifest = {"iso": "PJM", "polls": [], "responses": responses}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def history_tree(root: Path, start: date, end: date) -> None:
    """A replay tree in `root` answering history() for lmp, dam and load of every day in
    [start, end]: manifest.json (no polls) and three Data Miner answers a day."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    write_tree(root, days, FULL)


def committed() -> None:
    """producers/recordings/history/pjm/ (GRIDTAPE_RECORDINGS_OUT moves it, as for the others)."""
    write_tree(synth.out_dir("history") / "pjm", list(COMMITTED_DAYS), COMMITTED)

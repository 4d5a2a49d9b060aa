"""Replay trees of the archives CaisoSource.history() reads, in CAISO's exact layouts, filled with
the same seeded numbers as the live recordings (a day's archive and its live polls agree).

Per operating day D (Pacific):
  lmp_D.zip     OASIS PRC_INTVL_LMP RTM for D's 288 (276 / 300) intervals, hubs and DLAPs
  dam_D.zip     OASIS PRC_LMP DAM for D's 24 (23 / 25) hours, hubs and DLAPs
  tac_D.zip     OASIS SLD_FCST ACTUAL for D's hours, TAC areas
  demand_D.csv  outlook/history/D/demand.csv, the whole day (rows ending 00:00..23:55)
plus demand_<last day + 1>.csv, whose 00:00 row ends the last day.

producers/recordings/history/caiso/ holds DAYS (both DST days and the demo day); history_tree
writes any range (a backfill test replays a month).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from producers.caiso import CaisoSource, oasis, outlook
from tools.recordings import generate_caiso as gen

DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11))


def write(root: Path, days: tuple[date, ...] | list[date]) -> None:
    """A replay tree (manifest.json + files) at `root` answering history() for every day of `days`."""
    root.mkdir(parents=True, exist_ok=True)
    source = CaisoSource()
    responses: list[dict[str, Any]] = []

    def record(name: str, url: str, params: dict[str, str], body: bytes, content_type: str) -> None:
        (root / name).write_bytes(body)
        responses.append(
            {"url": url, "params": params, "file": name, "status": 200, "headers": {"Content-Type": content_type}}
        )

    demand_days: dict[date, None] = {}
    for day in days:
        start, end = oasis.midnight(day), oasis.midnight(day + timedelta(days=1))
        for feed, body in (
            ("lmp", gen.lmp_zip(start, end, gen.HUBS + oasis.DLAPS, "")),
            ("dam", gen.dam_zip(start, end, gen.HUBS + oasis.DLAPS)),
        ):
            (request,) = source.history_requests(feed, day)
            record(f"{feed}_{day:%Y%m%d}.zip", request.url, dict(request.params), body, gen.ZIPPED)
        tac = oasis.request("SLD_FCST", start, end)
        record(f"tac_{day:%Y%m%d}.zip", tac.url, dict(tac.params), gen.tac_zip(start, end), gen.ZIPPED)
        demand_days.update({day: None, day + timedelta(days=1): None})
    for day in demand_days:
        whole = datetime(day.year, day.month, day.day)
        body = gen.demand_csv(whole, oasis.midnight(day + timedelta(days=1)) + timedelta(hours=1))
        record(f"demand_{day:%Y%m%d}.csv", outlook.history_request(day).url, {}, body, "text/csv")
    manifest = {"iso": "CAISO", "polls": [], "responses": responses}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def history_tree(root: Path, start: date, end: date) -> None:
    """A replay tree at `root` (manifest.json + files) of CAISO's archives for every operating
    day in [start, end]."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    write(root, days)

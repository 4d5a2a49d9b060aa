"""Regenerate producers/recordings/pjm/: Data Miner 2 JSON envelopes with synthetic, seeded values.

    .venv/bin/python -m tools.recordings.generate_pjm   (from the repository root)

The envelope copies the real captures in ../shared/iso-samples/pjm (links self/metadata,
items, searchSpecification, totalRows; UTC and EPT times without offsets; numbers written
with six decimals). Each response answers exactly the request PjmSource.fetch makes for the
poll's `now` (the UTC window of the last hour), so the replay finds it. The prices are made up,
with an overnight stretch of negative prices at the western hubs.

Day-ahead polls (da_hrl_lmps, both DST days) and the history tree
producers/recordings/history/pjm/ (tools/recordings/pjm_history.py) use the keyed model of
tools/recordings/pjm_model.py; `history_tree(root, start, end)` writes a backfill's replay tree.
"""

from __future__ import annotations

import json
import math
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script too

from producers.pjm import DA_LMP_URL, HUB_IDS, LMP_URL, LOAD_URL, ZONES, PjmSource
from tools.recordings import pjm_history, pjm_model, synth
from tools.recordings.pjm_history import history_tree
from tools.recordings.pjm_model import ept, f6

__all__ = ["history_tree", "main"]

HERE = synth.out_dir("pjm")
HUBS = {pnode: name for name, pnode in HUB_IDS.items()}
EPT = pjm_model.EPT
# Two example buses (include_nodes) are not requested by default; the recordings keep to the
# hubs and zones the default request asks for. MID-ATL/APS (id 3) is in the request but PJM's
# unverified feed returns no rows for it (as in the real capture).
LMP_IDS = [i for i in (*HUBS, *ZONES) if i != 3]
# Three buses for the include_nodes request (unfiltered by pnode): ids from PJM's range of bus
# pnodes, names invented in PJM's style. The default request never sees them.
NODES = {5021703: "BRUNNER 13 KV UNIT1", 5021704: "BRUNNER 13 KV UNIT2", 93354015: "KEYSTONE 22 KV UNIT1"}


def name_of(pnode: int) -> str:
    return HUBS.get(pnode) or ZONES.get(pnode) or NODES[pnode]


def intervals(now: datetime) -> list[datetime]:
    """Interval starts inside the request window that have ended by `now` (published)."""
    start_text, end_text = PjmSource().request("lmp", now).params["datetime_beginning_utc"].split("to")
    start = datetime.fromisoformat(start_text).replace(tzinfo=UTC)
    end = datetime.fromisoformat(end_text).replace(tzinfo=UTC)
    out = []
    t = start
    while t <= end and t + timedelta(minutes=5) <= now:
        out.append(t)
        t += timedelta(minutes=5)
    return out


def lmp_items(rng: random.Random, starts: list[datetime]) -> list[tuple[int, str]]:
    """(pnode id, item JSON) for every pnode the unfiltered request returns, in PJM's order."""
    items = []
    for t in starts:
        hour = t.astimezone(EPT).hour + t.astimezone(EPT).minute / 60
        energy = 30 + 18 * math.sin((hour - 9) / 24 * 2 * math.pi) + rng.gauss(0, 3)
        if hour >= 17 and hour < 20:
            energy += 40 + rng.gauss(0, 15)
        for pnode in [*LMP_IDS, *NODES]:
            total, energy_r, congestion_r, loss_r = pjm_model.pnode_prices(rng, energy, hour, pnode)
            items.append(
                (
                    pnode,
                    f'{{"datetime_beginning_utc":"{t:%Y-%m-%dT%H:%M:%S}","datetime_beginning_ept":"{ept(t)}",'
                    f'"pnode_id":{pnode},"pnode_name":"{name_of(pnode)}","total_lmp_rt":{f6(total)},'
                    f'"system_energy_price_rt":{f6(energy_r)},"congestion_price_rt":{f6(congestion_r)},'
                    f'"marginal_loss_price_rt":{f6(loss_r)}}}',
                )
            )
    return items


def load_items(rng: random.Random, starts: list[datetime]) -> list[str]:
    items = []
    for t in starts:
        values = pjm_model.area_loads(t.astimezone(EPT).hour, rng)
        for area in sorted(values):
            items.append(
                f'{{"datetime_beginning_utc":"{t:%Y-%m-%dT%H:%M:%S}","datetime_beginning_ept":"{ept(t)}",'
                f'"area":"{area}","instantaneous_load":{f6(values[area])}}}'
            )
    return items


POLLS = [
    ("lmp", "2025-06-10T18:42:00Z", "normal day: the last hour of hubs and zones"),
    ("lmp", "2025-11-02T06:32:00Z", "fall-back day: 01:30-01:55 EDT then the repeated 01:00-01:25 EST"),
    ("lmp", "2025-03-09T07:32:00Z", "spring-forward day: 01:30-01:55 EST then 03:00-03:25 EDT"),
    ("load", "2025-06-10T18:42:00Z", "normal day: the last hour of every area"),
    ("load", "2025-11-02T06:32:00Z", "fall-back day: 01:30-01:55 EDT then the repeated 01:00-01:25 EST"),
    ("load", "2025-03-09T07:32:00Z", "spring-forward day: 01:30-01:55 EST then 03:00-03:25 EDT"),
]
# Day-ahead polls: the hubs and zones of the operating day and, from 13:30 EPT, the next one.
DAM_POLLS = [
    ("dam", "2025-03-09T16:00:00Z", "spring-forward day 12:00 EDT, before posting: its 23 hours"),
    ("dam", "2025-11-01T18:00:00Z", "11-01 14:00 EDT, after posting: 11-01's 24 hours and fall-back 11-02's 25"),
    ("dam", "2025-06-10T15:00:00Z", "normal day 11:00 EDT, before posting: its 24 hours"),
]
LMP_FIELDS = [
    "datetime_beginning_utc",
    "datetime_beginning_ept",
    "pnode_id",
    "pnode_name",
    "total_lmp_rt",
    "system_energy_price_rt",
    "congestion_price_rt",
    "marginal_loss_price_rt",
]
LOAD_FIELDS = ["datetime_beginning_utc", "datetime_beginning_ept", "area", "instantaneous_load"]


def main() -> None:
    rng = random.Random(20250610)
    HERE.mkdir(parents=True, exist_ok=True)
    for old in HERE.glob("*.json"):
        old.unlink()
    source = PjmSource(credentials={"api_key": "generator"})
    every_node = PjmSource(include_nodes=True, credentials={"api_key": "generator"})
    responses = []

    def record(req: Any, name: str, text: str) -> None:
        json.loads(text)  # well-formed, as Data Miner's always is
        (HERE / name).write_text(text)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        responses.append({"url": req.url, "params": dict(req.params), "file": name, "status": 200, "headers": headers})

    for dataset, now_text, _label in POLLS:
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        starts = intervals(now)
        if dataset == "lmp":
            items = lmp_items(rng, starts)
            req = source.request(dataset, now)
            hubs_zones = [text for pnode, text in items if pnode not in NODES]
            record(
                req,
                f"rt_unverified_fivemin_lmps_{now:%Y%m%dT%H%MZ}.json",
                pjm_model.envelope(LMP_URL, dict(req.params), hubs_zones, LMP_FIELDS),
            )
            # the same moment asked with include_nodes: no pnode filter, the buses too
            req = every_node.request(dataset, now)
            everything = [text for _, text in items]
            record(
                req,
                f"rt_unverified_fivemin_lmps_{now:%Y%m%dT%H%MZ}_all_nodes.json",
                pjm_model.envelope(LMP_URL, dict(req.params), everything, LMP_FIELDS),
            )
        else:
            req = source.request(dataset, now)
            record(
                req,
                f"inst_load_{now:%Y%m%dT%H%MZ}.json",
                pjm_model.envelope(LOAD_URL, dict(req.params), load_items(rng, starts), LOAD_FIELDS),
            )
    for dataset, now_text, _label in DAM_POLLS:
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        req = source.request(dataset, now)
        first_text, last_text = req.params["datetime_beginning_ept"].split("to")
        first = pjm_model.day_bounds(datetime.fromisoformat(first_text).date())[0]
        end = pjm_model.day_bounds(datetime.fromisoformat(last_text).date())[1]
        fields = req.params["fields"].split(",")
        items = pjm_model.price_items("da", pjm_model.steps(first, end, pjm_model.HOUR), list(pjm_model.PNODES), fields)
        record(req, f"da_hrl_lmps_{now:%Y%m%dT%H%MZ}.json", pjm_model.envelope(DA_LMP_URL, req.params, items, fields))
    manifest = {
        "iso": "PJM",
        "polls": [{"dataset": d, "now": n, "label": label} for d, n, label in (*POLLS, *DAM_POLLS)],
        "responses": responses,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    pjm_history.committed()


if __name__ == "__main__":
    main()

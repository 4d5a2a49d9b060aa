"""Regenerate producers/recordings/context/outages_pjm/: Data Miner 2 ``gen_outages_by_type``
envelopes (links self/metadata, items, searchSpecification, totalRows, as the real captures of
the other Data Miner feeds in ../shared/iso-samples/pjm; item fields and values as
producers/context/outages_pjm.py documents), seeded synthetic MW.

Responses: history(day) of each day in context_outages.DAYS (the day's execution, seven forecast
days), and the demo day's live poll at 18:05Z (executions of the day before and the day).
Regions add up: PJM RTO = Western + Mid Atlantic - Dominion; each region's total = planned +
maintenance + forced.

Run: .venv/bin/python -m tools.recordings.context_outages_pjm
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import urlencode

from producers.context.outages_pjm import URL, PjmOutages
from tools.recordings import synth
from tools.recordings.context_outages import DAYS, DEMO_DAY, Tree

SHARES = {"Mid Atlantic - Dominion": 0.46, "Western": 0.54}
LIVE_NOW = "2026-06-11T18:05:00Z"


def region_mw(executed: date, day: date) -> dict[str, dict[str, int]]:
    """region -> {planned, maintenance, forced} MW of the forecast for `day` run on `executed`."""
    r = synth.rng("pjm-outages", executed, day)
    season = 1.25 if day.month in (3, 4, 10, 11) else 0.8  # spring and fall maintenance seasons
    out: dict[str, dict[str, int]] = {}
    for region, share in SHARES.items():
        lead = (day - executed).days
        out[region] = {
            "planned": round(share * season * r.uniform(26000, 32000) * (1 - 0.02 * lead)),
            "maintenance": round(share * r.uniform(4000, 8000)),
            "forced": round(share * r.uniform(6000, 11000) * (1 - 0.05 * lead)),
        }
    out["PJM RTO"] = {k: sum(v[k] for v in out.values()) for k in ("planned", "maintenance", "forced")}
    return out


def item(executed: date, day: date, region: str, mw: dict[str, int]) -> str:
    return json.dumps(
        {
            "forecast_execution_date_ept": f"{executed}T00:00:00",
            "forecast_date": f"{day}T00:00:00",
            "region": region,
            "planned_outages_mw": mw["planned"],
            "maintenance_outages_mw": mw["maintenance"],
            "forced_outages_mw": mw["forced"],
            "total_outages_mw": sum(mw.values()),
        },
        separators=(",", ":"),
    )


def envelope(first: date, last: date) -> tuple[dict[str, str], bytes]:
    params = dict(PjmOutages().request(first, last).params)
    items = []
    executed = first
    while executed <= last:
        for lead in range(7):
            day = executed + timedelta(days=lead)
            for region, mw in sorted(region_mw(executed, day).items()):
                items.append(item(executed, day, region, mw))
        executed += timedelta(days=1)
    links = [{"rel": "self", "href": f"{URL}?{urlencode(params)}"}, {"rel": "metadata", "href": f"{URL}/metadata"}]
    spec = {
        "rowCount": int(params["rowCount"]),
        "startRow": 1,
        "isActiveMetadata": True,
        "fields": params["fields"].split(","),
        "filters": [{"forecast_execution_date_ept": params["forecast_execution_date_ept"]}],
    }
    text = (
        '{"links":' + json.dumps(links, separators=(",", ":")) + ',"items":[' + ",".join(items) + "],"
        '"searchSpecification":' + json.dumps(spec, separators=(",", ":")) + f',"totalRows":{len(items)}' + "}"
    )
    return params, text.encode()


def main() -> None:
    tree = Tree("PJM")
    for day in DAYS:
        params, body = envelope(day, day)
        tree.record(f"gen_outages_by_type_{day:%Y%m%d}.json", URL, body, "application/json", params)
    params, body = envelope(DEMO_DAY - timedelta(days=1), DEMO_DAY)
    tree.record(f"gen_outages_by_type_live_{DEMO_DAY:%Y%m%d}.json", URL, body, "application/json", params)
    tree.poll(LIVE_NOW, "demo day")
    tree.save()


if __name__ == "__main__":
    main()

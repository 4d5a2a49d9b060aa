"""ERCOT's MIS archives for past days as a replay tree (manifest.json + files, the layout of
producers/recordings/<iso>/): one document list per report (12300 SCED LMPs, 12301 15-minute
settlement point prices, 12331 DAM settlement point prices, 13101 / 14836 actual load by
weather / forecast zone) listing every document of the days written, and each CSV document
zipped, answered at mirDownload?doclookupId=N. Hubs and load zones only (no resource nodes),
to keep the tree small. The numbers are generate_ercot's and ercot_formats' (same seeds as the
live recordings and the complete-day tree), so a backfilled day equals a polled one.

ErcotSource.history(feed, day) reads from it: lmp the SCED runs and settlement intervals named
for `day`, dam the document posted the day before, load the zone reports posted the morning
after.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from gridtape.timeutil import CENTRAL
from producers.ercot import lmp
from tools.recordings import ercot_formats, generate_ercot, synth

POINTS = generate_ercot.HUBS + generate_ercot.ZONES
FIRST_ID = 1_180_000_001


def write(root: Path, days: Sequence[date], sced_hours: Mapping[date, int] | None = None) -> None:
    """Write the tree for `days` into `root` (emptied first); `sced_hours`: for these days only
    the first so many local hours of SCED runs (the committed tree's DST days, to stay small)."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    listings: dict[str, list[dict[str, Any]]] = {r: [] for r in ("12300", "12301", *generate_ercot.DAILY)}
    responses: list[dict[str, Any]] = []
    ids = iter(range(FIRST_ID, FIRST_ID + 10_000_000))

    def document(report: str, stamp: datetime, published: datetime, body: bytes) -> None:
        for constructed, doc_id, entry in generate_ercot.document_entries(report, stamp, published, body, ids):
            listings[report].append({"Document": entry})
            if constructed.endswith("_csv.zip"):
                name = f"{report}_{doc_id}.zip"
                (root / name).write_bytes(synth.zip_bytes({constructed.replace("_csv.zip", ".csv"): body}))
                responses.append(_response(lmp.DOWNLOAD_URL, {"doclookupId": doc_id}, name, "application/octet-stream"))

    for day in days:
        first, last = ercot_formats.day_bounds(day)
        t = first
        until = (sced_hours or {}).get(day)
        sced_last = (
            last if until is None else datetime(day.year, day.month, day.day, until, tzinfo=CENTRAL).astimezone(UTC)
        )
        while t < sced_last:  # a SCED run per five minutes, at the live recordings' times
            r = synth.rng("ercot-sced", t.isoformat())
            run = t + timedelta(seconds=r.randint(8, 40))
            document("12300", run, run + timedelta(seconds=r.randint(25, 70)), generate_ercot.sced_csv(run, POINTS))
            t += ercot_formats.FIVE
        t = first
        while t < last:
            body = generate_ercot.spp_csv(t, POINTS)
            closes = t + timedelta(minutes=15)  # named by the interval's end, posted 95 s after it
            document("12301", closes, closes + timedelta(seconds=95), body)
            t += timedelta(minutes=15)
        for report, op, body in generate_ercot.daily_documents(POINTS, (day,), (day,)):
            published = generate_ercot.daily_published(report, op)
            document(report, published, published, body)

    head = []
    for report, entries in listings.items():
        entries.sort(key=lambda e: e["Document"]["PublishDate"], reverse=True)  # newest first, as MIS lists
        body = json.dumps({"ListDocsByRptTypeRes": {"DocumentList": entries}}, separators=(",", ":"))
        (root / f"doclist_{report}.json").write_text(body)
        head.append(_response(lmp.DOC_LIST_URL, {"reportTypeId": report}, f"doclist_{report}.json", "application/json"))
    manifest = {"iso": "ERCOT", "polls": [], "responses": head + responses}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def _response(url: str, params: dict[str, str], name: str, content_type: str) -> dict[str, Any]:
    return {"url": url, "params": params, "file": name, "status": 200, "headers": {"Content-Type": content_type}}

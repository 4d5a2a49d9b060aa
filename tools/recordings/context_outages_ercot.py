"""Regenerate producers/recordings/context/outages_ercot/: MIS report 13103 (NP3-233-CD, Hourly
Resource Outage Capacity): the document list (IceDocListJsonWS, the layout of
tools/recordings/generate_ercot.py's lists) and zipped CSVs in the column layout
producers/context/outages_ercot.py documents, seeded synthetic MW.

Every day of context_outages.DAYS has three documents (published 00:15, 06:15 and 12:15
Central), each covering seven days from its publication day at HourEnding 1..24 per day: the
report ignores DST (no DSTFlag), so the spring day lists HE 3 (a wall time that does not
exist) and the fall day 24 hours. The demo day's live poll (18:05Z = 13:05 CDT) reads the
12:15 document.

Run: .venv/bin/python -m tools.recordings.context_outages_ercot
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, datetime, time, timedelta

from gridtape.timeutil import CENTRAL
from producers.context.outages_ercot import REPORT, ZONES
from producers.ercot.lmp import DOC_LIST_URL, DOWNLOAD_URL
from tools.recordings import synth
from tools.recordings.context_outages import DAYS, Tree

NAME = "Hourly_Resource_Outage_Capacity"
PUBLISHED = (time(0, 15), time(6, 15), time(12, 15))
LIVE_NOW = "2026-06-11T18:05:00Z"
HEADER = [
    "Date",
    "HourEnding",
    *(f"{p}MWZone{z}" for p in ("TotalResource", "TotalIRR", "TotalNewEquipResource") for z in ZONES),
]
SHARES = {"South": 0.3, "North": 0.35, "West": 0.15, "Houston": 0.2}


def csv_bytes(published: datetime) -> bytes:
    start = published.astimezone(CENTRAL).date()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for lead in range(7):
        day = start + timedelta(days=lead)
        base = synth.rng("ercot-outages", day).uniform(9000, 16000)
        for he in range(1, 25):
            r = synth.rng("ercot-outages", published, day, he)
            row = [f"{day:%m/%d/%Y}", str(he)]
            row += [str(round(base * s * r.uniform(0.95, 1.05))) for s in SHARES.values()]
            row += [str(round(2500 * s * r.uniform(0.5, 1.5))) for s in SHARES.values()]
            row += [str(round(400 * s * r.uniform(0, 2))) for s in SHARES.values()]
            writer.writerow(row)
    return buffer.getvalue().encode()


def main() -> None:
    tree = Tree("ERCOT")
    ids = itertools.count(1_150_000_001)
    entries = []
    files = []
    for day in DAYS:
        for at in PUBLISHED:
            published = datetime.combine(day, at, CENTRAL)
            body = synth.zip_bytes({f"{NAME}_{published:%Y%m%d_%H%M}.csv": csv_bytes(published)})
            for ext in ("csv", "xml"):
                doc_id = str(next(ids))
                entries.append(
                    {
                        "Document": {
                            "ExpiredDate": (published + timedelta(days=3)).isoformat(timespec="seconds"),
                            "ILMStatus": "EXT",
                            "SecurityStatus": "P",
                            "ContentSize": str(len(body)),
                            "Extension": "zip",
                            "ReportTypeID": REPORT,
                            "FriendlyName": f"{NAME}_{published:%Y%m%d_%H%M}_{ext}",
                            "ConstructedName": f"cdr.{int(REPORT):08d}.0000000000000000.{published:%Y%m%d.%H%M%S}"
                            f".{NAME}_{ext}.zip",
                            "DocID": doc_id,
                            "PublishDate": published.isoformat(timespec="seconds"),
                            "ReportName": "Hourly Resource Outage Capacity",
                        }
                    }
                )
                if ext == "csv":
                    files.append((doc_id, published.astimezone(UTC), body))
    entries.reverse()  # MIS lists the newest first
    listing = json.dumps({"ListDocsByRptTypeRes": {"DocumentList": entries}}, separators=(",", ":")).encode()
    tree.record("doclist_13103.json", DOC_LIST_URL, listing, "application/json", {"reportTypeId": REPORT})
    for doc_id, published, body in files:
        tree.record(
            f"{published:%Y%m%dT%H%M}_{doc_id}.zip", DOWNLOAD_URL, body, "application/zip", {"doclookupId": doc_id}
        )
    tree.poll(LIVE_NOW, "demo day")
    tree.save()


if __name__ == "__main__":
    main()

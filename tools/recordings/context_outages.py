"""What the generation-outage recording generators share (context_outages_<iso>.py): the replay
folder producers/recordings/context/outages_<iso>/ (manifest.json as producers/replay.py reads)
and the days every folder holds: the demo day (every hour of it gets outage context) and both
2025 DST days. Also what several generators write alike: a byte-stable .xlsx, a response's
Last-Modified, the live demo-day poll."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Final

import openpyxl

from tools.recordings import synth

DEMO_DAY: Final = date(2026, 6, 11)
DST_DAYS: Final = (date(2025, 3, 9), date(2025, 11, 2))
DAYS: Final = (DST_DAYS[0], DST_DAYS[1], DEMO_DAY)
FIXED: Final = datetime(2025, 1, 1)  # an .xlsx's created / modified stamp


def folder(iso: str) -> Path:
    return synth.out_dir("context") / f"outages_{iso.lower()}"


class Tree:
    """One ISO's outage replay folder, written afresh."""

    def __init__(self, iso: str) -> None:
        self.iso = iso
        self.out = folder(iso)
        self.out.mkdir(parents=True, exist_ok=True)
        for old in self.out.iterdir():
            old.unlink()
        self.polls: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []

    def record(
        self, name: str, url: str, body: bytes, content_type: str, params: Mapping[str, str] | None = None
    ) -> None:
        (self.out / name).write_bytes(body)
        self.responses.append(
            {
                "url": url,
                "params": dict(params or {}),
                "file": name,
                "status": 200,
                "headers": {"Content-Type": content_type},
            }
        )

    def poll(self, now: str, label: str) -> None:
        self.polls.append({"dataset": "outage", "now": now, "label": label})

    def save(self) -> None:
        manifest = {"iso": self.iso, "polls": self.polls, "responses": self.responses}
        (self.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def xlsx_bytes(book: openpyxl.Workbook) -> bytes:
    """`book` saved as .xlsx, byte-stable: fixed properties and zip member timestamps."""
    book.properties.created = book.properties.modified = FIXED
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    # openpyxl stamps the save time into docProps/core.xml: pin it so the file is byte-stable
    members["docProps/core.xml"] = re.sub(
        rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
        rb"\g<1>2025-01-01T00:00:00Z\g<2>",
        members["docProps/core.xml"],
    )
    return synth.zip_bytes(members)


def last_modified(rec: synth.Recording, posted: datetime) -> None:
    """The response recorded last carries Last-Modified `posted` (an aware time)."""
    rec.responses[-1]["headers"]["Last-Modified"] = format_datetime(posted.astimezone(UTC), usegmt=True)


def save_with_live_poll(rec: synth.Recording, now: datetime) -> None:
    """One live outage poll at `now` (UTC) on the demo day, then the manifest."""
    rec.poll("outage", f"{now:%Y-%m-%dT%H:%M:%SZ}", "demo day")
    rec.save()
    print(f"wrote {rec.out}")

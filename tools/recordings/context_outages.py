"""What the generation-outage recording generators share (context_outages_<iso>.py): the replay
folder producers/recordings/context/outages_<iso>/ (manifest.json as producers/replay.py reads)
and the days every folder holds: the demo day (every hour of it gets outage context) and both
2025 DST days."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Final

from tools.recordings import synth

DEMO_DAY: Final = date(2026, 6, 11)
DST_DAYS: Final = (date(2025, 3, 9), date(2025, 11, 2))
DAYS: Final = (DST_DAYS[0], DST_DAYS[1], DEMO_DAY)


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

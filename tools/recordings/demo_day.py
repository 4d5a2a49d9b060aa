"""Write producers/recordings/day/<iso>/: one complete ordinary day (DAY, every ISO's local
day) for every ISO, so a replay of them lets the nightly run pass every check on DAY.

Run from the repository root:  .venv/bin/python -m tools.recordings.demo_day

Each ISO's folder is a replay tree of its own (manifest.json + files, as
producers/recordings/<iso>/), polled on a fresh state table: the first poll of a feed has no
cursor, and the later ones get the cursor the earlier ones left, so each ISO module's own
catch-up (CAISO's and PJM's range back to the cursor, MISO's Rolling feed, SPP's
per-interval files, ERCOT's documents since the cursor, the NYISO/ISO-NE day files) fetches
the rest of the day. DAY lies after every poll of producers/recordings/<iso>/, so replaying
this tree first leaves cursors that make those older polls behave as on a fresh table.
The files reuse the generators' writers (tools/recordings/generate_<iso>.py), hence the
ISOs' exact layouts; the builders are in tools/recordings/demo_day_isos.py.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from tools.recordings import synth

DAY = date(2026, 6, 11)  # a Thursday, no DST change anywhere; after every other recorded poll
FOLDER = "day"


def out_root() -> Path:
    return synth.out_dir(FOLDER)


def local(zone: tzinfo, day: date = DAY, hours: float = 0.0, seconds: int = 0) -> datetime:
    """`hours` (and `seconds`) after local midnight of `day` in `zone`, as UTC."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    return midnight + timedelta(hours=hours, seconds=seconds)


def next_day() -> date:
    return DAY + timedelta(days=1)


@dataclass
class Writer:
    """One ISO's replay folder: files, the responses that serve them, the polls to replay."""

    iso: str
    root: Path
    polls: list[dict[str, str]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.root / self.iso.lower()

    def record(
        self,
        name: str,
        url: str,
        body: bytes | str,
        params: Mapping[str, str] | None = None,
        content_type: str = "text/csv",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A response (served for url + params; same-key recordings in the order recorded)."""
        path = self.folder / name
        if path.exists():
            raise ValueError(f"{self.iso}: {name} recorded twice")
        path.write_bytes(body.encode() if isinstance(body, str) else body)
        self.responses.append(
            {
                "url": url,
                "params": dict(params or {}),
                "file": name,
                "status": status,
                "headers": {"Content-Type": content_type, **(headers or {})},
            }
        )

    def poll(self, dataset: str, now: datetime, label: str) -> None:
        self.polls.append({"dataset": dataset, "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "label": label})

    def save(self) -> None:
        manifest = {"iso": self.iso, "polls": self.polls, "responses": self.responses}
        (self.folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    """Rebuild every ISO's folder, or only those named (`python -m tools.recordings.demo_day SPP`)."""
    import sys

    from tools.recordings import demo_day_isos

    root = out_root()
    only = [a.upper() for a in (sys.argv[1:] if argv is None else argv)]
    for iso, build in demo_day_isos.BUILDERS.items():
        if only and iso not in only:
            continue
        w = Writer(iso, root)
        if w.folder.exists():
            shutil.rmtree(w.folder)
        w.folder.mkdir(parents=True)
        build(w)
        w.save()


if __name__ == "__main__":
    main()

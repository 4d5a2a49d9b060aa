"""Seeded, realistic-looking numbers for the recording generators (tools/recordings/generate_<iso>.py).

Not real market data: the generators write the ISOs' exact file formats filled with these
shapes, so parsers are tested on the real layout without shipping anyone's data. Prices
follow a daily shape (morning ramp, midday solar trough that goes negative on some days,
evening peak) plus noise and rare spikes; load follows a smooth daily curve.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
# Where the recordings live (the replay folder `gridtape poll --replay` and the demo read);
# GRIDTAPE_RECORDINGS_OUT writes elsewhere, e.g. to check that a generator still writes the
# committed files byte for byte (tests/producers/test_recordings.py).
RECORDINGS = Path(__file__).resolve().parents[2] / "producers" / "recordings"


def out_dir(iso: str) -> Path:
    return (
        Path(os.environ.get("GRIDTAPE_RECORDINGS_OUT") or RECORDINGS) / iso
    )  # zip member timestamps: fixed so output is byte-stable


def rng(*seed: object) -> random.Random:
    # A str seed is hashed with SHA-512 by random.Random: stable across runs and machines.
    return random.Random("|".join(str(s) for s in seed))


def local_hour(t: datetime, zone: tzinfo) -> float:
    local = t.astimezone(zone)
    return local.hour + local.minute / 60


def energy_price(t: datetime, zone: tzinfo, r: random.Random, *, base: float = 32.0, solar: float = 40.0) -> float:
    """System energy price, $/MWh, for the interval starting at t."""
    h = local_hour(t, zone)
    shape = (
        base
        + 9 * math.exp(-(((h - 7.5) / 1.4) ** 2))
        - solar * math.exp(-(((h - 12.5) / 2.6) ** 2))
        + 38 * math.exp(-(((h - 19.0) / 1.7) ** 2))
    )
    spike = r.choice((0.0,) * 60 + (r.uniform(60, 400),))
    return round(shape + r.gauss(0, 3.5) + spike, 5)


def congestion(r: random.Random, scale: float) -> float:
    return round(r.gauss(0, scale) if r.random() < 0.35 else 0.0, 5)


def loss(energy: float, factor: float, r: random.Random) -> float:
    return round(energy * (factor + r.gauss(0, 0.003)), 5)


def load_mw(t: datetime, zone: tzinfo, r: random.Random, *, base: float, swing: float) -> float:
    h = local_hour(t, zone)
    shape = base + swing * (
        0.55 * math.exp(-(((h - 18.5) / 3.2) ** 2)) + 0.25 * math.exp(-(((h - 9) / 2.5) ** 2)) - 0.3
    )
    return round(shape + r.gauss(0, base * 0.004), 2)


def with_next_days(*days: date) -> tuple[date, ...]:
    """Each day followed by the day after it (a day's day-ahead results and the next day's)."""
    return tuple(day + timedelta(days=k) for day in days for k in (0, 1))


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


class Recording:
    """One ISO's recordings folder, written afresh: its files, then manifest.json listing the
    polls and the responses in the order the replay serves them."""

    def __init__(self, iso: str) -> None:
        self.iso = iso
        self.out = out_dir(iso.lower())
        self.out.mkdir(exist_ok=True)
        for old in self.out.iterdir():
            old.unlink()
        self.polls: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []

    def record(
        self,
        name: str,
        url: str,
        body: bytes,
        content_type: str,
        params: Mapping[str, str] | None = None,
        *,
        first: bool = False,
    ) -> None:
        """A 200 answer to `url` with `params`, served from the file `name` (`first`: listed
        before those recorded so far)."""
        (self.out / name).write_bytes(body)
        self.responses.insert(
            0 if first else len(self.responses),
            {
                "url": url,
                "params": dict(params or {}),
                "file": name,
                "status": 200,
                "headers": {"Content-Type": content_type},
            },
        )

    def poll(self, dataset: str, now: str, label: str) -> None:
        self.polls.append({"dataset": dataset, "now": now, "label": label})

    def each_poll(self, dataset: str, polls: Iterable[tuple[str, str]]) -> Iterator[datetime]:
        """Each poll's `now` (its (now, label) pairs in order), for the loop body to record what
        that poll fetches; the poll is listed once its body has run."""
        for now, label in polls:
            yield datetime.fromisoformat(now)
            self.poll(dataset, now, label)

    def save(self) -> None:
        manifest = {"iso": self.iso, "polls": self.polls, "responses": self.responses}
        (self.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

"""A small, strict IsoSource for testing the framework without the real ISO modules.

Wire format (CSV): lmp -> "location,interval_start,lmp"; load -> "location,interval_start,load_mw"
with interval_start in UTC ending in Z. The parser is as strict as a real one must be: an HTML
page, a truncated row, renamed columns or a non-numeric value raise SourceError."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gridtape import contract
from producers.base import HttpClient, IsoSource, Request, Response

BASE = "https://fake.example"
COLUMNS = {"lmp": ["location", "interval_start", "lmp"], "load": ["location", "interval_start", "load_mw"]}


class FakeSource(IsoSource):
    iso = "SPP"
    base = BASE

    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        return [http.get(self.request(dataset, now))]

    def request(self, dataset: str, now: datetime) -> Request:
        return Request(
            f"{self.base}/{dataset}.csv",
            params={"day": f"{now:%Y%m%d}", "_": str(int(now.timestamp()))},
            volatile_params=("_",),
        )

    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for r in responses:
            if r.status == 404:
                continue  # not published yet
            text = r.body.decode("utf-8", errors="replace")
            if text.lstrip().startswith("<"):
                raise self.error(dataset, r.url, "HTML page instead of CSV")
            rows = list(csv.reader(io.StringIO(text)))
            if not rows or rows[0] != COLUMNS[dataset]:
                raise self.error(dataset, r.url, f"columns renamed or missing: {rows[0] if rows else []}")
            for n, row in enumerate(rows[1:], start=2):
                if len(row) != 3:
                    raise self.error(dataset, r.url, f"line {n}: {len(row)} fields, expected 3 (truncated?)")
                try:
                    value = float(row[2])
                    start = contract.parse_ts(row[1])
                except ValueError as exc:
                    raise self.error(dataset, r.url, f"line {n}: {exc}") from None
                out.append(
                    contract.tick(
                        iso=self.iso,
                        market="RT5",
                        dataset=dataset,
                        location=row[0],
                        location_type="hub" if dataset == "lmp" else "zone",
                        interval_start=start,
                        interval_end=start + timedelta(minutes=5),
                        published_at=r.fetched_at,
                        ingested_at=r.fetched_at,
                        source=r.url.split("?")[0],
                        **{COLUMNS[dataset][2]: value},
                    )
                )
        return out


class FakeMiso(FakeSource):
    iso = "MISO"


class BrokenParser(FakeSource):
    """A module with a bug: its parser raises a bare KeyError."""

    iso = "ERCOT"

    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        raise KeyError("LMP")


def csv_body(dataset: str, rows: Sequence[tuple[str, str, float]]) -> bytes:
    lines = [",".join(COLUMNS[dataset])] + [f"{loc},{ts},{v}" for loc, ts, v in rows]
    return ("\n".join(lines) + "\n").encode()


def hour_rows(day: str = "2025-06-10", hour: int = 18, locations: Sequence[str] = ("HUB_N", "HUB_S")) -> list[Any]:
    return [(loc, f"{day}T{hour:02d}:{m:02d}:00Z", 20.0 + m / 5) for loc in locations for m in range(0, 60, 5)]


def write_recordings(
    root: Path, iso: str, polls: list[tuple[str, str]], bodies: dict[tuple[str, str], tuple[bytes, int, str]]
) -> Path:
    """Recordings in the shared manifest shape: polls [(dataset, now)], bodies
    {(dataset, day): (body, status, content type)}."""
    d = root / iso.lower()
    d.mkdir(parents=True, exist_ok=True)
    responses = []
    for (dataset, day), (body, status, ctype) in bodies.items():
        name = f"{dataset}_{day}.dat"
        (d / name).write_bytes(body)
        responses.append(
            {
                "url": f"{BASE}/{dataset}.csv",
                "params": {"day": day, "_": "0"},
                "file": name,
                "status": status,
                "headers": {"Content-Type": ctype},
            }
        )
    manifest = {
        "iso": iso,
        "polls": [{"dataset": ds, "now": now, "label": f"{ds} at {now}"} for ds, now in polls],
        "responses": responses,
    }
    (d / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return d

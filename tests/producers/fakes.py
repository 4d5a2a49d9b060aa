"""A small, strict IsoSource for testing the framework without the real ISO modules.

Wire format (CSV): lmp -> "location,interval_start,lmp"; load -> "location,interval_start,load_mw"
with interval_start in UTC ending in Z. The parser is as strict as a real one must be: an HTML
page, a truncated row, renamed columns or a non-numeric value raise SourceError."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from gridtape import contract
from producers.base import HttpClient, IsoSource, Parsed, Request, Response
from producers.formats import FormatError

BASE = "https://fake.example"
COLUMNS = {"lmp": ["location", "interval_start", "lmp"], "load": ["location", "interval_start", "load_mw"]}


class FakeSource(IsoSource):
    """On the parse skeleton, like every real ISO module: an unreadable response (HTML, renamed
    columns, a last line cut off mid-row) is a SourceError; one unreadable row is refused alone."""

    iso = "SPP"
    base = BASE
    may_be_empty = frozenset({"lmp", "load"})

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        return [r for r in [http.get(self.request(dataset, now))] if r.status != 404]  # 404: not published yet

    def request(self, dataset: str, now: datetime) -> Request:
        return Request(
            f"{self.base}/{dataset}.csv",
            params={"day": f"{now:%Y%m%d}", "_": str(int(now.timestamp()))},
            volatile_params=("_",),
        )

    def _rows(self, dataset: str, r: Response) -> list[list[str]]:
        text = r.body.decode("utf-8", errors="replace")
        if text.lstrip().startswith("<"):
            raise FormatError("HTML page instead of CSV")
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or rows[0] != COLUMNS[dataset]:
            raise FormatError(f"columns renamed or missing: {rows[0] if rows else []}")
        if rows[1:] and not text.endswith("\n"):
            raise FormatError(f"line {len(rows)}: no line end (truncated?)")
        return rows[1:]

    def _read(self, dataset: str, row: list[str], r: Response) -> dict[str, Any]:
        if len(row) != 3:
            raise FormatError(f"{len(row)} fields, expected 3 (truncated?)")
        return self.tick(
            r,
            dataset,
            location=row[0],
            location_type="hub" if dataset == "lmp" else "zone",
            start=contract.parse_ts(row[1]),
            **{COLUMNS[dataset][2]: float(row[2])},
        )

    def _rows_lmp(self, r: Response, context: Any) -> list[list[str]]:
        return self._rows("lmp", r)

    def _rows_load(self, r: Response, context: Any) -> list[list[str]]:
        return self._rows("load", r)

    def _read_lmp(self, row: list[str], r: Response) -> dict[str, Any]:
        return self._read("lmp", row, r)

    def _read_load(self, row: list[str], r: Response) -> dict[str, Any]:
        return self._read("load", row, r)


class FakeMiso(FakeSource):
    iso = "MISO"


class BrokenParser(FakeSource):
    """A module with a bug: its parser raises a bare KeyError."""

    iso = "ERCOT"

    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        raise KeyError("LMP")

    def parse_rows(self, dataset: str, responses: Sequence[Response], *, live: bool = True) -> Parsed:
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

"""ISO-NE's historical files (as www.iso-ne.com serves them, record-typed CSVs) with
generate_isone's per-interval seeds, so a day's historical file holds the same numbers as the
live files of that day:
- histRpts/5min-rt-prelim/lmp_5min_YYYYMMDD_HH-HH.csv: six four-hour files a day, "Local Time"
  a time of day (interval beginning), "Location ID" and the prices, no location name;
- histRpts/da-lmp/WW_DALMP_ISO_YYYYMMDD.csv: Date, Hour Ending (01..24; "02X" the repeated
  hour of the fall day, no "03" on the spring day), location ID/name/type, prices;
- fiveminutesystemload and fiveminuteestimatedzonalload by date (start=end=YYYYMMDD).
write_committed(): producers/recordings/history/isone/ for 2025-03-09, 2025-11-02 and
2026-06-11 (the demo's complete day); tree(root, start, end): every day of a range.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from gridtape.timeutil import EASTERN, local_to_utc
from producers.isone import COOKIE_PAGE, LOAD_URL, ZONAL_URL
from producers.isone.files import HIST_BLOCKS, HIST_LMP_COLUMNS, LOSS, da_url, hist_lmp_url
from tools.recordings import generate_isone as gen
from tools.recordings import synth

HUB_ZONES = [loc for loc in gen.LOCATIONS if loc[2] in ("HUB", "LOAD ZONE")]
ZONE_MW = {4001: 1300, 4002: 1350, 4003: 620, 4004: 3400, 4005: 900, 4006: 1700, 4007: 1800, 4008: 2700}
ZONAL_LAG = timedelta(minutes=90)  # ISO-NE's zonal estimates run 1-2 h behind real time
COMMITTED = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11))


def _local(day: date, hours: int) -> datetime:
    return local_to_utc(datetime(day.year, day.month, day.day) + timedelta(hours=hours), EASTERN)


def _end(body: list[str], count: int) -> bytes:
    return ("\r\n".join([*body, gen.q("T", count)]) + "\r\n").encode()


def hist_lmp(day: date, block: str) -> bytes:
    first, last = (int(h) for h in block.split("-"))
    lines = [
        gen.q("C", "Preliminary Five-Minute Real-Time Locational Marginal Prices"),
        gen.q("C", f"For {day:%m/%d/%Y}, hours {block}"),
        gen.q("C", "Prices in dollars per MWh"),
        gen.q("C", "Report generated 12/01/2026 00:00:00 EST"),
        gen.q("H", *HIST_LMP_COLUMNS, LOSS),
        gen.q("H", "", "", "(Dollars per MWh)", "(Dollars per MWh)", "(Dollars per MWh)", "(Dollars per MWh)"),
    ]
    t, stop, count = _local(day, first), _local(day, last), 0
    while t < stop:
        for loc_id, name, _ in HUB_ZONES:
            lines.append(f'"D","{t.astimezone(EASTERN):%H:%M:%S}",{loc_id},{gen.prices_text(name, t)}')
            count += 1
        t += timedelta(minutes=5)
    return _end(lines, count)


def da_day(day: datetime | date) -> bytes:
    d = date(day.year, day.month, day.day)
    lines = [
        gen.q("C", "Day-Ahead Energy Market Hourly LMP Report"),
        gen.q("C", f"For {d:%m/%d/%Y}"),
        gen.q("C", "Prices in dollars per MWh"),
        gen.q("C", "Report generated 12/01/2026 00:00:00 EST"),
        gen.q(
            "H",
            "Date",
            "Hour Ending",
            "Location ID",
            "Location Name",
            "Location Type",
            "Locational Marginal Price",
            "Energy Component",
            "Congestion Component",
            "Marginal Loss Component",
        ),
        gen.q(
            "H", "", "", "", "", "", "(Dollars per MWh)", "(Dollars per MWh)", "(Dollars per MWh)", "(Dollars per MWh)"
        ),
    ]
    t, stop, count, seen = _local(d, 0), _local(d + timedelta(days=1), 0), 0, set()
    while t < stop:
        wall = t.astimezone(EASTERN)
        label = f"{wall.hour + 1:02d}"
        if label in seen:  # the fall day's second 01:00-02:00 hour (EST)
            label += "X"
        seen.add(label)
        for loc_id, name, kind in gen.LOCATIONS:
            r = synth.rng("isone-da", name, t.isoformat())
            energy = round(
                synth.energy_price(t, EASTERN, synth.rng("isone-da", t.isoformat()), base=40.0, solar=18.0), 2
            )
            cong, loss = round(synth.congestion(r, 1.5), 2), round(synth.loss(energy, -0.004, r), 2)
            cells = f"{energy + cong + loss:.2f},{energy:.2f},{cong:.2f},{loss:.2f}"
            lines.append(f'"D","{d:%m/%d/%Y}","{label}",{loc_id},"{name}","{kind}",{cells}')
            count += 1
        t += timedelta(hours=1)
    return _end(lines, count)


def zonal_day(day: datetime | date, fetched: datetime) -> bytes:
    d = date(day.year, day.month, day.day)
    lines = [
        gen.q("C", "Five-Minute Estimated Zonal Load"),
        gen.q("C", f"For {d:%m/%d/%Y}"),
        gen.q("C", "Load in MW"),
        gen.q("H", "Local Time", "Load Zone ID", "Load Zone Name", "Native Load", "BTM PV"),
        gen.q("H", "", "", "", "(MW)", "(MW)"),
    ]
    t, stop, count = _local(d, 0), _local(d + timedelta(days=1), 0), 0
    while t < stop and t + timedelta(minutes=5) <= fetched - ZONAL_LAG:
        for loc_id, name, kind in gen.LOCATIONS:
            if kind != "LOAD ZONE":
                continue
            r = synth.rng("isone-zone", name, t.isoformat())
            mw = synth.load_mw(t, EASTERN, r, base=ZONE_MW[loc_id], swing=ZONE_MW[loc_id] * 0.4)
            solar = max(0.0, ZONE_MW[loc_id] * 0.15 * (1 - abs(synth.local_hour(t, EASTERN) - 12.5) / 6))
            lines.append(f'"D","{t.astimezone(EASTERN):%Y-%m-%d %H:%M:%S}",{loc_id},"{name}",{mw:.3f},{solar:.3f}')
            count += 1
        t += timedelta(minutes=5)
    return _end(lines, count)


def load_file(url: str, day: datetime | date, fetched: datetime) -> tuple[str, bytes]:
    """(file stem, body) of a load request: the system or the zonal file of `day`."""
    d = datetime(day.year, day.month, day.day)
    if url == LOAD_URL:
        return "fiveminutesystemload", gen.load_day(d, fetched)
    return "fiveminuteestimatedzonalload", zonal_day(d, fetched)


def _write(root: Path, days: list[date]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for old in [*root.glob("*.csv"), *root.glob("*.html"), *root.glob("manifest.json")]:
        old.unlink()
    responses: list[dict[str, Any]] = []

    def record(name: str, url: str, body: bytes, params: dict[str, str] | None = None, kind: str = "text/csv") -> None:
        (root / name).write_bytes(body)
        responses.append(
            {"url": url, "params": params or {}, "file": name, "status": 200, "headers": {"Content-Type": kind}}
        )

    record("cookie_page.html", COOKIE_PAGE, gen.PAGE, kind="text/html;charset=UTF-8")
    later = datetime(2026, 12, 1, tzinfo=UTC)  # long after: every file whole
    for day in days:
        for block in HIST_BLOCKS:
            url = hist_lmp_url(day, block)
            record(url.rsplit("/", 1)[1], url, hist_lmp(day, block))
        record(da_url(day).rsplit("/", 1)[1], da_url(day), da_day(day))
        for url in (LOAD_URL, ZONAL_URL):
            stem, body = load_file(url, day, later)
            record(f"{stem}_{day:%Y%m%d}.csv", url, body, {"start": f"{day:%Y%m%d}", "end": f"{day:%Y%m%d}"})
    manifest = {"iso": "ISONE", "polls": [], "responses": responses}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def write_committed() -> None:
    _write(synth.out_dir("history") / "isone", list(COMMITTED))


def tree(root: Path, start: date, end: date) -> None:
    _write(root, [start + timedelta(days=n) for n in range((end - start).days + 1)])

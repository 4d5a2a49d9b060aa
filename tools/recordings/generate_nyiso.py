"""Regenerate producers/recordings/nyiso/: NYISO's real file formats with synthetic, seeded values.

    .venv/bin/python -m tools.recordings.generate_nyiso   (from the repository root)

The layout copies the real files (../shared/iso-samples/nyiso: pyiso's lmp.csv and
20171122pal.csv): quoted header and text fields, MM/DD/YYYY HH:MM:SS Eastern wall time,
LBMP interval-ending stamps 00:05 .. 24:00, pal readings 00:00 .. 23:55 with an EST/EDT column,
the occasional off-cycle RTD-CAM stamp, and the RTC advisory rows NYISO appends after the
newest RTD interval in today's realtime file. The prices are made up (seeded), with negative
prices overnight in the north, as happens there most weeks.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tools.recordings import synth

EASTERN_KEY = "America/New_York"
HERE = synth.out_dir("nyiso")
BASE = "https://mis.nyiso.com/public"
# name -> (PTID, loss factor, typical congestion as published, i.e. negative raises the price)
LOCATIONS = {
    "CAPITL": (61757, 0.06, -1.5),
    "CENTRL": (61754, 0.02, 0.0),
    "DUNWOD": (61760, 0.07, -3.0),
    "GENESE": (61753, 0.01, 0.0),
    "H Q": (61844, -0.03, 2.0),
    "HUD VL": (61758, 0.07, -2.5),
    "LONGIL": (61762, 0.09, -9.0),
    "MHK VL": (61756, 0.03, 0.0),
    "MILLWD": (61759, 0.07, -3.0),
    "N.Y.C.": (61761, 0.08, -6.0),
    "NORTH": (61755, -0.05, 6.0),
    "NPX": (61845, 0.05, -1.0),
    "O H": (61846, -0.02, 1.0),
    "PJM": (61847, 0.03, 0.0),
    "WEST": (61752, 0.02, 1.5),
}
ZONES = [n for n in LOCATIONS if n not in ("H Q", "NPX", "O H", "PJM")]
ZONE_MW = {
    "CAPITL": 1300,
    "CENTRL": 1700,
    "DUNWOD": 650,
    "GENESE": 1050,
    "HUD VL": 1100,
    "LONGIL": 2300,
    "MHK VL": 850,
    "MILLWD": 300,
    "N.Y.C.": 5800,
    "NORTH": 520,
    "WEST": 1800,
}


def eastern(dt: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo(EASTERN_KEY))


def local_day_bounds(day: str) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    z = ZoneInfo(EASTERN_KEY)
    start = datetime.fromisoformat(day).replace(tzinfo=z)
    nxt = (start + timedelta(days=1, hours=2)).replace(hour=0, tzinfo=z)
    return start.astimezone(UTC), nxt.astimezone(UTC)


def stamp(utc: datetime) -> tuple[str, str]:
    local = eastern(utc)
    return local.strftime("%m/%d/%Y %H:%M:%S"), local.tzname() or ""


def energy_price(rng: random.Random, utc: datetime) -> float:
    hour = eastern(utc).hour + eastern(utc).minute / 60
    shape = 28 + 22 * math.sin((hour - 8) / 24 * 2 * math.pi) + (25 if 17 <= hour < 20 else 0)
    if hour < 5:
        shape -= 8
    return shape + rng.gauss(0, 4)


def day_rng(kind: str, day: object) -> random.Random:
    """The generator of one day file (kind lmp | load | dam): the live day tree and the
    history archives write the same values for the same day."""
    return synth.rng("nyiso", kind, day)


def price_row(rng: random.Random, utc: datetime, name: str, energy: float, hourly: bool = False) -> str:
    ptid, loss_factor, congestion = LOCATIONS[name]
    loss = round(energy * loss_factor + rng.gauss(0, 0.2), 2)
    mcc = round(congestion * rng.random(), 2) if rng.random() < 0.4 else 0.0
    if name == "NORTH" and eastern(utc).hour < 5:
        # overnight wind and hydro behind the north's export limit: negative prices there
        mcc = round(30 + 15 * rng.random(), 2)
    lbmp = round(energy + loss - mcc, 2)
    text, _ = stamp(utc)
    if hourly:  # damlbmp stamps have no seconds: "MM/DD/YYYY HH:MM"
        text = text[:-3]
    return f'"{text}","{name}",{ptid},{lbmp:.2f},{loss:.2f},{mcc:.2f}'


LMP_HEADER = (
    '"Time Stamp","Name","PTID","LBMP ($/MWHr)","Marginal Cost Losses ($/MWHr)","Marginal Cost Congestion ($/MWHr)"'
)


def lmp_day_file(
    rng: random.Random,
    day: str,
    until: datetime | None = None,
    rtc: int = 0,
    cam: bool = True,
    names: Sequence[str] = tuple(LOCATIONS),
) -> str:
    start, end = local_day_bounds(day)
    lines = [LMP_HEADER]
    t = start + timedelta(minutes=5)
    last = min(end, until) if until else end
    cam_at = start + timedelta(hours=9, minutes=37, seconds=34) if cam else None
    while t <= last:
        if cam_at and t - timedelta(minutes=5) < cam_at < t:
            energy = energy_price(rng, cam_at)
            for name in names:  # an off-cycle RTD-CAM run: stamp off the 5-minute grid
                lines.append(price_row(rng, cam_at, name, energy))
        energy = energy_price(rng, t)
        for name in names:
            lines.append(price_row(rng, t, name, energy))
        t += timedelta(minutes=5)
    # RTC's 15-minute advisory prices follow the last RTD interval in today's file.
    t = last.replace(minute=(last.minute // 15) * 15) + timedelta(minutes=15)
    for _ in range(rtc):
        energy = energy_price(rng, t)
        for name in LOCATIONS:
            lines.append(price_row(rng, t, name, energy))
        t += timedelta(minutes=15)
    return "\n".join(lines)


def dam_file(rng: random.Random, day: str, names: Sequence[str] = tuple(LOCATIONS)) -> str:
    """damlbmp_zone.csv: one row per location and hour, stamped at the hour's BEGINNING
    00:00 .. 23:00 (23 hours on the spring day, 25 on the fall day: "01:00" twice)."""
    start, end = local_day_bounds(day)
    lines = [LMP_HEADER]
    t = start
    while t < end:
        energy = energy_price(rng, t + timedelta(minutes=30)) + 3
        lines.extend(price_row(rng, t, name, energy, hourly=True) for name in names)
        t += timedelta(hours=1)
    return "\r\n".join(lines) + "\r\n"


def lmp_current_file(day_file: str, end: datetime) -> str:
    """realtime_zone_lbmp.csv: the newest RTD interval's rows, the same values as the day file."""
    lines = day_file.split("\n")
    text, _ = stamp(end)
    # the last rows with that stamp (on the fall-back day a stamp can occur twice)
    rows = [line for line in lines if line.startswith(f'"{text}"')][-len(LOCATIONS) :]
    return "\n".join([lines[0], *rows])


def mw_text(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def pal_file(rng: random.Random, day: str, until: datetime | None = None, cam: bool = True) -> str:
    start, end = local_day_bounds(day)
    lines = ['"Time Stamp","Time Zone","Name","PTID","Load"']
    t = start
    last = min(end - timedelta(minutes=5), until) if until else end - timedelta(minutes=5)
    cam_at = start + timedelta(hours=3, minutes=7, seconds=34) if cam else None
    while t <= last:
        stamps = [t]
        if cam_at and t < cam_at < t + timedelta(minutes=5):
            stamps.append(cam_at)
        for at in stamps:
            text, tz = stamp(at)
            hour = eastern(at).hour
            shape = 0.8 + 0.25 * math.sin((hour - 9) / 24 * 2 * math.pi)
            for name in ZONES:
                mw = ZONE_MW[name] * shape * (1 + rng.gauss(0, 0.01))
                lines.append(f'"{text}","{tz}","{name}",{LOCATIONS[name][0]},{mw_text(mw)}')
        t += timedelta(minutes=5)
    return "\r\n".join(lines) + "\r\n"


def main() -> None:
    rng = random.Random(20250610)
    HERE.mkdir(parents=True, exist_ok=True)
    for old in [*HERE.glob("*.csv"), *HERE.glob("*.html")]:
        old.unlink()
    responses: list[dict] = []

    def record(url: str, name: str, text: str, status: int = 200, content_type: str = "text/csv") -> None:
        (HERE / name).write_bytes(text.encode())
        responses.append(
            {"url": url, "params": {}, "file": name, "status": status, "headers": {"Content-Type": content_type}}
        )

    def not_yet_posted(url: str, name: str) -> None:
        """mis.nyiso.com answers 404 for a day file it has not started yet (just after midnight)."""
        page = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"
        record(url, name, page, status=404, content_type="text/html")

    current = f"{BASE}/realtime/realtime_zone_lbmp.csv"
    realtime = f"{BASE}/csv/realtime"
    # 1. an ordinary June morning: the newest RTD interval ends 06:40 EDT (10:40Z)
    june = datetime(2025, 6, 10, 10, 40, tzinfo=UTC)
    june_day = lmp_day_file(rng, "2025-06-10", until=june, rtc=4)
    record(current, "realtime_zone_lbmp_20250610T1040Z.csv", lmp_current_file(june_day, june))
    record(f"{realtime}/20250610realtime_zone.csv", "20250610realtime_zone.csv", june_day)
    # 2. just after the fall-back day: 2025-11-02 is complete (300 intervals); 11-03 not yet posted
    nov3 = datetime(2025, 11, 3, 5, 0, tzinfo=UTC)
    fall_day = lmp_day_file(rng, "2025-11-02")
    record(current, "realtime_zone_lbmp_20251103T0500Z.csv", lmp_current_file(fall_day, nov3))
    record(f"{realtime}/20251102realtime_zone.csv", "20251102realtime_zone.csv", fall_day)
    not_yet_posted(f"{realtime}/20251103realtime_zone.csv", "20251103realtime_zone_404.html")
    # 3. just after the spring-forward day: 2025-03-09 is complete (276 intervals)
    mar10 = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)
    spring_day = lmp_day_file(rng, "2025-03-09")
    record(current, "realtime_zone_lbmp_20250310T0400Z.csv", lmp_current_file(spring_day, mar10))
    record(f"{realtime}/20250309realtime_zone.csv", "20250309realtime_zone.csv", spring_day)
    not_yet_posted(f"{realtime}/20250310realtime_zone.csv", "20250310realtime_zone_404.html")
    # load: the same three moments
    record(f"{BASE}/csv/pal/20250610pal.csv", "20250610pal.csv", pal_file(rng, "2025-06-10", until=june))
    record(f"{BASE}/csv/pal/20251102pal.csv", "20251102pal.csv", pal_file(rng, "2025-11-02"))
    record(f"{BASE}/csv/pal/20251103pal.csv", "20251103pal.csv", pal_file(rng, "2025-11-03", until=nov3, cam=False))
    record(f"{BASE}/csv/pal/20250309pal.csv", "20250309pal.csv", pal_file(rng, "2025-03-09"))
    record(f"{BASE}/csv/pal/20250310pal.csv", "20250310pal.csv", pal_file(rng, "2025-03-10", until=mar10, cam=False))
    # dam: 06-10 before NYISO posts the 11th (today's file only); the days before both DST
    # days after 11:00 (today's and the DST day's files: 23 and 25 hours)
    for d in ("2025-06-10", "2025-03-08", "2025-03-09", "2025-11-01", "2025-11-02"):
        name = f"{d.replace('-', '')}damlbmp_zone.csv"
        record(f"{BASE}/csv/damlbmp/{name}", name, dam_file(day_rng("dam", d), d))

    manifest = {
        "iso": "NYISO",
        "polls": [
            {
                "dataset": "lmp",
                "now": "2025-06-10T10:42:00Z",
                "label": "normal day (RTC advisory rows after 06:40 EDT dropped)",
            },
            {
                "dataset": "lmp",
                "now": "2025-11-03T05:03:00Z",
                "label": "fall-back day 2025-11-02 complete (300 intervals)",
            },
            {
                "dataset": "lmp",
                "now": "2025-03-10T04:03:00Z",
                "label": "spring-forward day 2025-03-09 complete (276 intervals)",
            },
            {"dataset": "load", "now": "2025-06-10T10:42:00Z", "label": "normal day"},
            {
                "dataset": "load",
                "now": "2025-11-03T05:03:00Z",
                "label": "fall-back day 2025-11-02 complete (300 intervals)",
            },
            {
                "dataset": "load",
                "now": "2025-03-10T04:03:00Z",
                "label": "spring-forward day 2025-03-09 complete (276 intervals)",
            },
            {"dataset": "dam", "now": "2025-06-10T10:42:00Z", "label": "before 11:00: today's results only"},
            {"dataset": "dam", "now": "2025-03-08T16:05:00Z", "label": "spring-forward day 2025-03-09 posted (23 h)"},
            {"dataset": "dam", "now": "2025-11-01T15:05:00Z", "label": "fall-back day 2025-11-02 posted (25 h)"},
        ],
        "responses": responses,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    nyiso_history.write_committed()


def history_tree(root: Path, start: date, end: date) -> None:
    """A replay tree (root/manifest.json + the monthly archives) answering NYISO history()
    for every day in [start, end], zones only (tools/recordings/nyiso_history.py)."""
    nyiso_history.tree(root, start, end)


from tools.recordings import nyiso_history  # noqa: E402  (it reads this module's writers)

if __name__ == "__main__":
    main()

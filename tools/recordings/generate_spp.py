"""Regenerate producers/recordings/spp/: SPP portal files in their real layout, synthetic values.

    .venv/bin/python -m tools.recordings.generate_spp   (from the repository root)

The RTBM price files copy the real ones in ../shared/iso-samples/spp (header Interval,
GMTIntervalEnd, Settlement Location, Pnode, LMP, MLC, MCC, MEC; MM/DD/YYYY HH:MM:SS times,
Interval in Central wall time and GMTIntervalEnd in UTC, both interval-ending; four decimals;
LF line ends; LMP = MEC + MCC + MLC), cut down to a few hubs, load areas and resource nodes.
The 2026 files carry the BAA column SPP added with its western expansion. Both DST days are
recorded in full, one file per interval under the name and folder SPP publishes it with
(SppSource's interval_path: 300 files on the fall-back day, 12 of them the "d" repeats; 276 on
the spring-forward day), so a test can replay every interval of those days. Wind pushes the
northern prices negative overnight, as it does most weeks.
"""

from __future__ import annotations

import json
import math
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script too

from producers.spp import LATEST_PATH, LMP_URL, LOAD_URL, interval_path
from tools.recordings import synth

HERE = synth.out_dir("spp")
CENTRAL = ZoneInfo("America/Chicago")
# settlement location -> (pnode, BAA, congestion bias, loss factor)
LOCATIONS = {
    "SPPNORTH_HUB": ("SPPNORTH_H", "SPP", -6.0, -0.05),
    "SPPSOUTH_HUB": ("SPPSOUTH_H", "SPP", 2.0, 0.02),
    "KCPL_GMOC_HUB": ("KCPLGMOCHUB_H", "SPP", -1.0, -0.02),
    "KCPL_KCPL": ("KCPL_LA", "SPP", -1.5, -0.03),
    "GRDA_GRDA": ("GRDA_LA", "SPP", 1.0, 0.01),
    "NPPD_NPPD": ("NPPD_LA", "SPP", -9.0, -0.06),
    "EDE_EDE": ("EDE_LA", "SPP", 0.5, 0.0),
    "LES_LES": ("LES_LA", "SPP", -7.0, -0.05),
    "AECC_ELKINS": ("CSWSELKINSUNELKINS_RA", "SPP", 1.5, 0.03),
    "AECC_FITZHUGH": ("CSWSFITZHUGHPLT1", "SPP", 0.8, 0.01),
    "AEC": ("SOUC", "SPP", 3.0, 0.04),
}
WEST_2026 = {"SWPW_HUB": ("SWPW_H", "SWPW", 4.0, 0.03)}
NORTH = {"SPPNORTH_HUB", "NPPD_NPPD", "LES_LES", "KCPL_GMOC_HUB"}


def wall(utc: datetime) -> str:
    return utc.astimezone(CENTRAL).strftime("%m/%d/%Y %H:%M:%S")


def gmt(utc: datetime) -> str:
    return utc.strftime("%m/%d/%Y %H:%M:%S")


def mec(rng: random.Random, end: datetime) -> float:
    hour = end.astimezone(CENTRAL).hour
    base = 24 + 16 * math.sin((hour - 9) / 24 * 2 * math.pi)
    if hour >= 16 and hour < 20:
        base += 30
    return base + rng.gauss(0, 3)


def price_file(rng: random.Random, end: datetime, baa: bool = False) -> str:
    """One RTBM interval file: every location's price for the interval ending at `end`."""
    header = (
        "Interval,GMTIntervalEnd,BAA,Settlement Location,Pnode,LMP,MLC,MCC,MEC"
        if baa
        else ("Interval,GMTIntervalEnd,Settlement Location,Pnode,LMP,MLC,MCC,MEC")
    )
    locations = {**LOCATIONS, **(WEST_2026 if baa else {})}
    energy = round(mec(rng, end), 4)
    night = end.astimezone(CENTRAL).hour < 6
    lines = [header]
    for name in sorted(locations):
        pnode, area, bias, loss_factor = locations[name]
        congestion = bias * rng.random() + rng.gauss(0, 0.8)
        if night and name in NORTH:
            congestion -= 35 + 10 * rng.random()  # wind behind the northern constraints
        mcc = round(congestion, 4)
        mlc = round(energy * loss_factor + rng.gauss(0, 0.3), 4)
        lmp = round(energy + mcc + mlc, 4)
        cells = [
            wall(end),
            gmt(end),
            *([area] if baa else []),
            name,
            pnode,
            f"{lmp:.4f}",
            f"{mlc:.4f}",
            f"{mcc:.4f}",
            f"{energy:.4f}",
        ]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def load_file(rng: random.Random, latest_end: datetime) -> str:
    """The forecast-vs-actual CSV: newest first, forecast-only rows ahead, a day of actuals."""
    header = "Interval,GMTIntervalEnd,STLF,MTLF,Actual Load,STWF,MTWF,Actual Wind,STSF,MTSF,Actual Solar"
    lines = [header]
    for k in range(48, -288, -1):  # 4 hours of forecast-only rows, then 24 hours of actuals
        end = latest_end + k * timedelta(minutes=5)
        hour = end.astimezone(CENTRAL).hour + end.astimezone(CENTRAL).minute / 60
        load = 31000 + 7000 * math.sin((hour - 10) / 24 * 2 * math.pi)
        wind = 14000 + 3000 * math.cos(hour / 24 * 2 * math.pi)
        solar = max(0.0, 2500 * math.sin((hour - 6) / 14 * math.pi)) if 6 <= hour <= 20 else 0.0
        stlf, mtlf = load * (1 + rng.gauss(0, 0.01)), load * (1 + rng.gauss(0, 0.02))
        actual = (
            [f"{load * (1 + rng.gauss(0, 0.004)):.1f}", f"{wind + rng.gauss(0, 150):.1f}", f"{solar:.1f}"]
            if k <= 0
            else ["", "", ""]
        )
        cells = [
            wall(end),
            gmt(end),
            f"{stlf:.1f}",
            f"{mtlf:.1f}",
            actual[0],
            f"{wind:.1f}",
            f"{wind:.1f}",
            actual[1],
            f"{solar:.1f}",
            f"{solar:.1f}",
            actual[2],
        ]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def ends(first: datetime, last: datetime) -> list[datetime]:
    out, t = [], first
    while t <= last:
        out.append(t)
        t += timedelta(minutes=5)
    return out


LMP_POLLS = [
    ("2026-06-10T18:42:30Z", "normal day, 2026 layout with the BAA column"),
    ("2025-11-02T07:01:30Z", "fall-back day: 02:00 CDT label, last of the first pass"),
    ("2025-11-02T07:06:30Z", "fall-back day: 01:05d, first of the repeated hour"),
    ("2025-11-02T08:06:30Z", "fall-back day: 02:05, after 01:50d-02:00d"),
    ("2025-03-09T08:01:30Z", "spring-forward day: 02:00 CST label"),
    ("2025-03-09T08:06:30Z", "spring-forward day: 03:05 CDT, 02:05-03:00 never exist"),
]
LOAD_POLLS = [
    ("2026-06-10T18:42:30Z", "normal day: a day of actuals behind the forecast rows"),
    ("2025-11-03T06:02:30Z", "after the fall-back day: 24 h of actuals across the repeated hour"),
    ("2025-03-10T05:02:30Z", "after the spring-forward day: 24 h of actuals across the gap"),
]
FALL = ends(datetime(2025, 11, 2, 5, 5, tzinfo=UTC), datetime(2025, 11, 3, 6, 0, tzinfo=UTC))
SPRING = ends(datetime(2025, 3, 9, 6, 5, tzinfo=UTC), datetime(2025, 3, 10, 5, 0, tzinfo=UTC))


def main() -> None:
    rng = random.Random(20250331)
    HERE.mkdir(parents=True, exist_ok=True)
    for old in HERE.glob("*.csv"):
        old.unlink()
    responses: list[dict] = []
    files: dict[datetime, str] = {}

    def record(url: str, params: dict[str, str], name: str, text: str, disposition: str) -> None:
        (HERE / name).write_text(text)
        headers = {"Content-Type": "text/csv", "Content-Disposition": f'attachment; filename="{disposition}"'}
        responses.append({"url": url, "params": params, "file": name, "status": 200, "headers": headers})

    # every interval file of both DST days, as the file browser serves them
    for end in [*FALL, *SPRING]:
        path = interval_path(end)
        files[end] = price_file(rng, end)
        record(LMP_URL, {"path": path}, path.rsplit("/", 1)[1], files[end], path.rsplit("/", 1)[1])
    # the ordinary 2026 day: the latest interval and the three before it
    june = datetime(2026, 6, 10, 18, 40, tzinfo=UTC)
    for end in ends(june - timedelta(minutes=15), june):
        path = interval_path(end)
        files[end] = price_file(rng, end, baa=True)
        record(LMP_URL, {"path": path}, path.rsplit("/", 1)[1], files[end], path.rsplit("/", 1)[1])
    # RTBM-LMP-SL-latestInterval.csv as each poll saw it (served in poll order)
    for now_text, _ in LMP_POLLS:
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        end = now.replace(second=0) - timedelta(minutes=now.minute % 5)
        name = f"RTBM-LMP-SL-latestInterval_{now:%Y%m%dT%H%MZ}.csv"
        record(LMP_URL, {"path": LATEST_PATH}, name, files[end], "RTBM-LMP-SL-latestInterval.csv")
    for now_text, _ in LOAD_POLLS:
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        end = now.replace(second=0) - timedelta(minutes=now.minute % 5)
        record(LOAD_URL, {}, f"load-forecast_{now:%Y%m%dT%H%MZ}.csv", load_file(rng, end), "OP-MTLF-STLF.csv")

    manifest = {
        "iso": "SPP",
        "polls": [{"dataset": "lmp", "now": n, "label": label} for n, label in LMP_POLLS]
        + [{"dataset": "load", "now": n, "label": label} for n, label in LOAD_POLLS],
        "responses": responses,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()

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

Day-ahead: the DA By_Day files (DA-LMP-SL-YYYYMMDD0100.csv, the same columns, one row per
location and hour ENDING, 23 / 25 hours on the DST days) of the days the dam polls read, each
hour seeded by itself (da_file). The load files' actual loads come from system_load (seeded
per interval), as do the STLF-vs-actual files of the history tree.

History: producers/recordings/history/spp/ (tools/recordings/spp_history.py) holds SPP's archives
for both DST days and the complete day 2026-06-11: the RTBM By_Day file (the rows of the live
interval files of that day, hubs and load areas only), the DA By_Day file and the STLF-vs-actual
file of every interval end. history_tree() writes the same for any range of days.
"""

from __future__ import annotations

import json
import math
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script too

from producers.spp import DAM_URL, LATEST_PATH, LMP_URL, LOAD_URL, dam_path, interval_path
from producers.spp.files import HOUR, day_bounds, steps
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


HEADER = "Interval,GMTIntervalEnd,Settlement Location,Pnode,LMP,MLC,MCC,MEC"
HEADER_BAA = "Interval,GMTIntervalEnd,BAA,Settlement Location,Pnode,LMP,MLC,MCC,MEC"
NODES = {"AECC_ELKINS", "AECC_FITZHUGH", "AEC"}  # resource nodes: left out of the history files


def price_lines(rng: random.Random, end: datetime, baa: bool = False) -> list[str]:
    """Every location's row for the interval (or hour) ending at `end`, sorted by location."""
    locations = {**LOCATIONS, **(WEST_2026 if baa else {})}
    energy = round(mec(rng, end), 4)
    night = end.astimezone(CENTRAL).hour < 6
    lines = []
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
    return lines


def price_file(rng: random.Random, end: datetime, baa: bool = False) -> str:
    """One RTBM interval file: every location's price for the interval ending at `end`."""
    return "\n".join([HEADER_BAA if baa else HEADER, *price_lines(rng, end, baa)]) + "\n"


def interval_file(end: datetime) -> str:
    """The RTBM file of the interval ending at `end`, seeded by that interval alone, so the
    live per-interval files and the By_Day history file of a day hold the same values."""
    return price_file(synth.rng("spp-rt", end.isoformat()), end, baa=end.year >= 2026)


def da_file(day: date) -> str:
    """The day-ahead By_Day file of operating day `day`: every location, each hour ENDING in
    it (23 / 25 hours on the DST days), seeded by the hour."""
    start, stop = day_bounds(day)
    baa = day.year >= 2026
    rows = [line for end in steps(start + HOUR, stop, HOUR) for line in price_lines(synth.rng("spp-da", end), end, baa)]
    return "\n".join([HEADER_BAA if baa else HEADER, *rows]) + "\n"


def system_load(end: datetime, area: str = "SPP") -> float:
    """The actual load of the 5-minute interval ending at `end` (seeded by the interval: the live
    load file and the STLF-vs-actual files agree)."""
    hour = synth.local_hour(end, CENTRAL)
    base, swing = (31000, 7000) if area == "SPP" else (4000, 800)
    load = base + swing * math.sin((hour - 10) / 24 * 2 * math.pi)
    return round(load * (1 + synth.rng("spp-load", area, end).gauss(0, 0.004)), 1)


def load_file(rng: random.Random, latest_end: datetime, seeded: bool = False) -> str:
    """The forecast-vs-actual CSV: newest first, forecast-only rows ahead, a day of actuals
    (`seeded`: each actual load from system_load, as the STLF-vs-actual files have it)."""
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
        if seeded and k <= 0:
            actual[0] = f"{system_load(end):.1f}"
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
DAM_POLLS = [
    ("2026-06-10T15:00:00Z", "10:00 CDT, before the posting: the current day only"),
    ("2026-06-10T18:42:30Z", "13:42 CDT: the current day and the next, posted at 13:00"),
    ("2025-03-08T19:30:00Z", "13:30 CST: 03-08 and the spring-forward day's 23 hours"),
    ("2025-11-01T18:30:00Z", "13:30 CDT: 11-01 and the fall-back day's 25 hours"),
]
# The day-ahead files those polls read: each polled day's and the next day's.
DAM_DAYS = synth.with_next_days(date(2026, 6, 10), date(2025, 3, 8), date(2025, 11, 1))
# The committed history tree: both DST days (the values of the live files above) and the
# complete day of producers/recordings/day/spp/ (its seeded values).
HISTORY_DAYS = [date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11)]
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
        body = load_file(rng, end, seeded=True)
        record(LOAD_URL, {}, f"load-forecast_{now:%Y%m%dT%H%MZ}.csv", body, "OP-MTLF-STLF.csv")
    for day in DAM_DAYS:
        name = dam_path(day).rsplit("/", 1)[1]
        record(DAM_URL, {"path": dam_path(day)}, name, da_file(day), name)

    manifest = {
        "iso": "SPP",
        "polls": [{"dataset": "lmp", "now": n, "label": label} for n, label in LMP_POLLS]
        + [{"dataset": "load", "now": n, "label": label} for n, label in LOAD_POLLS]
        + [{"dataset": "dam", "now": n, "label": label} for n, label in DAM_POLLS],
        "responses": responses,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    from tools.recordings import spp_history

    spp_history.write_tree(
        synth.out_dir("history") / "spp", HISTORY_DAYS, lambda end: files.get(end) or interval_file(end)
    )


def history_tree(root: Path, start: date, end: date) -> None:
    """A replay tree at `root` of SPP's archives (RTBM and day-ahead By_Day files, STLF-vs-actual
    files) for every operating day in [start, end], seeded values (tools/recordings/spp_history.py)."""
    from tools.recordings import spp_history

    spp_history.history_tree(root, start, end)


if __name__ == "__main__":
    main()

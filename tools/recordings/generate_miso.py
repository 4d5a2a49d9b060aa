"""Write producers/recordings/miso/ (live replay tree: MISO public-API JSON, day-ahead ex-post
CSVs and df_al.xls load reports) and producers/recordings/history/miso/ (archive replay tree:
weekly five-minute LMP zips, day-ahead ex-post CSVs and df_al.xls load reports), filled with
seeded synthetic numbers (see synth.py; the load report's layout: miso_dfal.py).

Run from the repository root:  .venv/bin/python -m tools.recordings.generate_miso

No real MISO response exists in ../shared/iso-samples: these files follow the layouts gridstatus
and other public clients read (producers/miso/__init__.py). Five-minute labels are interval
ENDS, as MISO writes them; day-ahead columns are hours ending. Every number is seeded by its
interval start and node alone, so a live file and an archive file of one interval agree.
Same-URL recordings are served in manifest order. Test-only files (not in the manifest):
rolling_<date>.json, whole EST market days in the Rolling feed's shape, for the DST-day checks.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gridtape import isos
from gridtape.timeutil import EST
from producers.miso import LMP_URL, LOAD_URL, da_url, dfal, weekly_url
from tools.recordings import miso_dfal, synth

HUBS = isos.get("MISO").hubs
NODES = ("ALTW.WELLS1", "EES.WRPP1", "NIPS.SCHAHFER18")  # made-up node names
ZONES = ("AMIL.BGS6", "CONS.CETR", "DECO.DECO", "NSP.NSP", "WEC.WEC")  # made-up load-zone names
HEADERS = ["INTERVAL", "CPNODE", "LMP", "MLC", "MCC"]
FIVE = timedelta(minutes=5)
HOUR = timedelta(hours=1)
XLS = "application/vnd.ms-excel"
HISTORY_DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11))  # both DST days and DAY


def midnight(day: date) -> datetime:
    """00:00 EST of `day`, as UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=EST).astimezone(UTC)


def prices(t: datetime, node: str) -> tuple[float, float, float]:
    """(lmp, mlc, mcc) of the five-minute interval starting at t: the same in every file."""
    energy = synth.energy_price(t, EST, synth.rng("miso", t.isoformat()), base=30.0, solar=18.0)
    rn = synth.rng("miso", node, t.isoformat())
    south = node.startswith(("LOUISIANA", "TEXAS", "MS.", "ARKANSAS", "EES"))
    mcc = synth.congestion(rn, 7.0 if south else 2.5)
    mlc = synth.loss(energy, 0.03 if south else -0.01, rn)
    return round(energy + mcc + mlc, 2), round(mlc, 2), round(mcc, 2)


def lmp_rows(starts: list[datetime], nodes: tuple[str, ...]) -> list[list[str]]:
    rows = []
    for t in starts:
        for node in nodes:
            lmp, mlc, mcc = prices(t, node)
            rows.append(
                [f"{(t + FIVE).astimezone(EST):%Y-%m-%dT%H:%M:%S}", node, f"{lmp:.2f}", f"{mlc:.2f}", f"{mcc:.2f}"]
            )
    return rows


def lmp_doc(starts: list[datetime], nodes: tuple[str, ...] = HUBS + NODES) -> bytes:
    """The API feeds' JSON for the intervals starting at `starts` (labelled by their ends)."""
    doc = {"headers": HEADERS, "data": lmp_rows(starts, nodes)}
    return json.dumps(doc, separators=(",", ":")).encode()


def weekly_zip(file_day: date, nodes: tuple[str, ...] = HUBS) -> bytes:
    """YYYYMMDD_5MIN_LMP.zip dated `file_day` (a Monday): market days file_day-14 .. -8."""
    first = midnight(file_day - timedelta(days=14))
    lines = [
        "Real-Time 5-Minute Final LMPs",
        f"Market Days {file_day - timedelta(days=14):%m/%d/%Y} - {file_day - timedelta(days=8):%m/%d/%Y}",
        "",
        "All times are Eastern Standard Time (EST)",
        "MKTHOUR_EST,PNODENAME,LMP,CON_LMP,LOSS_LMP",
    ]
    for k in range(7 * 288):
        t = first + k * FIVE
        label = f"{(t + FIVE).astimezone(EST):%m/%d/%Y %H:%M}"
        for node in nodes:
            lmp, mlc, mcc = prices(t, node)
            lines.append(f"{label},{node},{lmp:.2f},{mcc:.2f},{mlc:.2f}")
    lines.append("End of Report")
    return synth.zip_bytes({f"{file_day:%Y%m%d}_5MIN_LMP.csv": ("\r\n".join(lines) + "\r\n").encode()})


def da_csv(day: date, nodes: tuple[str, ...] = HUBS + ZONES) -> bytes:
    """YYYYMMDD_da_expost_lmp.csv: three rows (LMP, MCC, MLC) per node, hours ending 1..24 EST."""
    first = midnight(day)
    lines = [
        '"Day Ahead Market ExPost LMPs"',
        f"{day:%m/%d/%Y}",
        ",,",
        '"All Hours-Ending are Eastern Standard Time (EST)"',
        "Node,Type,Value," + ",".join(f"HE {h}" for h in range(1, 25)),
    ]
    for node in nodes:
        kind = "Hub" if node.endswith(".HUB") else "Loadzone" if node in ZONES else "Gennode"
        cells: dict[str, list[str]] = {"LMP": [], "MCC": [], "MLC": []}
        for h in range(24):
            t = first + h * HOUR
            energy = synth.energy_price(t, EST, synth.rng("miso-da", t.isoformat()), base=31.0, solar=15.0)
            rn = synth.rng("miso-da", node, t.isoformat())
            mcc, mlc = synth.congestion(rn, 3.0), synth.loss(energy, 0.01, rn)
            for value, x in (("LMP", energy + mcc + mlc), ("MCC", mcc), ("MLC", mlc)):
                cells[value].append(f"{x:.2f}")
        lines += [f"{node},{kind},{value}," + ",".join(row) for value, row in cells.items()]
    return ("\r\n".join(lines) + "\r\n").encode()


def load_doc(day: datetime, fetched: datetime) -> bytes:
    first = day.replace(tzinfo=EST).astimezone(UTC)
    rows, t = [], first
    while t < first + timedelta(days=1) and t + timedelta(minutes=5) <= fetched:
        value = miso_dfal.five_minute_mw(t)
        rows.append({"Load": {"Time": f"{t.astimezone(EST):%H:%M}", "Value": f"{value:.0f}"}})
        t += timedelta(minutes=5)
    last = t - timedelta(minutes=5)
    hourly = [{"ClearedMWHourly": {"Hour": str(h), "Value": f"{74000 + 900 * h}"}} for h in range(1, 25)]
    forecast = [{"Forecast": {"HourEnding": str(h), "LoadForecast": f"{75000 + 850 * h}"}} for h in range(1, 25)]
    info = {
        "RefId": f"{day:%d-%b-%Y} - Interval {last.astimezone(EST):%H:%M} EST",
        "ClearedMW": hourly,
        "MediumTermLoadForecast": forecast,
        "FiveMinTotalLoad": rows,
    }
    return json.dumps({"LoadInfo": info}, separators=(",", ":")).encode()


def write_tree(root: Path, days: list[date]) -> None:
    """A replay tree of MISO's archives for `days`: each day's day-ahead file and load report (the
    one dated the day after), every weekly five-minute file holding one of them (once), then
    manifest.json."""
    root.mkdir(parents=True, exist_ok=True)
    responses: list[dict[str, object]] = []

    def record(url: str, body: bytes, content_type: str) -> None:
        name = url.rsplit("/", 1)[1]
        (root / name).write_bytes(body)
        responses.append(
            {"url": url, "params": {}, "file": name, "status": 200, "headers": {"Content-Type": content_type}}
        )

    for url in dict.fromkeys(weekly_url(d) for d in days):
        record(url, weekly_zip(datetime.strptime(url.rsplit("/", 1)[1][:8], "%Y%m%d").date()), "application/zip")
    for d in days:
        record(da_url(d), da_csv(d), "text/csv")
        record(dfal.holding(d), miso_dfal.report(d + timedelta(days=1)), XLS)
    manifest = {"iso": "MISO", "polls": [], "responses": responses}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def history_tree(root: Path, start: date, end: date) -> None:
    """Write a replay tree at `root` (root/manifest.json + files) answering MisoSource.history
    for lmp, load and dam on every day in [start, end]."""
    write_tree(root, [start + timedelta(days=n) for n in range((end - start).days + 1)])


def main() -> None:
    rec = synth.Recording("MISO")

    def record(name: str, url: str, body: bytes, content_type: str = "application/json; charset=utf-8") -> None:
        rec.record(name, url, body, content_type)

    for now_text, label in (
        ("2025-06-10T18:42:00Z", "normal day"),
        ("2025-03-09T08:07:00Z", "spring DST day (MISO stays on EST: 03:00-03:05 EST)"),
        ("2025-11-02T06:07:00Z", "fall DST day (MISO stays on EST: 01:00-01:05 EST, once)"),
    ):
        now = datetime.fromisoformat(now_text)
        newest = now.replace(minute=now.minute - now.minute % 5, second=0) - FIVE
        record(f"fiveminexpost_current_{now:%Y%m%dT%H%M}.json", LMP_URL, lmp_doc([newest]))
        rec.poll("lmp", now_text, label)

    for now_text, day, label in (
        ("2025-06-10T18:42:00Z", datetime(2025, 6, 10), "normal day so far"),
        ("2025-03-10T05:00:40Z", datetime(2025, 3, 9), "spring DST day, whole EST market day (288)"),
        ("2025-11-03T05:00:40Z", datetime(2025, 11, 2), "fall DST day, whole EST market day (288)"),
    ):
        now = datetime.fromisoformat(now_text)
        record(f"realtimetotalload_{day:%Y%m%d}.json", LOAD_URL, load_doc(day, now))
        # the report dated today (EST): yesterday's hourly zone actuals (both DST days' at 00:00 EST)
        today = now.astimezone(EST).date()
        record(f"df_al_{today:%Y%m%d}.xls", dfal.url(today), miso_dfal.report(today), XLS)
        rec.poll("load", now_text, label)

    for now_text, days, label in (
        ("2025-06-10T18:42:00Z", (date(2025, 6, 10),), "13:42 EST: today's results only"),
        ("2025-06-10T19:05:00Z", (date(2025, 6, 10), date(2025, 6, 11)), "14:05 EST: tomorrow's are posted"),
        ("2025-03-09T08:07:00Z", (date(2025, 3, 9),), "spring DST day: 24 EST hours"),
        ("2025-11-02T06:07:00Z", (date(2025, 11, 2),), "fall DST day: 24 EST hours"),
    ):
        for d in days:
            record(f"da_expost_lmp_{d:%Y%m%d}_{now_text[11:13]}{now_text[14:16]}.csv", da_url(d), da_csv(d), "text/csv")
        rec.poll("dam", now_text, label)

    for day in (datetime(2025, 3, 9), datetime(2025, 11, 2)):
        starts = [day.replace(tzinfo=EST).astimezone(UTC) + k * FIVE for k in range(288)]
        (rec.out / f"rolling_{day:%Y%m%d}.json").write_bytes(lmp_doc(starts, HUBS))  # hubs only: size

    rec.save()
    history = synth.out_dir("history") / "miso"
    if history.exists():
        for old in history.iterdir():
            old.unlink()
    write_tree(history, list(HISTORY_DAYS))


if __name__ == "__main__":
    main()

"""Write producers/recordings/isone/: ISO Express record-typed CSVs (fiveminlmp/current,
fiveminutesystemload by day) and the cookie page stub, in ISO-NE's layouts, filled with
seeded synthetic numbers (see synth.py).

Run from the repository root:  .venv/bin/python -m tools.recordings.generate_isone

fiveminlmp/current is recorded three times (normal afternoon, the hour across the spring
gap, the hour across the fall-back), served in manifest order; each holds the newest twelve
intervals (how many intervals the live "current" file holds is not documented; the parser
does not depend on it). Load files are whole Eastern days (partial for the normal poll).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gridtape.timeutil import EASTERN
from producers.isone import COOKIE_PAGE, LMP_COLUMNS, LOAD_COLUMNS, LOCATION_TYPES, IsoneSource
from producers.isone.files import HUB_AND_ZONES, type_by_name
from tools.recordings import synth

# The hub and zones (ISO-NE's IDs and names, as the parser knows them), then three nodes (the
# external node is from ISO-NE's location list, the two network nodes are made-up names).
TYPE_OF = {kind: location_type for location_type, kind in LOCATION_TYPES.items()}  # "hub" -> "HUB"
LOCATIONS: tuple[tuple[int, str, str], ...] = (
    *((int(loc_id), name, TYPE_OF[type_by_name(name)]) for loc_id, name in HUB_AND_ZONES.items()),
    (4011, ".I.ROSETON 345 1", "EXT. NODE"),
    (10301, "UN.BRIDGEPT22.8BPT3", "NETWORK NODE"),
    (16002, "LD.MILLBURY115", "NETWORK NODE"),
)
PAGE = b"<!DOCTYPE html><html><head><title>ISO Express</title></head><body>recorded stub</body></html>\n"


def q(*cells: object) -> str:
    return ",".join(f'"{c}"' for c in cells)


def price_cells(name: str, t: datetime) -> tuple[float, float, float]:
    """(energy, congestion, loss) at `name` for the interval starting at t: seeded per interval,
    so the live current file and the historical files carry the same prices."""
    r = synth.rng("isone", t.isoformat())
    energy = round(synth.energy_price(t, EASTERN, r, base=42.0, solar=22.0), 2)
    rl = synth.rng("isone", name, t.isoformat())
    cong = round(synth.congestion(rl, 3.0 if name.startswith((".Z.MAINE", ".I.")) else 1.2), 2)
    loss = round(synth.loss(energy, 0.015 if "MAINE" in name else -0.006, rl), 2)
    return energy, cong, loss


def prices_text(name: str, t: datetime) -> str:
    energy, cong, loss = price_cells(name, t)
    return f"{energy + cong + loss:.2f},{energy:.2f},{cong:.2f},{loss:.2f}"


def lmp_current(now: datetime, generated: datetime) -> bytes:
    newest = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0) - timedelta(minutes=5)
    starts = [newest - timedelta(minutes=5 * k) for k in range(11, -1, -1)]
    lines = [
        q("C", "Preliminary Five-Minute Real-Time Locational Marginal Prices"),
        q("C", f"Report generated {generated.astimezone(EASTERN):%m/%d/%Y %H:%M:%S %Z}"),
        q("C", "Prices in dollars per MWh"),
        q("H", *LMP_COLUMNS),
        q("H", "", "", "", "", "(Dollars per MWh)", "(Dollars per MWh)", "(Dollars per MWh)", "(Dollars per MWh)"),
    ]
    count = 0
    for loc_id, name, kind in LOCATIONS:
        for t in starts:
            lines.append(
                f'"D","{t.astimezone(EASTERN):%Y-%m-%d %H:%M:%S}",{loc_id},"{name}","{kind}",{prices_text(name, t)}'
            )
            count += 1
    lines.append(q("T", count))
    return ("\r\n".join(lines) + "\r\n").encode()


def load_day(day: datetime, fetched: datetime) -> bytes:
    lines = [
        q("C", "Five-Minute System Load"),
        q("C", f"For {day:%m/%d/%Y}"),
        q("C", f"Report generated {fetched.astimezone(EASTERN):%m/%d/%Y %H:%M:%S %Z}"),
        q("C", "Load in MW"),
        q("H", *LOAD_COLUMNS, "Asset Related Load"),
        q("H", "", "(MW)", "(MW)"),
    ]
    t = datetime(day.year, day.month, day.day, tzinfo=EASTERN).astimezone(UTC)
    nxt = day + timedelta(days=1)
    stop = datetime(nxt.year, nxt.month, nxt.day, tzinfo=EASTERN).astimezone(UTC)
    count = 0
    while t < stop and t + timedelta(minutes=5) <= fetched:
        r = synth.rng("isone-load", t.isoformat())
        native = synth.load_mw(t, EASTERN, r, base=13500, swing=5200)
        lines.append(f'"D","{t.astimezone(EASTERN):%Y-%m-%d %H:%M:%S}",{native:.3f},{abs(r.gauss(250, 90)):.3f}')
        t += timedelta(minutes=5)
        count += 1
    lines.append(q("T", count))
    return ("\r\n".join(lines) + "\r\n").encode()


# Each feed's polls (now, label), served in this order.
LMP_POLLS = (
    ("2025-06-10T18:42:00Z", "normal day"),
    ("2025-03-09T07:12:00Z", "spring DST: 01:10-01:55 EST then 03:00-03:05 EDT"),
    ("2025-11-02T06:12:00Z", "fall DST: 01:10-01:55 EDT then 01:00-01:05 EST"),
)
LOAD_POLLS = (
    ("2025-06-10T18:42:00Z", "normal day so far"),
    ("2025-03-10T04:07:00Z", "after the spring DST day: 2025-03-09 whole (276) + new day"),
    ("2025-11-03T05:07:00Z", "after the fall DST day: 2025-11-02 whole (300) + new day"),
)
# dam: WW_DALMP_ISO_YYYYMMDD.csv, today's and, after 13:30, tomorrow's (both DST days)
DAM_POLLS = (
    ("2025-06-10T18:42:00Z", "normal day after 13:30: today's and tomorrow's results"),
    ("2025-03-08T18:35:00Z", "spring DST day 2025-03-09 posted (23 hours, no hour ending 03)"),
    ("2025-11-01T17:35:00Z", "fall DST day 2025-11-02 posted (25 hours, hour ending 02X)"),
)


def main() -> None:
    rec = synth.Recording("ISONE")
    rec.record("cookie_page.html", COOKIE_PAGE, PAGE, "text/html;charset=UTF-8")
    for now in rec.each_poll("lmp", LMP_POLLS):
        (request,) = IsoneSource.data_requests("lmp", now)
        body = lmp_current(now, now - timedelta(seconds=50))
        rec.record(f"fiveminlmp_current_{now:%Y%m%dT%H%M}.csv", request.url, body, "text/csv", request.params)
    for now in rec.each_poll("load", LOAD_POLLS):
        for request in IsoneSource.data_requests("load", now):
            day = datetime.strptime(request.params["start"], "%Y%m%d")
            stem, body = isone_history.load_file(request.url, day, now)
            rec.record(f"{stem}_{day:%Y%m%d}.csv", request.url, body, "text/csv", request.params)
    for now in rec.each_poll("dam", DAM_POLLS):
        for request in IsoneSource.data_requests("dam", now):
            day = datetime.strptime(request.url.rsplit("_", 1)[1][:8], "%Y%m%d")
            rec.record(request.url.rsplit("/", 1)[1], request.url, isone_history.da_day(day), "text/csv")
    rec.save()
    isone_history.write_committed()


def history_tree(root: Path, start: date, end: date) -> None:
    """A replay tree (root/manifest.json + files) answering ISO-NE history() for every day in
    [start, end]: the hub and the zones (tools/recordings/isone_history.py)."""
    isone_history.tree(root, start, end)


from tools.recordings import isone_history  # noqa: E402  (it reads this module's writers)

if __name__ == "__main__":
    main()

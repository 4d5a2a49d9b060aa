"""Regenerate producers/recordings/context/outages_spp/: SPP's Capacity of Generation on Outage
reports in the file browser's CSV format (see producers/context/outages_spp.py for what was
checked against what), seeded synthetic MW.

    .venv/bin/python -m tools.recordings.context_outages_spp   (from the repository root)

Reports of the days before and of the demo day 2026-06-11 and the 2025 and 2026 DST days (what
SppOutages.history() asks for), and one live poll on the demo day (today's report). Each report
holds 168 hours from the Central midnight of its day, ``Market Hour`` the UTC hour end, the
header padded with spaces as SPP writes it, the fuels adding up to Outaged MW.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from producers.context import outages_spp as spp
from tools.recordings import synth
from tools.recordings.context_outages import last_modified, save_with_live_poll

LIVE_NOW = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)
DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1), date(2026, 6, 11))
# A fuel's typical MW on outage (SPP's fleet: gas and coal dominate, wind is large too).
BASE = {"Coal": 3500, "Diesel Fuel Oil": 60, "Hydro": 120, "Natural Gas": 6000, "Nuclear": 0,
        "Solar": 40, "Waste Disposal": 5, "Wind": 2500, "Waste Heat": 0, "Other": 30}  # fmt: skip


def report(day: date) -> bytes:
    r = synth.rng("spp-outage", day)
    start = datetime.combine(day, time(), spp.ZONE).astimezone(UTC)
    header = ", ".join((spp.TIME, spp.TOTAL, *(f"{f} MW" for f in spp.FUELS)))
    lines = [header]
    level = {f: b * r.uniform(0.7, 1.3) for f, b in BASE.items()}
    for n in range(168):
        end = start + timedelta(hours=n + 1)
        mw = {f: round(max(0.0, v * r.uniform(0.95, 1.05)), 1) if v else 0.0 for f, v in level.items()}
        if day.month == 3 and n == 0:
            mw["Nuclear"] = 1200.0  # a refuelling outage
        cells = [f"{end.month}/{end.day}/{end.year} {end.hour}:00", f"{round(sum(mw.values()), 1):g}"]
        lines.append(",".join(cells + [f"{mw[f]:g}" for f in spp.FUELS]))
    return ("\r\n".join(lines) + "\r\n").encode()


def main() -> None:
    rec = synth.Recording("context/outages_spp")
    rec.iso = "SPP"
    reports = sorted({d - timedelta(days=k) for d in DAYS for k in (0, 1)})
    for day in reports:
        rec.record(
            f"Capacity-Gen-Outage-{day:%Y%m%d}.csv", spp.URL, report(day), "text/csv", {"path": spp.report_path(day)}
        )
        posted = datetime.combine(day, time(8), spp.ZONE)
        last_modified(rec, posted)
    save_with_live_poll(rec, LIVE_NOW)


if __name__ == "__main__":
    main()

"""Regenerate producers/recordings/context/outages_isone/: ISO-NE Morning Reports (ISO Express
CSV export, record-typed) in the layout producers/context/outages_isone.py documents (what was
checked against what is there), seeded synthetic MW.

    .venv/bin/python -m tools.recordings.context_outages_isone   (from the repository root)

Reports of the demo day 2026-06-11 and the 2025 and 2026 DST days (what IsoneOutages.history()
asks for) and one live poll on the demo day, each behind the cookie page. Reports before the
mid-2025 format change (the 2025 spring day) leave the planned / forced lines blank, later ones
fill them; line C is their sum. The other Section 3 lines are filled so that the report's own
arithmetic (H = A + B - C - D + E - F - G) holds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from producers.context import outages_isone as isone
from producers.isone.files import COOKIE_PAGE, ZONE
from tools.recordings import synth
from tools.recordings.context_outages import last_modified, save_with_live_poll

LIVE_NOW = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)
DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1), date(2026, 6, 11))
SPLIT_SINCE = date(2025, 7, 1)  # the planned / forced lines are blank before (mid-2025 format change)


def outages(day: date) -> tuple[int, int]:
    """(planned, forced) MW of one day: planned work in the shoulder seasons."""
    r = synth.rng("isone-outage", day)
    planned = round((3200 if day.month in (3, 4, 5, 10, 11) else 600) * r.uniform(0.7, 1.3))
    return planned, round(1400 * r.uniform(0.5, 1.5))


def report(day: date) -> bytes:
    r = synth.rng("isone-report", day)
    planned, forced = outages(day)
    c = planned + forced
    cso, add, d, e, f, g = 28600, round(1500 * r.uniform(0.8, 1.2)), round(6000 * r.uniform(0.7, 1.3)), 208, 12, -2634
    h = cso + add - c - d + e - f - g
    peak, reserve = round(16000 * r.uniform(0.9, 1.25), -2), 2781
    split = day >= SPLIT_SINCE
    rows = [
        '"C","ISO New England Inc. Morning Report"',
        f'"C","Filename: morning_report_{day:%Y%m%d}.csv"',
        f'"C","Report for {day:%m/%d/%Y}"',
        '"H","Section 2. Prior Day Peak","Hour Ending","MW"',
        f'"D","{date.fromordinal(day.toordinal() - 1):%m/%d/%Y}","18","{round(peak * 0.97):d}"',
        '"H","Section 3. Operable Capacity Analysis"',
        '"H","Description","MW"',
        f'"D","A. Capacity Supply Obligation (CSO)",{cso}',
        f'"D","B. Capacity Additions EcoMax > CSO",{add}',
        f'"D","C. Generation Outages and Reductions (Planned + Forced)",{c}',
        f'"D","Generation Planned Outages and Reductions",{planned if split else ""}',
        f'"D","Generation Forced Outages and Reductions",{forced if split else ""}',
        f'"D","D. Uncommitted Available Generation (Non-fast start)",{d}',
        f'"D","E. DRR Capacity",{e}',
        f'"D","F. Uncommitted Available DRR",{f}',
        '"D","G. Capacity Deliveries: Net Purchases = (-) Net Sales = (+)"',
        f'"D","Highgate",{-225}',
        f'"D","Net Deliveries",{g}',
        f'"D","H. Total Available Capacity (A+B-C-D+E-F-G)",{h}',
        f'"D","I. Peak Load Forecast For Hour Ending18",{peak:.0f}',
        f'"D","J. Total Operating Reserve Requirement",{reserve}',
        f'"D","K. Capacity Required = I + J",{peak + reserve:.0f}',
        f'"D","L. Surplus = (+) Deficiency = (-) (H - K)",{h - peak - reserve:.0f}',
        '"D","M. Replacement Reserve Requirement",180',
        f'"D","N. Excess Commitment Surplus = (+) Deficiency = (-) (L - M)",{h - peak - reserve - 180:.0f}',
        '"D","Section 4. Largest First Contingency MW",1674',
        '"C","End of Report"',
    ]
    return ("\r\n".join(rows) + "\r\n").encode()


def main() -> None:
    rec = synth.Recording("context/outages_isone")
    rec.iso = "ISONE"
    rec.record("cookie_page.html", COOKIE_PAGE, b"<html><body>ISO Express</body></html>\n", "text/html;charset=UTF-8")
    for day in sorted(DAYS):
        req = isone.request(day)
        rec.record(f"morningreport_{day:%Y%m%d}.csv", req.url, report(day), "text/csv", req.params)
        posted = datetime.combine(day, time(7, 30), ZONE)
        last_modified(rec, posted)
    save_with_live_poll(rec, LIVE_NOW)


if __name__ == "__main__":
    main()

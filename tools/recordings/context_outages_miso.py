"""Regenerate producers/recordings/context/outages_miso/: MISO's Multi-Day Operating Margin
reports (YYYYMMDD_mom.xlsx, sheet OUTAGE) in the layout producers/context/outages_miso.py
documents (what was checked against what is there), seeded synthetic MW.

    .venv/bin/python -m tools.recordings.context_outages_miso   (from the repository root)

Reports of the demo day 2026-06-11 and the 2025 and 2026 DST days (what MisoOutages.history()
asks for; MISO's EST clock gives them 24 hours like any day) and one live poll on the demo day
(today's report, the same file). Layout: title rows, the forecast table (header row 7: Region, Type, the 7 following
days as M/D/YYYY text), a blank row, the estimated table (header row 27: the 30 days up to the
report day, the newest marked `` **``), each 16 rows (MISO, North, Central, South x Derated,
Forced, Planned, Unplanned) and a blank. MISO's row is the sum of the three regions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import openpyxl

from producers.context import outages_miso as miso
from tools.recordings import synth
from tools.recordings.context_outages import last_modified, save_with_live_poll, xlsx_bytes

LIVE_NOW = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)
DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1), date(2026, 6, 11))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGIONS = {"North": 0.3, "Central": 0.45, "South": 0.25}  # share of MISO's outage MW
TYPES = {"Derated": 9000, "Forced": 7000, "Planned": 14000, "Unplanned": 3000}  # typical MISO MW


def values(report: date, day: date, kind: str) -> dict[str, float]:
    """MW per region of one (day, type): the level of the day, a little noise per report."""
    level = TYPES[kind] * synth.rng("miso-outage", day, kind).uniform(0.7, 1.3)
    if kind == "Planned" and day.month in (3, 4, 10, 11):
        level *= 1.6  # the shoulder seasons' maintenance
    noise = synth.rng("miso-outage", report, day, kind)
    mw = {region: round(level * share * noise.uniform(0.97, 1.03)) for region, share in REGIONS.items()}
    return {"MISO": sum(mw.values()), **mw}


def table(sheet: object, header_row: int, report: date, days: list[date], marked: date | None) -> None:
    cell = sheet.cell  # type: ignore[attr-defined]
    cell(row=header_row, column=1, value="Region")
    cell(row=header_row, column=2, value="Type")
    for col, day in enumerate(days, start=3):
        cell(row=header_row, column=col, value=f"{day.month}/{day.day}/{day.year}" + (" **" if day == marked else ""))
    row = header_row + 1
    for region in ("MISO", *REGIONS):
        for kind in TYPES:
            cell(row=row, column=1, value=region)
            cell(row=row, column=2, value=kind)
            for col, day in enumerate(days, start=3):
                cell(row=row, column=col, value=values(report, day, kind)[region])
            row += 1


def workbook(report: date) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = miso.SHEET
    sheet["A1"] = "Multi-Day Operating Margin"
    sheet["A2"] = f"Published {report:%m/%d/%Y}"
    sheet["A6"] = "Outage Forecast (MW)"
    table(sheet, miso.FORECAST_HEADER, report, [report + timedelta(days=n) for n in range(1, 8)], None)
    sheet["A26"] = "Estimated Outages (MW)  ** preliminary"
    table(sheet, miso.ESTIMATED_HEADER, report, [report - timedelta(days=n) for n in range(29, -1, -1)], report)
    return xlsx_bytes(book)


def main() -> None:
    rec = synth.Recording("context/outages_miso")
    rec.iso = "MISO"
    for day in sorted(DAYS):
        rec.record(f"{day:%Y%m%d}_mom.xlsx", miso.url(day), workbook(day), XLSX)
        posted = datetime.combine(day, time(5), miso.ZONE)
        last_modified(rec, posted)
    save_with_live_poll(rec, LIVE_NOW)


if __name__ == "__main__":
    main()

"""MISO's daily forecast and actual load report, ``YYYYMMDD_df_al.xls``, written with seeded
synthetic numbers in its served layout (producers/miso/dfal.py): an Excel 97 workbook, sheet
Sheet1, title lines, the header row ``Market Day, HourEnding, <area> MTLF (MWh), <area>
ActualLoad (MWh)...``, a blank line, hourly rows of seven market days (the day before the file's
date with its actuals, then six days of forecast only) and a footer line. Files dated from
2026-04-27 use MISO's newer layout: two more title lines and blank columns between the areas
(merged cells; where exactly MISO puts them is not known here, readers drop them by name).

The hourly MISO total is the mean of the hour's five-minute loads of RealTimeTotalLoad (the same
model), and the zones add up to it, so the hourly and five-minute feeds tell one story.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from gridtape.timeutil import EST
from tools.recordings import synth

AREAS = ("LRZ1", "LRZ2_7", "LRZ3_5", "LRZ4", "LRZ6", "LRZ8_9_10", "MISO")
SHARES = (0.16, 0.2, 0.14, 0.07, 0.16, 0.27)  # of the MISO total, LRZ1 .. LRZ8_9_10
NEW_LAYOUT = date(2026, 4, 27)  # the first file in MISO's re-saved layout (gridstatus #865)
FORECAST_DAYS = 7
FIVE = timedelta(minutes=5)
HOUR = timedelta(hours=1)


def five_minute_mw(t: datetime) -> float:
    """RealTimeTotalLoad's value for the five-minute interval starting at t (UTC)."""
    return synth.load_mw(t, EST, synth.rng("miso-load", t.isoformat()), base=76000, swing=26000)


def actuals(t: datetime) -> dict[str, float]:
    """Area -> actual load (MWh) of the EST hour starting at t (UTC)."""
    total = round(sum(round(five_minute_mw(t + k * FIVE)) for k in range(12)) / 12, 2)
    r = synth.rng("miso-lrz", t.isoformat())
    zones = [round(total * s * (1 + r.gauss(0, 0.01)), 2) for s in SHARES[:-1]]
    zones.append(round(total - sum(zones), 2))
    return dict(zip(AREAS, [*zones, total], strict=True))


def forecasts(t: datetime, file_day: date) -> dict[str, float]:
    """Area -> MTLF (MWh) of the hour starting at t, as the file dated `file_day` forecasts it."""
    r = synth.rng("miso-mtlf", file_day.isoformat(), t.isoformat())
    total = round(synth.load_mw(t, EST, r, base=76000, swing=26000) * (1 + r.gauss(0, 0.02)))
    zones = [round(total * s) for s in SHARES]
    return dict(zip(AREAS, [*zones, total], strict=True))


def report(file_day: date, edits: Mapping[tuple[int, int], object] | None = None, sheet_name: str = "Sheet1") -> bytes:
    """The report dated `file_day`: actuals of the day before, forecasts of that day and six more.
    `edits` ((row, column) -> value, written last) and `sheet_name` make broken variants for tests."""
    import xlwt  # a dev dependency: only the recordings are written with it

    new = file_day >= NEW_LAYOUT
    book = xlwt.Workbook()
    sheet = book.add_sheet(sheet_name, cell_overwrite_ok=True)
    as_day = xlwt.easyxf(num_format_str="m/d/yyyy")
    titles = ["MISO", "FORECASTED AND ACTUAL LOAD REPORT", f"Published {file_day:%m/%d/%Y}", ""]
    if new:
        titles += ["All Hours-Ending are Eastern Standard Time (EST)", ""]
    for n, text in enumerate(titles):
        sheet.write(n, 0, text)
    # columns: Market Day, HourEnding, then per area MTLF, ActualLoad (and a blank one in the new layout)
    columns: dict[str, int] = {}
    k = 2
    for area in AREAS:
        columns[area] = k
        k += 3 if new else 2
    row = len(titles)
    sheet.write(row, 0, "Market Day")
    sheet.write(row, 1, "HourEnding")
    for area, col in columns.items():
        sheet.write(row, col, f"{area} MTLF (MWh)")
        sheet.write(row, col + 1, f"{area} ActualLoad (MWh)")
    row += 2  # a blank line under the header
    first = file_day - timedelta(days=1)
    for d in range(FORECAST_DAYS):
        day = first + timedelta(days=d)
        midnight = datetime(day.year, day.month, day.day, tzinfo=EST).astimezone(UTC)
        for h in range(24):  # EST all year: 24 hours ending 1..24, DST days too
            t = midnight + h * HOUR
            sheet.write(row, 0, day, as_day)
            sheet.write(row, 1, h + 1)
            mtlf = forecasts(t, file_day)
            actual = actuals(t) if d == 0 else {}
            for area, col in columns.items():
                sheet.write(row, col, mtlf[area])
                if area in actual:
                    sheet.write(row, col + 1, actual[area])
            row += 1
    sheet.write(row + 1, 0, "End of Report")
    for (r, c), value in (edits or {}).items():
        sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

"""Regenerate producers/recordings/context/outages_caiso/: CAISO's Curtailed and Non-Operational
Generator Prior Trade Date report (.xlsx, sheet PREV_DAY_OUTAGES: title rows, then the header
row whose column B is OUTAGE MRID, columns B:M as producers/context/outages_caiso.py documents),
seeded synthetic curtailments, written with openpyxl (what gridstatus reads it with). The zip
members get a fixed timestamp and the workbook fixed properties, so the output is byte-stable.

Responses: the report of every day in context_outages.DAYS; the live poll the day after the
demo day (the report of a trade date is posted the next day) reads the demo day's report.

Run: .venv/bin/python -m tools.recordings.context_outages_caiso
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import openpyxl

from producers.context.outages_caiso import url
from tools.recordings import synth
from tools.recordings.context_outages import DAYS, Tree, xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIVE_NOW = "2026-06-12T18:05:00Z"
HEADER = (
    "OUTAGE MRID",
    "RESOURCE NAME",
    "RESOURCE ID",
    "OUTAGE TYPE",
    "NATURE OF WORK",
    "CURTAILMENT START DATE TIME",
    "CURTAILMENT END DATE TIME",
    "CURTAILMENT MW",
    "RESOURCE PMAX MW",
    "NET QUALIFYING CAPACITY MW",
    "OUTAGE STATUS",
)
PLANNED_WORK = ("Plant Maintenance", "Plant Trouble", "Transmission Induced", "Environmental Restrictions")
FORCED_WORK = ("Plant Trouble", "Ambient Due to Temperature", "Unit Testing", "RIMS Testing")


def curtailments(day: date) -> list[tuple[object, ...]]:
    r = synth.rng("caiso-outages", day)
    rows: list[tuple[object, ...]] = []
    for n in range(60):
        forced = r.random() < 0.35
        pmax = round(r.choice((50, 100, 250, 480, 750, 1150)) * r.uniform(0.8, 1.2), 2)
        mw = round(pmax * r.uniform(0.2, 1.0), 2)
        if r.random() < 0.5:  # began before the day, runs through it (or later)
            start = datetime.combine(day, datetime.min.time()) - timedelta(
                days=r.randint(1, 20), hours=r.randint(0, 23)
            )
        else:
            start = datetime.combine(day, datetime.min.time()) + timedelta(
                hours=r.randint(3, 20), minutes=r.choice((0, 15, 30))
            )
        end = None if r.random() < 0.2 else start + timedelta(hours=r.randint(2, 400), minutes=r.choice((0, 30)))
        rows.append(
            (
                int(f"{day:%y%m%d}{n:04d}"),
                f"RESOURCE_{n:03d}",
                f"RES_{n:03d}_1",
                "FORCED" if forced else "PLANNED",
                r.choice(FORCED_WORK if forced else PLANNED_WORK),
                start,
                end,
                mw,
                pmax,
                round(pmax * r.uniform(0.7, 1.0), 2),
                "APPROVED",
            )
        )
    return rows


def workbook(day: date) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "PREV_DAY_OUTAGES"
    sheet["B1"] = "Curtailed and Non-Operational Generator Report"
    sheet["B2"] = f"Prior Trade Date: {day:%m/%d/%Y}"
    for col, name in enumerate(HEADER, start=2):
        sheet.cell(row=4, column=col, value=name)
    for i, row in enumerate(curtailments(day), start=5):
        for col, value in enumerate(row, start=2):
            sheet.cell(row=i, column=col, value=value)
    return xlsx_bytes(book)


def main() -> None:
    tree = Tree("CAISO")
    for day in DAYS:
        tree.record(f"curtailed_{day:%Y%m%d}.xlsx", url(day), workbook(day), XLSX)
    tree.poll(LIVE_NOW, "the demo day's report, posted the next day")
    tree.save()


if __name__ == "__main__":
    main()

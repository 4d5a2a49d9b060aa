"""Write producers/recordings/ercot/: MIS document lists and zipped report CSVs (12300 SCED
LMPs, 12301 15-minute settlement point prices) and the system-wide-demand dashboard JSON, in
ERCOT's layouts, filled with seeded synthetic numbers (see synth.py).

Run from the repository root:  .venv/bin/python -m tools.recordings.generate_ercot

One document list per report holds every recorded document (a normal-day afternoon, the
hours 00:00-04:00 of both DST days for 12300, whole DST days for 12301), so each poll's
`now` picks its own newest documents from the same list. The dashboard JSON is recorded
three times (normal day, the mornings after both DST days), served in manifest order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gridtape.timeutil import CENTRAL
from producers.ercot import demand5, lmp, load
from tools.recordings import ercot_formats, synth

HUBS = ("HB_BUSAVG", "HB_HOUSTON", "HB_HUBAVG", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST")
ZONES = ("LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST")
NODES = ("AMISTAD_ALL", "CALAVERS_JKS1", "SOLARA_UNIT1")
POINTS = HUBS + ZONES + NODES
REPORT_NAMES = {
    "12300": ("LMPSROSNODENP6788", "LMPs by Resource Nodes, Load Zones and Trading Hubs"),
    "12301": ("SPPHLZNP6905", "Settlement Point Prices at Resource Nodes, Hubs and Load Zones"),
    # one document a day, named without a time stamp
    "12331": ("DAMSPNP4190", "DAM Settlement Point Prices"),
    "13101": ("ACTSYSLOADWZNP6345", "Actual System Load by Weather Zone"),
    "14836": ("ACTSYSLOADFZNP6346", "Actual System Load by Forecast Zone"),
}
DAILY = ("12331", "13101", "14836")
# The committed history tree (producers/recordings/history/ercot/): both DST days and the
# complete demo day, whose numbers are those of the live day tree (tools/recordings/demo_day).
HISTORY_DAYS = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 11))


def price(point: str, t: datetime) -> float:
    r = synth.rng("ercot", t.replace(second=0).isoformat())
    energy = synth.energy_price(t, CENTRAL, r, base=28.0, solar=36.0)
    rp = synth.rng("ercot", point, t.replace(second=0).isoformat())
    west = 1.6 if point.endswith("WEST") or point in ("HB_PAN", "SOLARA_UNIT1") else 0.6
    return round(energy + synth.congestion(rp, 8.0 * west) - (12.0 if west > 1 and rp.random() < 0.15 else 0.0), 2)


def is_repeated(t: datetime) -> bool:
    """True in the second (standard-time) pass through a repeated wall-clock hour."""
    local = t.astimezone(CENTRAL)
    earlier = (t - timedelta(hours=1)).astimezone(CENTRAL)
    return local.replace(tzinfo=None) - earlier.replace(tzinfo=None) == timedelta(0)


def sced_csv(run: datetime, points: tuple[str, ...] = POINTS) -> bytes:
    local = run.astimezone(CENTRAL)
    flag = "Y" if is_repeated(run) else "N"
    lines = ['"SCEDTimestamp","RepeatedHourFlag","SettlementPoint","LMP"']
    lines += [f'"{local:%m/%d/%Y %H:%M:%S}","{flag}","{p}","{price(p, run):.2f}"' for p in points]
    return ("\r\n".join(lines) + "\r\n").encode()


def spp_csv(start: datetime, points: tuple[str, ...] = POINTS) -> bytes:
    local = start.astimezone(CENTRAL)
    # DeliveryHour is the wall-clock hour ending; the repeated hour is flagged, not numbered 25.
    hour_ending = local.hour + 1
    quarter = local.minute // 15 + 1
    flag = "Y" if is_repeated(start) else "N"
    lines = [
        '"DeliveryDate","DeliveryHour","DeliveryInterval","SettlementPointName","SettlementPointType","SettlementPointPrice","DSTFlag"'
    ]
    for p in points:
        kinds = ("HU",) if p.startswith("HB_") else ("LZ", "LZEW") if p.startswith("LZ_") else ("RN",)
        for kind in kinds:
            value = price(p, start) + (0.37 if kind == "LZEW" else 0.0)
            lines.append(f'"{local:%m/%d/%Y}","{hour_ending:02d}","{quarter}","{p}","{kind}","{value:.2f}","{flag}"')
    return ("\r\n".join(lines) + "\r\n").encode()


def document_entries(
    report: str, stamp: datetime, published: datetime, body: bytes, ids: Iterator[int]
) -> list[tuple[str, str, dict]]:
    """(constructed name, DocID, entry) of the csv and the xml document MIS lists for one file."""
    code, title = REPORT_NAMES[report]
    local = stamp.astimezone(CENTRAL)
    suffix = f"{local:%Y%m%d_%H%M%S}_" if report == "12300" else "" if report in DAILY else f"{local:%Y%m%d_%H%M}_"
    out = []
    for ext in ("csv", "xml"):
        doc_id = str(next(ids))
        constructed = f"cdr.{int(report):08d}.0000000000000000.{local:%Y%m%d}.{local:%H%M%S}.{code}_{suffix}{ext}.zip"
        entry = {
            "ExpiredDate": (published + timedelta(days=3)).astimezone(CENTRAL).isoformat(timespec="seconds"),
            "ILMStatus": "EXT",
            "SecurityStatus": "P",
            "ContentSize": str(len(body)),
            "Extension": "zip",
            "ReportTypeID": report,
            "FriendlyName": f"{code}_{suffix}{ext}",
            "ConstructedName": constructed,
            "DocID": doc_id,
            "PublishDate": published.astimezone(CENTRAL).isoformat(timespec="seconds"),
            "ReportName": title,
        }
        out.append((constructed, doc_id, entry))
    return out


def main() -> None:
    rec = synth.Recording("ERCOT")
    listings: dict[str, list[dict]] = {"12300": [], "12301": [], **{r: [] for r in DAILY}}
    next_id = iter(range(1_140_000_001, 1_150_000_000))

    def document(report: str, stamp: datetime, published: datetime, body: bytes) -> None:
        for constructed, doc_id, entry in document_entries(report, stamp, published, body, next_id):
            listings[report].append({"Document": entry})
            if constructed.endswith("_csv.zip"):
                zipped = synth.zip_bytes({constructed.replace("_csv.zip", ".csv"): body})
                params = {"doclookupId": doc_id}
                rec.record(f"{report}_{doc_id}.zip", lmp.DOWNLOAD_URL, zipped, "application/octet-stream", params)

    def sced_window(start: datetime, end: datetime, extra_run: datetime | None = None) -> None:
        t = start
        while t < end:
            r = synth.rng("ercot-sced", t.isoformat())
            run = t + timedelta(seconds=r.randint(8, 40))
            document("12300", run, run + timedelta(seconds=r.randint(25, 70)), sced_csv(run))
            t += timedelta(minutes=5)
        if extra_run is not None:  # a second SCED run inside one 5-minute interval
            document("12300", extra_run, extra_run + timedelta(seconds=41), sced_csv(extra_run))

    def spp_window(start: datetime, end: datetime) -> None:
        t = start
        while t < end:
            closes = t + timedelta(minutes=15)  # named by the interval's end, posted 95 s after it
            document("12301", closes, closes + timedelta(seconds=95), spp_csv(t))
            t += timedelta(minutes=15)

    def day(y: int, m: int, d: int) -> tuple[datetime, datetime]:
        first = datetime(y, m, d, tzinfo=CENTRAL)
        nxt = first + timedelta(days=1)
        return first.astimezone(UTC), datetime(nxt.year, nxt.month, nxt.day, tzinfo=CENTRAL).astimezone(UTC)

    sced_window(
        datetime(2025, 6, 10, 17, 0, tzinfo=UTC),
        datetime(2025, 6, 10, 18, 45, tzinfo=UTC),
        datetime(2025, 6, 10, 18, 32, 31, tzinfo=UTC),
    )
    for d in ((2025, 3, 9), (2025, 11, 2)):
        first, _ = day(*d)
        sced_window(first, datetime(*d, 4, tzinfo=CENTRAL).astimezone(UTC))  # 00:00-04:00 local
        spp_window(*day(*d))
    spp_window(datetime(2025, 6, 10, 17, 0, tzinfo=UTC), datetime(2025, 6, 10, 18, 30, tzinfo=UTC))
    for report, op, body in daily_documents(POINTS):
        published = daily_published(report, op)
        document(report, published, published, body)

    for report, entries in listings.items():
        entries.sort(key=lambda e: e["Document"]["PublishDate"], reverse=True)  # newest first, as MIS lists
        listing = json.dumps({"ListDocsByRptTypeRes": {"DocumentList": entries}}, separators=(",", ":")).encode()
        params = {"reportTypeId": report}
        rec.record(f"doclist_{report}.json", lmp.DOC_LIST_URL, listing, "application/json", params, first=True)

    rec.poll("lmp", "2025-06-10T18:42:00Z", "normal day")
    rec.poll("lmp", "2025-03-09T08:07:00Z", "spring DST: SCED runs at 01:55 CST, 03:00 and 03:05 CDT")
    rec.poll("lmp", "2025-11-02T07:07:00Z", "fall DST: SCED runs at 01:55 CDT, 01:00 and 01:05 CST")
    rec.poll("dam", "2025-06-10T18:42:00Z", "normal day: 06-10 and 06-11, posted at 13:30 CDT")
    rec.poll("dam", "2025-03-09T12:00:00Z", "spring DST day: 23 hours, HE 02:00 skipped")
    rec.poll("dam", "2025-11-02T12:00:00Z", "fall DST day: 25 hours, HE 02:00 twice")

    for fetched, days in (
        ("2025-06-10T18:42:00Z", ((2025, 6, 9), (2025, 6, 10), (2025, 6, 11))),
        ("2025-03-10T12:10:00Z", ((2025, 3, 9), (2025, 3, 10), (2025, 3, 11))),
        ("2025-11-03T12:10:00Z", ((2025, 11, 2), (2025, 11, 3), (2025, 11, 4))),
    ):
        now = datetime.fromisoformat(fetched)
        demand = json.dumps(demand_json(now, days), indent=2).encode()
        rec.record(f"system_wide_demand_{now:%Y%m%dT%H%M}.json", load.URL, demand, "application/json")
        five = json.dumps(ercot_formats.supply_demand_json(now), separators=(",", ":")).encode()
        rec.record(f"supply_demand_{now:%Y%m%dT%H%M}.json", demand5.URL, five, "application/json")
        label = {
            "06": "normal day (zones: 06-09)",
            "03": "day after spring DST (23 hours; zones: 03-09)",
            "11": "day after fall DST (25 hours; zones: 11-02)",
        }
        rec.poll("load", fetched, label[fetched[5:7]])
    rec.save()
    # The DST days' SCED runs only for 00:00-04:00 local (their changed hour), as recorded live.
    history_tree_of(synth.out_dir("history/ercot"), HISTORY_DAYS, {d: 4 for d in HISTORY_DAYS[:2]})


def history_tree(root: Path, start: date, end: date) -> None:
    """A replay tree at `root` (manifest.json + files) of the MIS archives history() reads,
    for every operating day in [start, end]: see tools/recordings/ercot_history.py."""
    history_tree_of(root, [start + timedelta(days=k) for k in range((end - start).days + 1)])


def history_tree_of(root: Path, days: Sequence[date], sced_hours: dict[date, int] | None = None) -> None:
    from tools.recordings import ercot_history  # it builds on this module's writers

    ercot_history.write(root, days, sced_hours)


# The daily reports recorded live: DAM results for the DST days, the normal day and the days
# after; zone loads for the days before each load poll.
DAM_DAYS = synth.with_next_days(date(2025, 3, 9), date(2025, 6, 10), date(2025, 11, 2))
ZONE_DAYS = (date(2025, 3, 9), date(2025, 6, 9), date(2025, 11, 2))


def daily_published(report: str, op: date) -> datetime:
    """When ERCOT posts operating day `op`'s document: DAM the day before at 13:30:xx CT, zone
    loads the morning after at 00:50:xx."""
    r = synth.rng("ercot-posted", report, op.isoformat())
    day, hour, minute = (op - timedelta(days=1), 13, 30) if report == "12331" else (op + timedelta(days=1), 0, 50)
    return datetime(day.year, day.month, day.day, hour, minute, r.randint(5, 55), tzinfo=CENTRAL).astimezone(UTC)


def daily_documents(
    points: tuple[str, ...], dam_days: tuple[date, ...] = DAM_DAYS, zone_days: tuple[date, ...] = ZONE_DAYS
) -> list[tuple[str, date, bytes]]:
    """(report, operating day, CSV) of the daily reports."""
    out = [("12331", op, ercot_formats.dam_csv(op, points)) for op in dam_days]
    for op in zone_days:
        out += [("13101", op, ercot_formats.zone_csv(op, True)), ("14836", op, ercot_formats.zone_csv(op, False))]
    return out


def demand_json(now: datetime, days: tuple[tuple[int, int, int], ...]) -> dict:
    def stamp(t: datetime) -> str:
        return t.astimezone(CENTRAL).strftime("%Y-%m-%d %H:%M:%S%z")

    doc: dict = {"lastUpdated": stamp(now - timedelta(minutes=3))}
    for key, (y, m, d) in zip(("previousDay", "currentDay", "nextDay"), days, strict=True):
        first = datetime(y, m, d, tzinfo=CENTRAL).astimezone(UTC)
        nxt = datetime(y, m, d, tzinfo=CENTRAL) + timedelta(days=1)
        last = datetime(nxt.year, nxt.month, nxt.day, tzinfo=CENTRAL).astimezone(UTC)
        rows, end, he = [], first + timedelta(hours=1), 1
        while end <= last:
            r = synth.rng("ercot-load", end.isoformat())
            forecast = synth.load_mw(end, CENTRAL, r, base=52000, swing=22000)
            row = {
                "hourEnding": he,
                "dstFlag": "Y" if is_repeated(end - timedelta(hours=1)) else "N",
                "currentLoadForecast": round(forecast + r.gauss(0, 400), 4),
                "dayAheadForecast": round(forecast + r.gauss(0, 900), 4),
            }
            if key != "nextDay":
                row["dayAheadHsl"] = round(forecast * 1.3, 1)
            if end <= now - timedelta(minutes=10):
                row["currentDayHsl"] = round(forecast * 1.28, 1)
                row["systemLoad"] = round(forecast + r.gauss(0, 600), 2)
            row["timestamp"] = stamp(end)
            row["epoch"] = int(end.timestamp() * 1000)
            rows.append(row)
            end += timedelta(hours=1)
            he += 1
        doc[key] = {"dayDate": stamp(first), "data": rows}
    return doc


if __name__ == "__main__":
    main()

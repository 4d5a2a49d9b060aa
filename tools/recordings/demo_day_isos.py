"""The per-ISO polls and responses of tools/recordings/demo_day.py: for each ISO, the poll
times its module needs to fetch every interval of DAY's local day, and what the ISO would
answer (the generators' writers). The numbers in the comments are local wall times."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from gridtape.timeutil import CENTRAL, EASTERN, EST, PACIFIC
from producers import caiso, isone, miso, pjm, spp
from producers.ercot import lmp as ercot_lmp
from producers.ercot import load as ercot_load
from tools.recordings import (
    generate_caiso,
    generate_ercot,
    generate_isone,
    generate_miso,
    generate_nyiso,
    generate_pjm,
    generate_spp,
    synth,
)
from tools.recordings.demo_day import DAY, Writer, local, next_day

MINUTE = timedelta(minutes=1)
FIVE = timedelta(minutes=5)
SEED = DAY.toordinal()


def build_miso(w: Writer) -> None:
    # 00:05:40 Current (00:00); 23:57:40 Rolling (the day so far: the cursor is 23 h behind);
    # next day 00:00:40 Current (23:55); load: RealTimeTotalLoad holds the whole EST day.
    first = local(EST)
    w.record("current_0005.json", miso.LMP_URL, generate_miso.lmp_doc([first]), content_type="application/json")
    w.poll("lmp", local(EST, hours=0, seconds=340), "first poll of the day: 00:00")
    starts = [first + k * FIVE for k in range(287)]
    w.record(
        "rolling_2357.json",
        miso.LMP_ROLLING_URL,
        generate_miso.lmp_doc(starts, generate_miso.HUBS),
        content_type="application/json",
    )
    w.poll("lmp", local(EST, hours=23, seconds=57 * 60 + 40), "cursor at 00:05: Rolling, 00:00-23:50")
    last = first + 287 * FIVE
    w.record("current_2400.json", miso.LMP_URL, generate_miso.lmp_doc([last]), content_type="application/json")
    now = local(EST, next_day(), seconds=40)
    w.poll("lmp", now, "next day 00:00:40: Current, 23:55")
    day = datetime(DAY.year, DAY.month, DAY.day)
    w.record("realtimetotalload.json", miso.LOAD_URL, generate_miso.load_doc(day, now), content_type="application/json")
    w.poll("load", now, "next day 00:00:40: the whole EST market day (288)")


def build_caiso(w: Writer) -> None:
    # lmp 00:07 (two hours back), next day 00:02 (back to the cursor 00:05: 24 h);
    # load 23:58 (ends 00:05-23:55) and next day 00:07 (its 00:00 row ends the day).
    source = caiso.CaisoSource()
    zipped = "application/x-zip-compressed"
    cursor = None
    for name, now, label in (
        ("lmp_0007.zip", local(PACIFIC, hours=0, seconds=7 * 60), "00:07, two hours back"),
        ("lmp_next_0002.zip", local(PACIFIC, next_day(), seconds=120), "next day 00:02, back to the cursor"),
    ):
        request = source.lmp_request(now, cursor)
        start, end = (
            datetime.strptime(request.params[k], caiso.OASIS_TIME).replace(tzinfo=UTC)
            for k in ("startdatetime", "enddatetime")
        )
        body = generate_caiso.lmp_zip(start, end, generate_caiso.HUBS + caiso.DLAPS, "")
        w.record(name, request.url, body, request.params, zipped)
        w.poll("lmp", now, label)
        cursor = end
    for name, day, now in (
        ("demand_2358.csv", DAY, local(PACIFIC, hours=23, seconds=58 * 60)),
        ("demand_next_0007.csv", next_day(), local(PACIFIC, next_day(), seconds=7 * 60)),
    ):
        body = generate_caiso.demand_csv(datetime(day.year, day.month, day.day), now)
        w.record(name, caiso.DEMAND_URL, body)
        w.poll("load", now, f"demand.csv at {now.astimezone(PACIFIC):%m-%d %H:%M} PT")


def build_isone(w: Writer) -> None:
    # lmp: fiveminlmp/current holds the newest hour, so one poll an hour (01:02 ... next day
    # 00:02); load: next day 00:07 still reads DAY's file whole (LOAD_YESTERDAY_UNTIL).
    w.record("cookie_page.html", isone.COOKIE_PAGE, generate_isone.PAGE, content_type="text/html;charset=UTF-8")
    for hour in range(1, 25):
        now = local(EASTERN, hours=hour, seconds=120)
        (request,) = isone.IsoneSource.data_requests("lmp", now)
        body = generate_isone.lmp_current(now, now - timedelta(seconds=50))
        w.record(f"fiveminlmp_current_{hour:02d}02.csv", request.url, body, request.params)
        w.poll("lmp", now, f"hour {hour}: the newest twelve intervals")
    now = local(EASTERN, next_day(), seconds=7 * 60)
    for request in isone.IsoneSource.data_requests("load", now):
        day = datetime.strptime(request.params["start"], "%Y%m%d")
        w.record(
            f"fiveminutesystemload_{day:%Y%m%d}.csv", request.url, generate_isone.load_day(day, now), request.params
        )
    w.poll("load", now, "next day 00:07: DAY's file whole, the new day's first interval")


def build_nyiso(w: Writer) -> None:
    # Next day 00:03: DAY's day files are complete, the next day's price file is not posted.
    rng = random.Random(SEED)
    base, nxt = generate_nyiso.BASE, next_day()
    now = local(EASTERN, nxt, seconds=180)
    end = local(EASTERN, nxt)
    day_file = generate_nyiso.lmp_day_file(rng, f"{DAY}")
    w.record(
        "realtime_zone_lbmp.csv",
        f"{base}/realtime/realtime_zone_lbmp.csv",
        generate_nyiso.lmp_current_file(day_file, end),
    )
    w.record(f"{DAY:%Y%m%d}realtime_zone.csv", f"{base}/csv/realtime/{DAY:%Y%m%d}realtime_zone.csv", day_file)
    page = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"
    url = f"{base}/csv/realtime/{nxt:%Y%m%d}realtime_zone.csv"
    w.record(f"{nxt:%Y%m%d}realtime_zone_404.html", url, page, content_type="text/html", status=404)
    w.record(f"{DAY:%Y%m%d}pal.csv", f"{base}/csv/pal/{DAY:%Y%m%d}pal.csv", generate_nyiso.pal_file(rng, f"{DAY}"))
    pal_next = generate_nyiso.pal_file(rng, f"{nxt}", until=end, cam=False)
    w.record(f"{nxt:%Y%m%d}pal.csv", f"{base}/csv/pal/{nxt:%Y%m%d}pal.csv", pal_next)
    w.poll("lmp", now, "next day 00:03: DAY complete (288 intervals)")
    w.poll("load", now, "next day 00:03: DAY complete (288 intervals)")


def build_pjm(w: Writer) -> None:
    # 00:02 (the last hour of the day before), next day 00:02 (back to the cursor: 24 h).
    # Hubs only (lmp) and the RTO only (load): what the checks need, at a tenth of the size.
    rng = random.Random(SEED)
    source = pjm.PjmSource(credentials={"api_key": "generator"})
    json_type = "application/json; charset=utf-8"
    for dataset in ("lmp", "load"):
        cursor = None
        for tag, now in (("0002", local(EASTERN, seconds=120)), ("next_0002", local(EASTERN, next_day(), seconds=120))):
            request = source.request(dataset, now, cursor)
            first, last = (
                datetime.fromisoformat(t).replace(tzinfo=UTC)
                for t in request.params["datetime_beginning_utc"].split("to")
            )
            starts = [first + k * FIVE for k in range(int((last - first) / FIVE) + 1) if first + (k + 1) * FIVE <= now]
            if dataset == "lmp":
                items = [text for pnode, text in generate_pjm.lmp_items(rng, starts) if pnode in generate_pjm.HUBS]
                url, fields = pjm.LMP_URL, generate_pjm.LMP_FIELDS
            else:
                items = [text for text in generate_pjm.load_items(rng, starts) if '"area":"PJM RTO"' in text]
                url, fields = pjm.LOAD_URL, generate_pjm.LOAD_FIELDS
            text = generate_pjm.envelope(url, dict(request.params), items, fields)
            json.loads(text)
            w.record(f"{dataset}_{tag}.json", request.url, text, request.params, json_type)
            w.poll(
                dataset, now, f"{now.astimezone(EASTERN):%m-%d %H:%M} ET" + (", back to the cursor" if cursor else "")
            )
            cursor = starts[-1] + FIVE


def build_spp(w: Writer) -> None:
    # lmp: 00:06:30, then every four hours (at most 48 interval files a poll, under
    # CATCHUP_PER_POLL) to next day 00:01:30; load: next day 00:02:30, 24 h of actuals.
    rng = random.Random(SEED)
    files: dict[datetime, str] = {}

    def interval_file(end: datetime) -> str:
        if end not in files:
            files[end] = generate_spp.price_file(rng, end, baa=True)
            path = spp.interval_path(end)
            name = path.rsplit("/", 1)[1]
            w.record(name, spp.LMP_URL, files[end], {"path": path}, headers=_disposition(name))
        return files[end]

    times = [local(CENTRAL, seconds=390)] + [local(CENTRAL, hours=h, seconds=90) for h in (4, 8, 12, 16, 20, 24)]
    cursor = None
    for now in times:
        latest = now.replace(second=0) - timedelta(minutes=now.minute % 5)
        for end in spp.missing_ends(latest, cursor):
            interval_file(end)
        name = f"RTBM-LMP-SL-latestInterval_{now:%Y%m%dT%H%MZ}.csv"
        w.record(
            name,
            spp.LMP_URL,
            interval_file(latest),
            {"path": spp.LATEST_PATH},
            headers=_disposition(spp.LATEST_PATH[1:]),
        )
        w.poll("lmp", now, f"{now.astimezone(CENTRAL):%m-%d %H:%M} CT" + (", back to the cursor" if cursor else ""))
        cursor = latest
    now = local(CENTRAL, next_day(), seconds=150)
    body = generate_spp.load_file(rng, now.replace(second=0) - timedelta(minutes=now.minute % 5))
    w.record("load-forecast_next_0002.csv", spp.LOAD_URL, body, headers=_disposition("OP-MTLF-STLF.csv"))
    w.poll("load", now, "next day 00:02:30: 24 h of actuals")


def _disposition(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def build_ercot(w: Writer) -> None:
    # lmp: one poll an hour, 00:03 ... next day 00:03 (after the first, the documents published
    # since the cursor: ~12 SCED runs and 4 settlement intervals, under CATCHUP); one document
    # list per report holds them all, each poll's `now` picks its own. load: next day 00:12.
    listings: dict[str, list[dict]] = {ercot_lmp.SCED_REPORT: [], ercot_lmp.SPP_REPORT: []}
    ids = iter(range(1_160_000_001, 1_170_000_000))
    first = local(CENTRAL)

    def document(report: str, stamp: datetime, published: datetime, body: bytes) -> None:
        for constructed, doc_id, entry in generate_ercot.document_entries(report, stamp, published, body, ids):
            listings[report].append({"Document": entry})
            if constructed.endswith("_csv.zip"):
                member = synth.zip_bytes({constructed.replace("_csv.zip", ".csv"): body})
                w.record(
                    f"{report}_{doc_id}.zip",
                    ercot_lmp.DOWNLOAD_URL,
                    member,
                    {"doclookupId": doc_id},
                    "application/octet-stream",
                )

    t = first - 2 * FIVE
    while t < local(CENTRAL, next_day()) + FIVE:  # a SCED run per interval, the day's edges too
        r = synth.rng("ercot-sced", t.isoformat())
        run = t + timedelta(seconds=r.randint(8, 40))
        document(ercot_lmp.SCED_REPORT, run, run + timedelta(seconds=r.randint(25, 70)), generate_ercot.sced_csv(run))
        t += FIVE
    t = first - timedelta(minutes=30)
    while t < local(CENTRAL, next_day()):
        document(ercot_lmp.SPP_REPORT, t, t + timedelta(minutes=15, seconds=95), generate_ercot.spp_csv(t))
        t += timedelta(minutes=15)
    for report, entries in listings.items():
        entries.sort(key=lambda e: e["Document"]["PublishDate"], reverse=True)  # newest first, as MIS lists
        doc = {"ListDocsByRptTypeRes": {"DocumentList": entries}}
        body = json.dumps(doc, separators=(",", ":"))
        w.record(f"doclist_{report}.json", ercot_lmp.DOC_LIST_URL, body, {"reportTypeId": report}, "application/json")
    for hour in range(25):
        now = local(CENTRAL, hours=hour, seconds=180)
        w.poll(
            "lmp", now, f"{now.astimezone(CENTRAL):%m-%d %H:%M} CT" + (", documents since the cursor" if hour else "")
        )
    now = local(CENTRAL, next_day(), seconds=12 * 60)
    days = tuple((d.year, d.month, d.day) for d in (DAY, next_day(), next_day() + timedelta(days=1)))
    body = json.dumps(generate_ercot.demand_json(now, days), indent=2)
    w.record("system_wide_demand_next_0012.json", ercot_load.URL, body, content_type="application/json")
    w.poll("load", now, "next day 00:12: DAY's 24 hours in previousDay")


BUILDERS: dict[str, Callable[[Writer], None]] = {
    "CAISO": build_caiso,
    "ERCOT": build_ercot,
    "ISONE": build_isone,
    "MISO": build_miso,
    "NYISO": build_nyiso,
    "PJM": build_pjm,
    "SPP": build_spp,
}

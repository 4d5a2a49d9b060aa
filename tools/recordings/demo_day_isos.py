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
    # Intervals named by start here; MISO labels them by end. 00:05:40 Current (00:00);
    # 23:57:40 Rolling (the day so far: the cursor is 23 h behind); next day 00:00:40 Current
    # (23:55, labelled 00:00 of the next date); load: RealTimeTotalLoad holds the whole EST day.
    first = local(EST)
    w.record("current_0005.json", miso.LMP_URL, generate_miso.lmp_doc([first]), content_type="application/json")
    w.poll("lmp", local(EST, hours=0, seconds=340), "first poll of the day: 00:00-00:05, labelled 00:05")
    # dam: 00:10 DAY's results (posted the day before); 14:05 DAY's and the next day's (14:00 EST).
    for d in (DAY, next_day()):
        w.record(f"da_expost_lmp_{d:%Y%m%d}.csv", miso.da_url(d), generate_miso.da_csv(d))
    w.poll("dam", local(EST, hours=0, seconds=600), "00:10: DAY's day-ahead results")
    w.poll("dam", local(EST, hours=14, seconds=300), "14:05: DAY's and the next day's results")
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
    # df_al.xls dated the next day holds DAY's hourly zone actuals: not posted at 00:00:40 (404),
    # there at 00:30 (the load poll asks for it every time).
    from tools.recordings import miso_dfal  # here: build_miso's own helper (the import block is shared)

    report = miso.dfal.url(next_day())
    w.record("df_al_404.html", report, "<html><body>Not Found</body></html>", content_type="text/html", status=404)
    w.poll("load", now, "next day 00:00:40: the whole EST market day (288); df_al not posted yet")
    now = local(EST, next_day(), seconds=30 * 60)
    so_far = generate_miso.load_doc(day + timedelta(days=1), now)
    w.record("realtimetotalload_next.json", miso.LOAD_URL, so_far, content_type="application/json")
    w.record("df_al.xls", report, miso_dfal.report(next_day()), content_type="application/vnd.ms-excel")
    w.poll("load", now, "next day 00:30: df_al.xls, DAY's 24 hours by zone (RTH)")


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
        # TAC-area actuals of the 24 hours before (asked when the ISO table has the RTH load feed)
        url, params, start, end = generate_caiso.tac_request_before(now)
        w.record(
            name.replace("demand", "tac").replace(".csv", ".zip"),
            url,
            generate_caiso.tac_zip(start, end),
            params,
            zipped,
        )
        w.poll("load", now, f"demand.csv at {now.astimezone(PACIFIC):%m-%d %H:%M} PT")
    # dam 00:07 (DAY's results, posted the day before) and 13:05 (DAY's and the next day's)
    cursor = None
    for name, now in (
        ("dam_0007.zip", local(PACIFIC, seconds=7 * 60)),
        ("dam_1305.zip", local(PACIFIC, hours=13, seconds=300)),
    ):
        request = source.dam_request(now, cursor)
        start, end = (
            datetime.strptime(request.params[k], caiso.OASIS_TIME).replace(tzinfo=UTC)
            for k in ("startdatetime", "enddatetime")
        )
        body = generate_caiso.dam_zip(start, end, generate_caiso.HUBS + caiso.DLAPS)
        w.record(name, request.url, body, request.params, zipped)
        w.poll("dam", now, f"PRC_LMP DAM at {now.astimezone(PACIFIC):%H:%M} PT")
        cursor = end


def build_isone(w: Writer) -> None:
    # lmp: fiveminlmp/current holds the newest hour, so one poll an hour (01:02 ... next day
    # 00:02); load: next day 00:07 still reads DAY's system file whole (LOAD_YESTERDAY_UNTIL),
    # next day 02:30 DAY's zonal file whole (it runs 1-2 h behind; ZONAL_YESTERDAY_UNTIL);
    # dam: 13:35 DAY's and the next day's WW_DALMP_ISO files. Every number is seeded per
    # interval, as in the history tree (tools/recordings/isone_history.py).
    from tools.recordings import isone_history

    w.record("cookie_page.html", isone.COOKIE_PAGE, generate_isone.PAGE, content_type="text/html;charset=UTF-8")
    for hour in range(1, 25):
        now = local(EASTERN, hours=hour, seconds=120)
        (request,) = isone.IsoneSource.data_requests("lmp", now)
        body = generate_isone.lmp_current(now, now - timedelta(seconds=50))
        w.record(f"fiveminlmp_current_{hour:02d}02.csv", request.url, body, request.params)
        w.poll("lmp", now, f"hour {hour}: the newest twelve intervals")
    for now, label in (
        (local(EASTERN, next_day(), seconds=7 * 60), "next day 00:07: DAY's system file whole"),
        (local(EASTERN, next_day(), seconds=150 * 60), "next day 02:30: DAY's zonal file whole"),
    ):
        for request in isone.IsoneSource.data_requests("load", now):
            day = datetime.strptime(request.params["start"], "%Y%m%d")
            stem, body = isone_history.load_file(request.url, day, now)
            w.record(f"{stem}_{day:%Y%m%d}_{now.astimezone(EASTERN):%H%M}.csv", request.url, body, request.params)
        w.poll("load", now, label)
    now = local(EASTERN, hours=13, seconds=35 * 60)
    for request in isone.IsoneSource.data_requests("dam", now):
        w.record(
            request.url.rsplit("/", 1)[1],
            request.url,
            isone_history.da_day(datetime.strptime(request.url[-12:-4], "%Y%m%d")),
        )
    w.poll("dam", now, "13:35: DAY's and the next day's results (24 h each)")


def build_nyiso(w: Writer) -> None:
    # dam: DAY 11:05 (DAY's results, posted the day before, and the next day's, posted at
    # 11:00). Next day 00:03: DAY's day files are complete, the next day's price file is not
    # posted. Each day file is seeded per day (generate_nyiso.day_rng), as in the history tree.
    base, nxt = generate_nyiso.BASE, next_day()
    for d in (DAY, nxt):
        name = f"{d:%Y%m%d}damlbmp_zone.csv"
        w.record(name, f"{base}/csv/damlbmp/{name}", generate_nyiso.dam_file(generate_nyiso.day_rng("dam", d), f"{d}"))
    w.poll("dam", local(EASTERN, hours=11, seconds=300), "11:05: DAY's and the next day's results (24 h each)")
    now = local(EASTERN, nxt, seconds=180)
    end = local(EASTERN, nxt)
    day_file = generate_nyiso.lmp_day_file(generate_nyiso.day_rng("lmp", DAY), f"{DAY}")
    w.record(
        "realtime_zone_lbmp.csv",
        f"{base}/realtime/realtime_zone_lbmp.csv",
        generate_nyiso.lmp_current_file(day_file, end),
    )
    w.record(f"{DAY:%Y%m%d}realtime_zone.csv", f"{base}/csv/realtime/{DAY:%Y%m%d}realtime_zone.csv", day_file)
    page = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"
    url = f"{base}/csv/realtime/{nxt:%Y%m%d}realtime_zone.csv"
    w.record(f"{nxt:%Y%m%d}realtime_zone_404.html", url, page, content_type="text/html", status=404)
    pal = generate_nyiso.pal_file(generate_nyiso.day_rng("load", DAY), f"{DAY}")
    w.record(f"{DAY:%Y%m%d}pal.csv", f"{base}/csv/pal/{DAY:%Y%m%d}pal.csv", pal)
    # its 00:00 reading ends DAY's last interval (a reading at T ends the interval ending at T)
    pal_next = generate_nyiso.pal_file(generate_nyiso.day_rng("load", nxt), f"{nxt}", until=end, cam=False)
    w.record(f"{nxt:%Y%m%d}pal.csv", f"{base}/csv/pal/{nxt:%Y%m%d}pal.csv", pal_next)
    w.poll("lmp", now, "next day 00:03: DAY complete (288 intervals)")
    w.poll("load", now, "next day 00:03: DAY complete (288 intervals)")


def build_pjm(w: Writer) -> None:
    # lmp, load: 00:02 (the last hour of the day before), next day 00:02 (back to the cursor:
    # 24 h; a load reading at T ends the interval at T, so next day 00:00's ends DAY). dam:
    # 00:02 (DAY's results, posted the day before) and 13:35 (DAY's and the next day's, posted
    # at 13:30). Hubs only (lmp, dam) and the RTO only (load): what the checks need, at a tenth
    # of the size. Values from the keyed model, as in the history tree (tools/recordings/pjm_model).
    from datetime import date

    from tools.recordings import pjm_model

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
            window = pjm_model.steps(first, last + FIVE, FIVE)
            if dataset == "lmp":
                starts = [t for t in window if t + FIVE <= now]  # intervals ended by `now`
                items = pjm_model.price_items("rt", starts, list(pjm_model.HUBS), generate_pjm.LMP_FIELDS)
                url, fields, cursor = pjm.LMP_URL, generate_pjm.LMP_FIELDS, starts[-1] + FIVE
            else:
                stamps = [t for t in window if t <= now]  # readings taken by `now`
                items = pjm_model.load_items(stamps, ["PJM RTO"], generate_pjm.LOAD_FIELDS)
                url, fields, cursor = pjm.LOAD_URL, generate_pjm.LOAD_FIELDS, stamps[-1]
            w.record(f"{dataset}_{tag}.json", request.url, pjm_model.envelope(url, request.params, items, fields),
                     request.params, json_type)  # fmt: skip
            w.poll(
                dataset,
                now,
                f"{now.astimezone(EASTERN):%m-%d %H:%M} ET" + (", back to the cursor" if tag != "0002" else ""),
            )
    for tag, now in (("0002", local(EASTERN, seconds=120)), ("1335", local(EASTERN, hours=13.5, seconds=300))):
        request = source.request("dam", now)
        first_day, last_day = (date.fromisoformat(t[:10]) for t in request.params["datetime_beginning_ept"].split("to"))
        hours = pjm_model.steps(pjm_model.day_bounds(first_day)[0], pjm_model.day_bounds(last_day)[1], 60 * MINUTE)
        fields = request.params["fields"].split(",")
        items = pjm_model.price_items("da", hours, list(pjm_model.HUBS), fields)
        body = pjm_model.envelope(pjm.DA_LMP_URL, request.params, items, fields)
        w.record(f"dam_{tag}.json", request.url, body, request.params, json_type)
        w.poll("dam", now, f"{now.astimezone(EASTERN):%m-%d %H:%M} ET: day-ahead {first_day}..{last_day}")


def build_spp(w: Writer) -> None:
    # lmp: 00:06:30, then every four hours (at most 48 interval files a poll, under
    # CATCHUP_PER_POLL) to next day 00:01:30; load: next day 00:02:30, 24 h of actuals.
    rng = random.Random(SEED)
    files: dict[datetime, str] = {}

    def interval_file(end: datetime) -> str:
        if end not in files:
            files[end] = generate_spp.interval_file(end)  # seeded per interval: the history files agree
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
    body = generate_spp.load_file(rng, now.replace(second=0) - timedelta(minutes=now.minute % 5), seeded=True)
    w.record("load-forecast_next_0002.csv", spp.LOAD_URL, body, headers=_disposition("OP-MTLF-STLF.csv"))
    w.poll("load", now, "next day 00:02:30: 24 h of actuals")
    # dam: DAY's results (posted the day before) at 00:10, then DAY's and the next day's at 13:05
    for day in (DAY, next_day()):
        name = spp.dam_path(day).rsplit("/", 1)[1]
        w.record(name, spp.DAM_URL, generate_spp.da_file(day), {"path": spp.dam_path(day)}, headers=_disposition(name))
    w.poll("dam", local(CENTRAL, seconds=600), "00:10 CT: the day's DA results")
    w.poll("dam", local(CENTRAL, hours=13, seconds=300), "13:05 CT: the day's and the next day's DA results")


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
        # named by the interval's end, posted 95 s after it
        closes = t + timedelta(minutes=15)
        document(ercot_lmp.SPP_REPORT, closes, closes + timedelta(seconds=95), generate_ercot.spp_csv(t))
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
    # dam: DAY's results (posted the day before) at 00:05; the next day's once posted, 13:40.
    # load: 23:58 (the 5-minute readings so far), next day 00:12 (DAY's 24 hours in the hourly
    # dashboard's previousDay, the last 5-minute reading), 01:05 (DAY's zone reports, posted 00:50).
    from producers.ercot import demand5
    from tools.recordings import ercot_formats

    daily = generate_ercot.daily_documents(generate_ercot.POINTS, (DAY, next_day()), (DAY - timedelta(days=1), DAY))
    for report, op, daily_body in daily:
        listings.setdefault(report, [])
        published = generate_ercot.daily_published(report, op)
        document(report, published, published, daily_body)
    for report in generate_ercot.DAILY:
        entries = sorted(listings[report], key=lambda e: e["Document"]["PublishDate"], reverse=True)
        body = json.dumps({"ListDocsByRptTypeRes": {"DocumentList": entries}}, separators=(",", ":"))
        w.record(f"doclist_{report}.json", ercot_lmp.DOC_LIST_URL, body, {"reportTypeId": report}, "application/json")
    w.poll("dam", local(CENTRAL, hours=0, seconds=300), "00:05 CT: DAY's DAM results, posted the day before")
    w.poll("dam", local(CENTRAL, hours=13, seconds=40 * 60), "13:40 CT: the next day's DAM results, posted 13:30")
    for name, now, label in (
        ("2358", local(CENTRAL, hours=23, seconds=58 * 60), "23:58: DAY's 5-minute readings so far"),
        ("next_0012", local(CENTRAL, next_day(), seconds=12 * 60), "next day 00:12: DAY's 24 hours in previousDay"),
        ("next_0105", local(CENTRAL, next_day(), seconds=65 * 60), "next day 01:05: DAY's zone loads, posted 00:50"),
    ):
        current = now.astimezone(CENTRAL).date()
        days = tuple((d.year, d.month, d.day) for d in (current - timedelta(days=k) for k in (1, 0, -1)))
        body = json.dumps(generate_ercot.demand_json(now, days), indent=2)
        w.record(f"system_wide_demand_{name}.json", ercot_load.URL, body, content_type="application/json")
        five = json.dumps(ercot_formats.supply_demand_json(now), separators=(",", ":"))
        w.record(f"supply_demand_{name}.json", demand5.URL, five, content_type="application/json")
        w.poll("load", now, label)


BUILDERS: dict[str, Callable[[Writer], None]] = {
    "CAISO": build_caiso,
    "ERCOT": build_ercot,
    "ISONE": build_isone,
    "MISO": build_miso,
    "NYISO": build_nyiso,
    "PJM": build_pjm,
    "SPP": build_spp,
}

"""Write producers/recordings/caiso/: OASIS PRC_INTVL_LMP zips and Today's Outlook demand CSVs
in CAISO's exact layouts, filled with seeded synthetic numbers (see synth.py).

Run from the repository root:  .venv/bin/python -m tools.recordings.generate_caiso

Files:
  lmp_<now>.zip            what OASIS returns to CaisoSource.lmp_request(now) (hubs + DLAPs)
  lmp_all_nodes_<now>.zip  the include_nodes query (grp_type=ALL_APNODES), trimmed to hubs,
                           DLAPs and three nodes
  lmp_day_<date>.zip       a whole Pacific operating day (a backfill query), for the DST days
  dam_<now>.zip            what OASIS returns to CaisoSource.dam_request(now): PRC_LMP DAM, one
                           member per LMP_TYPE; before 13:00 Pacific today, after it today and
                           tomorrow (the polls the day before both DST days read them)
  tac_<now>.zip            SLD_FCST ACTUAL, hourly TAC-area load over the 24 hours before each
                           load poll (asked for when the ISO table has CAISO's hourly load feed)
  oasis_invalid_request.zip  the XML error report OASIS zips instead of a CSV (test only)
  demand_<date>.csv        outlook/current/demand.csv as polled on a normal day (so far) and at
                           23:58 Pacific on both DST days (whole days); one URL, served in
                           manifest order by the replay
and producers/recordings/history/caiso/ (tools/recordings/caiso_history.py): the archives
CaisoSource.history() reads for 2025-03-09, 2025-11-02 and 2026-06-11.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gridtape import isos
from gridtape.timeutil import PACIFIC
from producers.caiso import DLAPS, OASIS_TIME, TAC_AREAS, CaisoSource, oasis
from tools.recordings import synth

HUBS = isos.get("CAISO").hubs
NODES = ("0096WD_7_N001", "ALAMT1G_7_B1", "MOSSLD_2_PSP1")
HEADER = (
    "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,NODE_ID_XML,NODE_ID,NODE,MARKET_RUN_ID,"
    "LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS,VALUE,OPR_INTERVAL,GROUP"
)
ITEMS = {"LMP": "LMP_PRC", "MCE": "LMP_ENE_PRC", "MCC": "LMP_CONG_PRC", "MCL": "LMP_LOSS_PRC", "MGHG": "LMP_GHG_PRC"}
DAM_HEADER = (
    "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,OPR_INTERVAL,NODE_ID_XML,NODE_ID,NODE,MARKET_RUN_ID,"
    "LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS,MW,GROUP"
)
TAC_HEADER = (
    "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,OPR_INTERVAL,LOAD_TYPE,XML_DATA_ITEM,TAC_AREA_NAME,"
    "MARKET_RUN_ID,LABEL,POS,MW,EXECUTION_TYPE,GROUP"
)
TAC_SHARE = {"PGE-TAC": 0.45, "SCE-TAC": 0.44, "SDGE-TAC": 0.1, "VEA-TAC": 0.01}
HOUR = timedelta(hours=1)
ZIPPED = "application/x-zip-compressed"
LOSS_FACTOR = {"TH_NP15_GEN-APND": 0.012, "TH_SP15_GEN-APND": -0.008, "TH_ZP26_GEN-APND": 0.004}


def gmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S-00:00")


def opr_fields(start: datetime) -> tuple[str, int, int]:
    """OPR_DT (Pacific trade date), OPR_HR (hour ending, 25 on the fall day), OPR_INTERVAL."""
    local = start.astimezone(PACIFIC)
    midnight = datetime(local.year, local.month, local.day, tzinfo=PACIFIC).astimezone(UTC)
    minutes = int((start - midnight).total_seconds() // 60)
    return local.strftime("%Y-%m-%d"), minutes // 60 + 1, (minutes % 60) // 5 + 1


def member(start: datetime, end: datetime, report: str) -> str:
    """A zip member's name: OASIS prefixes the report with the Pacific dates of [start, end]."""
    day0, day1 = (t.astimezone(PACIFIC).strftime("%Y%m%d") for t in (start, end))
    return f"{day0}_{day1}_{report}.csv"


@dataclass(frozen=True)
class Market:
    """How one OASIS market's prices are drawn (seeded per interval and per node) and written."""

    seed: str
    step: timedelta  # the interval
    energy_at: timedelta  # where in the interval the energy price's daily shape is read
    base: float  # energy's daily shape (synth.energy_price)
    solar: float
    sp15: float  # the congestion scale at the SP15 hub
    other: float  # and everywhere else
    row: str  # one CSV row, filled by str.format


RTM = Market(
    "caiso", timedelta(minutes=5), timedelta(0), 30.0, 48.0, 6.0, 2.5,
    "{start},{end},{opr_dt},{opr_hr},{node},{node},{node},RTM,{kind},{item},{node},{grp},{pos},{value:.5f},{opr_int},1",
)  # fmt: skip
DAM = Market(
    "caiso-dam", HOUR, HOUR / 2, 31.0, 44.0, 4.0, 1.5,
    "{start},{end},{opr_dt},{opr_hr},0,{node},{node},{node},DAM,{kind},{item},{node},{grp},{pos},{value:.5f},1",
)  # fmt: skip


def price_rows(
    market: Market, start: datetime, end: datetime, nodes: tuple[str, ...], grp: str
) -> dict[str, list[str]]:
    """The market's rows for the intervals in [start, end), grouped by LMP_TYPE: congestion at
    the market's scale, loss the node's share of energy, LMP their sum."""
    rows: dict[str, list[str]] = {kind: [] for kind in ITEMS}
    t = start
    while t < end:
        r = synth.rng(market.seed, t.isoformat())
        energy = synth.energy_price(t + market.energy_at, PACIFIC, r, base=market.base, solar=market.solar)
        opr_dt, opr_hr, opr_int = opr_fields(t)
        fields = {"start": gmt(t), "end": gmt(t + market.step), "opr_dt": opr_dt, "opr_hr": opr_hr, "opr_int": opr_int}
        for pos, node in enumerate(nodes, start=1):
            rn = synth.rng(market.seed, node, t.isoformat())
            cong = synth.congestion(rn, market.sp15 if node.startswith("TH_SP15") else market.other)
            loss = synth.loss(energy, LOSS_FACTOR.get(node, 0.01 if node.startswith("DLAP") else 0.02), rn)
            parts = {"MCE": energy, "MCC": cong, "MCL": loss, "MGHG": 0.0, "LMP": round(energy + cong + loss, 5)}
            for kind, value in parts.items():
                row = market.row.format(**fields, node=node, pos=pos, grp=grp, kind=kind, item=ITEMS[kind], value=value)
                rows[kind].append(row)
        t += market.step
    return rows


def lmp_zip(start: datetime, end: datetime, nodes: tuple[str, ...], grp_type: str) -> bytes:
    """One CSV member holding every LMP_TYPE row, as OASIS zips a SingleZip answer."""
    rows = price_rows(RTM, start, end, nodes, grp_type)
    lines = [HEADER] + [line for kind in ITEMS for line in rows[kind]]
    made = (end + timedelta(seconds=97)).astimezone(PACIFIC)  # OASIS names the file by when it built it
    return synth.zip_bytes(
        {member(start, end, f"PRC_INTVL_LMP_RTM_{made:%Y%m%d_%H_%M_%S}_v3"): ("\n".join(lines) + "\n").encode()}
    )


def dam_zip(start: datetime, end: datetime, nodes: tuple[str, ...]) -> bytes:
    """PRC_LMP DAM (version 12) for the hours in [start, end): one CSV member per LMP_TYPE, the
    value in column MW, OPR_HR the hour ending, OPR_INTERVAL 0."""
    return synth.zip_bytes(
        {
            member(start, end, f"PRC_LMP_DAM_{kind}_v12"): ("\n".join([DAM_HEADER, *lines]) + "\n").encode()
            for kind, lines in price_rows(DAM, start, end, nodes, "").items()
        }
    )


def tac_mw(area: str, t: datetime) -> float:
    """The hourly actual load of a TAC area for the hour starting at t (CA ISO-TAC: their sum)."""
    if area == "CA ISO-TAC":
        return round(sum(tac_mw(a, t) for a in TAC_AREAS), 2)
    share = TAC_SHARE[area]
    r = synth.rng("caiso-tac", area, t.isoformat())
    return synth.load_mw(t + HOUR / 2, PACIFIC, r, base=26000 * share, swing=9000 * share)


def tac_zip(start: datetime, end: datetime) -> bytes:
    """SLD_FCST ACTUAL (version 1): hourly integrated actual load per TAC area in [start, end)."""
    lines = [TAC_HEADER]
    t = start
    while t < end:
        opr_dt, opr_hr, _ = opr_fields(t)
        for pos, area in enumerate(("CA ISO-TAC", *TAC_AREAS), start=1):
            lines.append(
                f"{gmt(t)},{gmt(t + HOUR)},{opr_dt},{opr_hr},0,0,SYS_FCST_ACT_MW,{area},ACTUAL,"
                f"Total Actual Hourly Integrated Load,{pos},{tac_mw(area, t):.2f},,1"
            )
        t += HOUR
    return synth.zip_bytes({member(start, end, "SLD_FCST_ACTUAL_v1"): ("\n".join(lines) + "\n").encode()})


def tac_request_before(now: datetime) -> tuple[str, dict[str, str], datetime, datetime]:
    """The TAC-area request a load poll at `now` makes (url, params, start, end)."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    request = oasis.request("SLD_FCST", end - timedelta(hours=24), end)
    return request.url, dict(request.params), end - timedelta(hours=24), end


def invalid_request_zip() -> bytes:
    """The in-band error OASIS answers with HTTP 200 (file INVALID_REQUEST.xml.zip)."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<m:OASISReport xmlns:m="http://www.caiso.com/soa/OASISReport_v1.xsd">\n'
        "<m:MessageHeader>\n\t<m:TimeDate>2025-06-10T18:42:05.118Z</m:TimeDate>\n\t<m:Source>OASIS</m:Source>\n"
        "\t<m:Version>v20131201</m:Version>\n</m:MessageHeader>\n<m:MessagePayload>\n<m:RTO>\n<m:name>CAISO</m:name>\n"
        "<m:ERROR>\n<m:ERR_CODE>1000</m:ERR_CODE>\n<m:ERR_DESC>No data returned for the specified selection</m:ERR_DESC>\n"
        "</m:ERROR>\n</m:RTO>\n</m:MessagePayload>\n</m:OASISReport>\n"
    )
    return synth.zip_bytes({"INVALID_REQUEST.xml": xml.encode()})


def demand_csv(day: datetime, fetched_at: datetime) -> bytes:
    """Rows for every interval END from 00:00 to 23:55 Pacific; the fall day repeats 01:00-01:55,
    the spring day keeps 02:00-02:55 with empty cells (as CAISO does)."""
    lines = ["Time,Day ahead forecast,Hour ahead forecast,Current demand,Demand response"]
    start = datetime(day.year, day.month, day.day, tzinfo=PACIFIC).astimezone(UTC)
    stop = datetime(day.year, day.month, day.day, 23, 55, tzinfo=PACIFIC).astimezone(UTC)
    end = start
    while end <= stop:
        local = end.astimezone(PACIFIC)
        if (
            local.hour == 3
            and local.minute == 0
            and local.utcoffset() != (end - timedelta(hours=1)).astimezone(PACIFIC).utcoffset()
        ):
            lines.extend(f"02:{m:02d},,,," for m in range(0, 60, 5))  # the spring-forward hour
        r = synth.rng("caiso-load", end.isoformat())
        actual = synth.load_mw(end, PACIFIC, r, base=24000, swing=9000)
        hour_end = end + timedelta(minutes=(60 - local.minute) % 60)
        da = synth.load_mw(hour_end, PACIFIC, synth.rng("caiso-da", hour_end.isoformat()), base=24000, swing=9000)
        ha = actual + r.gauss(0, 150)
        current = f"{actual:.0f}" if end <= fetched_at else ""
        lines.append(f"{local:%H:%M},{da:.0f},{ha:.0f},{current},")
        end += timedelta(minutes=5)
    return ("\n".join(lines) + "\n").encode()


def history_tree(root: Path, start: date, end: date) -> None:
    """A replay tree (manifest.json + files) at `root` of the archives CaisoSource.history()
    reads, for every operating day in [start, end]."""
    from tools.recordings import caiso_history

    caiso_history.history_tree(root, start, end)


def main() -> None:
    rec = synth.Recording("CAISO")
    source, nodes_source = CaisoSource(), CaisoSource(include_nodes=True)

    def lmp_file(name: str, url: str, params: dict[str, str], locations: tuple[str, ...], group: str) -> None:
        """The zip OASIS answers for the window the request's parameters ask."""
        start, end = (
            datetime.strptime(params[p], OASIS_TIME).replace(tzinfo=UTC) for p in ("startdatetime", "enddatetime")
        )
        rec.record(name, url, lmp_zip(start, end, locations, group), "application/x-zip-compressed", params)

    for now_text, label in (
        ("2025-06-10T18:42:00Z", "normal day"),
        ("2025-03-09T11:02:00Z", "spring DST day: 01:00 PST to 04:00 PDT"),
        ("2025-11-02T10:02:00Z", "fall DST day: both 01:00 hours"),
    ):
        now = datetime.fromisoformat(now_text)
        request = source.lmp_request(now)
        lmp_file(f"lmp_{now:%Y%m%dT%H%M}.zip", request.url, dict(request.params), HUBS + DLAPS, "")
        rec.poll("lmp", now_text, label)

    now = datetime(2025, 6, 10, 18, 42, tzinfo=UTC)
    request = nodes_source.lmp_request(now)
    everything = HUBS + DLAPS + NODES
    lmp_file(f"lmp_all_nodes_{now:%Y%m%dT%H%M}.zip", request.url, dict(request.params), everything, "ALL_APNODES")

    for day in (datetime(2025, 3, 9), datetime(2025, 11, 2)):
        start = day.replace(tzinfo=PACIFIC).astimezone(UTC)
        end = (day + timedelta(days=1)).replace(tzinfo=PACIFIC).astimezone(UTC)
        params = {
            **{k: v for k, v in source.lmp_request(end).params.items()},
            "startdatetime": start.strftime(OASIS_TIME),
            "enddatetime": end.strftime(OASIS_TIME),
        }
        lmp_file(f"lmp_day_{day:%Y%m%d}.zip", request.url, params, HUBS + DLAPS, "")

    (rec.out / "oasis_invalid_request.zip").write_bytes(invalid_request_zip())

    for now_text, label in (
        ("2025-06-10T18:42:00Z", "11:42 PDT: today's DA results only"),
        ("2025-06-10T20:05:00Z", "13:05 PDT: today's and tomorrow's"),
        ("2025-03-08T21:05:00Z", "13:05 PST: today's and the spring DST day's (23 hours)"),
        ("2025-11-01T20:05:00Z", "13:05 PDT: today's and the fall DST day's (25 hours)"),
    ):
        now = datetime.fromisoformat(now_text)
        request = source.dam_request(now)
        start, end = (
            datetime.strptime(request.params[p], OASIS_TIME).replace(tzinfo=UTC)
            for p in ("startdatetime", "enddatetime")
        )
        rec.record(f"dam_{now:%Y%m%dT%H%M}.zip", request.url, dam_zip(start, end, HUBS + DLAPS), ZIPPED, request.params)
        rec.poll("dam", now_text, label)

    for fetched in ("2025-06-10T18:42:00Z", "2025-03-10T06:58:00Z", "2025-11-03T07:58:00Z"):
        url, params, start, end = tac_request_before(datetime.fromisoformat(fetched))
        rec.record(f"tac_{start:%Y%m%dT%H}.zip", url, tac_zip(start, end), ZIPPED, params)

    now = datetime(2025, 6, 10, 18, 42, tzinfo=UTC)
    load = source.load_request(now)
    rec.record("demand_20250610.csv", load.url, demand_csv(datetime(2025, 6, 10), now), "text/csv")
    rec.poll("load", "2025-06-10T18:42:00Z", "normal day, demand so far")
    for day, fetched in (
        (datetime(2025, 3, 9), "2025-03-10T06:58:00Z"),
        (datetime(2025, 11, 2), "2025-11-03T07:58:00Z"),
    ):
        # Same URL as the normal poll: the replay serves same-key recordings in manifest order.
        body = demand_csv(day, datetime.fromisoformat(fetched))
        rec.record(f"demand_{day:%Y%m%d}.csv", load.url, body, "text/csv")
        rec.poll("load", fetched, f"{day:%Y-%m-%d} DST day, whole day at 23:58 PT")

    rec.save()

    from tools.recordings import caiso_history

    tree = synth.out_dir("history") / "caiso"
    for stale in tree.glob("*") if tree.is_dir() else ():
        stale.unlink()
    caiso_history.write(tree, caiso_history.DAYS)


if __name__ == "__main__":
    main()

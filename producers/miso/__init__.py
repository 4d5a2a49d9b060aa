"""MISO: five-minute ex-post LMPs, five-minute total load, hourly load by local resource zone and
day-ahead ex-post LMPs, live from MISO's public API and market reports, and past days from the
market-report archives.

MISO's market clock is Eastern STANDARD time all year (UTC-5, no DST; isos: Etc/GMT+5), so
its data has no repeated or missing hour: DST days have 288 five-minute intervals and 24 hours.
MISO asks API users to poll no faster than once a minute.

What each time label means (evidence after the list):
lmp   ``api/MarketPricing/GetRealTimeFiveMinExPost/Current``: the newest interval of every
      pricing node, ``{"headers": ["INTERVAL", "CPNODE", "LMP", "MLC", "MCC"], "data": [...]}``
      (columns by name, values as strings). ``INTERVAL`` ("2025-06-10T13:40:00", EST) is the
      interval END: [13:35, 13:40). ``.../Rolling`` (the market day so far) and ``.../Previous``
      (yesterday's market day) have the same shape. Which labels a "day" holds is not certain
      (gridstatus #946's test: yesterday's last interval starts at 23:55, so labels 00:05..24:00;
      an example of Previous derived from a live response begins at T00:00:00): each row is
      read alone, so either gives the right intervals, and healing across midnight reads both
      feeds. The recordings use 00:05..24:00. Energy = LMP - MLC - MCC (MISO's own
      decomposition LMP = MEC + MCC + MLC; the feed has no MEC). Hubs are the ``*.HUB`` nodes;
      the feed does not say which CPNODEs are load zones, so none is typed zone.
      Evidence: gridstatus PR #946 (merged 2026-09-04, after 0.36.0): MISO's public five-minute LMP
      feed labels INTERVAL with the interval-ending timestamp; gridstatus had read it as the start,
      five minutes late, as gridtape did. Its regression test: yesterday's last interval starts at
      23:55. MISO's other five-minute reports are interval-ending too (gridstatus reads the
      real-time binding-constraint "Hour of Occurrence" as the interval end).
lmp   (history) weekly ``marketreports/YYYYMMDD_5MIN_LMP.zip``: one CSV, four title lines, header
      ``MKTHOUR_EST,PNODENAME,LMP,CON_LMP,LOSS_LMP``, a footer line; the file dated Monday M holds
      the market days M-14 .. M-8 (gridstatus get_lmp_real_time_5_min_final). ``MKTHOUR_EST``
      ("06/11/2026 00:05") is read as the interval END, like INTERVAL: the same ex-post prices,
      finalised. gridstatus still reads it as the start (#946 corrected only the API feed) and no
      real file was available here: UNVERIFIED, the one label of this module taken by analogy.
dam   ``marketreports/YYYYMMDD_da_expost_lmp.csv``: four title lines, header ``Node,Type,Value,
      HE 1..HE 24``, three rows per node (Value LMP, MCC, MLC), Type Hub | Loadzone | Gennode |
      Interface. ``HE n`` is hour ENDING n, EST: [n-1, n) (gridstatus: Interval Start = HE - 1 h;
      MISO: "All Hours-Ending are Eastern Standard Time"). The operating day is only in the file
      name (``gridtape parse --url``). Hubs are ``Hub`` rows, zones ``Loadzone``; the rest are
      nodes (include_nodes). MISO posts the next day's results about 14:00 EST (isos: posts_at).
load  (RT5) ``api/RealTimeTotalLoad``: ``{"LoadInfo": {"RefId": "10-Jun-2025 - Interval 13:35 EST",
      "FiveMinTotalLoad": [{"Load": {"Time": "00:00", "Value": "71422"}}, ...]}}``: the market day
      so far, its date in RefId. ``Time`` is read as the interval BEGINNING in EST, as gridstatus
      does: the day's rows run 00:00 .. 23:55, inside one market day (an instantaneous reading
      would be filed as the interval ending at its stamp; nothing says these are readings).
load  (RTH, live and history) ``marketreports/YYYYMMDD_df_al.xls`` (producers/miso/dfal.py): hourly
      ``ActualLoad (MWh)`` per local resource zone (LRZ1, LRZ2_7, LRZ3_5, LRZ4, LRZ6, LRZ8_9_10:
      ticks of type zone, MISO's names) and MISO's total (the system tick of market RTH). The file
      dated D holds D-1's actuals (gridstatus get_zonal_load_hourly reads day X from the file dated
      X+1, "publish time is 12am the next day"). ``HourEnding`` n of ``Market Day`` is hour ENDING
      n, EST: [n-1, n) (gridstatus: Interval End = Market Day + n h, localized to "EST"); so 24
      rows a day, DST days too (inferred from the EST clock: no real file was checked). The live
      load poll also asks for the file dated today (EST), yesterday's hours; a 404 before MISO
      posts it is no error. Forecast (MTLF) columns are not read.

Healing an outage: Current holds only the newest interval, so when the poller's cursor (`since`)
is more than one interval behind, lmp reads Rolling instead, and Previous too when the cursor lies
before today's EST midnight (when one of them does not answer, Current is read as well, so the
newest interval still goes out); older gaps are backfill's. RealTimeTotalLoad holds the whole
day; the hourly load report, yesterday's (an older one is backfill's).

No real MISO response is in ../shared/iso-samples. The API shapes are those gridstatus reads and
an OpenAPI description with examples derived from live responses (api-evangelist/miso); the
market-report layouts are those gridstatus reads (read_csv skiprows=4; the weekly zip with
skipfooter=1); the df_al.xls layout (both, before and since 2026-04-27) is the one gridstatus
reads (header row found by its first cell "Market Day", blank columns dropped).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from gridtape.timeutil import local_to_utc
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError
from producers.http import FetchError
from producers.miso import dfal, reports
from producers.miso.reports import DaHour, da_url, weekly_url

BASE = "https://public-api.misoenergy.org/api"
LMP_URL = f"{BASE}/MarketPricing/GetRealTimeFiveMinExPost/Current"
LMP_ROLLING_URL = f"{BASE}/MarketPricing/GetRealTimeFiveMinExPost/Rolling"
LMP_PREVIOUS_URL = f"{BASE}/MarketPricing/GetRealTimeFiveMinExPost/Previous"
LOAD_URL = f"{BASE}/RealTimeTotalLoad"
LMP_COLUMNS = ("INTERVAL", "CPNODE", "LMP", "MLC", "MCC")
INTERVAL = timedelta(minutes=5)
DA_KINDS = {"Hub": "hub", "Loadzone": "zone"}  # every other Type is a node

__all__ = ["LMP_PREVIOUS_URL", "LMP_ROLLING_URL", "LMP_URL", "LOAD_URL", "MisoSource", "da_url", "weekly_url"]


class MisoSource(IsoSource):
    iso: ClassVar[str] = "MISO"
    archives: ClassVar[frozenset[str]] = frozenset({"lmp", "load", "dam"})

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset == "load":
            return self._fetch_load(http, now)
        if dataset == "dam":
            return self._fetch_dam(http, now)
        if dataset != "lmp":
            raise ValueError(f"MISO has no dataset {dataset!r}")
        newest_end = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
        if since is None or since >= newest_end - 2 * INTERVAL:
            return [http.get(Request(LMP_URL))]
        local = now.astimezone(self.facts.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        urls = [LMP_PREVIOUS_URL] if since < midnight else []
        healing = [r for r in (http.get(Request(url)) for url in [*urls, LMP_ROLLING_URL]) if r.status == 200]
        if len(healing) == len(urls) + 1:
            return healing
        # A feed to heal from is not answering: the newest interval still goes out (what it
        # would have healed is backfill's), rather than failing every poll until it answers.
        return [*healing, http.get(Request(LMP_URL))]

    def _fetch_dam(self, http: HttpClient, now: datetime) -> list[Response]:
        """Today's (EST) results, and once MISO posts them (posts_at), tomorrow's; tomorrow's
        file not there yet is no error (the next poll asks again)."""
        local = now.astimezone(self.facts.tz)
        today = [http.get(Request(da_url(local.date())))]
        posts_at = self.facts.feed("dam").posts_at or "14:00"
        if f"{local:%H:%M}" < posts_at:
            return today
        tomorrow = http.get(Request(da_url(local.date() + timedelta(days=1))))
        return today + ([tomorrow] if tomorrow.status == 200 else [])

    def _fetch_load(self, http: HttpClient, now: datetime) -> list[Response]:
        """The five-minute total so far, and (with the table's hourly load feed) the report dated
        today (EST): yesterday's hourly zone actuals, posted after midnight. Not posted yet (404)
        or not answering is no error: the five-minute load still goes out, the next poll asks
        again (a conditional GET: unchanged, it costs a 304)."""
        total = http.get(Request(LOAD_URL))
        if not any(f.market == "RTH" for f in self.facts.feeds_named("load")):
            return [total]
        try:
            report = http.get(Request(dfal.url(now.astimezone(self.facts.tz).date())))
        except FetchError:
            return [total]
        return [total] + ([report] if report.status == 200 else [])

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        """lmp: the weekly five-minute file holding `day` (it holds its whole week); dam: the
        day's day-ahead ex-post file; load: the df_al report dated the day after (its hourly
        zone and total actuals; MISO keeps no five-minute load archive)."""
        if dataset == "lmp":
            return [self.archive(http, weekly_url(day))]
        if dataset == "load":
            return [http.get(Request(dfal.holding(day)))]
        if dataset == "dam":
            return [http.get(Request(da_url(day)))]
        return super().history(dataset, day, http)

    # -- lmp: the API feeds and the weekly archive ------------------------------------------
    def _rows_lmp(self, response: Response, context: Any) -> list[dict[str, str]]:
        if reports.is_weekly(response.url):
            return [
                {"INTERVAL": r["MKTHOUR_EST"], "CPNODE": r["PNODENAME"], "LMP": r["LMP"], "MLC": r["LOSS_LMP"],
                 "MCC": r["CON_LMP"], "format": reports.WEEKLY_TIME}
                for r in reports.weekly_rows(response.body)
            ]  # fmt: skip
        doc = formats.json_document(response.body)
        header, data = formats.path(doc, "headers"), formats.path(doc, "data")
        if not isinstance(header, list) or not isinstance(data, list):
            raise FormatError("headers/data are not lists")
        return formats.records([str(h) for h in header], data, LMP_COLUMNS)

    def _read_lmp(self, row: dict[str, str], response: Response) -> dict[str, Any] | None:
        node = row["CPNODE"]
        kind = "hub" if node in self.facts.hubs or node.endswith(".HUB") else "node"
        if kind == "node" and not self.include_nodes:
            return None
        lmp = formats.number(row["LMP"], f"{node} LMP")
        loss = formats.number(row["MLC"], f"{node} MLC")
        congestion = formats.number(row["MCC"], f"{node} MCC")
        fmt = row.get("format", "%Y-%m-%dT%H:%M:%S")
        return self.tick(
            response,
            "lmp",
            location=node,
            location_type=kind,
            end=self._est(row["INTERVAL"], fmt, f"{node}: INTERVAL"),  # the interval END (docstring)
            lmp=lmp,
            energy=round(lmp - loss - congestion, 6),  # MISO publishes no energy component
            congestion=congestion,
            loss=loss,
        )

    # -- dam: day-ahead ex-post LMP, hour ending ---------------------------------------------
    def _rows_dam(self, response: Response, context: Any) -> list[tuple[DaHour, date]]:
        day = reports.da_day(response.url)
        return [(hour, day) for hour in reports.da_hours(response.body)]

    def _read_dam(self, item: tuple[DaHour, date], response: Response) -> dict[str, Any] | None:
        hour, day = item
        kind = DA_KINDS.get(hour.type, "node")
        if hour.node in self.facts.hubs:
            kind = "hub"
        if kind == "node" and not self.include_nodes:
            return None
        he = f"HE {hour.hour}"
        lmp, congestion, loss = (formats.number(hour.values[v][he], f"{hour.node} {v} {he}") for v in reports.DA_VALUES)
        start = local_to_utc(datetime(day.year, day.month, day.day), self.facts.tz) + timedelta(hours=hour.hour - 1)
        return self.tick(
            response,
            "dam",
            location=hour.node,
            location_type=kind,
            start=start,  # hour ending n: [n-1, n) EST
            lmp=lmp,
            energy=round(lmp - loss - congestion, 6),
            congestion=congestion,
            loss=loss,
        )

    # -- load --------------------------------------------------------------------------------
    def _rows_load(self, response: Response, context: Any) -> Iterable[Any]:
        if dfal.is_report(response.url):
            return dfal.zone_hours(response.body)
        info = formats.path(formats.json_document(response.body), "LoadInfo")
        ref = str(formats.path(info, "RefId"))
        try:
            day = datetime.strptime(ref.split(" ")[0], "%d-%b-%Y")
        except ValueError:
            raise FormatError(f"RefId {ref!r} does not start with a DD-Mon-YYYY date") from None
        rows = formats.path(info, "FiveMinTotalLoad")
        if not isinstance(rows, list) or not rows:
            raise FormatError("FiveMinTotalLoad is empty or not a list")
        return [(row, day) for row in rows]

    def _read_load(self, item: Any, response: Response) -> dict[str, Any] | None:
        if isinstance(item, dict):
            return self._read_zone_hour(item, response)
        row, day = item
        text = str(formats.path(row, "Load", "Time"))
        start = self._est(f"{day:%Y-%m-%d} {text}", "%Y-%m-%d %H:%M", "FiveMinTotalLoad Time")  # interval BEGINNING
        return self.tick(
            response,
            "load",
            location=self.facts.system,
            location_type="system",
            start=start,
            market="RT5",
            load_mw=formats.number(formats.path(row, "Load", "Value"), f"load at {text}"),
        )

    def _read_zone_hour(self, item: dict[str, Any], response: Response) -> dict[str, Any] | None:
        """One area's hour of the df_al report: hour ending n of Market Day is [n-1, n) EST."""
        area = item["area"]
        day, hour = dfal.market_day(item["day"], item["mode"]), dfal.hour_ending(item["hour"])
        load = dfal.actual_load(item["actual"], f"{area} ActualLoad HE {hour}")
        if load is None:
            return None  # a forecast-only row (the days ahead)
        total = area == dfal.TOTAL
        return self.tick(
            response,
            "load",
            market="RTH",
            location=self.facts.system if total else area,
            location_type="system" if total else "zone",
            start=local_to_utc(datetime(day.year, day.month, day.day), self.facts.tz) + timedelta(hours=hour - 1),
            load_mw=load,
        )

    def _est(self, text: str, fmt: str, what: str) -> datetime:
        """MISO's market clock is EST all year: a wall time is one UTC time, never ambiguous."""
        try:
            return local_to_utc(datetime.strptime(str(text), fmt), self.facts.tz)
        except ValueError:
            raise FormatError(f"{what} {text!r} does not match {fmt}") from None

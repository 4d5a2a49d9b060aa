"""SPP: real-time balancing market (RTBM) 5-minute LMP, day-ahead hourly LMP by settlement
location, and system load, from SPP's Marketplace portal (portal.spp.org; no key).

Feeds, formats and what their time labels mean. Every SPP file carries two labels of the same
instant: ``Interval``, Central prevailing wall time, and a GMT column, UTC; both mark the
interval END. gridtape reads the GMT column (no DST guessing) and refuses a row whose Interval
names another instant (the cross-check of files.interval_end).
- lmp, live: the file browser ``.../download/rtbm-lmp-by-location?path=``
  ``/RTBM-LMP-SL-latestInterval.csv`` (the newest interval) and one file per interval,
  ``/YYYY/MM/By_Interval/DD/RTBM-LMP-SL-YYYYMMDDHHMM.csv``. Columns Interval, GMTIntervalEnd,
  Settlement Location, Pnode, LMP, MLC, MCC, MEC, with a BAA column (SPP / SWPW) since the
  2026 RTO West expansion: both layouts are read. LMP = MEC + MCC + MLC (energy, congestion,
  loss), checked on the real files in ../shared/iso-samples/spp, where GMTIntervalEnd 13:40
  UTC is Interval 08:40 CDT and the file is named ...0840: interval END.
- lmp, history: ``rtbm-lmp-by-location?path=/YYYY/MM/By_Day/RTBM-LMP-DAILY-SL-YYYYMMDD.csv``,
  the same columns for every interval that starts on operating day YYYYMMDD (288; 276 / 300
  on the DST days); gridstatus reads it with the per-interval files' code, GMTIntervalEnd as
  the interval end. A daily file missing an interval of its day is refused (truncated).
- dam: ``.../download/da-lmp-by-settlement-location?path=/YYYY/MM/By_Day/DA-LMP-SL-YYYYMMDD0100.csv``
  (gridstatus _get_dam_lmp: endpoint, name after the day's first hour ending), the same
  columns, one row per location and hour: Interval is the hour ENDING (Central), GMTIntervalEnd
  its UTC end (gridstatus: interval start = GMTIntervalEnd - 1 h). 24 hours, 23 / 25 on DST
  days. Posted about 13:00 Central the day before (the ISO table's posts_at): fetch reads the
  current operating day and, from then on, the next one. Live and history read the same file.
- load, live: ``/chart-api/load-forecast/asFile``, the "forecast vs actual" CSV (Interval,
  GMTIntervalEnd, STLF, MTLF, Actual Load, wind and solar columns), newest first, forecast-only
  rows (Actual Load blank) ahead of about a day of settled 5-minute actuals.
- load, history: the STLF-vs-actual files ``.../download/stlf-vs-actual?path=``
  ``/YYYY/MM/DD/HH/OP-STLF-YYYYMMDDhhmm.csv`` (gridstatus get_load / _get_short_term_forecast_data:
  one file per 5 minutes named after its Central wall time, folder HH = the hour after hh, a
  ``d`` suffix in the repeated fall-back hour), columns Interval, GMTInterval, STLF, Actual (and
  BAA since 2026): a few rows around the stamp, Actual filled up to the stamp. GMTInterval is
  the interval END (SPP's docs call it GMTIntervalEnd; gridstatus reads it as the end). A day
  is every file stamped at one of its interval ends. Load readings are 5-minute actuals, filed,
  like the instantaneous-reading rule of every ISO, as the interval ENDING at their stamp.
Both load formats are told apart by the response URL (``gridtape parse --url``) or file name.

File NAMES use the Central wall time of the interval end, hour-ending style (files.interval_path):
- the file is in the folder of the interval's START day: the interval ending at midnight,
  RTBM-LMP-SL-202407010000.csv, sits in /2024/06/By_Interval/30/;
- fall back: the repeated hour's files get a ``d`` suffix. Ends 01:05 .. 02:00 on the first
  pass (CDT; the 02:00 label is 07:00 UTC), then 01:05d .. 02:00d (CST): 300 files;
- spring forward: labels 02:05 .. 03:00 do not exist: the interval ending 08:00 UTC is 02:00,
  the next one 03:05: 276 files.
The naming comes from SPP's FTP-era layout and third-party collectors (gridstatus puts
the folder on the start date); the ``d`` suffix is documented for SPP's hourly files and
applied here to the 5-minute files the same way.

Fetching lmp: the latest-interval file first; then the files of the BACKFILL intervals before
it, so a poll or two that failed leaves no gap. After a longer outage (the poller's cursor
`since` further back) the files of every interval since the cursor, oldest first,
CATCHUP_PER_POLL a poll and at most MAX_CATCHUP back; while a poll has not reached the latest
interval it leaves the latest file out, so the cursor it advances never jumps over a hole. A
backfill file that is not there (404) is skipped; a file that is there but empty (SPP does
publish 0-byte interval files) is an error: an interval is missing and must be seen.

Locations: a settlement location named ``...HUB...`` on a hub pnode (Pnode ending ``_H``) is a
``hub``: the trading hubs SPPNORTH_HUB and SPPSOUTH_HUB and the members' hubs (GRDA_HUB,
KCPL_GMOC_HUB, ...; 35 in the real March 2025 file). Other ``_H`` pnodes (e.g. CSWS.VOLT.0004)
are aggregates but not hubs. A Pnode ending ``_LA`` is a load area (``zone``, 121 in that file).
With include_nodes every other settlement location is a ``node``.

Load is SPP's system total (``SPP``, ``system``). SPP publishes NO zonal actual load in these
files (nor in any public portal file gridtape found; the load areas above are price locations
only). Where a BAA column is present, each balancing authority area (SPP, SWPW) is its own
``system`` location.

published_at: the files carry no publication time; the response's Last-Modified when sent,
else the fetch time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.spp.files import (
    DAM_URL,
    HOUR,
    INTERVAL,
    LATEST_PATH,
    LMP_URL,
    LOAD_URL,
    STLF_URL,
    ZONE,
    daily_lmp_path,
    dam_path,
    day_bounds,
    day_of,
    gmt,
    interval_end,
    interval_path,
    steps,
    stlf_path,
)

__all__ = [
    "DAM_URL",
    "LATEST_PATH",
    "LMP_URL",
    "LOAD_URL",
    "STLF_URL",
    "SppSource",
    "daily_lmp_path",
    "dam_path",
    "gmt",
    "interval_end",
    "interval_path",
    "missing_ends",
    "stlf_path",
]

BACKFILL = 3  # intervals before the latest one re-read on every poll
# After an outage: how far back the per-interval files are read (older: backfill), and how many
# a poll reads (60 files at SPP's 2 requests a second: 30 s of a one-minute poll).
MAX_CATCHUP = timedelta(hours=24)
CATCHUP_PER_POLL = 60
DAM_CATCHUP_DAYS = 7  # day-ahead files a poll re-reads back to the cursor (older: backfill)

LMP_COLUMNS = ("GMTIntervalEnd", "Settlement Location", "Pnode", "LMP", "MLC", "MCC", "MEC")
LOAD_COLUMNS = ("GMTIntervalEnd", "Actual Load")
STLF_COLUMNS = ("GMTInterval", "Actual")


def is_stlf(url: str) -> bool:
    """An STLF-vs-actual file (by its address, or its name when parsed from a saved file)."""
    return STLF_URL in url or "OP-STLF-" in url


class SppSource(IsoSource):
    iso: ClassVar[str] = "SPP"
    archives: ClassVar[frozenset[str]] = frozenset({"lmp", "load", "dam"})

    # -- fetch -----------------------------------------------------------------------------

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset == "load":
            return [http.get(Request(LOAD_URL))]
        if dataset == "dam":
            return self._fetch_dam(http, now, since)
        if dataset != "lmp":
            raise ValueError(f"SPP has no dataset {dataset!r}")
        latest = http.get(Request(LMP_URL, {"path": LATEST_PATH}))
        end = self._latest_end(latest)
        if end is None:
            return [latest]  # parse says what is wrong with it
        ends = missing_ends(end, since)
        out: list[Response] = []
        for missing in ends:
            resp = http.get(Request(LMP_URL, {"path": interval_path(missing)}))
            if resp.status == 404:
                continue  # not posted (yet): the next poll's backfill asks again
            out.append(resp)
        if ends and ends[-1] < end - INTERVAL:
            return out  # still catching up: the newest file waits, so the cursor leaves no hole
        return [*out, latest]

    def _fetch_dam(self, http: HttpClient, now: datetime, since: datetime | None) -> list[Response]:
        """The current operating day's DA file (and, after an outage, those back to the cursor's
        day, at most DAM_CATCHUP_DAYS) and, once posts_at has passed, the next day's."""
        local = now.astimezone(ZONE)
        today = local.date()
        first = today
        if since is not None:
            first = min(today, max(since.astimezone(ZONE).date(), today - timedelta(days=DAM_CATCHUP_DAYS)))
        days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
        out = [http.get(Request(DAM_URL, {"path": dam_path(d)})) for d in days]
        posts_at = self.facts.feed("dam").posts_at or "13:00"
        if f"{local:%H:%M}" >= posts_at:
            nxt = http.get(Request(DAM_URL, {"path": dam_path(today + timedelta(days=1))}))
            if nxt.status != 404:  # not posted yet: the next poll asks again
                out.append(nxt)
        return out

    def _latest_end(self, resp: Response) -> datetime | None:
        if resp.status != 200:
            return None
        try:
            formats.check_body(resp.body)
            rows = formats.csv_records(formats.decode(resp.body), LMP_COLUMNS)
            return max(gmt(r["GMTIntervalEnd"]) for r in rows) if rows else None
        except formats.FormatError:
            return None

    # -- history ---------------------------------------------------------------------------

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        if dataset == "lmp":
            return [http.get(Request(LMP_URL, {"path": daily_lmp_path(day)}))]
        if dataset == "dam":
            return [http.get(Request(DAM_URL, {"path": dam_path(day)}))]
        if dataset != "load":
            raise NotImplementedError(f"SPP keeps no archive gridtape reads for {dataset}")
        start, end = day_bounds(day)
        got = [http.get(Request(STLF_URL, {"path": stlf_path(t)})) for t in steps(start + INTERVAL, end, INTERVAL)]
        # A missing file loses no interval while its neighbours carry the rows before their
        # stamp; a day with no file at all is handed on for parse to report.
        return [r for r in got if r.status != 404] or got[:1]

    # -- lmp and dam -----------------------------------------------------------------------

    def _rows_lmp(self, response: Response, context: Any) -> list[dict[str, str]]:
        return self._price_rows(response, INTERVAL)

    def _rows_dam(self, response: Response, context: Any) -> list[dict[str, str]]:
        return self._price_rows(response, HOUR)

    def _price_rows(self, response: Response, step: timedelta) -> list[dict[str, str]]:
        formats.check_body(response.body)
        rows = formats.csv_records(formats.decode(response.body), LMP_COLUMNS)
        if not rows:
            raise formats.FormatError("no rows after the header")
        day = day_of(response.url)
        if day is not None:  # a By_Day file: every interval of its operating day, or it is cut short
            start, end = day_bounds(day)
            want = set(steps(start + step, end, step))
            have = {gmt(r["GMTIntervalEnd"]) for r in rows}
            if not want <= have:
                raise formats.FormatError(
                    f"{len(want - have)} of the {len(want)} intervals of {day} missing (truncated?); "
                    f"first missing ends {min(want - have):%Y-%m-%dT%H:%MZ}"
                )
        return rows

    def _read_lmp(self, row: dict[str, str], response: Response) -> dict[str, Any] | None:
        return self._read_price(row, response, "lmp")

    def _read_dam(self, row: dict[str, str], response: Response) -> dict[str, Any] | None:
        return self._read_price(row, response, "dam")

    def _read_price(self, row: dict[str, str], response: Response, feed: str) -> dict[str, Any] | None:
        pnode, location = row["Pnode"], row["Settlement Location"]
        if location in self.facts.hubs or (pnode.endswith("_H") and "HUB" in location.upper()):
            kind = "hub"
        elif pnode.endswith("_LA"):
            kind = "zone"
        elif self.include_nodes:
            kind = "node"
        else:
            return None
        if not location:
            raise formats.FormatError("empty Settlement Location")
        lmp, mlc, mcc, mec = (formats.number(row[c], f"{location} {c}") for c in ("LMP", "MLC", "MCC", "MEC"))
        return self.tick(
            response,
            feed,
            location=location,
            location_type=kind,
            end=interval_end(row),
            lmp=lmp,
            energy=mec,
            congestion=mcc,
            loss=mlc,
        )

    # -- load ------------------------------------------------------------------------------

    def _rows_load(self, response: Response, context: Any) -> list[dict[str, str]]:
        formats.check_body(response.body)
        when, actual = self._load_columns(response)
        rows = formats.csv_records(formats.decode(response.body), (when, actual))
        if not any(row[actual] for row in rows):
            raise formats.FormatError(f"no interval has an {actual}")
        return rows

    @staticmethod
    def _load_columns(response: Response) -> tuple[str, str]:
        """(time column, actual-load column) of the response's format."""
        return STLF_COLUMNS if is_stlf(response.url) else LOAD_COLUMNS

    def _read_load(self, row: dict[str, str], response: Response) -> dict[str, Any] | None:
        when, actual = self._load_columns(response)
        if not row[actual]:
            return None  # a forecast-only interval
        # Since the 2026 western expansion a file may carry a BAA column: one row per
        # balancing authority area and interval (SPP, SWPW), each its own system total.
        return self.tick(
            response,
            "load",
            location=row.get("BAA") or self.facts.system,
            location_type="system",
            load_mw=formats.number(row[actual], actual),
            end=interval_end(row, when),
        )


def missing_ends(latest_end: datetime, since: datetime | None) -> list[datetime]:
    """Interval ends of the per-interval files to read before the latest one: the BACKFILL
    before it, or after an outage every interval since the cursor, oldest first, at most
    MAX_CATCHUP back and CATCHUP_PER_POLL files per poll (the next poll goes on from there)."""
    first = latest_end - BACKFILL * INTERVAL
    if since is not None and since < first:
        first = max(since + INTERVAL, latest_end - MAX_CATCHUP)
    count = min(int((latest_end - first) / INTERVAL), CATCHUP_PER_POLL)
    return [first + n * INTERVAL for n in range(count)]

"""SPP: real-time balancing market (RTBM) 5-minute LMP by settlement location, and system load,
from SPP's Marketplace portal (portal.spp.org; no key).

Endpoints:
- lmp: the file browser ``/file-browser-api/download/rtbm-lmp-by-location?path=...``:
  ``/RTBM-LMP-SL-latestInterval.csv`` (the newest interval) and one file per interval,
  ``/YYYY/MM/By_Interval/DD/RTBM-LMP-SL-YYYYMMDDHHMM.csv``. Columns Interval, GMTIntervalEnd,
  Settlement Location, Pnode, LMP, MLC, MCC, MEC, with a BAA column (SPP / SWPW) since the
  2026 RTO West expansion: both layouts are read. LMP = MEC + MCC + MLC (energy, congestion,
  loss), checked on the real files in ../shared/iso-samples/spp.
- load: ``/chart-api/load-forecast/asFile``, the "forecast vs actual" CSV (Interval,
  GMTIntervalEnd, STLF, MTLF, Actual Load, wind and solar columns), newest first, a week of
  forecast-only rows (Actual Load blank) ahead of about a day of settled 5-minute actuals.

Time: ``Interval`` is Central prevailing wall time and ``GMTIntervalEnd`` UTC, both marking the
interval END (real sample: 08:40 CDT = 13:40 UTC). gridtape reads GMTIntervalEnd, so the DST days
need no guessing when parsing, and refuses a row whose Interval names another instant. They matter for the per-interval file NAMES, which
use the Central wall time of the interval end, hour-ending style:
- the file is in the folder of the interval's START day: the interval ending at midnight,
  RTBM-LMP-SL-202407010000.csv, sits in /2024/06/By_Interval/30/;
- fall back: the repeated hour's files get a ``d`` suffix. Ends 01:05 .. 02:00 on the first
  pass (CDT; the 02:00 label is 07:00 UTC), then 01:05d .. 02:00d (CST): 300 files;
- spring forward: labels 02:05 .. 03:00 do not exist: the interval ending 08:00 UTC is 02:00,
  the next one 03:05: 276 files.
The naming comes from SPP's FTP-era layout and third-party collectors (gridstatus puts
the folder on the start date); the ``d`` suffix is documented for SPP's hourly files and
applied here to the 5-minute files the same way.

Fetching: the latest-interval file first; then the files of the BACKFILL intervals before it,
so a poll or two that failed leaves no gap. After a longer outage (the poller's cursor `since`
further back) the files of every interval since the cursor, oldest first, CATCHUP_PER_POLL a
poll and at most MAX_CATCHUP back; while a poll has not reached the latest interval it leaves
the latest file out, so the cursor it advances never jumps over a hole. A backfill file that is not there (404) is skipped;
a file that is there but empty (SPP does publish 0-byte interval files) is an error: an interval
is missing and must be seen, not silently dropped.

Locations: a settlement location named ``...HUB...`` on a hub pnode (Pnode ending ``_H``) is a
``hub``: the trading hubs SPPNORTH_HUB and SPPSOUTH_HUB and the members' hubs (GRDA_HUB,
KCPL_GMOC_HUB, ...; 35 in the real March 2025 file). Other ``_H`` pnodes (e.g. CSWS.VOLT.0004)
are aggregates but not hubs. A Pnode ending ``_LA`` is a load area (``zone``, 121 in that file).
With include_nodes every other settlement location is a ``node``.

Load is SPP's system total (``SPP``, ``system``); the file has no zones. Where a BAA column is
present, each balancing authority area (SPP, SWPW) is its own ``system`` location.

published_at: the files carry no publication time; the response's Last-Modified when sent,
else the fetch time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from gridtape import isos
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response

ZONE = isos.get("SPP").tz  # the market clock, from the ISO table
PORTAL = "https://portal.spp.org"
LMP_URL = f"{PORTAL}/file-browser-api/download/rtbm-lmp-by-location"
LATEST_PATH = "/RTBM-LMP-SL-latestInterval.csv"
LOAD_URL = f"{PORTAL}/chart-api/load-forecast/asFile"
MARKET = "RT5"
INTERVAL = timedelta(minutes=5)
BACKFILL = 3  # intervals before the latest one re-read on every poll
# After an outage: how far back the per-interval files are read (older: backfill), and how many
# a poll reads (60 files at SPP's 2 requests a second: 30 s of a one-minute poll).
MAX_CATCHUP = timedelta(hours=24)
CATCHUP_PER_POLL = 60

LMP_COLUMNS = ("GMTIntervalEnd", "Settlement Location", "Pnode", "LMP", "MLC", "MCC", "MEC")
LOAD_COLUMNS = ("GMTIntervalEnd", "Actual Load")
_ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$")


def interval_path(end_utc: datetime) -> str:
    """The file-browser path of the 5-minute file for the interval ending at `end_utc`."""
    start = (end_utc - INTERVAL).astimezone(ZONE)  # unambiguous: from UTC, fold is set
    label = start.replace(tzinfo=None) + INTERVAL  # hour-ending wall label: 24:00 -> next day 00:00
    suffix = "d" if start.fold else ""  # fold=1: the second pass through the repeated hour
    return f"/{start:%Y}/{start:%m}/By_Interval/{start:%d}/RTBM-LMP-SL-{label:%Y%m%d%H%M}{suffix}.csv"


def gmt(text: str) -> datetime:
    """GMTIntervalEnd: 'MM/DD/YYYY HH:MM:SS' in the price files; ISO 8601 with Z accepted too."""
    text = text.strip()
    if _ISO_Z.match(text):
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    try:
        return datetime.strptime(text, "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise formats.FormatError(f"GMTIntervalEnd: bad time {text!r}") from None


class SppSource(IsoSource):
    iso: ClassVar[str] = "SPP"

    # -- fetch -----------------------------------------------------------------------------

    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        if dataset == "load":
            return [http.get(Request(LOAD_URL))]
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

    def _latest_end(self, resp: Response) -> datetime | None:
        if resp.status != 200:
            return None
        try:
            formats.check_body(resp.body)
            rows = formats.csv_records(formats.decode(resp.body), LMP_COLUMNS)
            return max(gmt(r["GMTIntervalEnd"]) for r in rows) if rows else None
        except formats.FormatError:
            return None

    # -- lmp -------------------------------------------------------------------------------

    def _rows_lmp(self, response: Response, context: Any) -> list[dict[str, str]]:
        formats.check_body(response.body)
        rows = formats.csv_records(formats.decode(response.body), LMP_COLUMNS)
        if not rows:
            raise formats.FormatError("no rows after the header")
        return rows

    def _read_lmp(self, row: dict[str, str], response: Response) -> dict[str, Any] | None:
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
        end = interval_end(row)
        return self.tick(
            response,
            "lmp",
            location=location,
            location_type=kind,
            end=end,
            lmp=lmp,
            energy=mec,
            congestion=mcc,
            loss=mlc,
        )

    # -- load ------------------------------------------------------------------------------

    def _rows_load(self, response: Response, context: Any) -> list[dict[str, str]]:
        formats.check_body(response.body)
        rows = formats.csv_records(formats.decode(response.body), LOAD_COLUMNS)
        if not any(row["Actual Load"] for row in rows):
            raise formats.FormatError("no interval has an Actual Load")
        return rows

    def _read_load(self, row: dict[str, str], response: Response) -> dict[str, Any] | None:
        if not row["Actual Load"]:
            return None  # a forecast-only interval (the file runs a week ahead)
        # Since the 2026 western expansion a file may carry a BAA column: one row per
        # balancing authority area and interval (SPP, SWPW), each its own system total.
        return self.tick(
            response,
            "load",
            location=row.get("BAA") or self.facts.system,
            location_type="system",
            load_mw=formats.number(row["Actual Load"], "Actual Load"),
            end=interval_end(row),
        )


def interval_end(row: dict[str, str]) -> datetime:
    """GMTIntervalEnd (the interval END), cross-checked against the redundant Central wall time
    in Interval where the file has one: two fields that disagree mean one of them is wrong. An
    Interval in another layout is not checked (GMTIntervalEnd is the one gridtape relies on)."""
    end = gmt(row["GMTIntervalEnd"])
    try:
        local = datetime.strptime(row.get("Interval", "").strip(), "%m/%d/%Y %H:%M:%S")
    except ValueError:
        return end
    if end.astimezone(ZONE).replace(tzinfo=None) != local:
        raise formats.FormatError(
            f"Interval {row['Interval']} (Central) and GMTIntervalEnd {row['GMTIntervalEnd']} disagree"
        )
    return end


def missing_ends(latest_end: datetime, since: datetime | None) -> list[datetime]:
    """Interval ends of the per-interval files to read before the latest one: the BACKFILL
    before it, or after an outage every interval since the cursor, oldest first, at most
    MAX_CATCHUP back and CATCHUP_PER_POLL files per poll (the next poll goes on from there)."""
    first = latest_end - BACKFILL * INTERVAL
    if since is not None and since < first:
        first = max(since + INTERVAL, latest_end - MAX_CATCHUP)
    count = min(int((latest_end - first) / INTERVAL), CATCHUP_PER_POLL)
    return [first + n * INTERVAL for n in range(count)]

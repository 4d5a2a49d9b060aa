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
interval END (real sample: 08:40 CDT = 13:40 UTC). gridtape reads only GMTIntervalEnd, so the
DST days need no guessing when parsing. They matter for the per-interval file NAMES, which
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
so a poll or two that failed leaves no gap. A backfill file that is not there (404) is skipped;
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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from gridtape.contract import tick
from gridtape.timeutil import CENTRAL, interval_ending
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response

PORTAL = "https://portal.spp.org"
LMP_URL = f"{PORTAL}/file-browser-api/download/rtbm-lmp-by-location"
LATEST_PATH = "/RTBM-LMP-SL-latestInterval.csv"
LOAD_URL = f"{PORTAL}/chart-api/load-forecast/asFile"
MARKET = "RT5"
INTERVAL = timedelta(minutes=5)
BACKFILL = 3  # intervals before the latest one re-read on every poll
SYSTEM = "SPP"

LMP_COLUMNS = ("GMTIntervalEnd", "Settlement Location", "Pnode", "LMP", "MLC", "MCC", "MEC")
LOAD_COLUMNS = ("GMTIntervalEnd", "Actual Load")
_ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$")


def interval_path(end_utc: datetime) -> str:
    """The file-browser path of the 5-minute file for the interval ending at `end_utc`."""
    start = (end_utc - INTERVAL).astimezone(CENTRAL)  # unambiguous: from UTC, fold is set
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
    min_poll_interval_s: ClassVar[float] = 60.0
    requests_per_second: ClassVar[float] = 2.0

    # -- fetch -----------------------------------------------------------------------------

    def fetch(self, dataset: str, http: HttpClient, now: datetime) -> list[Response]:
        if dataset == "load":
            return [http.get(Request(LOAD_URL))]
        if dataset != "lmp":
            raise ValueError(f"SPP has no dataset {dataset!r}")
        latest = http.get(Request(LMP_URL, {"path": LATEST_PATH}))
        end = self._latest_end(latest)
        if end is None:
            return [latest]  # parse says what is wrong with it
        out: list[Response] = []
        for back in range(BACKFILL, 0, -1):
            resp = http.get(Request(LMP_URL, {"path": interval_path(end - back * INTERVAL)}))
            if resp.status == 404:
                continue  # not posted (yet): the next poll's backfill asks again
            out.append(resp)
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

    # -- parse -----------------------------------------------------------------------------

    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        if dataset == "lmp":
            parse_one = self._lmp_file
        elif dataset == "load":
            parse_one = self._load_file
        else:
            raise ValueError(f"SPP has no dataset {dataset!r}")
        out: dict[tuple[str, datetime], dict[str, Any]] = {}
        for resp in responses:
            try:
                if resp.status != 200:
                    raise formats.FormatError(f"HTTP {resp.status}")
                formats.check_body(resp.body)
                for key, record in parse_one(formats.decode(resp.body), resp):
                    out[key] = record
            except formats.FormatError as exc:
                raise self.error(dataset, resp.url, str(exc)) from None
        return sorted(out.values(), key=lambda t: (t["interval_start"], t["location"]))

    def _lmp_file(self, text: str, resp: Response) -> list[tuple[tuple[str, datetime], dict[str, Any]]]:
        rows = formats.csv_records(text, LMP_COLUMNS)
        if not rows:
            raise formats.FormatError("no rows after the header")
        out = []
        for n, row in enumerate(rows, start=2):
            pnode = row["Pnode"]
            if pnode.endswith("_H") and "HUB" in row["Settlement Location"].upper():
                kind = "hub"
            elif pnode.endswith("_LA"):
                kind = "zone"
            elif self.include_nodes:
                kind = "node"
            else:
                continue
            where = f"row {n} ({row['Settlement Location']})"
            try:
                start, end = interval_ending(gmt(row["GMTIntervalEnd"]), 5)
                lmp, mlc, mcc, mec = (formats.number(row[c], c) for c in ("LMP", "MLC", "MCC", "MEC"))
            except formats.FormatError as exc:
                raise formats.FormatError(f"{where}: {exc}") from None
            location = row["Settlement Location"]
            if not location:
                raise formats.FormatError(f"row {n}: empty Settlement Location")
            out.append(
                (
                    (location, start),
                    tick(
                        iso=self.iso,
                        market=MARKET,
                        dataset="lmp",
                        location=location,
                        location_type=kind,
                        interval_start=start,
                        interval_end=end,
                        lmp=lmp,
                        energy=mec,
                        congestion=mcc,
                        loss=mlc,
                        published_at=formats.published_at(resp.headers, resp.fetched_at),
                        ingested_at=resp.fetched_at,
                        source=resp.url,
                    ),
                )
            )
        return out

    def _load_file(self, text: str, resp: Response) -> list[tuple[tuple[str, datetime], dict[str, Any]]]:
        rows = formats.csv_records(text, LOAD_COLUMNS)
        out = []
        for n, row in enumerate(rows, start=2):
            if not row["Actual Load"]:
                continue  # a forecast-only interval (the file runs a week ahead)
            # Since the 2026 western expansion a file may carry a BAA column: one row per
            # balancing authority area and interval (SPP, SWPW), each its own system total.
            area = row.get("BAA") or SYSTEM
            try:
                start, end = interval_ending(gmt(row["GMTIntervalEnd"]), 5)
                mw = formats.number(row["Actual Load"], "Actual Load")
            except formats.FormatError as exc:
                raise formats.FormatError(f"row {n}: {exc}") from None
            out.append(
                (
                    (area, start),
                    tick(
                        iso=self.iso,
                        market=MARKET,
                        dataset="load",
                        location=area,
                        location_type="system",
                        interval_start=start,
                        interval_end=end,
                        load_mw=mw,
                        published_at=formats.published_at(resp.headers, resp.fetched_at),
                        ingested_at=resp.fetched_at,
                        source=resp.url,
                    ),
                )
            )
        if not out:
            raise formats.FormatError("no interval has an Actual Load")
        return out

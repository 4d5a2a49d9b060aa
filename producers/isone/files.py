"""ISO-NE's ISO Express files: addresses, columns and the record-typed CSV reader. Pure
functions; the IsoSource is in __init__ (its docstring states each file's clock)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import urlsplit

from gridtape import isos
from producers import formats
from producers.formats import FormatError

ZONE = isos.get("ISONE").tz  # the market clock, from the ISO table
WWW = "https://www.iso-ne.com"
COOKIE_PAGE = f"{WWW}/isoexpress/web/reports/operations/-/tree/gen-fuel-mix"
LMP_URL = f"{WWW}/transform/csv/fiveminlmp/current"
LOAD_URL = f"{WWW}/transform/csv/fiveminutesystemload"
ZONAL_URL = f"{WWW}/transform/csv/fiveminuteestimatedzonalload"
HIST_LMP_DIR = f"{WWW}/static-transform/csv/histRpts/5min-rt-prelim"
DA_DIR = f"{WWW}/static-transform/csv/histRpts/da-lmp"
# The historical five-minute LMP files split a day into six four-hour files (gridstatus reads
# the same six: 00-04 ... 20-24).
HIST_BLOCKS = ("00-04", "04-08", "08-12", "12-16", "16-20", "20-24")

PRICE = ("Locational Marginal Price", "Energy Component", "Congestion Component")
LOSS = "Loss Component"  # the day-ahead file says "Marginal Loss Component" (gridstatus maps both)
LMP_COLUMNS = ("Local Time", "Location ID", "Location Name", "Location Type", *PRICE, LOSS)
HIST_LMP_COLUMNS = ("Local Time", "Location ID", *PRICE)
DA_COLUMNS = ("Date", "Hour Ending", "Location ID", "Location Name", "Location Type", *PRICE)
LOAD_COLUMNS = ("Date/Time", "Native Load")
LOCATION_TYPES = {"HUB": "hub", "LOAD ZONE": "zone"}  # every other type is a node
# ISO-NE's names carry the type too: ".H." the hub, ".Z." a load zone (its location list).
NAME_PREFIXES = {".H.": "hub", ".Z.": "zone"}
# ISO-NE's location IDs of the hub and the eight load zones (its location list, in
# ../shared/iso-samples/isone/isone_ws_locations_00.json).
HUB_AND_ZONES = {
    "4000": ".H.INTERNAL_HUB",
    "4001": ".Z.MAINE",
    "4002": ".Z.NEWHAMPSHIRE",
    "4003": ".Z.VERMONT",
    "4004": ".Z.CONNECTICUT",
    "4005": ".Z.RHODEISLAND",
    "4006": ".Z.SEMASS",
    "4007": ".Z.WCMASS",
    "4008": ".Z.NEMASSBOST",
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
_HIST = re.compile(r"/lmp_5min_(\d{8})_(\d{2})-(\d{2})\.csv$")
_DA = re.compile(r"/WW_DALMP_ISO_(\d{8})\.csv$")


def hist_lmp_url(day: date, block: str) -> str:
    return f"{HIST_LMP_DIR}/lmp_5min_{day:%Y%m%d}_{block}.csv"


def da_url(day: date) -> str:
    return f"{DA_DIR}/WW_DALMP_ISO_{day:%Y%m%d}.csv"


def type_by_name(name: str) -> str:
    """hub | zone | node, from the name's prefix (for the files that give an ID, no type)."""
    return NAME_PREFIXES.get(name[:3], "node")


def kind(url: str) -> str:
    """Which ISO-NE file a response is: current | hist | system | zonal | da."""
    path = urlsplit(url).path
    if _HIST.search(path):
        return "hist"
    if _DA.search(path):
        return "da"
    for name, base in (("current", LMP_URL), ("system", LOAD_URL), ("zonal", ZONAL_URL)):
        if path == urlsplit(base).path:
            return name
    raise FormatError("not an ISO-NE file gridtape reads (by its address)", url)


def hist_day(url: str) -> date:
    """A historical five-minute file's operating day: only its address carries it (its rows
    hold a time of day)."""
    hit = _HIST.search(urlsplit(url).path)
    if hit is None:
        raise FormatError("no lmp_5min_YYYYMMDD_HH-HH.csv in the address", url)
    return datetime.strptime(hit.group(1), "%Y%m%d").date()


def data_rows(body: bytes) -> tuple[list[str], list[list[str]]]:
    """The first "H" row and the "D" rows of an ISO-NE record-typed CSV ("C" comments, "H"
    headers, "D" data, a closing "T" or "C": a file ending in a data row was cut off). Exact
    repeats of a data row are dropped (ISO-NE files have carried them)."""
    formats.check_body(body)
    rows = formats.csv_rows(formats.decode(body))
    kinds = [row[0].strip() for row in rows]
    if "H" not in kinds:
        raise FormatError("no header (H) row")
    if kinds[-1] not in ("T", "C"):
        raise FormatError(f"last row is a {kinds[-1]!r} row, not the trailer (truncated file)")
    unknown = sorted(set(kinds) - {"C", "H", "D", "T"})
    if unknown:
        raise FormatError(f"unknown record type(s) {unknown}")
    seen: set[tuple[str, ...]] = set()
    data = []
    for row in rows:
        key = tuple(c.strip() for c in row)
        if key[0] == "D" and key not in seen:
            seen.add(key)
            data.append(row)
    return [c.strip() for c in rows[kinds.index("H")]], data


def data_records(body: bytes, required: Sequence[str]) -> list[dict[str, str]]:
    """The "D" rows as dicts keyed by the first "H" row ("Marginal Loss Component" is read as
    "Loss Component")."""
    header, data = data_rows(body)
    header = [LOSS if h == f"Marginal {LOSS}" else h for h in header]
    return formats.records(header, data, required)


def wall(text: str, formats_: Sequence[str] = TIME_FORMATS) -> datetime:
    for fmt in formats_:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise FormatError(f"{text!r} is not a local date-time")

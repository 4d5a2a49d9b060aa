"""Weather beside prices: station observations from the National Weather Service API
(api.weather.gov; keyless), for the stations of gridtape/regions.py.

Endpoint: ``GET https://api.weather.gov/stations/{id}/observations?start=...&end=...`` (ISO 8601
UTC times), answered as GeoJSON (``application/geo+json``): a FeatureCollection whose
``features`` are observations, newest first, and, when there are more, ``pagination.next``: the
URL of the next page (followed until absent or a page holds no feature, only to api.weather.gov
over https, at most MAX_PAGES). Each feature's ``properties`` carry ``timestamp`` (ISO 8601 with
offset, the observation time), ``station`` (the station's URL), and per quantity an object
``{"unitCode", "value", "qualityControl"}``: ``temperature`` and ``dewpoint`` in
``wmoUnit:degC``, ``windSpeed`` in ``wmoUnit:km_h-1`` (converted to m/s). Older responses say
``unit:degC`` / ``unit:m_s-1`` and ``qc:V``: read too. A null value stays null (unknown), never 0.
``qualityControl`` is the MADIS flag (Z preliminary, C coarse, S screened, V verified, X
rejected, Q questioned, G subjective good, B subjective bad, T): a value flagged X or B is
stored as null (MADIS rejected it); an unknown flag or unit refuses that observation alone.
What was checked against what (no real sample offline): the QuantitativeValue and PaginationInfo
schemas of the API's OpenAPI document (as mirrored by api-evangelist/weather-gov; qualityControl
enum Z C S V X Q G B T), an archived 2019 observation collection (cosmer/Basic test data: feature
layout, unit:/qc: prefixes, newest first) and current client code and tests (wmoUnit:degC,
wmoUnit:km_h-1, bare "V" flags, stationId/stationName properties). The page cursor's format
was not checked: gridtape follows the ``next`` URL as given.

The API requires a User-Agent naming the application and a contact: every request carries
``gridtape/<version> (<site>, <contact>)``, the contact from GRIDTAPE_NWS_CONTACT (default: the
project's issue tracker). Operators set it to a mailbox NWS can write to.

Feed "weather" (record contract gridtape.context.WEATHER, one record per station and
observation time): fetch reads every station of the ISO over the last LOOKBACK (after an
outage back to the cursor, at most MAX_CATCHUP: NWS keeps about 7 days); history reads the
ISO's operating day (market-clock midnight to midnight) and parse keeps only the observations
inside the window a response's URL asked for, so a backfilled day holds that day alone.
published_at: the response's Last-Modified, else the fetch time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Final
from urllib.parse import parse_qs, urlsplit

from gridtape import config, context, contract, isos, regions
from gridtape.contract import RecordContract
from producers import formats
from producers.base import HttpClient, IsoSource, Request, Response
from producers.formats import FormatError

API: Final = "https://api.weather.gov"
HOST: Final = "api.weather.gov"
FEED: Final = "weather"
LOOKBACK: Final = timedelta(hours=3)  # a live poll re-reads this much: late and corrected reports heal
MAX_CATCHUP: Final = timedelta(days=6)  # NWS keeps about a week of observations per station
MAX_PAGES: Final = 20  # a day of one station is one or two pages; more means a paging loop
REQUESTS_PER_SECOND: Final = 1.0  # NWS publishes no number; it throttles (429/403) bursts
# Until the lead names it in gridtape/config.py (requests.md), the variable is defined here.
ENV_CONTACT: Final[str] = str(getattr(config, "ENV_NWS_CONTACT", "GRIDTAPE_NWS_CONTACT"))
SITE: Final = "https://github.com/gridtape/gridtape"
DEFAULT_CONTACT: Final = f"{SITE}/issues"
VERSION: Final = "0.1"

DEG_C: Final = {"wmoUnit:degC": 1.0, "unit:degC": 1.0}
SPEED: Final = {"wmoUnit:km_h-1": 1 / 3.6, "unit:km_h-1": 1 / 3.6, "wmoUnit:m_s-1": 1.0, "unit:m_s-1": 1.0}
QC_FLAGS: Final = frozenset("ZCSVXQGBT")
QC_REJECTED: Final = frozenset("XB")
_STATION_PATH: Final = re.compile(r"/stations/([A-Za-z0-9]+)/observations/?$")


def user_agent() -> str:
    return f"gridtape/{VERSION} ({SITE}, {config.setting(None, ENV_CONTACT, DEFAULT_CONTACT)})"


def observations_url(station: str) -> str:
    return f"{API}/stations/{station}/observations"


def stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_params(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": stamp(start), "end": stamp(end)}


def day_window(iso: str, day: date) -> tuple[datetime, datetime]:
    """The ISO's operating day `day` (its market clock) as UTC instants [start, end)."""
    tz = isos.get(iso).tz
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)


def document(body: bytes) -> Any:
    """The JSON document of a response body; one still gzip-compressed (a saved or replayed
    recording stored compressed) is inflated first."""
    if body[:2] == b"\x1f\x8b":
        body = formats.inflate(body, "gzip")
    return formats.json_document(body)


def next_page(doc: Any) -> str | None:
    """The pagination.next link of a page that had features (None: the last page)."""
    if not isinstance(doc, dict) or not doc.get("features"):
        return None
    pagination = doc.get("pagination")
    link = pagination.get("next") if isinstance(pagination, dict) else None
    return link if isinstance(link, str) and link else None


class NwsSource(IsoSource):
    """The weather of one ISO's zones (the classes below, one per ISO, set `iso`)."""

    archives: ClassVar[frozenset[str]] = frozenset({FEED})
    # A station that sent nothing in the window (down, or not reporting yet) is no format change.
    may_be_empty: ClassVar[frozenset[str]] = frozenset({FEED})

    @property
    def datasets(self) -> tuple[str, ...]:
        return (FEED,)

    @property
    def requests_per_second(self) -> float:
        return REQUESTS_PER_SECOND

    @property
    def stations(self) -> tuple[str, ...]:
        return regions.get(self.iso).stations

    def record_contract(self, dataset: str) -> RecordContract:
        return context.WEATHER

    # -- fetch -----------------------------------------------------------------------------
    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        self._feed(dataset)
        end = now.astimezone(UTC).replace(second=0, microsecond=0)
        start = end - LOOKBACK
        if since is not None and since < start:
            start = max(since.astimezone(UTC).replace(second=0, microsecond=0), end - MAX_CATCHUP)
        return self._read_window(dataset, http, start, end)

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        self._feed(dataset)
        return self._read_window(dataset, http, *day_window(self.iso, day))

    def _feed(self, dataset: str) -> None:
        if dataset != FEED:
            raise NotImplementedError(f"NWS has no feed {dataset!r} (only {FEED!r})")

    def _read_window(self, dataset: str, http: HttpClient, start: datetime, end: datetime) -> list[Response]:
        out: list[Response] = []
        for station in self.stations:
            out += self._pages(dataset, http, Request(observations_url(station), window_params(start, end)))
        return out

    def _pages(self, dataset: str, http: HttpClient, first: Request) -> list[Response]:
        """Every page of one station's window. A page that does not parse ends the walk: parse
        names what is wrong with it."""
        headers = {"User-Agent": user_agent(), "Accept": "application/geo+json"}
        request, pages = Request(first.url, first.params, headers), []
        for _ in range(MAX_PAGES):
            resp = http.get(request)
            pages.append(resp)
            if resp.status != 200:
                return pages
            try:
                link = next_page(document(resp.body))
            except FormatError:
                return pages
            if link is None:
                return pages
            parts = urlsplit(link)
            if parts.scheme != "https" or parts.hostname != HOST:
                raise self.error(dataset, resp.url, f"pagination.next leads off {HOST}: {link[:200]}")
            if link == resp.url:
                raise self.error(dataset, resp.url, "pagination.next names the page itself")
            request = Request(link, {}, headers)
        raise self.error(dataset, pages[-1].url, f"more than {MAX_PAGES} pages: a paging loop?")

    # -- parse -----------------------------------------------------------------------------
    def _rows_weather(self, response: Response, ctx: Any) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
        doc = document(response.body)
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            raise FormatError("not a GeoJSON FeatureCollection")
        features = doc.get("features")
        if not isinstance(features, list):
            raise FormatError("FeatureCollection without a features list")
        parts = urlsplit(response.url)
        found = _STATION_PATH.search(parts.path)
        station = found.group(1).upper() if found else None
        query = parse_qs(parts.query)
        window = tuple(_utc(query[k][0]) if k in query else None for k in ("start", "end"))
        return [(f, (station, *window)) for f in features]

    def _read_weather(self, row: tuple[Any, tuple[Any, ...]], response: Response) -> dict[str, Any] | None:
        feature, (station, start, end) = row
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            raise FormatError("feature without properties")
        props = feature["properties"]
        observed = _utc(props.get("timestamp"))
        if (start is not None and observed < start) or (end is not None and observed >= end):
            return None  # outside the window this request asked for
        named = props.get("station")
        if isinstance(named, str) and named:
            of = named.rstrip("/").rsplit("/", 1)[-1].upper()
            if station is not None and of != station:
                raise FormatError(f"observation of {of} in {station}'s collection")
            station = of
        if not station:
            raise FormatError("no station: neither the URL nor properties.station names one")
        wind = _quantity(props, "windSpeed", SPEED)
        fetched = response.fetched_at
        return {
            "station": station,
            "observed_at": contract.format_ts(observed),
            "temperature_c": _quantity(props, "temperature", DEG_C),
            "dew_point_c": _quantity(props, "dewpoint", DEG_C),
            "wind_mps": None if wind is None else round(wind, 3),
            "published_at": contract.format_ts(formats.published_at(response.headers, fetched)),
            "ingested_at": contract.format_ts(fetched),
            "source": response.url,
            "revision": None,
        }


def _utc(text: Any) -> datetime:
    if not isinstance(text, str):
        raise FormatError(f"timestamp: expected ISO 8601 text, got {text!r}")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FormatError(f"timestamp {text!r} is not ISO 8601") from None
    if value.tzinfo is None:
        raise FormatError(f"timestamp {text!r} has no UTC offset")
    return value.astimezone(UTC)


def _quantity(props: dict[str, Any], name: str, units: dict[str, float]) -> float | None:
    """One QuantitativeValue in gridtape's unit; None when absent, null or rejected by MADIS QC."""
    q = props.get(name)
    if q is None:
        return None
    if not isinstance(q, dict):
        raise FormatError(f"{name}: expected an object, got {q!r}")
    flag = q.get("qualityControl")
    if flag is not None:
        flag = str(flag).removeprefix("qc:")
        if flag not in QC_FLAGS:
            raise FormatError(f"{name}: unknown qualityControl {q.get('qualityControl')!r}")
    value = q.get("value")
    if value is None or flag in QC_REJECTED:
        return None
    unit = q.get("unitCode")
    if unit not in units:
        raise FormatError(f"{name}: unit {unit!r}, expected one of {', '.join(units)}")
    return formats.number(value, name) * units[unit]


def _for(code: str) -> type[NwsSource]:
    """NwsSource for one ISO (a source's ISO is a class attribute), named as if written at
    module level: the registry's "module:Class" finds it by that name."""

    class Nws(NwsSource):
        iso: ClassVar[str] = code

    Nws.__name__ = Nws.__qualname__ = f"Nws{code.title()}"
    return Nws


NwsCaiso = _for("CAISO")
NwsErcot = _for("ERCOT")
NwsIsone = _for("ISONE")
NwsMiso = _for("MISO")
NwsNyiso = _for("NYISO")
NwsPjm = _for("PJM")
NwsSpp = _for("SPP")

SOURCES: Final[dict[str, type[NwsSource]]] = {
    c.iso: c for c in (NwsCaiso, NwsErcot, NwsIsone, NwsMiso, NwsNyiso, NwsPjm, NwsSpp)
}
# For producers/context/registry.py: kind "weather" -> {ISO -> "module:Class"}.
CLASSES: Final[dict[str, str]] = {iso: f"{__name__}:{c.__name__}" for iso, c in SOURCES.items()}

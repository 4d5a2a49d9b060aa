"""Regenerate producers/recordings/context/nws/: api.weather.gov station observations in the
API's format (GeoJSON FeatureCollection, see producers/context/nws.py for what was checked
against what), seeded synthetic values, for every station of gridtape/regions.py.

    .venv/bin/python -m tools.recordings.context_nws   (from the repository root)

One replay tree per ISO, <iso>/manifest.json (what producers.poller.find_recordings and
`gridtape backfill --replay` look for), answering NwsSource.history() for the demo day
2026-06-11 and both 2026 DST days (2026-03-08, 2026-11-01: 23 and 25 hours on the ISO's
clock; MISO's clock is EST all year), and NwsSource.fetch() of one recorded live poll on the
demo day. Hourly routine observations only (each station reports at its own minute, :51-:56),
newest first as the API lists them. The first station of each ISO is served in two pages
(pagination.next), so the replay walks the paging; the cursor's format is made up.

Realism: temperature on a daily curve (minimum near dawn, maximum mid-afternoon local time)
around a per-ISO seasonal mean, dew point a spread below it, wind from METAR knots converted
to km/h as the API does (1 kt = 1.852 km/h). Now and then a value is null (qualityControl Z):
missing readings stay unknown downstream. Geometry: the ISO's approximate centre, not the
station's own position (gridtape does not read it). Bodies are stored gzip-compressed
(Content-Encoding: gzip) to keep the tree small; the parser inflates a compressed body.
"""

from __future__ import annotations

import gzip
import json
import math
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script too

from gridtape import isos, regions
from producers.context import nws
from tools.recordings import synth

DEMO = date(2026, 6, 11)
DAYS = (date(2026, 3, 8), DEMO, date(2026, 11, 1))
LIVE_NOW = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)  # the recorded live poll
ROOT = synth.RECORDINGS / "context" / "nws"
HOUR = timedelta(hours=1)
# Daily mean air temperature (deg C) of an ISO's load centres: (annual mean, seasonal half-range),
# warmest around 19 July (day 200). Rough climatology, enough for a believable curve.
CLIMATE = {
    "CAISO": (16, 5), "ERCOT": (21, 9), "ISONE": (10, 12), "MISO": (11, 14), "NYISO": (9, 12),
    "PJM": (13, 11), "SPP": (15, 12),
}  # fmt: skip
CENTRE = {
    "CAISO": (-119.4, 36.8), "ERCOT": (-97.7, 31.0), "ISONE": (-71.8, 42.6), "MISO": (-90.2, 40.0),
    "NYISO": (-75.5, 42.9), "PJM": (-79.0, 39.8), "SPP": (-97.5, 37.5),
}  # fmt: skip
HEADERS = {"Content-Type": "application/geo+json", "Content-Encoding": "gzip", "Cache-Control": "public, max-age=300"}


def minute(station: str) -> int:
    return 51 + synth.rng("nws-minute", station).randrange(6)


def observed_times(station: str, start: datetime, end: datetime) -> list[datetime]:
    """The station's routine hourly observation times in [start, end), oldest first."""
    t = start.replace(minute=minute(station), second=0, microsecond=0)
    if t < start:
        t += HOUR
    out = []
    while t < end:
        out.append(t)
        t += HOUR
    return out


def _quantity(unit: str, value: float | None, qc: str = "V") -> dict[str, Any]:
    return {"unitCode": unit, "value": value, "qualityControl": "Z" if value is None else qc}


def reading(iso: str, station: str, t: datetime) -> tuple[float | None, float | None, int | None, int]:
    """(temperature C, dew point C, wind knots, wind direction) of `station` at `t`, seeded."""
    tz = isos.get(iso).tz
    local = synth.local_hour(t, tz)
    annual, half = CLIMATE[iso]
    season = math.cos((t.astimezone(tz).timetuple().tm_yday - 200) / 365 * 2 * math.pi)
    base = annual + half * season + synth.rng("nws-station", station).gauss(0, 1.5)
    r = synth.rng("nws", station, t.isoformat())
    swing = math.cos((local - 15.0) / 24 * 2 * math.pi)  # 1 at 15:00, -1 at 03:00
    temp = round(base + 5.5 * swing + r.gauss(0, 0.4), 1)
    dew = round(temp - (4 + 4 * (swing + 1) / 2 + abs(r.gauss(0, 1.2))), 1)
    knots = max(0, round(7 + 4 * swing + r.gauss(0, 3)))
    direction = 10 * r.randrange(36) if knots else 0
    roll = r.random()
    return (
        None if roll < 0.004 else temp,
        None if 0.004 <= roll < 0.02 else dew,
        None if 0.02 <= roll < 0.03 else knots,
        direction,
    )


def _metar(station: str, t: datetime, temp: float | None, dew: float | None, knots: int | None, direction: int) -> str:
    def c(v: float | None) -> str:
        return "" if v is None else (f"M{round(-v):02d}" if v < 0 else f"{round(v):02d}")

    wind = "/////KT" if knots is None else f"{direction:03d}{knots:02d}KT"
    return f"{station} {t:%d%H%M}Z AUTO {wind} 10SM CLR {c(temp)}/{c(dew)} A3001 RMK AO2"


def feature(iso: str, station: str, place: str, t: datetime) -> dict[str, Any]:
    temp, dew, knots, direction = reading(iso, station, t)
    at = t.isoformat()
    url = f"{nws.API}/stations/{station}/observations/{at}"
    speed = None if knots is None else round(knots * 1.852, 3)
    return {
        "id": url,
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(CENTRE[iso])},
        "properties": {
            "@id": url,
            "@type": "wx:ObservationStation",
            "elevation": {"unitCode": "wmoUnit:m", "value": 100},
            "station": f"{nws.API}/stations/{station}",
            "stationId": station,
            "stationName": place,
            "timestamp": at,
            "rawMessage": _metar(station, t, temp, dew, knots, direction),
            "textDescription": "Clear",
            "presentWeather": [],
            "temperature": _quantity("wmoUnit:degC", temp),
            "dewpoint": _quantity("wmoUnit:degC", dew),
            "windDirection": _quantity("wmoUnit:degree_(angle)", None if knots is None else direction),
            "windSpeed": _quantity("wmoUnit:km_h-1", speed),
            "windGust": _quantity("wmoUnit:km_h-1", None),
            "barometricPressure": _quantity("wmoUnit:Pa", 101630),
            "visibility": _quantity("wmoUnit:m", 16090, "C"),
            "relativeHumidity": _quantity("wmoUnit:percent", _humidity(temp, dew), "C"),
        },
    }


def _humidity(temp: float | None, dew: float | None) -> float | None:
    if temp is None or dew is None:
        return None
    magnus = lambda x: math.exp(17.625 * x / (243.04 + x))  # noqa: E731
    return round(100 * magnus(dew) / magnus(temp), 3)


def collection(features: list[dict[str, Any]], next_url: str | None = None) -> bytes:
    doc: dict[str, Any] = {
        "@context": ["https://geojson.org/geojson-ld/geojson-context.jsonld", {"@version": "1.1"}],
        "type": "FeatureCollection",
        "features": features,
    }
    if next_url:
        doc["pagination"] = {"next": next_url}
    return gzip.compress(json.dumps(doc, indent=4).encode(), mtime=0)


def write_iso(root: Path, iso: str, days: Iterable[date], live: datetime | None = LIVE_NOW) -> None:
    """The replay tree of one ISO's stations at root/<iso>/ (old files removed)."""
    folder = root / iso.lower()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json.gz"):
        old.unlink()
    responses: list[dict[str, Any]] = []
    region = regions.get(iso)
    places = {s.id: s.place for z in region.zones for s in z.stations}
    windows = [(f"{d:%Y%m%d}", *nws.day_window(iso, d)) for d in days]
    if live is not None:
        end = live.replace(second=0, microsecond=0)
        windows.append((f"live{end:%Y%m%dT%H%M}", end - nws.LOOKBACK, end))
    for label, start, end in windows:
        for n, station in enumerate(region.stations):
            url = nws.observations_url(station)
            params = nws.window_params(start, end)
            feats = [feature(iso, station, places[station], t) for t in reversed(observed_times(station, start, end))]
            pages = [feats] if n or len(feats) < 2 else [feats[: len(feats) // 2], feats[len(feats) // 2 :]]
            asked: tuple[str, dict[str, str]] = (url, params)
            for p, page in enumerate(pages):
                name = f"{station}_{label}{f'_p{p + 1}' if p else ''}.json.gz"
                more = None
                if p + 1 < len(pages):
                    more = f"{url}?start={params['start']}&end={params['end']}&cursor=c{p + 1}{page[-1]['properties']['timestamp'][:13]}"
                (folder / name).write_bytes(collection(page, more))
                responses.append({"url": asked[0], "params": asked[1], "file": name, "status": 200, "headers": HEADERS})
                if more:
                    asked = (more, {})
    polls = [{"dataset": nws.FEED, "now": f"{live:%Y-%m-%dT%H:%M:%SZ}", "label": "demo day"}] if live else []
    manifest = {"iso": iso, "polls": polls, "responses": responses}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def history_tree(root: Path, start: date, end: date, iso_codes: Iterable[str] = isos.CODES) -> None:
    """Every ISO's station observations for each operating day in [start, end] (seeded), as
    replay trees root/<iso>/ (no live poll)."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    for iso in iso_codes:
        write_iso(root, iso, days, live=None)


def main() -> None:
    for iso in isos.CODES:
        write_iso(ROOT, iso, DAYS)
    print(f"wrote {ROOT}")


if __name__ == "__main__":
    main()

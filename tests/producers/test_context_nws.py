"""NWS station observations (producers/context/nws.py): the recorded days replay for every
ISO's stations, units and quality flags read as the API documents them, nulls stay unknown,
bad observations are refused alone and bad responses name their URL, paging is followed only
where it may go, and every request carries a User-Agent with a contact."""

from __future__ import annotations

import gzip
import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtape import context, contract, isos, regions
from gridtape.errors import SourceError
from producers import http
from producers.base import Request, Response
from producers.context import nws
from producers.transport import RawResponse
from tools.recordings import context_nws as gen

TREE = gen.ROOT
SPRING, FALL = date(2026, 3, 8), date(2026, 11, 1)
AT = datetime(2026, 6, 11, 20, 0, tzinfo=UTC)


def replayed(iso: str, root: Path = TREE) -> http.FetchLayer:
    return http.replay(http.Recordings.load(root / iso.lower()), clock=lambda: AT)


def response(body: bytes | dict[str, Any], url: str | None = None, status: int = 200) -> Response:
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    url = url or f"{nws.observations_url('KIAH')}?start=2026-06-11T00:00:00Z&end=2026-06-12T00:00:00Z"
    return Response(url, status, body, {"Content-Type": "application/geo+json"}, AT)


def obs(ts: str = "2026-06-11T12:53:00+00:00", station: str = "KIAH", **props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "station": f"{nws.API}/stations/{station}",
        "timestamp": ts,
        "temperature": {"unitCode": "wmoUnit:degC", "value": 28.3, "qualityControl": "V"},
        "dewpoint": {"unitCode": "wmoUnit:degC", "value": 22.2, "qualityControl": "V"},
        "windSpeed": {"unitCode": "wmoUnit:km_h-1", "value": 36.0, "qualityControl": "V"},
    }
    return {"type": "Feature", "properties": {**base, **props}}


def fc(*features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **extra}


# -- the recorded tree: every ISO, the demo day and both DST days ------------------------------
@pytest.mark.parametrize("iso", isos.CODES)
@pytest.mark.parametrize("day", [SPRING, gen.DEMO, FALL])
def test_history_reads_every_station_for_the_whole_local_day(iso: str, day: date) -> None:
    layer = replayed(iso)
    source = nws.SOURCES[iso]()
    parsed = source.parse_rows("weather", source.history("weather", day, layer), live=False)
    assert not parsed.refused and not layer.transport.unmatched  # type: ignore[attr-defined]
    start, end = nws.day_window(iso, day)
    hours = round((end - start) / timedelta(hours=1))
    assert hours == (24 if day == gen.DEMO or iso == "MISO" else 23 if day == SPRING else 25)
    per_station: dict[str, int] = {}
    for record in parsed.ticks:
        contract.validate(record, context.WEATHER)
        assert start <= contract.parse_ts(record["observed_at"]) < end
        per_station[record["station"]] = per_station.get(record["station"], 0) + 1
    assert per_station == dict.fromkeys(regions.get(iso).stations, hours)


def test_the_live_poll_replays_and_agrees_with_history() -> None:
    source = nws.NwsErcot()
    live = source.parse_rows("weather", source.fetch("weather", replayed("ERCOT"), gen.LIVE_NOW))
    assert not live.refused
    assert {r["station"] for r in live.ticks} == set(regions.get("ERCOT").stations)
    assert len(live.ticks) == 3 * len(regions.get("ERCOT").stations)  # LOOKBACK of hourly reports
    day = source.parse("weather", source.history("weather", gen.DEMO, replayed("ERCOT")))
    values = ("temperature_c", "dew_point_c", "wind_mps")
    by_key = {(r["station"], r["observed_at"]): [r[v] for v in values] for r in day}
    for r in live.ticks:
        assert by_key[(r["station"], r["observed_at"])] == [r[v] for v in values]


def test_the_tree_holds_nulls_and_never_turns_them_into_zero() -> None:
    source = nws.NwsPjm()
    records = source.parse("weather", source.history("weather", gen.DEMO, replayed("PJM")))
    nulls = [r for r in records if None in (r["temperature_c"], r["dew_point_c"], r["wind_mps"])]
    assert nulls, "the recordings should exercise missing readings"
    for r in nulls:
        t = datetime.fromisoformat(r["observed_at"].replace("Z", "+00:00"))
        temp, dew, knots, _ = gen.reading("PJM", r["station"], t)
        assert (r["temperature_c"], r["dew_point_c"]) == (temp, dew)
        assert r["wind_mps"] == (None if knots is None else round(knots * 1.852 / 3.6, 3))


def test_the_generator_writes_the_committed_tree(tmp_path: Path) -> None:
    for iso in isos.CODES:
        gen.write_iso(tmp_path, iso, gen.DAYS)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(TREE) for p in TREE.rglob("*") if p.is_file())
    assert written == committed
    assert all((tmp_path / p).read_bytes() == (TREE / p).read_bytes() for p in written)
    assert sum((TREE / p).stat().st_size for p in committed) < 1_500_000


def test_history_tree_writes_a_replayable_range(tmp_path: Path) -> None:
    gen.history_tree(tmp_path, date(2026, 2, 27), date(2026, 3, 2), iso_codes=("SPP",))
    source = nws.NwsSpp()
    for n in range(4):
        day = date(2026, 2, 27) + timedelta(days=n)
        records = source.parse_rows("weather", source.history("weather", day, replayed("SPP", tmp_path)), live=False)
        assert len(records.ticks) == 24 * len(regions.get("SPP").stations) and not records.refused


# -- parsing: units, quality flags, nulls, one bad observation ---------------------------------
def test_units_are_converted_and_quality_flags_read() -> None:
    source = nws.NwsErcot()
    old_style = obs(
        "2019-08-17T11:55:00+00:00",
        temperature={"unitCode": "unit:degC", "value": 20, "qualityControl": "qc:V"},
        windSpeed={"unitCode": "unit:m_s-1", "value": 2.1, "qualityControl": "qc:V"},
    )
    rejected = obs(
        "2026-06-11T13:53:00+00:00", temperature={"unitCode": "wmoUnit:degC", "value": 55.0, "qualityControl": "X"}
    )
    empty = obs(
        "2026-06-11T14:53:00+00:00",
        dewpoint={"unitCode": "wmoUnit:degC", "value": None, "qualityControl": "Z"},
        windSpeed={"unitCode": "wmoUnit:km_h-1", "value": 0, "qualityControl": "V"},
    )
    no_temperature = obs("2026-06-11T15:53:00+00:00")
    del no_temperature["properties"]["temperature"]
    url = nws.observations_url("KIAH")  # no window in the address: every observation is kept
    got = source.parse("weather", [response(fc(obs(), old_style, rejected, empty, no_temperature), url)])
    by_time = {r["observed_at"]: r for r in got}
    assert by_time["2026-06-11T12:53:00Z"]["wind_mps"] == 10.0  # 36 km/h
    assert by_time["2026-06-11T12:53:00Z"]["temperature_c"] == 28.3
    assert by_time["2019-08-17T11:55:00Z"]["wind_mps"] == 2.1 and by_time["2019-08-17T11:55:00Z"]["temperature_c"] == 20
    assert by_time["2026-06-11T13:53:00Z"]["temperature_c"] is None  # MADIS rejected it: unknown
    assert by_time["2026-06-11T14:53:00Z"]["dew_point_c"] is None
    assert by_time["2026-06-11T14:53:00Z"]["wind_mps"] == 0.0  # calm is a reading, not a gap
    assert by_time["2026-06-11T15:53:00Z"]["temperature_c"] is None
    assert all(r["station"] == "KIAH" and r["source"] == url for r in got)


@pytest.mark.parametrize(
    "bad",
    [
        {"timestamp": "yesterday"},
        {"timestamp": "2026-06-11T12:00:00"},  # no offset
        {"temperature": {"unitCode": "wmoUnit:degF", "value": 80, "qualityControl": "V"}},
        {"windSpeed": {"unitCode": "wmoUnit:km_h-1", "value": "fast", "qualityControl": "V"}},
        {"dewpoint": {"unitCode": "wmoUnit:degC", "value": 10, "qualityControl": "W"}},
        {"temperature": 28.3},
        {"temperature": {"unitCode": "wmoUnit:degC", "value": 75.0, "qualityControl": "V"}},  # beyond bounds
        {"station": f"{nws.API}/stations/KDFW"},  # another station's report in KIAH's collection
    ],
)
def test_a_bad_observation_is_refused_alone(bad: dict[str, Any]) -> None:
    good = [obs(f"2026-06-11T{h:02d}:53:00+00:00") for h in range(10)]
    parsed = nws.NwsErcot().parse_rows("weather", [response(fc(*good, obs("2026-06-11T11:53:00+00:00", **bad)))])
    assert len(parsed.ticks) == 10 and len(parsed.refused) == 1
    assert parsed.refused[0].url.startswith(nws.observations_url("KIAH"))


def test_observations_outside_the_asked_window_are_left_out() -> None:
    url = f"{nws.observations_url('KIAH')}?start=2026-06-11T05:00:00Z&end=2026-06-12T05:00:00Z"
    got = nws.NwsErcot().parse("weather", [response(fc(*(obs(f"2026-06-1{d}T04:53:00+00:00") for d in (1, 2))), url)])
    assert [r["observed_at"] for r in got] == ["2026-06-12T04:53:00Z"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<html><body>Service Unavailable</body></html>", 200),
        (json.dumps({"type": "Feature", "properties": {}}).encode(), 200),
        (json.dumps({"type": "FeatureCollection", "features": {"a": 1}}).encode(), 200),
        (json.dumps({"title": "Not Found", "status": 404}).encode(), 404),
        (gzip.compress(json.dumps(fc(obs())).encode(), mtime=0)[:40], 200),  # cut short
        (b"", 200),
    ],
)
def test_a_bad_station_response_is_a_source_error_naming_its_url(body: bytes, status: int) -> None:
    url = f"{nws.observations_url('KXYZ')}?start=2026-06-11T00:00:00Z&end=2026-06-12T00:00:00Z"
    with pytest.raises(SourceError) as err:
        nws.NwsSpp().parse(
            "weather", [response(fc(obs(station="KOKC")), url.replace("KXYZ", "KOKC")), response(body, url, status)]
        )
    assert url in str(err.value)


def test_more_than_a_fifth_of_bad_observations_refuses_the_response() -> None:
    rows = [obs(f"2026-06-11T{h:02d}:53:00+00:00", windSpeed={"unitCode": "wmoUnit:mph", "value": 5}) for h in range(5)]
    with pytest.raises(SourceError, match="rows refused"):
        nws.NwsErcot().parse("weather", [response(fc(obs(), *rows))])


def test_an_empty_window_is_no_error() -> None:
    assert nws.NwsErcot().parse("weather", [response(fc())]) == []


# -- fetching: windows, paging, the User-Agent -------------------------------------------------
class Pages:
    """An HttpClient answering from a {url-with-query: body} map; records every request."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers
        self.asked: list[Request] = []

    def get(self, request: Request) -> Response:
        self.asked.append(request)
        url = http.full_url(request.url, request.params)
        body = self.answers.get(url.split("?")[0] if "cursor" not in url else url, fc())
        return response(body, url)


def test_fetch_asks_every_station_for_the_lookback_or_back_to_the_cursor() -> None:
    source = nws.NwsNyiso()
    now = datetime(2026, 6, 11, 18, 5, 42, tzinfo=UTC)
    for since, start in [
        (None, "2026-06-11T15:05:00Z"),
        (now - timedelta(hours=1), "2026-06-11T15:05:00Z"),
        (now - timedelta(hours=10), "2026-06-11T08:05:00Z"),
        (now - timedelta(days=30), "2026-06-05T18:05:00Z"),  # MAX_CATCHUP
    ]:
        client = Pages({})
        source.fetch("weather", client, now, since)
        assert [r.url for r in client.asked] == [nws.observations_url(s) for s in regions.get("NYISO").stations]
        assert {(r.params["start"], r.params["end"]) for r in client.asked} == {(start, "2026-06-11T18:05:00Z")}


def test_paging_is_followed_to_the_end_and_only_on_the_api_host() -> None:
    first = nws.observations_url("KOKC")
    nxt = f"{first}?cursor=2"
    client = Pages(
        {
            first: fc(obs(station="KOKC"), pagination={"next": nxt}),
            nxt: fc(obs("2026-06-11T11:53:00+00:00", station="KOKC")),
        }
    )
    got = nws.NwsSpp()._pages("weather", client, Request(first, {"start": "a"}))
    assert [r.url for r in got] == [f"{first}?start=a", nxt]
    for evil in (
        "http://api.weather.gov/x",
        "https://example.com/stations/KOKC/observations",
        "https://api.weather.gov.evil.io/",
    ):
        client = Pages({first: fc(obs(station="KOKC"), pagination={"next": evil})})
        with pytest.raises(SourceError, match="leads off"):
            nws.NwsSpp()._pages("weather", client, Request(first))


def test_a_paging_loop_is_cut_off() -> None:
    first = nws.observations_url("KOKC")
    client = Pages({first: fc(obs(station="KOKC"), pagination={"next": first})})
    with pytest.raises(SourceError, match="itself"):
        nws.NwsSpp()._pages("weather", client, Request(first))
    answers = {
        f"{first}?cursor={n}": fc(obs(station="KOKC"), pagination={"next": f"{first}?cursor={n + 1}"})
        for n in range(99)
    }
    answers[first] = answers[f"{first}?cursor=0"]
    with pytest.raises(SourceError, match="pages"):
        nws.NwsSpp()._pages("weather", Pages(answers), Request(first))


def test_every_request_carries_a_user_agent_with_a_contact(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, str]] = []

    class Transport:
        def send(self, url: str, params: Any, headers: Any, timeout: float) -> RawResponse:
            sent.append(dict(headers))
            return RawResponse(200, json.dumps(fc()).encode(), {})

    monkeypatch.delenv(nws.ENV_CONTACT, raising=False)
    layer = http.FetchLayer("SPP", Transport(), limiter=http.RateLimiter(0), https_only=True)
    nws.NwsSpp().history("weather", gen.DEMO, layer)
    assert len(sent) == len(regions.get("SPP").stations)
    assert all(h["User-Agent"] == nws.user_agent() and nws.DEFAULT_CONTACT in h["User-Agent"] for h in sent)
    monkeypatch.setenv(nws.ENV_CONTACT, "ops@example.org")
    nws.NwsSpp().fetch("weather", layer, AT)
    assert "ops@example.org" in sent[-1]["User-Agent"] and sent[-1]["Accept"] == "application/geo+json"


def test_a_context_source_speaks_the_weather_contract() -> None:
    for iso, cls in nws.SOURCES.items():
        source = cls()
        assert source.iso == iso and source.datasets == ("weather",) and source.archives == {"weather"}
        assert source.record_contract("weather") is context.WEATHER
        assert nws.CLASSES[iso] == f"producers.context.nws:{cls.__name__}"
    with pytest.raises(SourceError, match="unknown dataset"):
        nws.NwsSpp().parse("lmp", [response(fc())])
    with pytest.raises(NotImplementedError):
        nws.NwsSpp().history("lmp", gen.DEMO, Pages({}))
    assert math.isclose(nws.SPEED["wmoUnit:km_h-1"] * 3.6, 1.0)

"""PJM generation outages (producers/context/outages_pjm.py) on the recorded Data Miner answers:
daily region values expanded to every hour of PJM's operating day (23 / 25 on DST days), the
later execution winning a day, regions named as the load ticks name them, bad items refused
alone, unreadable answers named by URL. (`gridtape parse` does not read context feeds yet.)"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from gridtape import context, contract
from gridtape.errors import SourceError
from producers.base import Response
from producers.context import outages_pjm as pjm
from producers.pjm import MissingApiKey
from tests.producers.helpers import replay_outages
from tools.recordings import context_outages_pjm as gen

AT = datetime(2026, 6, 11, 18, 5, tzinfo=UTC)
KEY = {"api_key": "test-key"}


def source() -> pjm.PjmOutages:
    return pjm.PjmOutages(credentials=KEY)


def response(first: date, last: date, body: bytes | None = None) -> Response:
    params, made = gen.envelope(first, last)
    return Response(f"{pjm.URL}?{urlencode(params)}", 200, made if body is None else body, {}, AT)


@pytest.mark.parametrize(("day", "hours"), [(date(2025, 3, 9), 23), (date(2025, 11, 2), 25), (date(2026, 6, 11), 24)])
def test_history_day_has_every_hour_of_the_eastern_day(day: date, hours: int) -> None:
    records = (
        source().parse_rows("outage", source().history("outage", day, replay_outages("PJM", AT)), live=False).ticks
    )
    per_key = Counter((r["area"], r["kind"]) for r in records)
    assert set(per_key.values()) == {hours}
    assert len(per_key) == 3 * 3  # three regions, three kinds
    starts = sorted({r["interval_start"] for r in records})
    assert contract.parse_ts(starts[0]).astimezone(pjm.ZONE).replace(tzinfo=None) == datetime(
        day.year, day.month, day.day
    )
    for r in records:
        contract.validate(r, context.OUTAGE)


def test_values_are_the_items_of_the_day_asked_for() -> None:
    day = date(2026, 6, 11)
    records = source().parse("outage", [response(day, day)])
    want = gen.region_mw(day, day)
    for r in records:
        region = next(k for k, v in pjm.AREAS.items() if v[0] == r["area"])
        assert r["outage_mw"] == want[region][r["kind"]]
        assert contract.parse_ts(r["interval_start"]).astimezone(pjm.ZONE).date() == day  # no forecast days
    rto = {(r["kind"], r["interval_start"]): r["outage_mw"] for r in records if r["area_type"] == "system"}
    zones = Counter()
    for r in records:
        if r["area_type"] == "zone":
            zones[(r["kind"], r["interval_start"])] += r["outage_mw"]
    assert rto == dict(zones)
    assert {r["area"] for r in records} == {"PJM RTO", "PJM WESTERN REGION", "Mid Atlantic - Dominion"}


def test_live_poll_covers_the_demo_day_and_the_later_execution_wins() -> None:
    s = source()
    records = s.parse_rows("outage", s.fetch("outage", replay_outages("PJM", AT), AT), live=True).ticks
    day = date(2026, 6, 11)
    mine = [r for r in records if contract.parse_ts(r["interval_start"]).astimezone(pjm.ZONE).date() == day]
    assert len({r["interval_start"] for r in mine}) == 24
    want = gen.region_mw(day, day)  # the day's own execution, not the day before's forecast
    assert gen.region_mw(date(2026, 6, 10), day) != want
    for r in mine:
        region = next(k for k, v in pjm.AREAS.items() if v[0] == r["area"])
        assert r["outage_mw"] == want[region][r["kind"]]
        assert r["published_at"] == "2026-06-11T04:00:00Z"


def test_history_asks_for_the_days_execution_only() -> None:
    req = source().request(date(2025, 3, 9), date(2025, 3, 9))
    assert req.params[pjm.FILTER] == "2025-03-09T00:00to2025-03-09T23:59"
    assert req.headers[pjm.KEY_HEADER] == "test-key"


def test_without_a_key_pjm_is_skipped() -> None:
    with pytest.raises(MissingApiKey):
        pjm.PjmOutages().history("outage", date(2026, 6, 11), replay_outages("PJM", AT))


def _items(day: date) -> dict[str, Any]:
    _, body = gen.envelope(day, day)
    return json.loads(body)


@pytest.mark.parametrize(
    "breakage",
    [
        {"total_outages_mw": 1},  # parts do not add up
        {"region": "Atlantis"},
        {"forced_outages_mw": None},
        {"forecast_date": "2026-06-11T07:00:00"},
        {"planned_outages_mw": -5, "total_outages_mw": None},
    ],
)
def test_a_bad_item_is_refused_alone(breakage: dict[str, Any]) -> None:
    day = date(2026, 6, 11)
    doc = _items(day)
    victim = next(i for i in doc["items"] if i["forecast_date"].startswith("2026-06-11") and i["region"] == "Western")
    victim.update(breakage)
    parsed = source().parse_rows("outage", [response(day, day, json.dumps(doc).encode())], live=False)
    assert 1 <= len(parsed.refused) <= 3
    assert {r["area"] for r in parsed.ticks} == {"PJM RTO", "Mid Atlantic - Dominion"} | (
        {"PJM WESTERN REGION"} if len(parsed.refused) < 3 else set()
    )


@pytest.mark.parametrize(
    "body",
    [b"<html>Service unavailable</html>", b'{"items": "none"}', b'{"items": [], "totalRows": 3}', b""],
)
def test_an_unreadable_answer_names_its_url(body: bytes) -> None:
    day = date(2026, 6, 11)
    bad = response(day, day, body)
    with pytest.raises(SourceError) as caught:
        source().parse("outage", [bad])
    assert caught.value.url == bad.url and bad.url in str(caught.value)


def test_a_response_without_the_execution_filter_is_refused() -> None:
    day = date(2026, 6, 11)
    _, body = gen.envelope(day, day)
    with pytest.raises(SourceError, match=pjm.FILTER):
        source().parse("outage", [Response(pjm.URL, 200, body, {}, AT)])

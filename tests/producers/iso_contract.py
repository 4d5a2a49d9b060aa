"""The contract every ISO's parser tests inherit: subclass IsoContract, set `source` and
`cases`, and these tests run on every case (schema, UTC, ordering, uniqueness, interval
length, DST day counts)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from gridtape import contract
from gridtape.errors import SourceError
from producers.base import IsoSource, Response

RECORDINGS = Path(__file__).resolve().parents[2] / "producers" / "recordings"
INTERVAL_MINUTES = {"RT5": 5, "RT15": 15, "RTH": 60, "DAM": 60}
_PARSED: dict[tuple[int, int], list[dict[str, Any]]] = {}


@dataclass(frozen=True)
class Case:
    """One parse of recorded responses, and what it must give."""

    name: str
    dataset: str
    responses: Sequence[Response]
    # Expected distinct intervals per location (e.g. 276 / 300 on DST days); None: not checked.
    intervals_per_location: int | None = None
    expected_locations: set[str] = field(default_factory=set)  # must all appear


class IsoContract:
    source: ClassVar[IsoSource]
    cases: ClassVar[Sequence[Case]] = ()

    @pytest.fixture(params=None)
    def case(self, request: pytest.FixtureRequest) -> Case:  # overridden via pytest_generate_tests
        return request.param  # type: ignore[no-any-return]

    @staticmethod
    def ticks(source: IsoSource, case: Case) -> list[dict[str, Any]]:
        """The case's ticks, parsed once per source and case (each check below reads them)."""
        key = (id(source), id(case))
        if key not in _PARSED:
            _PARSED[key] = source.parse(case.dataset, case.responses)
        return [dict(t) for t in _PARSED[key]]

    def test_parses_something(self, case: Case) -> None:
        assert self.ticks(self.source, case), f"{case.name}: no ticks"

    def test_records_satisfy_contract(self, case: Case) -> None:
        for t in self.ticks(self.source, case):
            contract.validate(t)
            assert t["iso"] == self.source.iso
            assert t["dataset"] == case.dataset

    def test_no_duplicate_natural_keys(self, case: Case) -> None:
        keys = Counter(contract.natural_key(t) for t in self.ticks(self.source, case))
        dupes = [k for k, n in keys.items() if n > 1]
        assert not dupes, f"{case.name}: duplicate keys, e.g. {dupes[:3]}"

    def test_interval_length_matches_market(self, case: Case) -> None:
        for t in self.ticks(self.source, case):
            start, end = contract.parse_ts(t["interval_start"]), contract.parse_ts(t["interval_end"])
            assert end - start == timedelta(minutes=INTERVAL_MINUTES[t["market"]]), t

    def test_intervals_per_location(self, case: Case) -> None:
        if case.intervals_per_location is None:
            pytest.skip("no count expected for this case")
        per_loc: dict[str, set[str]] = {}
        for t in self.ticks(self.source, case):
            per_loc.setdefault(t["location"], set()).add(t["interval_start"])
        assert per_loc
        counts = {loc: len(v) for loc, v in per_loc.items()}
        assert set(counts.values()) == {case.intervals_per_location}, f"{case.name}: {counts}"

    def test_expected_locations_present(self, case: Case) -> None:
        got = {t["location"] for t in self.ticks(self.source, case)}
        assert case.expected_locations <= got, case.expected_locations - got


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames and metafunc.cls is not None and issubclass(metafunc.cls, IsoContract):
        cases = list(metafunc.cls.cases)
        metafunc.parametrize("case", cases, ids=[c.name for c in cases])


def recorded(iso: str, file: str, fetched_at: str, *, url: str | None = None) -> Response:
    """A Response built from a committed recording in producers/recordings/<iso>/. Its URL is
    the one the manifest records for the file (query string included), unless given; files
    the manifest does not list (test-only variants) need `url`."""
    import json
    from datetime import datetime
    from urllib.parse import urlencode

    folder = RECORDINGS / iso.lower()
    if url is None:
        manifest = json.loads((folder / "manifest.json").read_text())
        entry = next(r for r in manifest["responses"] if r["file"] == file)
        url = entry["url"] + ("?" + urlencode(entry["params"]) if entry["params"] else "")
    return Response(
        url=url,
        status=200,
        body=(folder / file).read_bytes(),
        headers={},
        fetched_at=datetime.fromisoformat(fetched_at.replace("Z", "+00:00")),
    )


def assert_contiguous(times: Sequence[str], first: str, n: int, minutes: int = 5) -> None:
    """`times` (wire timestamps, sorted) start at `first` and are n distinct, gap-free steps:
    the check that a DST day lost and duplicated nothing."""
    from itertools import pairwise

    parsed = [contract.parse_ts(t) for t in times]
    assert times[0] == first, (times[0], first)
    assert len(parsed) == n == len(set(parsed)), (len(parsed), len(set(parsed)), n)
    step = timedelta(minutes=minutes)
    gaps = [(a, b) for a, b in pairwise(parsed) if b - a != step]
    assert not gaps, gaps[:3]


def replay_polls(source: IsoSource) -> dict[str, list[dict[str, Any]]]:
    """Run every poll of the ISO's manifest, in order, through source.fetch on one replay
    transport (as the demo does) and parse what it got: "dataset: label" -> ticks. Fails if a
    poll asked for anything unrecorded."""
    from datetime import datetime

    from producers import http

    recordings = http.Recordings.load(RECORDINGS / source.iso.lower())
    clock: list[datetime] = [recordings.polls[0].now]
    layer = http.replay(recordings, clock=lambda: clock[0])
    transport = layer.transport
    assert isinstance(transport, http.ReplayTransport)
    out: dict[str, list[dict[str, Any]]] = {}
    for poll in recordings.polls:
        clock[0] = poll.now
        responses = source.fetch(poll.dataset, layer, poll.now)
        assert not transport.unmatched, f"{poll.label}: unrecorded request(s) {transport.unmatched}"
        out[f"{poll.dataset}: {poll.label}"] = source.parse(poll.dataset, responses)
    return out


def fetch_recorded(source: IsoSource, dataset: str, now: str) -> list[Response]:
    """What source.fetch gets from the ISO's recordings at `now` (fresh replay, so same-URL
    recordings start from the first)."""
    from datetime import datetime

    from producers import http

    when = datetime.fromisoformat(now.replace("Z", "+00:00"))
    layer = http.replay(http.Recordings.load(RECORDINGS / source.iso.lower()), clock=lambda: when)
    responses = source.fetch(dataset, layer, when)
    assert isinstance(layer.transport, http.ReplayTransport)
    assert not layer.transport.unmatched, layer.transport.unmatched
    return responses


def assert_row_refused(source: IsoSource, dataset: str, good: Response, body: bytes, n: int = 1) -> None:
    """`body` is `good` with one row (n rows) made unreadable: parse_rows refuses exactly those,
    naming the URL and showing the row, and keeps every other tick of the good response."""
    from dataclasses import replace

    expected = source.parse_rows(dataset, [good])
    assert not expected.refused
    got = source.parse_rows(dataset, [replace(good, body=body)])
    assert len(got.refused) == n, got.refused
    assert all(r.url == good.url and r.reason and r.row for r in got.refused), got.refused
    keys = {contract.natural_key(t) for t in got.ticks}
    assert keys <= {contract.natural_key(t) for t in expected.ticks}
    assert len(got.ticks) >= len(expected.ticks) - n * 4, (len(got.ticks), len(expected.ticks))


def source_error(source: IsoSource, dataset: str, good: Response, body: bytes) -> SourceError:
    """`body` in place of `good`'s makes parse raise SourceError naming the ISO, the dataset and
    the response's URL (returned for the reason to be checked)."""
    from dataclasses import replace

    with pytest.raises(SourceError) as err:
        source.parse(dataset, [replace(good, body=body)])
    e = err.value
    assert (e.iso, e.dataset, e.url) == (source.iso, dataset, good.url) and good.url in str(e), e
    return e


def malformed_tests(
    source: IsoSource, dataset: str, good: Response, bad_rows: Mapping[str, bytes], bad_bodies: Mapping[str, bytes]
) -> tuple[Callable[[str, bytes], None], Callable[[str, bytes], None]]:
    """The two tests of one dataset's malformed input, for a module to bind to test_ names:
    `good` with one row broken (each of `bad_rows`) refuses that row alone; `good`'s body
    replaced by each of `bad_bodies` raises SourceError."""
    return malformed_tests_of(
        source,
        {dataset: (dataset, good)},
        {(dataset, what): body for what, body in bad_rows.items()},
        {(dataset, what): body for what, body in bad_bodies.items()},
    )


def malformed_tests_of(
    source: IsoSource,
    goods: Mapping[str, tuple[str, Response]],
    bad_rows: Mapping[tuple[str, str], bytes],
    bad_bodies: Mapping[tuple[str, str], bytes],
) -> tuple[Callable[[str, bytes], None], Callable[[str, bytes], None]]:
    """malformed_tests for several good responses at once: `goods` names each (dataset,
    response); a bad input is keyed by (that name, what is broken) and made from it."""

    def cases(table: Mapping[tuple[str, str], bytes]) -> Any:
        ids = [what if len(goods) == 1 else f"{name}: {what}" for name, what in table]
        return pytest.mark.parametrize(("name", "body"), [(n, b) for (n, _), b in table.items()], ids=ids)

    @cases(bad_rows)
    def one_bad_row_is_refused_alone(name: str, body: bytes) -> None:
        assert_row_refused(source, *goods[name], body)

    @cases(bad_bodies)
    def bad_body_raises_source_error(name: str, body: bytes) -> None:
        source_error(source, *goods[name], body)

    return one_bad_row_is_refused_alone, bad_body_raises_source_error


def replay_layer(iso: str, keep: Any = None, extra: Sequence[Any] = (), now: Any = None) -> Any:
    """A replay fetch layer on the ISO's recorded responses (those `keep(response)` accepts)
    plus `extra` RecordedResponses (e.g. a test-only file under a URL a poll asks for)."""
    from dataclasses import replace

    from producers import http

    rec = http.Recordings.load(RECORDINGS / iso.lower())
    responses = tuple(r for r in rec.responses if keep is None or keep(r)) + tuple(extra)
    return http.replay(replace(rec, responses=responses), clock=lambda: now)

"""The columnar parse (an ISO's `_ticks_<dataset>` reader and the kernel's TickChecker) gives
exactly what the row path gives: the same ticks, in the same order with the same key order,
and, when a row is odd, the same refusals with the same reasons (it hands such a response to
the row path). And TickChecker never accepts a tick contract.validate refuses."""

from __future__ import annotations

import io
import math
import random
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from gridtape import bounds, contract, isos
from gridtape.errors import SourceError
from gridtape.validate_fast import TickChecker
from producers import formats, registry
from producers.base import IsoSource, Parsed, Response
from producers.caiso import oasis
from producers.http import Recordings, replay
from tests.producers.iso_contract import RECORDINGS

COLUMNAR = ("NYISO", "CAISO")
FETCHED = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)


def parsed(source: IsoSource, dataset: str, responses: Sequence[Response], live: bool, columnar: bool) -> Any:
    """parse_rows as comparable plain data (ticks with their key order), or the SourceError's text."""
    if not columnar:
        setattr(source, f"_ticks_{dataset}", None)  # the skeleton then reads every row
    try:
        out: Parsed = source.parse_rows(dataset, responses, live=live)
    except SourceError as exc:
        return str(exc)
    finally:
        source.__dict__.pop(f"_ticks_{dataset}", None)
    return [list(t.items()) for t in out.ticks], out.refused


def assert_same_both_ways(iso: str, dataset: str, responses: Sequence[Response], *, live: bool, nodes: bool) -> Any:
    source = registry.create(iso, include_nodes=nodes, replay=True)
    by_column = parsed(source, dataset, responses, live, columnar=True)
    by_row = parsed(source, dataset, responses, live, columnar=False)
    assert by_column == by_row
    return by_column


def recorded_cases(iso: str) -> list[tuple[str, list[Response], bool, bool]]:
    """(dataset, responses, live, include_nodes): every recorded poll as the poller reads it,
    and every recorded 200 body alone, as `gridtape parse` reads a saved file."""
    rec = Recordings.load(RECORDINGS / iso.lower())
    now = [FETCHED]
    http = replay(rec, clock=lambda: now[0])
    source = registry.create(iso, replay=True)
    cases: list[tuple[str, list[Response], bool, bool]] = []
    for poll in rec.polls:
        now[0] = poll.now
        try:
            cases.append((poll.dataset, source.fetch(poll.dataset, http, poll.now), True, False))
        except Exception:
            continue
    for r in rec.responses:
        if r.status == 200:
            resp = Response(r.url, 200, r.path.read_bytes(), r.headers, FETCHED)
            cases += [(dataset, [resp], False, True) for dataset in source.datasets]
    return cases


@pytest.mark.parametrize("iso", COLUMNAR)
def test_every_recording_parses_the_same_by_column_and_by_row(iso: str) -> None:
    read = 0
    for dataset, responses, live, nodes in recorded_cases(iso):
        result = assert_same_both_ways(iso, dataset, responses, live=live, nodes=nodes)
        read += not isinstance(result, str) and bool(result[0])
    assert read >= 5  # not a comparison of errors only


# The big regular files: the columnar reader reads them itself (the row path is the fallback).
REGULAR = [
    (
        "NYISO",
        "lmp",
        "20251102realtime_zone.csv",
        "https://mis.nyiso.com/public/csv/realtime/20251102realtime_zone.csv",
    ),
    ("NYISO", "dam", "20251102damlbmp_zone.csv", "https://mis.nyiso.com/public/csv/damlbmp/20251102damlbmp_zone.csv"),
    ("CAISO", "lmp", "lmp_day_20251102.zip", "https://oasis.caiso.com/oasisapi/SingleZip?queryname=PRC_INTVL_LMP"),
    ("CAISO", "dam", "dam_20251101T2005.zip", "https://oasis.caiso.com/oasisapi/SingleZip?queryname=PRC_LMP"),
]


def regular(iso: str, name: str, url: str, body: bytes | None = None) -> Response:
    return Response(url, 200, body if body is not None else (RECORDINGS / iso.lower() / name).read_bytes(), {}, FETCHED)


@pytest.mark.parametrize(("iso", "dataset", "name", "url"), REGULAR)
def test_the_columnar_reader_reads_the_regular_files(iso: str, dataset: str, name: str, url: str) -> None:
    source = registry.create(iso, include_nodes=True, replay=True)
    made = getattr(source, f"_ticks_{dataset}")(regular(iso, name, url), None)
    assert made is not None and len(made) > 100
    assert TickChecker().all_pass(made)


def nyiso_day(edit: Any) -> bytes:
    lines = (RECORDINGS / "nyiso" / "20251102realtime_zone.csv").read_text().splitlines()
    edit(lines)
    return ("\n".join(lines) + "\n").encode()


def caiso_day(edit: Any) -> bytes:
    members = formats.zip_members((RECORDINGS / "caiso" / "lmp_day_20251102.zip").read_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            lines = data.decode().splitlines()
            edit(lines)
            z.writestr(name, "\n".join(lines) + "\n")
    return out.getvalue()


def cell(lines: list[str], row: int, column: int, value: str) -> None:
    cells = lines[row].split(",")
    cells[column] = value
    lines[row] = ",".join(cells)


# One odd row each: the response still parses, that row (or its node and interval) alone is
# refused, with the reason the row path gives.
ODD_ROWS = [
    ("NYISO", "lmp", nyiso_day(lambda ls: cell(ls, 40, 3, "x")), "expected a number"),
    ("NYISO", "lmp", nyiso_day(lambda ls: cell(ls, 40, 3, "nan")), "finite"),
    ("NYISO", "lmp", nyiso_day(lambda ls: cell(ls, 40, 3, "60000")), "outside"),
    ("NYISO", "lmp", nyiso_day(lambda ls: cell(ls, 40, 0, '"11/02/2025 25:00:00"')), "bad Time Stamp"),
    ("CAISO", "lmp", caiso_day(lambda ls: cell(ls, 7, 13, "abc")), "expected a number"),
    ("CAISO", "lmp", caiso_day(lambda ls: cell(ls, 7, 13, "70000")), "outside"),
    ("CAISO", "lmp", caiso_day(lambda ls: ls.append(ls[7].replace(ls[7].split(",")[13], "1.5"))), "appears twice"),
    ("CAISO", "lmp", caiso_day(lambda ls: ls.pop(7)), "incomplete report"),
    ("CAISO", "lmp", caiso_day(lambda ls: cell(ls, 7, 14, "9")), "OPR_INTERVAL"),
]


@pytest.mark.parametrize(("iso", "dataset", "body", "reason"), ODD_ROWS)
def test_an_odd_row_is_refused_alone_with_the_row_paths_reason(
    iso: str, dataset: str, body: bytes, reason: str
) -> None:
    name, url = {(i, d): (n, u) for i, d, n, u in REGULAR}[(iso, dataset)]
    response = regular(iso, name, url, body)
    ticks, refused = assert_same_both_ways(iso, dataset, [response], live=False, nodes=True)
    assert len(refused) == 1 and reason in refused[0].reason, refused
    assert ticks


def test_a_changed_roster_is_still_a_source_error() -> None:
    body = nyiso_day(lambda ls: cell(ls, 40, 1, '"NEWZONE"'))
    url = REGULAR[0][3]
    result = assert_same_both_ways("NYISO", "lmp", [regular("NYISO", "", url, body)], live=False, nodes=False)
    assert isinstance(result, str) and "unknown zone or proxy bus 'NEWZONE'" in result


def rows_of(lines: list[str], order: Any) -> None:
    """Put the data rows (lines after the header) in the order `order(rows)` returns."""
    lines[1:] = order(lines[1:])


def by_kind(rows: list[str], kinds: Sequence[str]) -> list[str]:
    return [row for kind in kinds for row in rows if row.split(",")[8] == kind]


def by_interval_and_node(rows: list[str]) -> list[str]:
    """Each (interval, node)'s rows together, its types in the run order (the sort is stable)."""
    return sorted(rows, key=lambda r: (r.split(",")[0], r.split(",")[6]))


def second_group_reversed_first(grouped: list[str]) -> list[str]:
    """The second (interval, node)'s five rows, types reversed, before the first group's."""
    return [*grouped[5:10][::-1], *grouped[:5], *grouped[10:]]


def first_group_twice(rows: list[str]) -> list[str]:
    """Each LMP_TYPE's run with its first row again, a dollar higher (components still add up)."""
    out: list[str] = []
    for kind in ("LMP", "MCE", "MCC", "MCL", "MGHG"):
        run = by_kind(rows, (kind,))
        cells = run[0].split(",")
        cells[13] = str(float(cells[13]) + 1.0 if kind in ("LMP", "MCE") else float(cells[13]))
        out += [run[0], ",".join(cells), *run[1:]]
    return out


# The day's rows in other layouts: the price-report reader reads one run per LMP_TYPE, or each
# group's rows together, by slices (oasis.component_slices), any other layout by keys; all must
# give the row path's ticks.
SAME_ROWS = {
    "shuffled": lambda rows: random.Random(7).sample(rows, len(rows)),
    "reversed": lambda rows: rows[::-1],
    "by node and interval": by_interval_and_node,
    "by node and interval, types reversed": lambda rows: by_interval_and_node(rows)[::-1],
    "by node and interval, one group's types in another order": lambda rows: second_group_reversed_first(
        by_interval_and_node(rows)
    ),
    "runs in another order": lambda rows: by_kind(rows, ("MGHG", "MCL", "LMP", "MCC", "MCE")),
    "no MGHG run": lambda rows: by_kind(rows, ("LMP", "MCE", "MCC", "MCL")),
    "one run in another row order": lambda rows: by_kind(rows, ("LMP", "MCE")) + by_kind(rows, ("MCC",))[::-1]
    + by_kind(rows, ("MCL", "MGHG")),
    # the first run names the groups: the others, consistent among themselves, must not take its order
    "the first run in another row order": lambda rows: by_kind(rows, ("MGHG",))[::-1]
    + by_kind(rows, ("LMP", "MCE", "MCC", "MCL")),
    "two rows of a run swapped": lambda rows: [rows[1], rows[0], *rows[2:]],
    "a run split in two": lambda rows: rows[5:] + rows[:5],
}  # fmt: skip


LAYOUTS = {**SAME_ROWS, "a group twice in every run": first_group_twice}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_caiso_prices_in_any_layout_parse_the_same_by_column_and_by_row(layout: str) -> None:
    name, url = REGULAR[2][2:]
    day = assert_same_both_ways("CAISO", "lmp", [regular("CAISO", name, url)], live=False, nodes=True)
    body = caiso_day(lambda ls: rows_of(ls, LAYOUTS[layout]))
    result = assert_same_both_ways("CAISO", "lmp", [regular("CAISO", name, url, body)], live=False, nodes=True)
    if layout in SAME_ROWS:
        assert result == day
    else:  # that group's two versions: refused, the rest read
        assert "appears twice with different values" in result[1][0].reason and len(result[0]) == len(day[0]) - 1


def test_component_slices_are_read_only_where_each_slice_repeats_the_first_ones_keys() -> None:
    nodes, starts = ["A", "B", "A", "B"], ["t0", "t0", "t0", "t0"]
    runs = {"LMP": slice(0, 2), "MCE": slice(2, 4)}
    assert oasis.component_slices(["LMP", "LMP", "MCE", "MCE"], [nodes, starts]) == runs
    strides = {"LMP": slice(0, None, 2), "MCE": slice(1, None, 2)}
    assert oasis.component_slices(["LMP", "MCE", "LMP", "MCE"], [sorted(nodes), starts]) == strides
    for odd_kinds, odd_nodes in (
        (["LMP", "MCE", "LMP", "MCE"], nodes),  # each group's rows together, but not the same node
        (["LMP", "MCE", "MCE", "LMP"], sorted(nodes)),  # each group's types in another order
        (["LMP", "LMP", "MCE", "LMP"], nodes),  # a type in two runs
        (["LMP", "LMP", "LMP", "MCE"], nodes),  # runs of other lengths
        (["LMP", "LMP", "MCE", "MCE"], ["A", "B", "B", "A"]),  # a run in another row order
        ([], []),
    ):
        assert oasis.component_slices(odd_kinds, [odd_nodes, starts[: len(odd_nodes)]]) is None


def test_columns_reads_what_records_reads_and_refuses_what_it_refuses() -> None:
    header = ["a", "b", "a"]
    rows = [[" 1", "2 ", "3"], ["4", " 5 ", "6"]]
    by_row = formats.records(header, rows, ("a", "b"))
    assert formats.columns(header, rows, ("a", "b")) == {n: [r[n] for r in by_row] for n in ("a", "b")}
    for bad_rows, names in (([["1", "2"]], ("a",)), (rows, ("c",))):
        with pytest.raises(formats.FormatError) as by_column:
            formats.columns(header, bad_rows, names)
        with pytest.raises(formats.FormatError) as by_records:
            formats.records(header, bad_rows, names)
        assert str(by_column.value) == str(by_records.value)


# --- TickChecker against contract.validate ---------------------------------------------------

ODD_VALUES: list[Any] = [
    None, "", " CAPITL", "CAPITL\n", "NYISO", "ZZISO", "lmp", "load", "dam", "RT5", "RTH", "DAM", "zone", "moon",
    True, False, 0, 1, -1, 1.5, 7, math.nan, math.inf, -math.inf, -1e6, 1e6, bounds.PRICE_MAX, bounds.PRICE_MAX + 0.01,
    bounds.PRICE_MIN, bounds.PRICE_MIN - 0.01, bounds.LOAD_MAX_MW + 1, 2**63, -(2**63),
    "2025-11-02T05:00:00Z", "2025-11-02T05:05:00Z", "2025-11-02T05:03:00Z", "2025-11-02T06:00:00Z",
    "1999-12-31T23:55:00Z", "2100-01-01T00:00:00Z", "2025-11-02T05:00:00", "2025-11-02 05:00:00Z", "x" * 200,
    [], {}, ("a",), b"lmp",
]  # fmt: skip


def sample_ticks() -> list[dict[str, Any]]:
    ticks: list[dict[str, Any]] = []
    for iso, dataset, name, url in REGULAR[::2]:
        source = registry.create(iso, include_nodes=True, replay=True)
        ticks += source.parse_rows(dataset, [regular(iso, name, url)], live=False).ticks[:40:7]
    load = ticks[0] | {"dataset": "load", "lmp": None, "energy": None, "congestion": None, "loss": None}
    ticks.append(load | {"load_mw": 1234.5, "revision": 3, "market": "RT5"})
    return ticks


def verdict(t: dict[str, Any]) -> bool:
    try:
        contract.validate(t)
    except ValueError:
        return False
    return True


def test_the_checker_passes_every_valid_tick() -> None:
    checker = TickChecker()
    for t in sample_ticks():
        assert verdict(t) and checker.passes(t) and checker.passes(t)


def test_the_checker_never_passes_a_tick_the_contract_refuses() -> None:
    ticks = sample_ticks()
    warm = TickChecker()  # has seen every valid part: only the value checks stand between
    assert warm.all_pass(ticks)
    for t in ticks:
        for name in contract.TICK.names:
            for value in ODD_VALUES:
                odd = t | {name: value}
                for checker in (warm, TickChecker()):
                    if checker.passes(odd):
                        assert verdict(odd), (name, value)
        for name in ("revision", "lmp"):
            smaller = {k: v for k, v in t.items() if k != name}
            assert not warm.passes(smaller)  # a key short: the contract decides
        assert not warm.passes(t | {"extra": 1})


def test_the_checker_holds_a_place_and_a_time_apart_as_the_contract_does() -> None:
    """A tick made of one valid tick's place and another's time (both parts seen) passes only
    when the contract says it does: no rule relates the two."""
    ticks = sample_ticks()
    checker = TickChecker()
    assert checker.all_pass(ticks)
    place = ("location", "location_type", "source")
    for a in ticks:
        for b in ticks:
            mixed = b | {k: a[k] for k in place}
            if checker.passes(mixed):
                assert verdict(mixed)


def test_the_checker_knows_the_live_window() -> None:
    t = sample_ticks()[0]
    start = contract.parse_ts(t["interval_start"])
    checker = TickChecker()
    for fetched in (start, start + bounds.LIVE_PAST, start + bounds.LIVE_PAST * 2, start - bounds.LIVE_FUTURE * 2):
        try:
            bounds.check_live(t, fetched)
            expected = True
        except ValueError:
            expected = False
        assert checker.passes(t, fetched) is expected


def test_the_checker_reads_the_iso_table_of_its_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    t = next(t for t in sample_ticks() if t["iso"] == "NYISO")
    t = t | {"lmp": t["lmp"] + 1.0}  # one dollar off energy + congestion + loss
    assert not TickChecker().passes(t) and not verdict(t)
    monkeypatch.setitem(isos.BY_CODE, "NYISO", replace(isos.get("NYISO"), component_gap=(-2.0, 2.0)))
    assert TickChecker().passes(t) and verdict(t)

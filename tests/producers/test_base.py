"""The parse skeleton every ISO module runs on: per-row refusal with reason and row, the
refused-share limit, the live time window, provenance, and that malformed input of any ISO
ends as a SourceError or sane ticks, never a traceback."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gridtape import contract
from gridtape.errors import SourceError
from producers import base, registry
from producers.base import MAX_REFUSED_SHARE, Parsed, Refused, Response
from tests.producers import fakes
from tests.producers.iso_contract import fetch_recorded, recorded

NOW = datetime(2025, 6, 10, 19, 1, tzinfo=UTC)


def fake(rows: list[tuple[str, str, float | str]], fetched_at: datetime = NOW) -> Response:
    body = fakes.csv_body("lmp", rows)  # type: ignore[arg-type]
    return Response(f"{fakes.BASE}/lmp.csv?day=20250610", 200, body, {"Last-Modified": "x"}, fetched_at)


def test_one_unreadable_row_is_refused_with_its_reason_and_row_the_rest_is_kept() -> None:
    rows: list[tuple[str, str, float | str]] = list(fakes.hour_rows())
    rows[3] = ("HUB_N", rows[3][1], "n/a")
    parsed = fakes.FakeSource().parse_rows("lmp", [fake(rows)])
    assert isinstance(parsed, Parsed) and len(parsed.ticks) == len(rows) - 1
    assert parsed.refused == [Refused(fake(rows).url, "could not convert string to float: 'n/a'", rows_text(rows[3]))]
    assert fakes.FakeSource().parse("lmp", [fake(rows)]) == parsed.ticks  # old callers: the good ticks


def rows_text(row: tuple[str, str, float | str]) -> str:
    return ",".join(str(c) for c in row)


@pytest.mark.parametrize(
    ("value", "why"),
    [("1e300", "outside"), ("-20000", "outside"), ("nan", "finite"), ("inf", "finite")],
)
def test_a_row_that_breaks_the_contract_is_refused(value: str, why: str) -> None:
    rows: list[tuple[str, str, float | str]] = list(fakes.hour_rows())
    rows[0] = (rows[0][0], rows[0][1], value)
    parsed = fakes.FakeSource().parse_rows("lmp", [fake(rows)])
    assert len(parsed.refused) == 1 and why in parsed.refused[0].reason, parsed.refused
    assert all(contract.validate(t) for t in parsed.ticks)


def test_control_characters_and_long_names_are_refused_and_shown_inert() -> None:
    rows: list[tuple[str, str, float | str]] = list(fakes.hour_rows())
    rows[0] = ("HUB\x1b[2J", rows[0][1], 1.0)
    rows[1] = ("H" * 200, rows[1][1], 1.0)
    parsed = fakes.FakeSource().parse_rows("lmp", [fake(rows)])
    assert [r.reason.split(":")[0] for r in parsed.refused] == ["tick field 'location'"] * 2
    assert all(r.row.isprintable() and len(r.row) <= base.EXCERPT_CHARS for r in parsed.refused)


def test_more_than_the_refused_share_quarantines_the_whole_response() -> None:
    rows: list[tuple[str, str, float | str]] = list(fakes.hour_rows())  # 24 rows
    limit = int(MAX_REFUSED_SHARE * len(rows))
    at_limit = [(loc, ts, "x") if n < limit else (loc, ts, v) for n, (loc, ts, v) in enumerate(rows)]
    assert len(fakes.FakeSource().parse_rows("lmp", [fake(at_limit)]).refused) == limit
    over = [(loc, ts, "x") if n <= limit else (loc, ts, v) for n, (loc, ts, v) in enumerate(rows)]
    with pytest.raises(SourceError, match=rf"{limit + 1} of 24 rows refused") as err:
        fakes.FakeSource().parse_rows("lmp", [fake(over)])
    assert err.value.url == fake(over).url


def test_live_window_applies_only_to_live_polls() -> None:
    old = fake(fakes.hour_rows(), fetched_at=NOW + timedelta(days=30))  # history, fetched a month later
    with pytest.raises(SourceError, match="rows refused"):
        fakes.FakeSource().parse_rows("lmp", [old])
    assert len(fakes.FakeSource().parse_rows("lmp", [old], live=False).ticks) == 24


def test_provenance_comes_from_the_response() -> None:
    t = fakes.FakeSource().parse("lmp", [fake(fakes.hour_rows())])[0]
    url = f"{fakes.BASE}/lmp.csv?day=20250610"
    # Last-Modified "x" does not parse: published_at falls back to the fetch
    assert (t["iso"], t["source"], t["ingested_at"], t["published_at"]) == ("SPP", url, *["2025-06-10T19:01:00Z"] * 2)
    assert t["market"] == "RT5" and t["interval_end"] == "2025-06-10T18:05:00Z"


def test_http_status_and_unknown_dataset_are_source_errors() -> None:
    with pytest.raises(SourceError, match="HTTP 404"):
        fakes.FakeSource().parse_rows("lmp", [replace(fake(fakes.hour_rows()), status=404)])
    with pytest.raises(SourceError, match="unknown dataset"):
        fakes.FakeSource().parse_rows("gas", [fake(fakes.hour_rows())])


def test_no_iso_module_builds_ticks_by_hand_or_repeats_the_iso_table() -> None:
    from pathlib import Path

    from gridtape import isos

    root = Path(__file__).resolve().parents[1].parent
    modules = [root / (isos.get(c).module.replace(".", "/")) for c in isos.CODES]
    for path in [
        p for m in modules for p in ([m.with_suffix(".py")] if m.with_suffix(".py").exists() else m.glob("*.py"))
    ]:
        text = path.read_text()
        assert "contract import tick" not in text and "contract.tick(" not in text, path
        assert not re.search(r"^\s*(requests_per_second|min_poll_interval_s)\s*[:=]", text, re.M), path
        assert not re.search(r"^HUBS\b", text, re.M), path


# -- fuzz: malformed input of every ISO ends as a SourceError or sane ticks ---------------------


def samples() -> list[tuple[str, str, list[Response]]]:
    src = "2025-06-10T18:42:00Z"
    return [
        ("CAISO", "lmp", [recorded("CAISO", "lmp_20250610T1842.zip", src)]),
        ("CAISO", "load", [recorded("CAISO", "demand_20250610.csv", src)]),
        ("ERCOT", "lmp", fetch_recorded(registry.create("ERCOT", replay=True), "lmp", src)),
        ("ERCOT", "load", [recorded("ERCOT", "system_wide_demand_20250610T1842.json", src)]),
        ("ISONE", "lmp", [recorded("ISONE", "fiveminlmp_current_20250610T1842.csv", src)]),
        ("ISONE", "load", [recorded("ISONE", "fiveminutesystemload_20250610.csv", src)]),
        ("MISO", "lmp", [recorded("MISO", "fiveminexpost_current_20250610T1842.json", src)]),
        ("MISO", "load", [recorded("MISO", "realtimetotalload_20250610.json", src)]),
        ("NYISO", "lmp", fetch_recorded(registry.create("NYISO", replay=True), "lmp", "2025-06-10T10:42:00Z")),
        ("NYISO", "load", fetch_recorded(registry.create("NYISO", replay=True), "load", "2025-06-10T10:42:00Z")),
        ("PJM", "lmp", fetch_recorded(registry.create("PJM", replay=True), "lmp", src)),
        ("PJM", "load", fetch_recorded(registry.create("PJM", replay=True), "load", src)),
        ("SPP", "lmp", fetch_recorded(registry.create("SPP", replay=True), "lmp", "2026-06-10T18:42:30Z")),
        ("SPP", "load", fetch_recorded(registry.create("SPP", replay=True), "load", "2026-06-10T18:42:30Z")),
    ]


NUMBER = re.compile(rb"(?<![\w.:/-])-?\d+\.\d+(?![\w.:/-])")
MUTATIONS: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda b: b"",
    "truncated": lambda b: b[: len(b) // 2],
    "truncated near the end": lambda b: b[:-7],
    "utf-16": lambda b: b.decode("utf-8", "replace").encode("utf-16"),
    "invalid utf-8": lambda b: b[: len(b) // 3] + b"\xff\xfe\xc3" + b[len(b) // 3 :],
    "huge numbers": lambda b: NUMBER.sub(b"9" * 400 + b".5", b),
    "one huge number": lambda b: NUMBER.sub(b"1e999", b, count=1),
    "NaN": lambda b: NUMBER.sub(b"NaN", b),
    "Infinity": lambda b: NUMBER.sub(b"-Infinity", b, count=3),
    "duplicated header": lambda b: b.split(b"\n", 1)[0] + b"\n" + b,
    "html error page": lambda b: b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
    "deep json": lambda b: b"[" * 5000 + b"]" * 5000,
    "nul bytes": lambda b: b.replace(b",", b",\x00", 5),
}


def mutate(body: bytes, how: Callable[[bytes], bytes]) -> bytes:
    """Zips are mutated inside (their CSV), and the zip is rebuilt; other bodies directly."""
    if not body.startswith(b"PK"):
        return how(body)
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, how(data))
    return out.getvalue()


@pytest.mark.parametrize("sample", samples(), ids=lambda s: f"{s[0]}-{s[1]}")
def test_fuzzed_input_is_a_source_error_or_sane_ticks(sample: tuple[str, str, list[Response]]) -> None:
    iso, dataset, responses = sample
    source = registry.create(iso, replay=True)
    assert source.parse_rows(dataset, responses).ticks, "the unmutated sample parses"
    for name, how in MUTATIONS.items():
        for i, resp in enumerate(responses):
            bad = [*responses[:i], replace(resp, body=mutate(resp.body, how)), *responses[i + 1 :]]
            try:
                parsed = source.parse_rows(dataset, bad)
            except SourceError as exc:
                assert exc.iso == iso and exc.reason, name
                continue
            for t in parsed.ticks:
                contract.validate(t)  # whatever is kept is a sane tick
            assert all(isinstance(r, Refused) and r.reason for r in parsed.refused), name


@pytest.mark.parametrize("iso", ["CAISO", "ISONE", "MISO", "SPP", "NYISO", "PJM"])
def test_an_error_status_is_reported_as_such_whatever_the_body(iso: str) -> None:
    source = registry.create(iso, replay=True)
    page = b"<html><body>Not Found</body></html>"
    with pytest.raises(SourceError, match="HTTP 404"):
        source.parse_rows("load", [Response("https://iso.example/x", 404, page, {}, NOW)])

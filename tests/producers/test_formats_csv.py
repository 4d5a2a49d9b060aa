"""formats.csv_rows reads every text as csv.reader does: its split fast path (texts without
quotes) gives the same rows, and any other text still goes through csv.reader."""

from __future__ import annotations

import csv
import io
import random

import pytest

from producers import formats
from producers.formats import FormatError

# Every character the fast path must decide on, with ordinary cell text between them.
ALPHABET = ["a", "7", ".", "-", " ", "\t", ",", ",", "\n", "\n", "\r\n", "\r", '"', "\x00", "\x0c", "\u2028", "\x85"]


def reference(text: str) -> list[list[str]] | str:
    try:
        return [row for row in csv.reader(io.StringIO(text), strict=True) if any(map(str.strip, row))]
    except csv.Error:
        return "error"


def ours(text: str) -> list[list[str]] | str:
    try:
        return formats.csv_rows(text)
    except FormatError:
        return "error"


@pytest.mark.parametrize("seed", range(8))
def test_csv_rows_read_every_text_as_csv_reader_does(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2000):
        pool = ALPHABET if rng.random() < 0.5 else [c for c in ALPHABET if c not in ('"', "\r", "\x00")]
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        assert ours(text) == reference(text), repr(text)


def test_a_field_past_csv_limit_is_refused_on_both_paths() -> None:
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(50)
        long_line = "a," + "x" * 60 + "\n" + "b,c\n" * 20
        assert reference(long_line) == "error"
        with pytest.raises(FormatError, match="field larger than field limit"):
            formats.csv_rows(long_line)
        short = "b,c\n" * 30  # longer than the limit as a whole, every field within it
        assert formats.csv_rows(short) == reference(short)
    finally:
        csv.field_size_limit(limit)


def test_real_iso_csv_shapes_take_the_fast_path_and_agree() -> None:
    crlf = "INTERVALSTARTTIME_GMT,NODE,VALUE\r\n2025-11-02T07:00:00-00:00,TH_NP15_GEN-APND,31.5\r\n"
    assert formats._split_rows(crlf) is not None
    assert formats.csv_rows(crlf) == reference(crlf)
    quoted = '"Time Stamp","Name","LBMP ($/MWHr)"\n"11/02/2025 00:05:00","CAPITL",31.05\n'
    assert formats._split_rows(quoted) is None
    assert formats.csv_rows(quoted) == reference(quoted)

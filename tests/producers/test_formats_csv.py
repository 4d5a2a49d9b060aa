"""formats.csv_rows reads every text as csv.reader does: its split fast path (texts without
quotes) gives the same rows, and any other text still goes through csv.reader. formats.csv_table
reads by column what csv.reader and records() read by row."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

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


def ours(text: str, read: Any = formats.csv_rows) -> Any:
    """What `read` returns for the text, or "error" for a FormatError."""
    try:
        return read(text)
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


# --- csv_table: the same cells, by column ----------------------------------------------------

CELL_CHARS = ["a", "7", ".", "", "", " ", "\t", "\x0c", "\x1f", "\u2028", "\x85", "\xa0", "é", '"', "\r"]


def reference_table(text: str) -> tuple[list[str], dict[str, list[str]]] | str | None:
    rows = reference(text)
    if isinstance(rows, str) or not rows:
        return rows or None
    header = [h.strip() for h in rows[0]]
    if any(len(row) != len(header) for row in rows):
        return None
    return header, {name: [row[k].strip() for row in rows[1:]] for k, name in enumerate(header)}


@pytest.mark.parametrize("seed", range(4))
def test_csv_table_reads_by_column_what_csv_reader_reads_by_row(seed: int) -> None:
    rng = random.Random(seed)
    split = 0
    for n in range(3000):
        if n % 3 == 0:  # any text at all
            text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
        else:  # a table, now and then a row of another width, a blank or an odd character
            width = rng.randint(1, 4)
            chars = CELL_CHARS if n % 3 == 1 else CELL_CHARS[:5]
            lines = []
            for _ in range(rng.randint(1, 6)):
                cells = width + (rng.choice((-1, 1)) if rng.random() < 0.05 else 0)
                lines.append(
                    ",".join("".join(rng.choice(chars) for _ in range(rng.randint(0, 3))) for _ in range(cells))
                )
            text = rng.choice(("\n", "\r\n")).join(lines)
            text += rng.choice(("", "\n", "\n\n", "\r\n"))
        split += formats._split_table(text) is not None
        assert ours(text, formats.csv_table) == reference_table(text), repr(text)
    assert split > 600  # the split path was taken, not only csv.reader's

"""Byte-level helpers the ISO parsers share: zip members, CSV rows, JSON documents, numbers.

Every helper raises FormatError (a ValueError) with a short reason; an ISO parser catches it
and re-raises it as its own SourceError, so the message names the ISO, dataset and URL.
None of these helpers guesses: a missing column, an empty body or a half-written file is an
error, never a silently shorter result.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from itertools import repeat
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from gridtape.timeutil import local_to_utc

_HTML_PREFIXES = (b"<!doctype html", b"<html", b"<head", b"<body")


# Resource caps, checked before and while reading, never after: a response that would need
# more is refused (FormatError) in bounded memory. The largest real bodies are CAISO's
# all-nodes OASIS zip (a few MB, ~60 MB of CSV) and PJM's 50,000-row pages (~20 MB of JSON).
MAX_BODY_BYTES = 128 * 1024 * 1024  # one response, as sent and as decompressed (gzip)
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # all members of one zip, decompressed
MAX_ZIP_MEMBERS = 64
MAX_JSON_DEPTH = 32  # the deepest real document (ERCOT's document list) nests 5 levels
_CHUNK = 1 << 16


class FormatError(ValueError):
    """The bytes are not what the ISO's documented format says they are. `url` names the
    response when the error is found in a step over several (a page chain, a document list)."""

    def __init__(self, reason: str, url: str | None = None) -> None:
        super().__init__(reason)
        self.url = url


def check_body(body: bytes) -> None:
    """Refuse an empty body or an HTML page (a login wall, a maintenance page, a 200 error)."""
    if not body or not body.strip():
        raise FormatError("empty body")
    if body.lstrip()[:15].lower().startswith(_HTML_PREFIXES):
        raise FormatError("got an HTML page instead of data")


def zip_members(body: bytes, limit: int = MAX_MEMBER_BYTES) -> dict[str, bytes]:
    """name -> bytes of every file in a zip; a truncated or corrupt zip (CRC checked as each
    member is read) is an error, and so is a zip that expands past `limit` bytes in all: the
    declared sizes are checked first and the real ones while streaming (a zip can lie)."""
    check_body(body)
    members: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            if len(infos) > MAX_ZIP_MEMBERS:
                raise FormatError(f"zip holds {len(infos)} files, more than {MAX_ZIP_MEMBERS}")
            declared = sum(info.file_size for info in infos)
            if declared > limit:
                raise FormatError(f"zip expands to {declared:,} bytes, more than {limit:,}")
            total = 0
            for info in infos:
                parts = []
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise FormatError(f"zip expands past {limit:,} bytes (its sizes are wrong)")
                        parts.append(chunk)
                members[info.filename] = b"".join(parts)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        raise FormatError(f"not a readable zip ({exc})") from None
    except (zlib.error, RuntimeError, ValueError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"not a readable zip ({type(exc).__name__}: {exc})") from None
    if not members:
        raise FormatError("zip holds no files")
    return members


def inflate(body: bytes, encoding: str, limit: int = MAX_BODY_BYTES) -> bytes:
    """A gzip (one or several members, as HTTP allows) or deflate body, decompressed a chunk at
    a time: more than `limit` bytes out is refused before they are held."""
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding)
    if wbits is None:
        raise FormatError(f"unsupported content encoding {encoding!r}")
    out = bytearray()
    data = body
    try:
        while data:
            inflater = zlib.decompressobj(wbits)
            while not inflater.eof:
                chunk = inflater.decompress(data, _CHUNK * 16)
                data = inflater.unconsumed_tail
                out += chunk
                if len(out) > limit:
                    raise FormatError(f"{encoding} body expands past {limit:,} bytes")
                if not chunk and not data:
                    break
            if not inflater.eof:
                raise FormatError(f"{encoding} body is truncated")
            data = inflater.unused_data if wbits != zlib.MAX_WBITS else b""  # the next gzip member
    except zlib.error as exc:
        raise FormatError(f"not readable {encoding} ({exc})") from None
    return bytes(out)


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def csv_rows(text: str) -> list[list[str]]:
    """All rows of a CSV text (quoted fields unquoted); blank lines dropped."""
    rows: Iterable[list[str]] | None = _split_rows(text)
    try:
        if rows is None:
            rows = csv.reader(io.StringIO(text), strict=True)
        return [row for row in rows if any(map(str.strip, row))]
    except csv.Error as exc:
        raise FormatError(f"malformed CSV ({exc})") from None


def _split_rows(text: str) -> list[list[str]] | None:
    """What csv.reader reads from a text _plain_lines splits: each line split at its commas
    (several times faster). None for any other text."""
    lines = _plain_lines(text)
    return None if lines is None else [line.split(",") for line in lines]


def _plain_lines(text: str) -> list[str] | None:
    """The lines of a text with no quote, no lone CR and no line past csv's field limit (whose
    rows are its lines split at their commas); None for any other text."""
    if '"' in text:
        return None
    if "\r" in text:
        lines = text.replace("\r\n", "\n").split("\n")
        if any("\r" in line for line in lines):
            return None
    else:  # (replace would copy the whole text to change nothing)
        lines = text.split("\n")
    if len(text) > csv.field_size_limit() and max(map(len, lines)) > csv.field_size_limit():
        return None
    return lines


def csv_table(text: str) -> tuple[list[str], dict[str, list[str]]] | None:
    """A header + rows CSV by column: its header (stripped) and every column by its name (a
    repeated name: its last column), cells stripped, as csv_rows and records() read them; None
    when it has no row or a row whose width is not the header's (records() says which)."""
    table = _split_table(text)
    if table is not None:
        return table
    rows = csv_rows(text)
    header = [h.strip() for h in rows[0]] if rows else []
    if not rows or set(map(len, rows)) != {len(header)}:
        return None
    return header, columns(header, rows[1:], header)


# What str.strip strips from an ASCII line, but the line break.
_ASCII_SPACE = " \t\x0b\x0c\x1c\x1d\x1e\x1f"


def _split_table(text: str) -> tuple[list[str], dict[str, list[str]]] | None:
    """csv_table of a text _plain_lines splits whose non-blank rows all have the header's width,
    split once into one flat list of cells, each column a slice of it (no list per row, and no
    strip at all when the text is ASCII without spaces). None for any other text."""
    lines = _plain_lines(text)
    if lines is None:
        return None
    plain = text.isascii() and not any(space in text for space in _ASCII_SPACE)
    if plain:  # a blank row is then commas alone
        kept = [line for line in lines if line.strip(",")]
    else:
        kept = [line for line in lines if line.replace(",", "").strip()]
    if not kept or set(map(str.count, kept, repeat(","))) != {kept[0].count(",")}:
        return None
    cells = ",".join(kept).split(",")
    width = kept[0].count(",") + 1
    header = [h.strip() for h in cells[:width]]
    table = {name: cells[width + k :: width] for k, name in enumerate(header)}
    if not plain:
        table = {name: list(map(str.strip, column)) for name, column in table.items()}
    return header, table


def csv_records(text: str, required: Iterable[str]) -> list[dict[str, str]]:
    """A header + rows CSV as dicts; every required column must be in the header and every
    row must have as many fields as the header (a short last row means a truncated file)."""
    rows = csv_rows(text)
    if not rows:
        raise FormatError("CSV has no header")
    header = [h.strip() for h in rows[0]]
    return records(header, rows[1:], required)


def records(header: Sequence[str], rows: Iterable[Sequence[Any]], required: Iterable[str]) -> list[dict[str, str]]:
    missing = [c for c in required if c not in header]
    if missing:
        raise FormatError(f"missing column(s) {', '.join(missing)}; header is {', '.join(header)}")
    out = []
    for n, row in enumerate(rows, start=2):
        if not isinstance(row, list | tuple):
            raise FormatError(f"row {n} is not a list of fields")
        if len(row) != len(header):
            raise FormatError(f"row {n} has {len(row)} fields, header has {len(header)} (truncated?)")
        try:
            out.append(dict(zip(header, map(str.strip, row), strict=True)))
        except TypeError:  # JSON rows may hold numbers: cells are kept as text, number() parses them
            out.append(dict(zip(header, (c.strip() if isinstance(c, str) else str(c) for c in row), strict=True)))
    return out


def columns(header: Sequence[str], rows: Sequence[Sequence[str]], names: Sequence[str]) -> dict[str, list[str]]:
    """records() read by column, for CSV rows: name -> its cells (stripped), row after row. A
    missing column or a row of the wrong width raises records()' error."""
    if not set(names) <= set(header) or not set(map(len, rows)) <= {len(header)}:
        records(header, rows, names)  # raises the reason
    where = {name: n for n, name in enumerate(header)}  # a repeated name: its last column, as in records()
    return {name: list(map(str.strip, map(itemgetter(where[name]), rows))) for name in names}


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deep a JSON text's arrays and objects nest (strings skipped), without parsing it."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def json_document(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON document; NaN and Infinity (not JSON) and nesting deeper than `max_depth` are refused."""
    check_body(body)
    if (depth := json_depth(body)) > max_depth:
        raise FormatError(f"JSON nests {depth} levels deep, more than {max_depth}")
    try:
        return json.loads(decode(body), parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FormatError(f"malformed JSON ({exc.msg} at char {exc.pos})") from None
    except RecursionError:
        raise FormatError("JSON nests too deep") from None


def _no_constant(name: str) -> Any:
    raise FormatError(f"malformed JSON ({name} is not a JSON number)")


def path(document: Any, *keys: str | int) -> Any:
    """document[k1][k2]... with an error naming the missing key path."""
    node = document
    walked: list[str] = []
    for key in keys:
        walked.append(str(key))
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise FormatError(f"JSON has no {'/'.join(walked)}") from None
    return node


def number(value: Any, what: str) -> float:
    """A finite float from a CSV cell or JSON value ('-1.5', 12, '3,456' is refused)."""
    if isinstance(value, bool) or value is None:
        raise FormatError(f"{what}: expected a number, got {value!r}")
    try:
        result = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise FormatError(f"{what}: expected a number, got {value!r}") from None
    if not math.isfinite(result):
        raise FormatError(f"{what}: expected a finite number, got {value!r}")
    return result


def one_of(value: str, allowed: Mapping[str, Any] | Sequence[str], what: str) -> str:
    if value not in allowed:
        raise FormatError(f"{what}: unexpected value {value!r}")
    return value


def location_type(name: str, hub: str, zone: str) -> str:
    """hub, zone or node, by the prefix of a location's name (where an ISO's names say it)."""
    if name.startswith(hub):
        return "hub"
    if name.startswith(zone):
        return "zone"
    return "node"


def wall_clock_series(
    walls: Sequence[datetime], zone: ZoneInfo | timezone, fetched_at: datetime, minutes: int
) -> list[datetime]:
    """UTC interval starts for a chronological run of naive local interval-start times (one
    location's rows of a file that carries no UTC offset and no DST flag, e.g. ISO-NE's).

    A wall time of the fall-back hour has two candidates: each row takes the earliest one
    after the row before it, so 01:55 followed by 01:00 is read as daylight then standard
    time. The first row, with nothing before it, takes the latest candidate whose interval
    had ended by `fetched_at` (a published interval cannot be in the future). A time in the
    skipped spring hour, or a row not after the one before it, is an error."""
    out: list[datetime] = []
    for wall in walls:
        try:
            candidates = sorted({local_to_utc(wall, zone, repeated=flag) for flag in (False, True)})
        except ValueError as exc:
            raise FormatError(str(exc)) from None
        if not out:
            done = [c for c in candidates if c + timedelta(minutes=minutes) <= fetched_at]
            out.append(done[-1] if done else candidates[0])
            continue
        later = [c for c in candidates if c > out[-1]]
        if not later:
            raise FormatError(f"{wall:%Y-%m-%d %H:%M} is not after the row before it")
        out.append(later[0])
    return out


def published_at(headers: Mapping[str, str], fetched_at: datetime) -> datetime:
    """When the ISO wrote what it served: the response's Last-Modified (an HTTP-date, UTC) when
    it has one that is not after the fetch; otherwise the fetch time. For a file the ISO keeps
    appending to, that is when the newest version was written: an upper bound for older rows."""
    value = next((v for k, v in headers.items() if k.lower() == "last-modified"), None)
    when = http_date(value) if value else None
    return when if when is not None and when <= fetched_at else fetched_at


def http_date(value: str) -> datetime | None:
    """An HTTP-date (RFC 9110 5.6.7) as aware UTC; None when it does not parse. A date
    without a zone is taken as UTC, as HTTP dates always are."""
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when

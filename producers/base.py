"""The one small interface every ISO module implements, and the parse skeleton they share.

An ISO module is a subclass of IsoSource with two halves:
- fetch(dataset, http, now, since): the HTTP requests for the newest data (and, after an
  outage, what is missing since the poller's cursor), through the shared HttpClient
  (retries, rate limits, caps, conditional requests and replay live there, once);
- parse(dataset, responses): a pure function from recorded bytes to tick records. It never
  touches the network, the clock or AWS, so it is tested on fixtures alone.

Parsing is one skeleton (parse_rows) with small hooks; an ISO module writes only what differs:
- `_rows_<dataset>(response, context)` splits ONE response into rows. A FormatError there means
  the whole response is unreadable (HTML page, truncated file, renamed column): SourceError.
- `_read_<dataset>(row, response)` turns one row into one tick (built with self.tick, which
  fills the provenance fields) or None (a row gridtape does not want, e.g. a node without
  include_nodes). An error there refuses that row alone.
- `prepare(dataset, responses)`: for responses that only make sense together (a document list
  plus documents, pages that must add up); its result is handed to every `_rows_` call.
- `finish(dataset, ticks)`: a step over every tick of the poll (e.g. a system total).
- `_ticks_<dataset>(response, context)` (optional, for big files): the same response read by
  column (times converted once per distinct stamp, ticks built by self.ticks). It returns
  every tick the row path would, in the same order, or None when any row is odd (a bad number
  or stamp...): the row path then reads the response and refuses the odd rows alone, with
  their reasons. Its ticks are checked together (gridtape.validate_fast); one that fails sends
  the response to the row path too.
The skeleton checks the HTTP status, validates every tick against the contract (bounds
included) and, for a live poll, the time window; refuses a response with no row it reads
(unless the dataset is in `may_be_empty`); keeps the later of two ticks with one natural key;
sorts by (market, interval_start, location).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import Any, ClassVar, Protocol, Unpack

from gridtape import bounds, contract, isos
from gridtape.contract import Values
from gridtape.errors import SourceError
from gridtape.validate_fast import TickChecker
from producers import formats

# When more than this share of one response's rows is refused, the rows are not the odd bad
# value an ISO publishes now and then (a blank price at one hub) but a changed format: the
# whole response is quarantined (SourceError) instead of publishing the few rows that happen
# to still parse. One bad hub of SPP's ~150 hub and zone rows is 0.7 %; a renamed unit or a
# shifted column breaks most rows.
MAX_REFUSED_SHARE = 0.2
EXCERPT_CHARS = 300
# What a row may raise when it cannot be read (a bug in the module raises the same types, and
# then refuses every row: the share check turns that into one SourceError, never a traceback).
ROW_ERRORS = (ValueError, TypeError, KeyError, IndexError, ArithmeticError, AttributeError)


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    # Query parameters that change on every call (cache busters): left out when a replayed
    # response is matched to a request.
    volatile_params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # the full URL asked for, query string included
    status: int
    body: bytes
    headers: Mapping[str, str]
    fetched_at: datetime  # UTC


@dataclass(frozen=True)
class Refused:
    """One row that was not published: where it came from, why, and what it said."""

    url: str
    reason: str
    row: str  # an excerpt of the offending row


@dataclass
class Parsed:
    ticks: list[dict[str, Any]]
    refused: list[Refused] = field(default_factory=list)


class HttpClient(Protocol):
    """What an ISO module may ask of the fetch layer (live HTTP or replay of recordings)."""

    def get(self, request: Request) -> Response: ...


def excerpt(row: Any) -> str:
    """A short, printable rendering of a raw row for the refusal log and quarantine."""
    if isinstance(row, tuple) and row and isinstance(row[0], dict | list | tuple):
        row = row[0]  # (raw row, what the split step worked out about it)
    if isinstance(row, dict):
        text = json.dumps(row, default=str, ensure_ascii=True)
    elif isinstance(row, list | tuple):
        text = ",".join(str(c) for c in row)
    else:
        text = str(row)
    text = text.encode("unicode_escape").decode("ascii")  # control characters stay visible, inert
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 3] + "..."


class IsoSource(ABC):
    iso: ClassVar[str]  # one of gridtape.contract.ISOS; every other fact comes from the ISO table
    # Datasets whose responses may hold no row at all (a window with nothing in it yet).
    may_be_empty: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, include_nodes: bool = False, credentials: Mapping[str, str] | None = None) -> None:
        self.include_nodes = include_nodes
        self.credentials = dict(credentials or {})

    # -- the ISO table's facts -------------------------------------------------------------
    @property
    def facts(self) -> isos.Iso:
        return isos.get(self.iso)

    @property
    def datasets(self) -> tuple[str, ...]:
        return self.facts.datasets

    @property
    def requests_per_second(self) -> float:
        return self.facts.requests_per_second

    @property
    def min_poll_interval_s(self) -> float:
        return self.facts.min_poll_interval_s

    # -- fetch -----------------------------------------------------------------------------
    @abstractmethod
    def fetch(self, dataset: str, http: HttpClient, now: datetime, since: datetime | None = None) -> list[Response]:
        """The responses parse() needs at `now` (UTC). `since` is the poller's cursor: the end
        of the newest complete interval already published (None: unknown). When it lies
        before what a normal poll reads, the module also fetches what is missing since then,
        within its rate limit and its documented cap."""

    # -- history ---------------------------------------------------------------------------
    # Feeds whose archives history() reads: what `gridtape backfill` can fill.
    archives: ClassVar[frozenset[str]] = frozenset()

    def history(self, dataset: str, day: date, http: HttpClient) -> list[Response]:
        """The archived responses that hold operating day `day` (the ISO's market-clock date)
        of feed `dataset`, the files the ISO keeps for past days. parse() reads them like live
        responses (it tells the formats apart by the response's URL), so a backfilled day and
        a polled day give the same ticks for every interval both hold."""
        raise NotImplementedError(f"{self.iso} keeps no archive gridtape reads for {dataset}")

    # The archive history() read last: (url, response).
    _kept_archive: tuple[str, Response] | None = None

    def archive(self, http: HttpClient, url: str) -> Response:
        """An archive file that holds several operating days (a month's zip, a week's), fetched
        once while a backfill reads its days in turn: the last one read is kept. An answer that
        is not a 200 is not kept, so the next day asks again."""
        if self._kept_archive is not None and self._kept_archive[0] == url:
            return self._kept_archive[1]
        resp = http.get(Request(url))
        if resp.status == 200:
            self._kept_archive = (url, resp)
        return resp

    def error(self, dataset: str, url: str, reason: str) -> SourceError:
        return SourceError(self.iso, dataset, url, reason)

    # -- the provenance helper -------------------------------------------------------------
    # tick()'s facts for the response it saw last: (response, dataset, market, feed, length, published)
    _tick_memo: tuple[Response, str, str | None, isos.Feed, timedelta, datetime] | None = None

    def tick(
        self,
        response: Response,
        dataset: str,
        *,
        location: str,
        location_type: str,
        start: datetime | None = None,
        end: datetime | None = None,
        market: str | None = None,
        published_at: datetime | None = None,
        **values: Unpack[Values],
    ) -> dict[str, Any]:
        """A wire tick from one response of the feed named `dataset` (lmp, load, dam): iso,
        dataset and market (the table's feed; `market` picks one where a name has several), interval (from `start` for interval-beginning ISOs, `end` for interval-ending
        ones; the feed's length gives the other), published_at (the response's Last-Modified,
        else the fetch, unless the ISO says when), ingested_at (the fetch) and source (the URL)."""
        memo = self._tick_memo
        if memo is None or memo[0] is not response or memo[1] != dataset or memo[2] != market:
            # the same for every row of a response: worked out once
            feed = self.facts.feed(dataset, market)
            published = formats.published_at(response.headers, response.fetched_at)
            memo = self._tick_memo = (response, dataset, market, feed, timedelta(minutes=feed.minutes), published)
        _, _, _, feed, length, published = memo
        if start is None:
            if end is None:
                raise ValueError("a tick needs its interval start or end")
            start = end - length
        return contract.tick(
            iso=self.iso,
            market=feed.market,
            dataset=feed.dataset,
            location=location,
            location_type=location_type,
            interval_start=start,
            interval_end=start + length,
            published_at=published_at or published,
            ingested_at=response.fetched_at,
            source=response.url,
            **values,
        )

    def ticks(
        self,
        response: Response,
        dataset: str,
        *,
        locations: Sequence[str],
        location_types: Sequence[str],
        starts: Sequence[datetime] | None = None,
        ends: Sequence[datetime] | None = None,
        market: str | None = None,
        values: Sequence[Values],
    ) -> list[dict[str, Any]]:
        """Many ticks of one response from columns (for a `_ticks_<dataset>` reader): the i-th
        is tick(response, dataset, location=locations[i], location_type=location_types[i],
        start=starts[i] (or end=ends[i]), market=market, **values[i]). What the ticks of one
        interval share is made once, by tick()."""

        def shared(when: datetime) -> dict[str, Any]:
            if starts is not None:
                return self.tick(response, dataset, location="", location_type="", start=when, market=market)
            return self.tick(response, dataset, location="", location_type="", end=when, market=market)

        times = starts if starts is not None else ends
        if times is None:
            raise ValueError("ticks need their interval starts or ends")
        by_time = {when: shared(when) for when in set(times)}
        return [
            {**by_time[when], "location": location, "location_type": kind, **row}
            for when, location, kind, row in zip(times, locations, location_types, values, strict=True)
        ]

    # -- the parse skeleton ----------------------------------------------------------------
    def parse(self, dataset: str, responses: Sequence[Response]) -> list[dict[str, Any]]:
        """The good ticks of parse_rows (refused rows are dropped). Raises SourceError."""
        return self.parse_rows(dataset, responses).ticks

    def parse_rows(self, dataset: str, responses: Sequence[Response], *, live: bool = True) -> Parsed:
        """Every response's rows as ticks, each checked against the contract (and, when `live`,
        the live time window around its fetch); a row that breaks either, or that cannot be
        read, is refused with its reason. Raises SourceError naming ISO, dataset, URL and
        reason when a response is unreadable or more than MAX_REFUSED_SHARE of its rows are
        refused."""
        rows_of = getattr(self, f"_rows_{dataset}", None)
        read = getattr(self, f"_read_{dataset}", None)
        if dataset not in self.datasets or rows_of is None or read is None:
            raise self.error(dataset, responses[0].url if responses else "-", f"unknown dataset {dataset!r}")
        self._tick_memo = None  # the ISO table may have changed since the last parse (tests patch it)
        record = self.record_contract(dataset)
        checker = TickChecker() if record is contract.TICK else None
        context = self._guarded(dataset, responses, lambda: self.prepare(dataset, responses))
        ticks: list[dict[str, Any]] = []
        refused: list[Refused] = []
        for response in responses:
            if not self.wanted(dataset, response):
                continue
            good, bad = self._guarded(
                dataset,
                [response],
                lambda r=response: self._read_all(
                    dataset, r, context, lambda: rows_of(r, context), read, live, checker
                ),
            )
            if bad and len(bad) > MAX_REFUSED_SHARE * (len(good) + len(bad)):
                raise self.error(
                    dataset,
                    response.url,
                    f"{len(bad)} of {len(good) + len(bad)} rows refused (more than {MAX_REFUSED_SHARE:.0%}: "
                    f"the format changed?); first: {bad[0].reason} in {bad[0].row}",
                )
            if not good and not bad and dataset not in self.may_be_empty:
                raise self.error(dataset, response.url, f"no {dataset} rows gridtape reads")
            ticks.extend(good)
            refused.extend(bad)
        seen = {id(t) for t in ticks}
        finished: list[dict[str, Any]] = []
        for t in self._guarded(dataset, responses, lambda: self.finish(dataset, ticks)):
            if id(t) not in seen:  # a tick finish() made itself (e.g. a system total): check it too
                why = self._check(dataset, t, None, live)
                if why:
                    refused.append(Refused(t["source"], why, excerpt(t)))
                    continue
            finished.append(t)
        if record is contract.TICK:
            # every key field of a valid tick is a string already: no str() per field
            key: Callable[[dict[str, Any]], tuple[Any, ...]] = itemgetter(*record.natural_key)
            order: Callable[[dict[str, Any]], tuple[Any, ...]] = _order
        else:
            key = order = lambda t: contract.natural_key(t, record)
        latest = {key(t): t for t in finished}  # a later response or row wins
        return Parsed(sorted(latest.values(), key=order), refused)

    # hooks (see the module docstring)
    def record_contract(self, dataset: str) -> contract.RecordContract:
        """The contract a feed's records follow: ticks, unless a context source (outages,
        weather, customers out: gridtape/context.py) says otherwise."""
        return contract.TICK

    def prepare(self, dataset: str, responses: Sequence[Response]) -> Any:
        return None

    def wanted(self, dataset: str, response: Response) -> bool:
        """Whether the response's rows are parsed (False: it only served prepare())."""
        return True

    def finish(self, dataset: str, ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return ticks

    def _read_all(
        self,
        dataset: str,
        response: Response,
        context: Any,
        rows: Callable[[], Iterable[Any]],
        read: Any,
        live: bool,
        checker: TickChecker | None,
    ) -> tuple[list[dict[str, Any]], list[Refused]]:
        if not 200 <= response.status < 300:
            raise formats.FormatError(f"HTTP {response.status}")
        fetched = response.fetched_at if live else None
        by_column = getattr(self, f"_ticks_{dataset}", None)
        if by_column is not None and checker is not None:
            made = by_column(response, context)
            if made is not None and checker.all_pass(made, fetched):
                return made, []
            # an odd row somewhere: the row path finds it and says why, the others still pass
        read_rows: list[tuple[dict[str, Any], Any] | Refused] = []  # in row order: (tick, row) or why not
        for row in rows():
            try:
                made = read(row, response)
            except ROW_ERRORS as exc:
                read_rows.append(Refused(response.url, str(exc) or type(exc).__name__, excerpt(row)))
                continue
            if made is not None:
                read_rows.append((made, row))
        ticks = [item[0] for item in read_rows if not isinstance(item, Refused)]
        if checker is not None and checker.all_pass(ticks, fetched):
            return ticks, [item for item in read_rows if isinstance(item, Refused)]
        good: list[dict[str, Any]] = []
        bad: list[Refused] = []
        for item in read_rows:  # a tick the contract refuses: each is checked on its own, for its reason
            if isinstance(item, Refused):
                bad.append(item)
            elif why := self._check(dataset, item[0], response, live):
                bad.append(Refused(response.url, why, excerpt(item[1])))
            else:
                good.append(item[0])
        return good, bad

    def _check(self, dataset: str, t: dict[str, Any], response: Response | None, live: bool) -> str | None:
        record = self.record_contract(dataset)
        try:
            contract.validate(t, record)
            if live and record is contract.TICK:
                bounds.check_live(t, response.fetched_at if response else contract.parse_ts(t["ingested_at"]))
        except ValueError as exc:
            return str(exc)
        return None

    def _guarded(self, dataset: str, responses: Sequence[Response], step: Any) -> Any:
        """Run a whole-response step; anything it raises is a SourceError naming the URL."""
        try:
            return step()
        except SourceError:
            raise
        except formats.FormatError as exc:
            url = getattr(exc, "url", None) or (responses[0].url if responses else "-")
            raise self.error(dataset, url, str(exc)) from None
        except (*ROW_ERRORS, LookupError, RecursionError, EOFError) as exc:
            url = responses[0].url if responses else "-"
            raise self.error(dataset, url, f"{type(exc).__name__}: {exc}") from None


_order = itemgetter("market", "interval_start", "location")

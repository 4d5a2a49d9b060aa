"""Conditional requests for the fetch layer (producers.http): ETag / Last-Modified per URL.

A validator only becomes usable after commit(), i.e. once the poll that fetched it has
published what it parsed: a 304 must never hide data that failed to parse or publish.
Validators also outlive the process: the poller stores this poll's in the feed's state item
(keyed by a hash of the URL, so an API key in a query string never lands in the table) and
seeds them into a cold FetchLayer, so a cold Lambda still sends If-None-Match /
If-Modified-Since. A seeded validator has no body behind it: a 304 to it says "nothing new"
and nothing more (the poller fetches again in full when the rest of the poll did change).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from producers.transport import RawResponse

# url hash -> (ETag, Last-Modified), as the state table stores them
Stored = Mapping[str, tuple[str | None, str | None]]


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:20]


@dataclass
class Cached:
    etag: str | None
    last_modified: str | None
    response: RawResponse | None  # None: seeded from the state table, no body here


class Validators:
    def __init__(self) -> None:
        self._cache: dict[str, Cached] = {}
        self._pending: dict[str, Cached] = {}
        self._seeds: dict[str, Cached] = {}
        self._asked: list[str] = []  # this poll's URLs, in order

    def begin_poll(self) -> None:
        self._pending = {}
        self._asked = []

    def seed(self, stored: Stored) -> None:
        """Validators persisted by an earlier poll (possibly another process)."""
        for key, (etag, modified) in stored.items():
            if etag or modified:
                self._seeds[key] = Cached(etag, modified, None)

    def forget_seeds(self) -> None:
        """Ask again without the stored validators (a 304 to them left no body to parse)."""
        self._seeds = {}

    def lookup(self, url: str) -> Cached | None:
        self._asked.append(url)
        return self._cache.get(url) or self._seeds.get(url_key(url))

    def headers(self, cached: Cached | None) -> dict[str, str]:
        out: dict[str, str] = {}
        if cached is not None and cached.etag:
            out["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            out["If-Modified-Since"] = cached.last_modified
        return out

    def fetched(self, url: str, etag: str | None, modified: str | None, raw: RawResponse) -> None:
        if etag or modified:
            self._pending[url] = Cached(etag, modified, raw)

    def commit(self) -> None:
        self._cache.update(self._pending)
        for url in self._pending:
            self._seeds.pop(url_key(url), None)
        self._pending = {}

    def discard(self) -> None:
        self._pending = {}

    def to_store(self) -> dict[str, tuple[str | None, str | None]]:
        """This poll's validators as commit() would leave them, for the state table."""
        out: dict[str, tuple[str | None, str | None]] = {}
        for url in self._asked:
            c = self._pending.get(url) or self._cache.get(url) or self._seeds.get(url_key(url))
            if c is not None:
                out[url_key(url)] = (c.etag, c.last_modified)
        return out

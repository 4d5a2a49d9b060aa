"""How one GET crosses the wire for the fetch layer (producers.http): a requests.Session per ISO.

The transport never retries (the FetchLayer does) and enforces, once for every ISO:
- size: a body larger than formats.MAX_BODY_BYTES, as sent or once gzip/deflate is undone, is
  refused while it streams in, so a compression bomb never sits in memory whole;
- redirects: followed here, at most MAX_REDIRECTS; never from https down to http; and on a hop
  to another host only the harmless headers travel (the ISO's API key header must not leave the
  ISO's host: requests itself strips only Authorization).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from producers import formats

CONNECT_TIMEOUT_S = 5.0
MAX_REDIRECTS = 5
# Headers that may follow a redirect to another host; everything else (keys, cookies set by
# the caller, conditional-request validators for the first URL) stays behind.
CROSS_HOST_HEADERS = frozenset({"user-agent", "accept-encoding", "accept"})


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    body: bytes
    headers: Mapping[str, str]


class TransportRefusal(Exception):
    """The transport will not fetch this (too large, a downgrade, too many redirects). Not
    retried: asking again gets the same answer."""


class Transport(Protocol):
    """Moves one GET over the wire (or out of a recording). Raises TimeoutError or
    ConnectionError for network failures, TransportRefusal for what it refuses; never retries."""

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> RawResponse: ...


def full_url(url: str, params: Mapping[str, str]) -> str:
    """The URL with its query string, as requests would send it (Response.url)."""
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({k: str(v) for k, v in params.items()})}"


def redirect_headers(headers: Mapping[str, str], origin: str, target: str) -> dict[str, str]:
    """The headers a redirect from `origin` to `target` may carry (all of them on the same host)."""
    if urlsplit(origin).netloc.lower() == urlsplit(target).netloc.lower():
        return dict(headers)
    return {k: v for k, v in headers.items() if k.lower() in CROSS_HOST_HEADERS}


class RequestsTransport:
    """One requests.Session per ISO: connection reuse (keep-alive, TLS sessions) across polls.
    urllib3's own retries and requests' redirect handling are off: retrying is the FetchLayer's
    job and redirects are followed here under the rules in the module docstring."""

    def __init__(self, connect_timeout: float = CONNECT_TIMEOUT_S, max_body: int = formats.MAX_BODY_BYTES) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self._requests = requests
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=0, pool_connections=2, pool_maxsize=4)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.connect_timeout = connect_timeout
        self.max_body = max_body

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> RawResponse:
        target, query, sent = url, dict(params), dict(headers)
        for _ in range(MAX_REDIRECTS + 1):
            status, body, got, location = self._one(target, query, sent, timeout)
            if location is None:
                return RawResponse(status, body, got)
            asked = full_url(target, query)
            nxt = urljoin(asked, location)
            if urlsplit(asked).scheme == "https" and urlsplit(nxt).scheme != "https":
                raise TransportRefusal(f"refused a redirect from https down to {urlsplit(nxt).scheme}: {nxt}")
            sent = redirect_headers(sent, asked, nxt)
            target, query = nxt, {}
        raise TransportRefusal(f"more than {MAX_REDIRECTS} redirects")

    def _one(
        self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float
    ) -> tuple[int, bytes, dict[str, str], str | None]:
        requests = self._requests
        try:
            resp = self.session.get(
                url,
                params=dict(params),
                headers=dict(headers),
                timeout=(self.connect_timeout, timeout),
                allow_redirects=False,
                stream=True,
            )
            try:
                got = dict(resp.headers)
                if resp.is_redirect and resp.headers.get("Location"):
                    return resp.status_code, b"", got, resp.headers["Location"]
                body = self._body(resp, got)
                if any(k.lower() == "content-encoding" for k in got):  # the body is decoded now
                    got = {k: v for k, v in got.items() if k.lower() not in ("content-encoding", "content-length")}
                return resp.status_code, body, got, None
            finally:
                resp.close()
        except requests.Timeout as exc:
            raise TimeoutError(f"timed out ({type(exc).__name__})") from exc
        except requests.RequestException as exc:  # DNS, refused, reset, TLS, chunked-encoding errors
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc

    def _body(self, resp: object, headers: Mapping[str, str]) -> bytes:
        """The body as sent, read in chunks up to the cap, then decompressed under the same cap."""
        lowered = {k.lower(): v for k, v in headers.items()}
        declared = lowered.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise TransportRefusal(f"body of {int(declared):,} bytes is larger than {self.max_body:,}")
        raw = resp.raw  # type: ignore[attr-defined]
        parts, size = [], 0
        while chunk := raw.read(1 << 16, decode_content=False):
            size += len(chunk)
            if size > self.max_body:
                raise TransportRefusal(f"body is larger than {self.max_body:,} bytes")
            parts.append(chunk)
        body = b"".join(parts)
        encoding = lowered.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity") or not body:
            return body
        try:
            return formats.inflate(body, encoding, self.max_body)
        except formats.FormatError as exc:
            raise TransportRefusal(str(exc)) from None

    def close(self) -> None:
        self.session.close()

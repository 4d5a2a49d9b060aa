"""Bad responses, kept for a human: the raw body under quarantine/ in the raw bucket, beside a
JSON sidecar saying where it came from and why it was refused.

    s3://<raw bucket>/quarantine/iso=<ISO>/date=<YYYY-MM-DD>/<HHMMSS.mmm>Z-<dataset>.<ext>
    s3://<raw bucket>/quarantine/iso=<ISO>/date=<YYYY-MM-DD>/<HHMMSS.mmm>Z-<dataset>.<ext>.json

Rows refused one by one (the rest of their response was published) go together, one JSON
object per poll holding every refused row with its URL and reason, and the reasons counted:

    s3://<raw bucket>/quarantine/iso=<ISO>/date=<YYYY-MM-DD>/<HHMMSS.mmm>Z-<dataset>-rows.json

The date and time are when the response was quarantined (UTC), so an operator finds today's
failures under today's prefix.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlparse

from gridtape import aws
from producers.base import Refused

PREFIX: Final = "quarantine"
_BY_TYPE: Final = (
    ("zip", "zip"),
    ("json", "json"),
    ("csv", "csv"),
    ("xml", "xml"),
    ("html", "html"),
    ("text/plain", "txt"),
)
_SIDECAR_HEADERS: Final = ("content-type", "content-length", "etag", "last-modified", "retry-after", "date")


@dataclass(frozen=True, slots=True)
class Quarantined:
    bucket: str
    body_key: str
    sidecar_key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.body_key}"


def extension(content_type: str | None, url: str, body: bytes) -> str:
    """A file extension an operator's tools will open: from the body's magic, then the
    Content-Type, then the URL path."""
    if body.startswith(b"PK\x03\x04"):
        return "zip"
    head = body[:200].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"  # an error page, whatever the Content-Type claims
    ctype = (content_type or "").lower()
    for needle, ext in _BY_TYPE:
        if needle in ctype:
            return ext
    suffix = urlparse(url).path.rsplit(".", 1)
    if len(suffix) == 2 and suffix[1].isalnum() and len(suffix[1]) <= 5:
        return suffix[1].lower()
    return "bin"


def keys(iso: str, dataset: str, at: datetime, ext: str) -> tuple[str, str]:
    body = _stem(iso, dataset, at) + f".{ext}"
    return body, body + ".json"


def rows_key(iso: str, dataset: str, at: datetime) -> str:
    return _stem(iso, dataset, at) + "-rows.json"


def _stem(iso: str, dataset: str, at: datetime) -> str:
    at = at.astimezone(UTC)
    stamp = at.strftime("%H%M%S") + f".{at.microsecond // 1000:03d}Z"
    return f"{PREFIX}/iso={iso}/date={at:%Y-%m-%d}/{stamp}-{dataset}"


def _ts(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


class Quarantine:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self.client = client or aws.client("s3")

    def save(
        self,
        *,
        iso: str,
        dataset: str,
        url: str,
        status: int | None,
        reason: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        error_type: str = "",
        fetched_at: datetime | None = None,
        poll_now: datetime | None = None,
        at: datetime | None = None,
    ) -> Quarantined:
        at = at or datetime.now(UTC)
        headers = dict(headers or {})
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        body_key, sidecar_key = keys(iso, dataset, at, extension(ctype, url, body))
        sidecar = {
            "iso": iso,
            "dataset": dataset,
            "url": url,
            "status": status,
            "reason": reason,
            "error_type": error_type,
            "bytes": len(body),
            "headers": {k: v for k, v in headers.items() if k.lower() in _SIDECAR_HEADERS},
            "fetched_at": _ts(fetched_at),
            "poll_now": _ts(poll_now),
            "quarantined_at": _ts(at),
            "body_key": body_key,
        }
        self.client.put_object(
            Bucket=self.bucket, Key=body_key, Body=body, ContentType=ctype or "application/octet-stream"
        )
        self.client.put_object(
            Bucket=self.bucket,
            Key=sidecar_key,
            Body=(json.dumps(sidecar, indent=2) + "\n").encode(),
            ContentType="application/json",
        )
        return Quarantined(self.bucket, body_key, sidecar_key)

    def save_rows(
        self,
        *,
        iso: str,
        dataset: str,
        refused: Sequence[Refused],
        poll_now: datetime | None = None,
        at: datetime | None = None,
    ) -> Quarantined:
        """One object with every row a poll refused, each with its URL and reason."""
        at = at or datetime.now(UTC)
        key = rows_key(iso, dataset, at)
        doc = {
            "iso": iso,
            "dataset": dataset,
            "poll_now": _ts(poll_now),
            "quarantined_at": _ts(at),
            "rows": len(refused),
            "reasons": dict(Counter(r.reason for r in refused).most_common()),
            "refused": [{"url": r.url, "reason": r.reason, "row": r.row} for r in refused],
        }
        body = (json.dumps(doc, indent=1, default=str) + "\n").encode()
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return Quarantined(self.bucket, key, key)

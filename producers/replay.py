"""Replay: answering the fetch layer's GETs from recorded responses (a manifest.json per ISO),
so the demo and the tests run the very code that polls live, with no network."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gridtape.errors import TerminalError
from producers.transport import RawResponse, full_url


class RecordingError(TerminalError):
    """A replay directory or manifest is missing or malformed."""


@dataclass(frozen=True, slots=True)
class RecordedPoll:
    dataset: str
    now: datetime
    label: str


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    url: str
    params: Mapping[str, str]
    path: Path
    status: int
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Recordings:
    """One ISO's manifest.json: the polls to replay and the responses to answer them with."""

    iso: str
    root: Path
    polls: tuple[RecordedPoll, ...]
    responses: tuple[RecordedResponse, ...]

    @classmethod
    def load(cls, directory: Path) -> Recordings:
        manifest = directory / "manifest.json"
        try:
            doc = json.loads(manifest.read_text())
        except FileNotFoundError:
            raise RecordingError(f"no recordings: {manifest} does not exist") from None
        except (OSError, ValueError) as exc:
            raise RecordingError(f"{manifest}: not readable JSON ({exc})") from None
        try:
            polls = tuple(
                RecordedPoll(p["dataset"], _utc(p["now"]), str(p.get("label", ""))) for p in doc.get("polls", [])
            )
            responses = tuple(
                RecordedResponse(
                    url=r["url"],
                    params={str(k): str(v) for k, v in (r.get("params") or {}).items()},
                    path=directory / r["file"],
                    status=int(r.get("status", 200)),
                    headers={str(k): str(v) for k, v in (r.get("headers") or {}).items()},
                )
                for r in doc["responses"]
            )
            iso = str(doc["iso"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordingError(f"{manifest}: malformed manifest ({type(exc).__name__}: {exc})") from None
        missing = [r.path.name for r in responses if not r.path.is_file()]
        if missing:
            raise RecordingError(f"{manifest}: recorded file(s) missing: {', '.join(missing[:5])}")
        return cls(iso=iso, root=directory, polls=polls, responses=responses)


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"poll time {text!r} has no zone")
    return value.astimezone(UTC)


class ReplayTransport:
    """Answers GETs from recordings, matched on url + params (volatile params ignored).

    A request nobody recorded gets a 404, as a live server would answer for a file that is not
    there, so the ISO module's own missing-data handling runs. When several recordings share a
    key (the same URL answered differently over time) they are served in manifest order, and
    the last keeps answering."""

    def __init__(self, recordings: Recordings) -> None:
        self.recordings = recordings
        # (url, params) -> the responses recorded for exactly that request, in manifest order. An
        # archive tree answers thousands of downloads on one URL (ERCOT's mirDownload?doclookupId=):
        # a dict, not a scan, finds each.
        self._queues: dict[tuple[str, frozenset[tuple[str, str]]], list[RecordedResponse]] = {}
        for r in recordings.responses:
            self._queues.setdefault((r.url, _key(r.params)), []).append(r)
        self.volatile: tuple[str, ...] = ()  # the current request's cache busters, set by the FetchLayer
        self.unmatched: list[str] = []

    def send(self, url: str, params: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> RawResponse:
        queue = self._queues.get((url, _key(params)))
        if queue is None and self.volatile:  # cache busters: match on the other params alone

            def stable(p: frozenset[tuple[str, str]]) -> frozenset[tuple[str, str]]:
                return frozenset((k, v) for k, v in p if k not in self.volatile)

            wanted = stable(_key(params))
            queue = next((q for (u, p), q in self._queues.items() if u == url and stable(p) == wanted), None)
        if not queue:
            self.unmatched.append(full_url(url, params))
            return RawResponse(404, b"Not Found (no recording for this request)", {"Content-Type": "text/plain"})
        rec = queue.pop(0) if len(queue) > 1 else queue[0]
        return RawResponse(rec.status, rec.path.read_bytes(), dict(rec.headers))


def _key(params: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset((k, str(v)) for k, v in params.items())

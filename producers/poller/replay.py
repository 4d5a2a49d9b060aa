"""Every recorded poll of every ISO through the live code path, answering HTTP from the
recordings; each poll's clock is its recorded `now`. Used by the demo and the tests."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gridtape import contract
from gridtape import isos as iso_table
from producers import registry
from producers.http import RecordingError, Recordings, replay
from producers.poller.once import PollSummary, Sinks, poll, unpolled

log = logging.getLogger("producers.poller")


def find_recordings(replay_dir: Path, iso: str) -> Path | None:
    """DIR/<iso>/manifest.json (a tree of recordings) or DIR/manifest.json (one ISO's)."""
    nested = replay_dir / iso.lower()
    if (nested / "manifest.json").is_file():
        return nested
    if (replay_dir / "manifest.json").is_file():
        try:
            if Recordings.load(replay_dir).iso == iso:
                return replay_dir
        except RecordingError:
            return replay_dir  # let the caller report what is wrong with it
    return None


def poll_replay(
    replay_dir: Path, isos: Sequence[str], sinks: Sinks | None = None, include_nodes: bool | None = None
) -> list[PollSummary]:
    sinks = sinks or Sinks.from_config()
    out: list[PollSummary] = []
    for iso in isos:
        now = datetime.now(UTC)
        where = find_recordings(Path(replay_dir), iso)
        if where is None:  # a replay of what was recorded: nothing recorded is not an outage
            error = f"no recordings for {iso} in {replay_dir}"
            out.append(PollSummary(iso, "*", contract.format_ts(now), "no_recordings", error=error))
            log.warning("%s: no recordings in %s, not replayed", iso, replay_dir)
            continue
        try:
            recordings = Recordings.load(where)
            source = registry.create(iso, include_nodes=include_nodes, replay=True)
        except (RecordingError, registry.RegistryError) as exc:
            log.error("%s", exc)
            out.extend(unpolled(sinks, iso, d, now, "failed", str(exc)) for d in iso_table.get(iso).datasets)
            continue
        clock = _Clock(now)
        http = replay(recordings, clock=clock)
        for rec in recordings.polls:
            clock.value = rec.now
            out.append(poll(source, rec.dataset, http, sinks, rec.now, label=rec.label))
    return out


class _Clock:
    """The replay's notion of now: each recorded poll's own time, so fetched_at (and the
    ingested_at parsers derive from it) come out as they did when recorded."""

    def __init__(self, value: datetime) -> None:
        self.value = value

    def __call__(self) -> datetime:
        return self.value

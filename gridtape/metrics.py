"""CloudWatch metric names, once: the pollers and the streaming job emit them, the alarms in
infra/gridtape.yaml watch them, and `gridtape status` reads them locally."""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "gridtape"

# Dimensions
ISO: Final = "Iso"
DATASET: Final = "Dataset"

# Pollers, per ISO and dataset (dimensions Iso, Dataset)
DATA_AGE_S: Final = "DataAgeSeconds"  # now - interval_end of the newest interval published
TICKS_PARSED: Final = "TicksParsed"
TICKS_PUBLISHED: Final = "TicksPublished"
ROWS_QUARANTINED: Final = "RowsQuarantined"  # rows refused by the contract, each with its reason
RESPONSES_QUARANTINED: Final = "ResponsesQuarantined"  # whole responses (format changed, bomb, ...)
POLL_ERRORS: Final = "PollErrors"  # a poll that failed (fetch, parse or publish)
POLL_SKIPPED: Final = "PollSkipped"  # a poll that could not run (missing key, denied secret): a failure too
POLLS_NOT_MODIFIED: Final = "PollsNotModified"  # polls answered 304 for every request: no parse, no publish

# Streaming job (no dimensions)
LATE_TICKS_DROPPED: Final = "LateTicksDropped"  # behind the watermark
FUTURE_TICKS_DROPPED: Final = "FutureTicksDropped"  # beyond now + tolerance: never reach the watermark
INVALID_TICKS_DROPPED: Final = "InvalidTicksDropped"  # refused by the contract (bounds, NaN, not JSON)
STREAM_BATCHES: Final = "StreamBatches"  # micro-batches completed: the heartbeat the not-running alarm watches

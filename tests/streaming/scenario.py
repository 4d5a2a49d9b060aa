"""Test ticks: three real-time price series over five hours with everything the job must get
right - out-of-order arrival, revisions (winning, losing and tie-broken on ingested_at), zero
and negative prices, an exact redelivery, a record later than the watermark but within it,
one beyond it, and ticks the job must ignore (day-ahead, load)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from gridtape.contract import tick

T0 = datetime(2024, 3, 4, tzinfo=UTC)
LOCATIONS = (("PJM", "WESTERN HUB"), ("PJM", "AEP-DAYTON HUB"), ("ERCOT", "HB_NORTH"))
HOURS = 5
PER_HOUR = 12


def price_tick(
    iso: str,
    location: str,
    i: int,
    price: float,
    *,
    published_delay_s: int = 60,
    ingested_delay_s: int = 90,
    market: str = "RT5",
    dataset: str = "lmp",
) -> dict[str, Any]:
    start = T0 + timedelta(minutes=5 * i)
    return tick(
        iso=iso,
        market=market,
        dataset=dataset,
        location=location,
        location_type="hub",
        interval_start=start,
        interval_end=start + timedelta(minutes=5),
        published_at=start + timedelta(minutes=5, seconds=published_delay_s),
        ingested_at=start + timedelta(minutes=5, seconds=ingested_delay_s),
        source="test",
        lmp=None if dataset == "load" else price,
        load_mw=1000.0 if dataset == "load" else None,
    )


def prices(seed: int = 7) -> dict[tuple[str, str], list[float]]:
    rng = random.Random(seed)
    series = {}
    for iso, loc in LOCATIONS:
        p, out = 30.0, []
        for _ in range(HOURS * PER_HOUR):
            p += rng.gauss(0, 4)
            out.append(round(p, 2))
        series[(iso, loc)] = out
    # Negative and zero prices (a windy night in ERCOT): log returns skip these pairs.
    ercot = series[("ERCOT", "HB_NORTH")]
    ercot[20:26] = [3.5, -4.25, -12.0, 0.0, 0.0, 6.75]
    return series


def batches(seed: int = 7) -> list[list[dict[str, Any]]]:
    """One list per micro-batch (one file each in the file-source tests)."""
    rng = random.Random(seed + 1)
    series = prices(seed)
    (pjm_w, pjm_a, ercot) = LOCATIONS
    withheld_within = (pjm_a, 9)  # 00:45, held back until batch 2: within the watermark
    withheld_beyond = (ercot, 3)  # 00:15, held back until batch 2: beyond it -> dropped
    out: list[list[dict[str, Any]]] = []
    for h in range(HOURS):
        batch = []
        for iso, loc in LOCATIONS:
            for i in range(h * PER_HOUR, (h + 1) * PER_HOUR):
                if ((iso, loc), i) in (withheld_within, withheld_beyond):
                    continue
                batch.append(price_tick(iso, loc, i, series[(iso, loc)][i]))
        rng.shuffle(batch)  # arrival order is not event-time order
        out.append(batch)
    # batch 1: a revision of an interval from batch 0 with a later published_at -> replaces it
    out[1].append(price_tick(*pjm_w, 11, 99.5, published_delay_s=600, ingested_delay_s=660))
    # batch 2: the withheld ticks (the watermark filter of batch 2 is 00:55 - 15 min = 00:40)
    out[2].append(price_tick(*withheld_within[0], 9, series[withheld_within[0]][9]))
    out[2].append(price_tick(*withheld_beyond[0], 3, series[withheld_beyond[0]][3]))
    # batch 2: an exact redelivery of a tick from batch 1 (Kinesis is at-least-once)
    out[2].append(dict(out[1][0]))
    # batch 3: a stale revision (older published_at than the original) -> loses
    out[3].append(price_tick(*pjm_w, 30, -50.0, published_delay_s=0, ingested_delay_s=900))
    # batch 3: same published_at as the original, later ingested_at -> wins
    out[3].append(price_tick(*pjm_a, 31, 41.0, ingested_delay_s=400))
    # ticks the job ignores: a day-ahead price a day ahead (would wreck the watermark) and load
    out[3].append(price_tick(*pjm_w, 24 * 12 + 40, 35.0, market="DAM"))
    out[3].append(price_tick(*pjm_w, 40, 0.0, dataset="load"))
    return out


def flat(bs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [t for b in bs for t in b]


def ordered_chunks(seed: int = 11) -> list[list[dict[str, Any]]]:
    """One chunk per hour, each in event-time order, with a revision (5-10 minutes back, so
    within the watermark) at its end. Never late however the chunks are cut into micro-batches,
    so any run over them must produce the same records: the kill-and-restart input."""
    series = prices(seed)
    out = []
    for h in range(HOURS):
        chunk = [
            price_tick(iso, loc, i, series[(iso, loc)][i])
            for i in range(h * PER_HOUR, (h + 1) * PER_HOUR)
            for iso, loc in LOCATIONS
        ]
        iso, loc = LOCATIONS[h % len(LOCATIONS)]
        chunk.append(
            price_tick(iso, loc, h * PER_HOUR + 10, series[(iso, loc)][h * PER_HOUR + 10] + 7.0, published_delay_s=240)
        )
        out.append(chunk)
    return out

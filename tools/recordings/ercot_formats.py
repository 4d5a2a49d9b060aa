"""ERCOT's daily MIS report CSVs (DAM settlement point prices NP4-190, actual load by weather /
forecast zone NP6-345 / NP6-346) and the five-minute supply-demand dashboard JSON, in ERCOT's
layouts, with seeded synthetic numbers (synth.py). The zone reports add up to the system load
the system-wide-demand dashboard shows for the same hour (generate_ercot.demand_json), so a
backfilled day and a polled day agree."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

from gridtape.timeutil import CENTRAL
from tools.recordings import synth

HOUR = timedelta(hours=1)
FIVE = timedelta(minutes=5)
WEATHER_SHARES = {
    "COAST": 0.27,
    "EAST": 0.035,
    "FAR_WEST": 0.08,
    "NORTH": 0.02,
    "NORTH_C": 0.30,
    "SOUTHERN": 0.06,
    "SOUTH_C": 0.165,
    "WEST": 0.07,
}
FORECAST_SHARES = {"NORTH": 0.39, "SOUTH": 0.23, "WEST": 0.12, "HOUSTON": 0.26}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC start and end of `day`'s Central operating day."""
    nxt = day + timedelta(days=1)
    return (
        datetime(day.year, day.month, day.day, tzinfo=CENTRAL).astimezone(UTC),
        datetime(nxt.year, nxt.month, nxt.day, tzinfo=CENTRAL).astimezone(UTC),
    )


def hours(day: date) -> Iterator[tuple[datetime, str, str]]:
    """(UTC start, HourEnding label, DSTFlag) of every hour of `day`, as ERCOT labels them:
    hour ending = the start's wall hour + 1; on the spring day HE 02:00 is skipped (the hour
    01:00-02:00 CST ends at 03:00 CDT: "03:00"); on the fall day HE 02:00 comes twice, the
    second (standard-time) one flagged Y."""
    start, end = day_bounds(day)
    while start < end:
        local = start.astimezone(CENTRAL)
        he = local.hour + 1
        if (start + HOUR).astimezone(CENTRAL).hour == (local.hour + 2) % 24:  # the clock jumped
            he += 1
        flag = "Y" if _repeated(start) else "N"
        yield start, f"{he:02d}:00", flag
        start += HOUR


def _repeated(t: datetime) -> bool:
    local = t.astimezone(CENTRAL).replace(tzinfo=None)
    return local - (t - HOUR).astimezone(CENTRAL).replace(tzinfo=None) == timedelta(0)


def dam_price(point: str, start: datetime) -> float:
    r = synth.rng("ercot-dam", start.isoformat())
    energy = synth.energy_price(start, CENTRAL, r, base=30.0, solar=30.0)
    rp = synth.rng("ercot-dam", point, start.isoformat())
    west = 1.5 if point.endswith("WEST") or point in ("HB_PAN", "SOLARA_UNIT1") else 0.5
    return round(energy + synth.congestion(rp, 6.0 * west), 2)


def dam_csv(day: date, points: Sequence[str]) -> bytes:
    lines = ['"DeliveryDate","HourEnding","SettlementPoint","SettlementPointPrice","DSTFlag"']
    for start, label, flag in hours(day):
        lines += [f'"{day:%m/%d/%Y}","{label}","{p}","{dam_price(p, start):.2f}","{flag}"' for p in points]
    return ("\r\n".join(lines) + "\r\n").encode()


def system_load(end: datetime) -> float:
    """The systemLoad generate_ercot.demand_json shows for the hour ending at `end` (same draws)."""
    r = synth.rng("ercot-load", end.isoformat())
    forecast = synth.load_mw(end, CENTRAL, r, base=52000, swing=22000)
    r.gauss(0, 400), r.gauss(0, 900)  # currentLoadForecast, dayAheadForecast
    return round(forecast + r.gauss(0, 600), 2)


def split(total: float, shares: dict[str, float], r: random.Random) -> dict[str, float]:
    """`total` over the zones by `shares` with a little noise; the last zone takes the rest, so
    the zones add up to the total (to the cent)."""
    weights = {z: s * (1 + r.gauss(0, 0.03)) for z, s in shares.items()}
    norm = sum(weights.values())
    out = {z: round(total * w / norm, 2) for z, w in weights.items()}
    last = list(shares)[-1]
    out[last] = round(total - sum(v for z, v in out.items() if z != last), 2)
    return out


def zone_csv(day: date, weather: bool) -> bytes:
    shares = WEATHER_SHARES if weather else FORECAST_SHARES
    lines = [",".join(f'"{c}"' for c in ("OperDay", "HourEnding", *shares, "TOTAL", "DSTFlag"))]
    for start, label, flag in hours(day):
        total = system_load(start + HOUR)
        zones = split(total, shares, synth.rng("ercot-zones", weather, start.isoformat()))
        cells = [f"{day:%m/%d/%Y}", label, *(f"{zones[z]:.2f}" for z in shares), f"{total:.2f}", flag]
        lines.append(",".join(f'"{c}"' for c in cells))
    return ("\r\n".join(lines) + "\r\n").encode()


def five_minute_load(end: datetime) -> float:
    r = synth.rng("ercot-load5", end.isoformat())
    return round(synth.load_mw(end, CENTRAL, r, base=52000, swing=22000), 2)


def supply_demand_json(now: datetime) -> dict:
    """The supply-demand dashboard at `now`: the operating day's readings every five minutes
    up to the last one published (two minutes after it is taken), forecasts for the rest."""
    start, end = day_bounds(now.astimezone(CENTRAL).date())

    def stamp(t: datetime) -> str:
        return t.astimezone(CENTRAL).strftime("%Y-%m-%d %H:%M:%S%z")

    data, t = [], start
    while t <= end:
        actual = t <= now - timedelta(minutes=2)
        r = synth.rng("ercot-capacity", t.isoformat())
        data.append(
            {
                "timestamp": stamp(t),
                "demand": five_minute_load(t) if actual else round(five_minute_load(t) + r.gauss(0, 500), 2),
                "capacity": round(five_minute_load(t) * 1.25 + r.uniform(0, 3000), 2),
                "forecast": 0 if actual else 1,
                "epoch": int(t.timestamp() * 1000),
            }
        )
        t += FIVE
    return {"lastUpdated": stamp(now - timedelta(minutes=1)), "data": data}

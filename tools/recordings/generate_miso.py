"""Write producers/recordings/miso/: MISO public-API JSON (GetRealTimeFiveMinExPost/Current,
RealTimeTotalLoad), filled with seeded synthetic numbers (see synth.py).

Run from the repository root:  .venv/bin/python -m tools.recordings.generate_miso

No real MISO response exists in ../shared/iso-samples: these files follow the shapes that
gridstatus's MISO parser and other public clients read (headers/data arrays; LoadInfo with
RefId and FiveMinTotalLoad). Same-URL recordings are served in manifest order.
Test-only files (not in the manifest): rolling_<date>.json, whole EST market days in the
Current feed's shape (the Rolling endpoint's), for the DST-day checks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from gridtape import isos
from gridtape.timeutil import EST
from producers.miso import LMP_URL, LOAD_URL
from tools.recordings import synth

HUBS = isos.get("MISO").hubs
NODES = ("ALTW.WELLS1", "EES.WRPP1", "NIPS.SCHAHFER18")  # made-up node names
HEADERS = ["INTERVAL", "CPNODE", "LMP", "MLC", "MCC"]


def lmp_rows(starts: list[datetime], nodes: tuple[str, ...]) -> list[list[str]]:
    rows = []
    for t in starts:
        r = synth.rng("miso", t.isoformat())
        energy = synth.energy_price(t, EST, r, base=30.0, solar=18.0)
        for node in nodes:
            rn = synth.rng("miso", node, t.isoformat())
            south = node.startswith(("LOUISIANA", "TEXAS", "MS.", "ARKANSAS", "EES"))
            mcc = synth.congestion(rn, 7.0 if south else 2.5)
            mlc = synth.loss(energy, 0.03 if south else -0.01, rn)
            rows.append(
                [
                    f"{t.astimezone(EST):%Y-%m-%dT%H:%M:%S}",
                    node,
                    f"{energy + mcc + mlc:.2f}",
                    f"{mlc:.2f}",
                    f"{mcc:.2f}",
                ]
            )
    return rows


def lmp_doc(starts: list[datetime], nodes: tuple[str, ...] = HUBS + NODES) -> bytes:
    doc = {"headers": HEADERS, "data": lmp_rows(starts, nodes)}
    return json.dumps(doc, separators=(",", ":")).encode()


def load_doc(day: datetime, fetched: datetime) -> bytes:
    first = day.replace(tzinfo=EST).astimezone(UTC)
    rows, t = [], first
    while t < first + timedelta(days=1) and t + timedelta(minutes=5) <= fetched:
        value = synth.load_mw(t, EST, synth.rng("miso-load", t.isoformat()), base=76000, swing=26000)
        rows.append({"Load": {"Time": f"{t.astimezone(EST):%H:%M}", "Value": f"{value:.0f}"}})
        t += timedelta(minutes=5)
    last = t - timedelta(minutes=5)
    hourly = [{"ClearedMWHourly": {"Hour": str(h), "Value": f"{74000 + 900 * h}"}} for h in range(1, 25)]
    forecast = [{"Forecast": {"HourEnding": str(h), "LoadForecast": f"{75000 + 850 * h}"}} for h in range(1, 25)]
    info = {
        "RefId": f"{day:%d-%b-%Y} - Interval {last.astimezone(EST):%H:%M} EST",
        "ClearedMW": hourly,
        "MediumTermLoadForecast": forecast,
        "FiveMinTotalLoad": rows,
    }
    return json.dumps({"LoadInfo": info}, separators=(",", ":")).encode()


def main() -> None:
    rec = synth.Recording("MISO")

    def record(name: str, url: str, body: bytes) -> None:
        rec.record(name, url, body, "application/json; charset=utf-8")

    for now_text, label in (
        ("2025-06-10T18:42:00Z", "normal day"),
        ("2025-03-09T08:07:00Z", "spring DST day (MISO stays on EST: 03:00 EST)"),
        ("2025-11-02T06:07:00Z", "fall DST day (MISO stays on EST: 01:00 EST, once)"),
    ):
        now = datetime.fromisoformat(now_text)
        newest = now.replace(minute=now.minute - now.minute % 5, second=0) - timedelta(minutes=5)
        record(f"fiveminexpost_current_{now:%Y%m%dT%H%M}.json", LMP_URL, lmp_doc([newest]))
        rec.poll("lmp", now_text, label)

    for now_text, day, label in (
        ("2025-06-10T18:42:00Z", datetime(2025, 6, 10), "normal day so far"),
        ("2025-03-10T05:00:40Z", datetime(2025, 3, 9), "spring DST day, whole EST market day (288)"),
        ("2025-11-03T05:00:40Z", datetime(2025, 11, 2), "fall DST day, whole EST market day (288)"),
    ):
        record(f"realtimetotalload_{day:%Y%m%d}.json", LOAD_URL, load_doc(day, datetime.fromisoformat(now_text)))
        rec.poll("load", now_text, label)

    for day in (datetime(2025, 3, 9), datetime(2025, 11, 2)):
        first = day.replace(tzinfo=EST).astimezone(UTC)
        starts = [first + timedelta(minutes=5 * k) for k in range(288)]
        (rec.out / f"rolling_{day:%Y%m%d}.json").write_bytes(lmp_doc(starts, HUBS))  # hubs only: size

    rec.save()


if __name__ == "__main__":
    main()

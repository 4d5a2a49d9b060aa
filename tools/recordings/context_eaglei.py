"""Seeded EAGLE-I yearly files in the real layout (producers/context/eaglei.py states what was
checked): eaglei_outages_<YEAR>.csv with fips_code (integer, leading zero dropped), county
(no "County"), state (full name), customers_out (newer years; `sum` as a float in the older
ones, with pandas' unnamed index column in front), run_start_time (UTC, 15-minute runs); a row
only where a county had customers out. Counties: a seeded sample of the mapping table across
the seven ISOs plus counties no ISO holds (UNMAPPED_SAMPLE).

python -m tools.recordings.context_eaglei  ->  producers/recordings/context/eaglei/
  (manifest.json for producers/replay.py, iso "EAGLEI"; 2026-06-10..12 and 2025's two DST days)
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from gridtape import counties
from producers.context.eaglei import base_url

OUT: Final = Path(__file__).resolve().parents[2] / "producers" / "recordings" / "context" / "eaglei"
DAYS: Final = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 6, 10), date(2026, 6, 11), date(2026, 6, 12))
PER_ISO: Final = 30
SEED: Final = 12
STATES: Final = {
    "AL": "Alabama", "AR": "Arkansas", "AZ": "Arizona", "CA": "California", "CO": "Colorado", "CT": "Connecticut",
    "DC": "District of Columbia", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "IA": "Iowa", "IL": "Illinois",
    "IN": "Indiana", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "MA": "Massachusetts", "MD": "Maryland",
    "ME": "Maine", "MI": "Michigan", "MN": "Minnesota", "MO": "Missouri", "MS": "Mississippi", "NC": "North Carolina",
    "ND": "North Dakota", "NE": "Nebraska", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NV": "Nevada", "NY": "New York", "OH": "Ohio", "OK": "Oklahoma", "PA": "Pennsylvania", "RI": "Rhode Island",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "VA": "Virginia", "VT": "Vermont", "WI": "Wisconsin",
    "WV": "West Virginia",
}  # fmt: skip
# (FIPS, county, state) of counties in no ISO: El Paso (EPE), Sacramento (SMUD), Aroostook
# (northern Maine), Fulton GA and Jefferson AL (Southeast), Maricopa AZ, Knox TN (TVA).
UNMAPPED_SAMPLE: Final = (
    ("48141", "El Paso", "Texas"), ("06067", "Sacramento", "California"), ("23003", "Aroostook", "Maine"),
    ("13121", "Fulton", "Georgia"), ("01073", "Jefferson", "Alabama"), ("04013", "Maricopa", "Arizona"),
    ("47093", "Knox", "Tennessee"),
)  # fmt: skip


def sample(rng: random.Random, per_iso: int = PER_ISO) -> list[tuple[str, str, str]]:
    """(FIPS, county, state name) of `per_iso` mapped counties per ISO, then the unmapped ones."""
    table = counties.load()
    out = []
    for iso in sorted({c.iso for c in table.values()}):
        rows = sorted(f for f, c in table.items() if c.iso == iso)
        for fips in sorted(rng.sample(rows, min(per_iso, len(rows)))):
            c = table[fips]
            out.append((fips, c.county, STATES[c.state]))
    return [*out, *UNMAPPED_SAMPLE]


def runs(day: date) -> list[datetime]:
    """The 96 run start times of a UTC day (UTC has no DST: the DST days are 96 runs too)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [start + timedelta(minutes=15 * i) for i in range(96)]


def customers(rng: random.Random, fips: str, when: datetime) -> int:
    """Customers out, 0 most of the time (then no row), sometimes a storm's thousands."""
    roll = rng.random()
    if roll < 0.7:
        return 0
    base = int(fips[-3:]) % 50 + 1
    return base * (200 if roll > 0.98 else 1) + when.hour


def year_csv(year: int, days: Iterable[date], *, legacy: bool = False, seed: int = SEED) -> bytes:
    """One year's file holding `days` (and the runs just around them: other days to skip)."""
    rng = random.Random(f"{seed}-{year}")
    places = sample(rng)
    header = (
        ",fips_code,county,state,sum,run_start_time"
        if legacy
        else "fips_code,county,state,customers_out,run_start_time"
    )
    lines, n = [header], 0
    wanted = sorted(d for d in days if d.year == year)
    for day in wanted:
        before = [] if day - timedelta(days=1) in wanted else [runs(day)[0] - timedelta(minutes=15)]
        stamps = [*before, *runs(day)]
        for when in stamps:
            for fips, name, state in places:
                out = customers(rng, fips, when)
                if not out:
                    continue
                code, at = str(int(fips)), when.strftime("%Y-%m-%d %H:%M:%S")
                quoted = f'"{name}"' if "," in name else name
                lines.append(
                    f"{n},{code},{quoted},{state},{out}.0,{at}" if legacy else f"{code},{quoted},{state},{out},{at}"
                )
                n += 1
    return ("\n".join(lines) + "\n").encode()


def build(out: Path = OUT, days: Iterable[date] = DAYS) -> Path:
    days = sorted(days)
    out.mkdir(parents=True, exist_ok=True)
    responses = []
    for year in sorted({d.year for d in days}):
        name = f"eaglei_outages_{year}.csv"
        (out / name).write_bytes(year_csv(year, days))
        headers = {"Content-Type": "text/csv", "Last-Modified": f"Fri, 02 Jan {year + 1} 00:00:00 GMT"}
        responses.append({"url": f"{base_url()}/{name}", "file": name, "status": 200, "headers": headers})
    (out / "manifest.json").write_text(
        json.dumps({"iso": "EAGLEI", "polls": [], "responses": responses}, indent=1) + "\n"
    )
    return out


if __name__ == "__main__":
    print(build())

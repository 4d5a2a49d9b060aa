from __future__ import annotations

from datetime import datetime

import pytest

from gridtape import timeutil as tu


def test_fall_back_repeated_hour_is_two_distinct_utc_hours() -> None:
    first = tu.local_to_utc(datetime(2024, 11, 3, 1, 30), tu.EASTERN, repeated=False)
    second = tu.local_to_utc(datetime(2024, 11, 3, 1, 30), tu.EASTERN, repeated=True)
    assert (first.hour, second.hour) == (5, 6)


def test_spring_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        tu.local_to_utc(datetime(2025, 3, 9, 2, 30), tu.CENTRAL)


@pytest.mark.parametrize(
    ("day", "zone", "count"),
    [
        (datetime(2025, 3, 9), tu.PACIFIC, 276),
        (datetime(2025, 11, 2), tu.PACIFIC, 300),
        (datetime(2025, 6, 1), tu.EASTERN, 288),
    ],
)
def test_intervals_in_local_day(day: datetime, zone: object, count: int) -> None:
    assert tu.intervals_in_local_day(day, zone) == count  # type: ignore[arg-type]


def test_miso_fixed_est_ignores_dst() -> None:
    assert tu.local_to_utc(datetime(2025, 7, 1, 12, 0), tu.EST).hour == 17

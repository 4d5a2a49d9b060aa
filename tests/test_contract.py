from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest

from gridtape import contract
from gridtape.errors import ContractError

T0 = datetime(2024, 11, 3, 6, 0, tzinfo=UTC)


def a_tick(**overrides: object) -> dict[str, object]:
    base = contract.tick(
        iso="PJM",
        market="RT5",
        dataset="lmp",
        location="WESTERN HUB",
        location_type="hub",
        interval_start=T0,
        interval_end=T0 + timedelta(minutes=5),
        lmp=-12.5,
        energy=-10.0,
        congestion=-2.0,
        loss=-0.5,
        published_at=T0 + timedelta(minutes=6),
        ingested_at=T0 + timedelta(minutes=6, seconds=3),
        source="https://example.invalid/x",
    )
    base.update(overrides)
    return base


def test_tick_round_trips_and_satisfies_json_schema() -> None:
    t = a_tick()
    assert contract.validate(t) is t
    jsonschema.validate(t, contract.json_schema())
    assert t["interval_start"] == "2024-11-03T06:00:00Z"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("iso", "ERCOTT", "not one of"),
        ("lmp", "12.5", "finite number"),
        ("lmp", float("nan"), "finite number"),
        ("interval_start", "2024-11-03T01:00:00-05:00", "ending in Z"),
        ("interval_end", "2024-11-03T06:00:00Z", "after interval_start"),
        ("location", None, "required"),
        ("location_type", "bus", "not one of"),
    ],
)
def test_bad_field_is_named(field: str, value: object, reason: str) -> None:
    with pytest.raises(ContractError) as err:
        contract.validate(a_tick(**{field: value}))
    assert err.value.field == field
    assert reason in str(err.value)


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ContractError, match="'price'"):
        contract.validate(a_tick(price=1.0))


def test_load_tick_needs_load() -> None:
    with pytest.raises(ContractError, match="load_mw"):
        contract.validate(a_tick(dataset="load", lmp=None))


def test_timestamps_are_utc_with_z_and_millis_only_when_present() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert contract.format_ts(datetime(2024, 11, 3, 1, 0, tzinfo=eastern)) == "2024-11-03T06:00:00Z"
    assert contract.format_ts(T0.replace(microsecond=123456)) == "2024-11-03T06:00:00.123Z"
    with pytest.raises(ValueError, match="naive"):
        contract.format_ts(datetime(2024, 11, 3))
    assert contract.parse_ts("2024-11-03T06:00:00.123Z") == T0.replace(microsecond=123000)


def test_one_definition_gives_all_schemas(spark: object) -> None:
    names = list(contract.TICK.names)
    assert contract.arrow_schema().names == names
    assert [f.name for f in contract.spark_schema().fields] == names
    assert list(contract.json_schema()["properties"]) == names
    nullable = {f.name for f in contract.TICK.fields if f.nullable}
    assert {f.name for f in contract.arrow_schema() if f.nullable} == nullable
    assert set(contract.json_schema()["required"]) == set(names) - nullable
    assert [f.name for f in contract.spark_schema(contract.VOLATILITY).fields] == list(contract.VOLATILITY.names)


def test_spark_reads_wire_json_with_the_contract_schema(spark: object, tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "ticks.jsonl"
    path.write_text(contract.dumps(a_tick()) + "\n")
    df = spark.read.schema(contract.spark_schema()).json(str(path))  # type: ignore[attr-defined]
    row = df.collect()[0]
    assert row.interval_start == datetime(2024, 11, 3, 6, 0)  # session time zone is UTC
    assert row.lmp == -12.5

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest

from gridtape import contract
from gridtape.errors import ContractError
from tests.batch import conftest

T0 = datetime(2024, 11, 3, 6, 0, tzinfo=UTC)


def a_tick(**overrides: object) -> dict[str, object]:
    return conftest.tick("PJM", "lmp", "WESTERN HUB", T0, -12.5, energy=-10.0, congestion=-2.0, loss=-0.5) | overrides


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


def test_tick_keys_are_in_contract_order_whichever_values_are_given() -> None:
    load = contract.interval_tick("PJM", "DAM", "load", "PJM RTO", T0, 9e4, published_at=T0, source="x", revision=1)
    for t in (a_tick(), load):  # a_tick gives lmp and load_mw before the components
        assert list(t) == list(contract.TICK.names)
    assert set(contract.Values.__annotations__) == set(contract.VALUE_FIELDS)


@pytest.mark.parametrize(("market", "dataset", "value_field"), [("RT5", "lmp", "lmp"), ("RTH", "load", "load_mw")])
def test_interval_tick_lasts_its_market_and_holds_its_value(market: str, dataset: str, value_field: str) -> None:
    t = contract.interval_tick("PJM", market, dataset, "PJM RTO", T0, 7.5, published_at=T0, source="x")
    assert t == contract.validate(t)
    assert contract.parse_ts(t["interval_end"]) - T0 == timedelta(minutes=contract.MARKET_MINUTES[market])
    assert t[value_field] == 7.5 and t["ingested_at"] == t["published_at"]
    assert {f: t[f] for f in contract.VALUE_FIELDS if f != value_field} == dict.fromkeys(
        set(contract.VALUE_FIELDS) - {value_field}
    )


def test_every_published_record_ends_with_the_same_provenance() -> None:
    from gridtape import context

    for rc in (contract.TICK, *context.CONTRACTS.values()):
        assert rc.names[-len(contract.PROVENANCE_FIELDS) :] == contract.PROVENANCE_FIELDS, rc.name
        assert [rc.field(n).kind for n in contract.PROVENANCE_FIELDS] == ["timestamp", "timestamp", "string", "int"]


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

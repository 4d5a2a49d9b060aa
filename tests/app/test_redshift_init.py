"""`gridtape stack redshift-init` (app/stack/redshift_init.py) against a fake Redshift Data API:
every request is validated against botocore's model of the real API; statements go one at a
time in ingestion.sql's order, each waited for before the next starts; an existing streaming
MV is never re-created; a failure or a statement that never finishes stops the run and says
which object. (moto's redshift-data cannot run SQL, hence the fake.)"""

from __future__ import annotations

import itertools
import re
from typing import Any

import boto3
import pytest
from botocore.validate import validate_parameters

from app import cli
from app.stack import redshift_init
from batch import streaming_ingestion
from gridtape import config

NAMES = config.Names(env="prod", account="123456789012")
ROLE = "arn:aws:iam::123456789012:role/gridtape-prod-redshift"
MODEL = boto3.session.Session().client("redshift-data", region_name="us-east-1").meta.service_model


class FakeDataApi:
    """Statements finish after `polls` DescribeStatement calls (FINISHED, or FAILED for SQL
    matching `fail`); `hang` matches SQL that never finishes. svv_mv_info answers `existing`,
    one row per page, names blank-padded as Redshift's CHAR columns are."""

    def __init__(
        self, existing: set[str] = frozenset(), fail: str | None = None, hang: str | None = None, polls: int = 2
    ):
        self.existing, self.fail, self.hang, self.polls = sorted(existing), fail, hang, polls
        self.calls: list[tuple[str, Any]] = []
        self.statements: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count()

    def _check(self, operation: str, params: dict[str, Any]) -> None:
        validate_parameters(params, MODEL.operation_model(operation).input_shape)

    def _new(self, sql: str) -> dict[str, str]:
        for sid, st in self.statements.items():  # each statement is waited for before the next
            assert st["status"] in redshift_init.FINAL, f"{sql[:40]!r} started while {sid} is {st['status']}"
        sid = f"stmt-{next(self._ids)}"
        final = "FAILED" if self.fail and re.search(self.fail, sql) else "FINISHED"
        self.statements[sid] = {"sql": sql, "status": "SUBMITTED", "final": final, "described": 0}
        return {"Id": sid}

    def execute_statement(self, **params: Any) -> dict[str, str]:
        self._check("ExecuteStatement", params)
        assert params["WorkgroupName"] == NAMES.redshift_workgroup and params["Database"] == NAMES.redshift_database
        self.calls.append(("execute", params["Sql"]))
        return self._new(params["Sql"])

    def batch_execute_statement(self, **params: Any) -> dict[str, str]:
        self._check("BatchExecuteStatement", params)
        self.calls.append(("batch", params["Sqls"]))
        return self._new(";".join(params["Sqls"]))

    def describe_statement(self, **params: Any) -> dict[str, Any]:
        self._check("DescribeStatement", params)
        st = self.statements[params["Id"]]
        st["described"] += 1
        if st["described"] >= self.polls and not (self.hang and re.search(self.hang, st["sql"])):
            st["status"] = st["final"]
        elif st["status"] == "SUBMITTED":
            st["status"] = "STARTED"
        has_rows = st["status"] == "FINISHED" and st["sql"].startswith("SELECT")
        return {"Id": params["Id"], "Status": st["status"], "HasResultSet": has_rows, "Error": "syntax error"}

    def get_statement_result(self, **params: Any) -> dict[str, Any]:
        self._check("GetStatementResult", params)
        sql = self.statements[params["Id"]]["sql"]
        if "svv_mv_info" not in sql:
            return {"ColumnMetadata": [{"name": "table_name"}, {"name": "column_name"}], "Records": []}
        page = int(params.get("NextToken", "0"))
        rows = [[{"stringValue": name.ljust(128)}] for name in self.existing[page : page + 1]]
        more = {"NextToken": str(page + 1)} if page + 1 < len(self.existing) else {}
        return {"ColumnMetadata": [{"name": "name"}], "Records": rows, **more}

    def cancel_statement(self, **params: Any) -> dict[str, bool]:
        self._check("CancelStatement", params)
        self.calls.append(("cancel", params["Id"]))
        self.statements[params["Id"]]["status"] = "ABORTED"
        return {"Status": True}

    def executed(self) -> list[str]:
        return [sql for kind, sql in self.calls if kind == "execute"]


def _objects() -> list[streaming_ingestion.SqlObject]:
    return streaming_ingestion.redshift_objects(NAMES, iam_role=ROLE)


def _init(api: FakeDataApi, **kwargs: Any) -> list[redshift_init.Applied]:
    kwargs.setdefault("iam_role", ROLE)
    return redshift_init.init(NAMES, client=api, poll_s=0, max_polls=5, **kwargs)


MVS = sorted(o.name for o in _objects() if o.kind == "materialized_view")


def test_a_fresh_database_gets_the_schema_then_every_object_in_order() -> None:
    api = FakeDataApi()
    done = _init(api)
    assert [c[0] for c in api.calls[:1]] == ["batch"]  # schema.sql first, one transaction
    streaming = api.executed()[-len(_objects()) :]
    assert streaming == [o.sql for o in _objects()]
    assert ROLE in streaming[0] and streaming[0].startswith("CREATE EXTERNAL SCHEMA")
    assert [(d.kind, d.name) for d in done[1:]] == [(o.kind, o.name) for o in _objects()]
    assert {d.action for d in done} == {"applied"}


@pytest.mark.parametrize("existing", [set(c) for n in range(len(MVS) + 1) for c in itertools.combinations(MVS, n)])
def test_an_existing_streaming_mv_is_never_recreated(existing: set[str]) -> None:
    api = FakeDataApi(existing=existing)
    done = _init(api, schema=False)
    sent = api.executed()
    assert "svv_mv_info" in sent[0]
    assert sent[1:] == [o.sql for o in _objects() if o.name not in existing]
    assert {d.name for d in done if d.action == "skipped"} == existing
    assert not [c for c in api.calls if c[0] == "batch"]


@pytest.mark.parametrize("index", range(len(_objects())))
def test_a_failed_statement_stops_the_run_and_names_its_object(index: int) -> None:
    obj = _objects()[index]
    api = FakeDataApi(fail=re.escape(obj.sql))
    with pytest.raises(redshift_init.RedshiftInitError, match=rf"{obj.name}: FAILED: syntax error"):
        _init(api, schema=False)
    assert api.executed()[-1] == obj.sql  # nothing after it was sent


def test_a_statement_that_never_finishes_is_cancelled_after_a_bounded_wait() -> None:
    api = FakeDataApi(hang="CREATE MATERIALIZED VIEW ticks_stream")
    with pytest.raises(redshift_init.RedshiftInitError, match="ticks_stream: still STARTED after 5 polls; cancelled"):
        _init(api, schema=False)
    (hung,) = [sid for sid, st in api.statements.items() if "ticks_stream AUTO" in st["sql"]]
    assert api.statements[hung]["described"] == 5
    assert api.calls[-1] == ("cancel", hung)


def test_a_failed_schema_batch_stops_before_streaming_ingestion() -> None:
    api = FakeDataApi(fail="CREATE TABLE IF NOT EXISTS")
    with pytest.raises(redshift_init.RedshiftInitError, match="warehouse batch"):
        _init(api)
    assert not [sql for sql in api.executed() if "svv_mv_info" in sql or "KINESIS" in sql]


def test_the_role_comes_from_the_stack_outputs_and_must_be_an_arn(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.stack import deploy

    monkeypatch.setattr(deploy, "outputs", lambda names: {"RedshiftRoleArn": ROLE})
    api = FakeDataApi()
    _init(api, iam_role=None, schema=False)
    assert ROLE in api.executed()[1]
    bad = FakeDataApi()
    with pytest.raises(redshift_init.RedshiftInitError, match="not an IAM role ARN"):
        _init(bad, iam_role="gridtape-prod-redshift'; DROP TABLE prices; --")
    assert bad.calls == []


def test_a_local_emulator_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.ENV_ENDPOINT, "http://127.0.0.1:4566")
    with pytest.raises(redshift_init.RedshiftInitError, match="cannot run SQL"):
        redshift_init.init(NAMES, iam_role=ROLE)


def test_cli_prints_what_it_did(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    api = FakeDataApi(existing={MVS[0]}, polls=1)  # done at the first look: no poll interval slept
    monkeypatch.delenv(config.ENV_ENDPOINT, raising=False)
    monkeypatch.setattr(redshift_init.aws, "client", lambda service: api)
    assert cli.main(["stack", "redshift-init", "--env", "prod", "--iam-role", ROLE, "--no-schema"]) == 0
    out = capsys.readouterr().out
    assert f"skipped  materialized view {MVS[0]}" in out
    assert f"applied  materialized view {MVS[1]}" in out


def test_an_aws_error_is_one_error_naming_the_workgroup() -> None:
    from botocore.exceptions import ClientError

    class Denied(FakeDataApi):
        def execute_statement(self, **params: Any) -> dict[str, str]:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ExecuteStatement")

    with pytest.raises(redshift_init.RedshiftInitError, match=r"gridtape-prod.*AccessDenied"):
        _init(Denied(), schema=False)

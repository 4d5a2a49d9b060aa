"""`gridtape stack redshift-init`: the warehouse on AWS, through the Redshift Data API.

Two parts, both safe to run again:
  1. the warehouse schema (batch/sql/schema.sql + migrations + seeds), by
     batch.warehouse.ensure_schema — what the nightly load also runs before each load;
  2. streaming ingestion (batch/sql/streaming/ingestion.sql), by
     batch.streaming_ingestion.redshift_objects: one ExecuteStatement per object, in order,
     each waited for. The external schema is IF NOT EXISTS and the views CREATE OR REPLACE;
     Redshift has no CREATE MATERIALIZED VIEW IF NOT EXISTS, and re-creating a streaming MV
     would re-read the stream from its trim horizon (losing what has expired), so an MV
     that svv_mv_info already lists is skipped.

The emulator cannot run SQL (moto's redshift-data answers without executing anything), so
the embedded stack keeps its warehouse in DuckDB (`gridtape batch`) and this refuses a local
endpoint. Statement waits are bounded polls (tenacity): a statement still running after
`max_polls` is cancelled and reported.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from sqlglot import exp
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, wait_fixed

from batch import streaming_ingestion, warehouse
from gridtape import aws, config
from gridtape.errors import GridtapeError

log = logging.getLogger(__name__)

FINAL: Final = frozenset({"FINISHED", "FAILED", "ABORTED"})
# Materialized views already in this database (svv_mv_info: one row per MV the user can see).
EXISTING_MVS_SQL: Final = "SELECT name FROM svv_mv_info WHERE database_name = :database"


class RedshiftInitError(GridtapeError):
    """A statement failed, timed out, or the target is not Redshift; the message names it."""


@dataclass
class DataApi:
    """The Data API on one workgroup and database, each statement waited for."""

    client: Any
    workgroup: str
    database: str
    poll_s: float = 2.0
    max_polls: int = 450  # 15 minutes at 2 s: a streaming MV's first refresh can take minutes

    def _start(self, sql: str, parameters: dict[str, str] | None) -> str:
        extra = {"Parameters": [{"name": k, "value": v} for k, v in parameters.items()]} if parameters else {}
        resp = self.client.execute_statement(
            WorkgroupName=self.workgroup, Database=self.database, Sql=sql, StatementName="gridtape-init", **extra
        )
        return str(resp["Id"])

    def wait(self, statement_id: str, what: str) -> dict[str, Any]:
        def last(state: RetryCallState) -> Any:
            return state.outcome.result() if state.outcome else None

        desc: dict[str, Any] = Retrying(
            retry=retry_if_result(lambda d: d["Status"] not in FINAL),
            stop=stop_after_attempt(self.max_polls),
            wait=wait_fixed(self.poll_s),
            retry_error_callback=last,  # out of polls: return the last answer, decided below
        )(self.client.describe_statement, Id=statement_id)
        status = desc["Status"]
        if status not in FINAL:
            self.client.cancel_statement(Id=statement_id)
            raise RedshiftInitError(f"{what}: still {status} after {self.max_polls} polls; cancelled")
        if status != "FINISHED":
            raise RedshiftInitError(f"{what}: {status}: {desc.get('Error', 'no error text')}")
        return desc

    def execute(self, sql: str, what: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
        return self.wait(self._start(sql, parameters), what)

    def rows(self, sql: str, what: str, parameters: dict[str, str] | None = None) -> list[dict[str, Any]]:
        desc = self.execute(sql, what, parameters)
        if not desc.get("HasResultSet"):
            return []
        return warehouse.statement_rows(self.client, desc["Id"])


@dataclass
class WarehouseExecutor:
    """batch.warehouse.Executor over DataApi: run() is one BatchExecuteStatement (one
    transaction, as the warehouse expects), query() one ExecuteStatement."""

    api: DataApi

    def run(self, stmts: Sequence[exp.Expr]) -> None:
        sqls = [s.sql(dialect="redshift") for s in stmts]
        if not sqls:
            return
        resp = self.api.client.batch_execute_statement(
            WorkgroupName=self.api.workgroup, Database=self.api.database, Sqls=sqls, StatementName="gridtape-init"
        )
        self.api.wait(str(resp["Id"]), f"warehouse batch of {len(sqls)} statements ({sqls[0][:60]}...)")

    def query(self, stmt: exp.Expr) -> list[dict[str, Any]]:
        return self.api.rows(stmt.sql(dialect="redshift"), "warehouse query")


@dataclass(frozen=True, slots=True)
class Applied:
    kind: str
    name: str
    action: str  # applied | skipped


def existing_materialized_views(api: DataApi) -> set[str]:
    rows = api.rows(EXISTING_MVS_SQL, "listing materialized views", {"database": api.database})
    return {str(r["name"]).strip() for r in rows}


def apply_streaming(api: DataApi, objects: Sequence[streaming_ingestion.SqlObject]) -> list[Applied]:
    """Each object in order, one statement at a time; an MV that exists is left alone. Stops
    at the first failure (later objects depend on earlier ones)."""
    existing = existing_materialized_views(api)
    done: list[Applied] = []
    for obj in objects:
        if obj.kind == "materialized_view" and obj.name in existing:
            log.info("materialized view %s exists; left as is (re-creating it would re-read the stream)", obj.name)
            done.append(Applied(obj.kind, obj.name, "skipped"))
            continue
        api.execute(obj.sql, f"{obj.kind.replace('_', ' ')} {obj.name}")
        done.append(Applied(obj.kind, obj.name, "applied"))
    return done


def role_from_stack(names: config.Names) -> str:
    """The Redshift role's ARN from the deployed stack's outputs (RedshiftRoleArn)."""
    from app.stack.deploy import outputs

    arn = outputs(names).get("RedshiftRoleArn")
    if not arn:
        raise RedshiftInitError(f"stack {names.stack} has no RedshiftRoleArn output; pass --iam-role")
    return arn


def init(
    names: config.Names,
    *,
    iam_role: str | None = None,
    schema: bool = True,
    client: Any = None,
    poll_s: float = 2.0,
    max_polls: int = 450,
) -> list[Applied]:
    """Apply the warehouse schema (unless schema=False), then streaming ingestion."""
    if client is None:
        if aws.is_local_endpoint():
            raise RedshiftInitError(
                f"{config.ENV_ENDPOINT} points at a local emulator, which cannot run SQL; "
                "the embedded stack's warehouse is DuckDB (`gridtape batch` creates it)"
            )
        client = aws.client("redshift-data")
    api = DataApi(client, names.redshift_workgroup, names.redshift_database, poll_s=poll_s, max_polls=max_polls)
    try:
        role = iam_role or role_from_stack(names)
        try:
            objects = streaming_ingestion.redshift_objects(names, iam_role=role)  # validates the ARN first
        except ValueError as exc:
            raise RedshiftInitError(str(exc)) from exc
        done: list[Applied] = []
        if schema:
            warehouse.ensure_schema(WarehouseExecutor(api))
            done.append(Applied("schema", "batch/sql/schema.sql + seeds", "applied"))
        return done + apply_streaming(api, objects)
    except (BotoCoreError, ClientError) as exc:  # no credentials, access denied, no workgroup ...
        raise RedshiftInitError(f"workgroup {names.redshift_workgroup}: {exc}") from exc

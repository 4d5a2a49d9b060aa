"""`gridtape query --redshift`: the query pack on Redshift through redshift_connector (the
Executor shape of batch.warehouse: query() and run()).

Connection: a Secrets Manager secret (JSON with host, port, dbname or database, username,
password: the shape of Redshift's own secrets) named by GRIDTAPE_REDSHIFT_SECRET_ID, and/or the
GRIDTAPE_REDSHIFT_* variables (a variable overrides the secret's field). With neither, the CLI
uses the Redshift Data API on the deployment's workgroup (batch.warehouse.DataApiExecutor).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from gridtape import config
from gridtape.errors import GridtapeError


class RedshiftExecutor:
    """A redshift_connector session, with the Executor shape of batch.warehouse."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def query(self, stmt: exp.Expr) -> list[dict[str, Any]]:
        cur = self.conn.cursor()
        try:
            cur.execute(stmt.sql(dialect="redshift"))
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            cur.close()

    def run(self, stmts: Sequence[exp.Expr]) -> None:
        cur = self.conn.cursor()
        try:
            for s in stmts:
                cur.execute(s.sql(dialect="redshift"))
            self.conn.commit()
        finally:
            cur.close()

    def close(self) -> None:
        self.conn.close()


def redshift_settings(env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Connection settings from the secret or the variables; None when neither is set."""
    env = os.environ if env is None else env
    settings: dict[str, Any] = {}
    secret_id = env.get(config.ENV_REDSHIFT_SECRET_ID)
    if secret_id:
        from gridtape import aws

        secret = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
        settings = {
            "host": secret.get("host"),
            "port": secret.get("port"),
            "database": secret.get("dbname") or secret.get("database"),
            "user": secret.get("username"),
            "password": secret.get("password"),
        }
    for key, var in (
        ("host", config.ENV_REDSHIFT_HOST),
        ("port", config.ENV_REDSHIFT_PORT),
        ("database", config.ENV_REDSHIFT_DATABASE),
        ("user", config.ENV_REDSHIFT_USER),
        ("password", config.ENV_REDSHIFT_PASSWORD),
    ):
        if env.get(var):
            settings[key] = env[var]
    if not settings.get("host"):
        return None
    missing = [k for k in ("database", "user", "password") if not settings.get(k)]
    if missing:
        raise GridtapeError(f"Redshift connection is missing {', '.join(missing)} (secret or GRIDTAPE_REDSHIFT_*)")
    settings["port"] = int(settings.get("port") or 5439)
    return settings


def redshift_executor(settings: Mapping[str, Any]) -> RedshiftExecutor:
    import redshift_connector

    return RedshiftExecutor(redshift_connector.connect(**settings))

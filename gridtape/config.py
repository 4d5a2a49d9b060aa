"""Configuration: an explicit argument wins, then the environment variable, then the default.
Every environment variable gridtape reads is named here, except each ISO's API key variables,
which sit in that ISO's row of the ISO table (gridtape.isos)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ENV_NAME: Final = "GRIDTAPE_ENV"  # deployment name, e.g. dev / prod; part of every resource name
ENV_HOME: Final = "GRIDTAPE_HOME"  # local working folder (checkpoints, DuckDB warehouse, logs)
ENV_ENDPOINT: Final = "AWS_ENDPOINT_URL"  # boto3 reads it too; set => emulator or custom endpoint
ENV_REGION: Final = "AWS_REGION"
ENV_ACCOUNT: Final = "GRIDTAPE_ACCOUNT_ID"  # only needed off-AWS; on AWS it comes from STS
ENV_EMULATOR_PORT: Final = "MOTO_PORT"
ENV_INCLUDE_NODES: Final = "GRIDTAPE_INCLUDE_NODES"  # "1": publish every node, not just hubs/zones
ENV_ISO: Final = "GRIDTAPE_ISO"  # which ISO a poller Lambda polls (set per function by infra/)
ENV_DEMO_SECONDS: Final = "GRIDTAPE_DEMO_SECONDS"  # `gridtape demo` serves its dashboard this long (default: Ctrl-C)
# A direct Redshift session (`gridtape query --redshift`): a Secrets Manager id holding
# host/port/dbname/username/password, and/or the single fields (a variable overrides the secret).
ENV_REDSHIFT_SECRET_ID: Final = "GRIDTAPE_REDSHIFT_SECRET_ID"
ENV_REDSHIFT_HOST: Final = "GRIDTAPE_REDSHIFT_HOST"
ENV_REDSHIFT_PORT: Final = "GRIDTAPE_REDSHIFT_PORT"
ENV_REDSHIFT_DATABASE: Final = "GRIDTAPE_REDSHIFT_DATABASE"
ENV_REDSHIFT_USER: Final = "GRIDTAPE_REDSHIFT_USER"
ENV_REDSHIFT_PASSWORD: Final = "GRIDTAPE_REDSHIFT_PASSWORD"
ENV_NWS_CONTACT: Final = "GRIDTAPE_NWS_CONTACT"  # contact NWS asks for in the User-Agent (api.weather.gov)

DEFAULT_ENV: Final = "dev"
DEFAULT_REGION: Final = "us-east-1"
DEFAULT_EMULATOR_PORT: Final = 4566
EMULATOR_ACCOUNT: Final = "123456789012"  # moto's and LocalStack's default account


def setting(explicit: str | None, env_var: str, default: str) -> str:
    if explicit is not None:
        return explicit
    return os.environ.get(env_var) or default


def env_name(explicit: str | None = None) -> str:
    return setting(explicit, ENV_NAME, DEFAULT_ENV)


def region(explicit: str | None = None) -> str:
    return setting(explicit, ENV_REGION, os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION)


def home(explicit: str | None = None) -> Path:
    path = Path(setting(explicit, ENV_HOME, ".gridtape"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def emulator_port(explicit: int | None = None) -> int:
    return int(setting(None if explicit is None else str(explicit), ENV_EMULATOR_PORT, str(DEFAULT_EMULATOR_PORT)))


def emulator_url(port: int | None = None) -> str:
    return f"http://127.0.0.1:{emulator_port(port)}"


def flag(env_var: str) -> bool:
    return os.environ.get(env_var, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Names:
    """Physical names of every resource, the same in the CloudFormation template
    (infra/gridtape.yaml builds them from EnvName and the account id) and in the local runtime."""

    env: str
    account: str

    @property
    def stack(self) -> str:
        return f"gridtape-{self.env}"

    @property
    def ticks_stream(self) -> str:
        return f"gridtape-{self.env}-ticks"

    @property
    def analytics_stream(self) -> str:
        return f"gridtape-{self.env}-analytics"

    @property
    def raw_bucket(self) -> str:
        return f"gridtape-{self.env}-raw-{self.account}"

    @property
    def curated_bucket(self) -> str:
        return f"gridtape-{self.env}-curated-{self.account}"

    @property
    def artifacts_bucket(self) -> str:
        return f"gridtape-{self.env}-artifacts-{self.account}"

    @property
    def poller_state_table(self) -> str:
        return f"gridtape-{self.env}-poller-state"

    @property
    def alerts_topic(self) -> str:
        return f"gridtape-{self.env}-alerts"

    @property
    def nightly_state_machine(self) -> str:
        return f"gridtape-{self.env}-nightly"

    @property
    def firehose(self) -> str:
        return f"gridtape-{self.env}-raw-landing"

    @property
    def streaming_job(self) -> str:
        return f"gridtape-{self.env}-volatility"

    @property
    def compaction_job(self) -> str:
        return f"gridtape-{self.env}-compaction"

    @property
    def feed_ticks_lease_table(self) -> str:
        return f"gridtape-{self.env}-feed-ticks"

    @property
    def feed_analytics_lease_table(self) -> str:
        return f"gridtape-{self.env}-feed-analytics"

    @property
    def redshift_workgroup(self) -> str:
        return f"gridtape-{self.env}"

    @property
    def redshift_database(self) -> str:
        return "gridtape"


def names(env: str | None = None, account: str | None = None) -> Names:
    return Names(env=env_name(env), account=setting(account, ENV_ACCOUNT, EMULATOR_ACCOUNT))

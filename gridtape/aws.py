"""boto3 clients, built one way everywhere: standard retry mode (exponential backoff with
jitter on throttling and 5xx), the endpoint from AWS_ENDPOINT_URL when set (the emulator),
and dummy credentials only when talking to a local emulator."""

from __future__ import annotations

import os
from functools import cache
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from gridtape import config

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=60)


def endpoint_url() -> str | None:
    return os.environ.get(config.ENV_ENDPOINT) or None


def is_local_endpoint(url: str | None = None) -> bool:
    host = urlparse(url or endpoint_url() or "").hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"} or host.endswith(".localhost.localstack.cloud")


def use_emulator(url: str) -> str:
    """Point this process's boto3 at the emulator at url (and give it dummy credentials, which
    the emulator accepts and real AWS never sees)."""
    os.environ[config.ENV_ENDPOINT] = url
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault(config.ENV_REGION, config.DEFAULT_REGION)
    os.environ.setdefault("AWS_DEFAULT_REGION", config.DEFAULT_REGION)
    client.cache_clear()
    return url


@cache
def client(service: str, region: str | None = None) -> Any:
    """A cached boto3 client; boto3 itself honours AWS_ENDPOINT_URL (and per-service
    AWS_ENDPOINT_URL_<SERVICE>) so the same code reaches AWS or the emulator."""
    return boto3.session.Session().client(service, region_name=config.region(region), config=_RETRIES)

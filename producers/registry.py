"""ISO code -> its IsoSource class, from the module the ISO table names, imported only when
asked for, so a broken or missing ISO module costs that ISO its poll and nothing else. Also
where keyed APIs get their keys (the variable names are in the ISO table)."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
from typing import Final

from gridtape import aws, config
from gridtape import isos as iso_table
from gridtape.errors import TerminalError
from producers.base import IsoSource

log = logging.getLogger(__name__)

CREDENTIAL: Final = "api_key"  # the name ISO modules read from IsoSource.credentials


class RegistryError(TerminalError):
    """An ISO code is unknown or its module cannot be loaded."""


class MissingCredentials(TerminalError):
    """A keyed API has no key configured."""


def parse_isos(text: str) -> list[str]:
    """'all' | 'CAISO' | 'caiso,pjm' -> ISO codes, refusing unknown ones."""
    if text.strip().lower() == "all":
        return list(iso_table.CODES)
    isos = [s.strip().upper().replace("-", "") for s in text.split(",") if s.strip()]
    unknown = [s for s in isos if s not in iso_table.BY_CODE]
    if unknown or not isos:
        raise RegistryError(
            f"unknown ISO {', '.join(unknown) or text!r}; expected one of {', '.join(iso_table.CODES)} or all"
        )
    return isos


def source_class(iso: str) -> type[IsoSource]:
    """The IsoSource subclass with `iso == code` in the module the ISO table names."""
    if iso not in iso_table.BY_CODE:
        raise RegistryError(f"unknown ISO {iso!r}; expected one of {', '.join(iso_table.CODES)}")
    module_name = iso_table.BY_CODE[iso].module
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure is this ISO's alone
        raise RegistryError(f"{iso}: poller module {module_name} failed to load: {type(exc).__name__}: {exc}") from exc
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, IsoSource) and cls is not IsoSource and getattr(cls, "iso", None) == iso
    ]
    if len(found) != 1:
        raise RegistryError(f"{iso}: {module_name} defines {len(found)} IsoSource classes with iso = {iso!r}, not one")
    return found[0]


def credentials(iso: str, *, replay: bool = False) -> dict[str, str]:
    """The ISO's API key: from its env var, else from the Secrets Manager id in its *_SECRET_ID
    env var. A replay needs no key (recordings ignore auth headers), so it gets a placeholder
    rather than refusing. Raises MissingCredentials when a required key is absent."""
    api_key = iso_table.get(iso).api_key
    if api_key is None:
        return {}
    env_key, env_secret, required = api_key.env, api_key.secret_env, api_key.required
    key = os.environ.get(env_key, "").strip()
    if not key and os.environ.get(env_secret) and not replay:
        key = _secret_value(iso, os.environ[env_secret])
    if key:
        return {CREDENTIAL: key}
    if replay:
        return {CREDENTIAL: "replay-without-key"}
    if required:
        raise MissingCredentials(
            f"{iso}: no API key: set {env_key} or {env_secret} (Secrets Manager id); skipping {iso}"
        )
    return {}


def _secret_value(iso: str, secret_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        text = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    except (ClientError, BotoCoreError, KeyError) as exc:
        raise MissingCredentials(f"{iso}: cannot read API key secret {secret_id!r}: {exc}") from exc
    # Either the bare key or a JSON object holding it (the console's key/value form).
    try:
        doc = json.loads(text)
    except ValueError:
        return str(text).strip()
    if isinstance(doc, dict):
        for name in (CREDENTIAL, "key", "apiKey", "subscription_key"):
            if doc.get(name):
                return str(doc[name]).strip()
        raise MissingCredentials(f"{iso}: secret {secret_id!r} holds JSON without an api_key field")
    return str(doc).strip()


def create(iso: str, *, include_nodes: bool | None = None, replay: bool = False) -> IsoSource:
    cls = source_class(iso)
    nodes = config.flag(config.ENV_INCLUDE_NODES) if include_nodes is None else include_nodes
    return cls(include_nodes=nodes, credentials=credentials(iso, replay=replay))

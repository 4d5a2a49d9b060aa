"""Helpers for the template tests (tests/test_infra.py, tests/app/test_template_*.py): the
template read once, a Resolver as CloudFormation would evaluate it, resources by type."""

from __future__ import annotations

from functools import cache
from typing import Any

from app.stack import template as tpl
from gridtape import config

ACCOUNT = "123456789012"
REGION = "us-east-1"


@cache
def _loaded() -> dict[str, Any]:
    return tpl.load_template()


def template() -> dict[str, Any]:
    return _loaded()


def resolver(names: config.Names | None = None, *, target: str = "aws", **params: str) -> tpl.Resolver:
    names = names or config.Names(env="dev", account=ACCOUNT)
    values = {**tpl.parameters(names), "DeployTarget": target, **params}
    return tpl.Resolver(template(), values, names.account, REGION)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template()["Resources"].items() if r["Type"] == kind}


def as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def statements(role: str) -> list[dict[str, Any]]:
    props = template()["Resources"][role]["Properties"]
    return [st for policy in props["Policies"] for st in policy["PolicyDocument"]["Statement"]]

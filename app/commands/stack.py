"""`gridtape stack up|down|status|generate|redshift-init`: the embedded AWS stack (emulator +
deployed resources), the generated per-ISO parts of infra/gridtape.yaml, and the warehouse SQL
applied to Redshift on AWS."""

from __future__ import annotations

import argparse
from typing import Any

from app.stack.lifecycle import down, status, up
from gridtape import config


def register(sub: Any) -> None:
    p = sub.add_parser("stack", help="the embedded AWS stack: up | down | status | generate | redshift-init")
    p.add_argument("action", choices=("up", "down", "status", "generate", "redshift-init"))
    p.add_argument("--env", default=None, help=f"deployment name (default ${config.ENV_NAME} or dev)")
    p.add_argument(
        "--check", action="store_true", help="generate: only report whether infra/gridtape.yaml is up to date"
    )
    p.add_argument(
        "--iam-role",
        default=None,
        help="redshift-init: role ARN for the Kinesis external schema (default: the stack's RedshiftRoleArn "
        "output; `default` = the namespace's default role)",
    )
    p.add_argument(
        "--no-schema", action="store_true", help="redshift-init: streaming ingestion only, not batch/sql/schema.sql"
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.action == "generate":
        return _generate(args.check)
    if args.action == "redshift-init":
        return _redshift_init(args)
    if args.action == "up":
        info = up(env=args.env)
        how = "started" if info.started_emulator else "reused"
        print(f"emulator {how} at {info.endpoint}; stack {info.names.stack} deployed")
        for row in status(args.env):
            print(f"  {row['type']:<40} {row['name']}")
        return 0
    if args.action == "down":
        print("emulator stopped" if down() else "no emulator started by gridtape is running")
        return 0
    for row in status(args.env):
        print(f"{row['type']:<40} {row['name']}")
    return 0


def _generate(check: bool) -> int:
    from app.stack import template_gen

    path = template_gen.TEMPLATE
    if check:
        stale = template_gen.stale(path)
        if stale:
            print(f"{path}: generated sections out of date: {', '.join(stale)}; run `gridtape stack generate`")
            return 1
        print(f"{path}: generated sections up to date")
        return 0
    print(f"{path}: {'regenerated' if template_gen.write(path) else 'already up to date'}")
    return 0


def _redshift_init(args: argparse.Namespace) -> int:
    from app.stack import redshift_init

    names = config.names(args.env)
    print(f"Redshift workgroup {names.redshift_workgroup}, database {names.redshift_database}:")
    for done in redshift_init.init(names, iam_role=args.iam_role, schema=not args.no_schema):
        print(f"  {done.action:<8} {done.kind.replace('_', ' ')} {done.name}")
    return 0

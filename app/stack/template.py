"""infra/gridtape.yaml read and evaluated the way CloudFormation evaluates it: the template
(short-form tags turned into the long JSON forms), the emulator's parameters, and a Resolver
for the intrinsic functions the package step, the top-ups and the tests need."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from app.stack import cfn_yaml
from gridtape import config
from gridtape.errors import GridtapeError

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infra" / "gridtape.yaml"
_SUB_ANY = re.compile(r"\$\{([^}!][^}]*)\}")


class DeployError(GridtapeError):
    """The stack did not reach a complete state; the message names the failed resource."""


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    if not path.is_file():
        raise DeployError(f"template {path} not found (gridtape must run from a source checkout)")
    data = cfn_yaml.load(path.read_text())
    if not isinstance(data, dict) or "Resources" not in data:
        raise DeployError(f"{path} is not a CloudFormation template (no Resources)")
    return data


def parameters(names: config.Names) -> dict[str, str]:
    return {"EnvName": names.env, "DeployTarget": "emulator", "Bootstrap": "false"}


class Resolver:
    """Evaluates the intrinsic functions the package step and the top-ups need, with the
    values CloudFormation itself would use: parameters, pseudo parameters and the stack's own
    physical resource ids (after it exists). Anything else is an explicit error."""

    def __init__(
        self,
        template: dict[str, Any],
        params: dict[str, str],
        account: str,
        region: str,
        physical_ids: dict[str, str] | None = None,
    ) -> None:
        self.template = template
        self.resources: dict[str, Any] = template["Resources"]
        self.values: dict[str, Any] = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        self.values.update(params)
        self.values.update(
            {
                "AWS::AccountId": account,
                "AWS::Region": region,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": f"gridtape-{self.values['EnvName']}",
            }
        )
        self.account, self.region = account, region
        self.physical_ids = physical_ids or {}

    def condition(self, name: str | None) -> bool:
        if name is None:
            return True
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (fn, arg), *_ = node.items()
            handler = self._functions.get(fn)
            if handler is not None:
                return handler(self, arg)
        return {k: self.resolve(v) for k, v in node.items()}

    def _ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        res = self.resources.get(name)
        if res is None:
            raise DeployError(f"template refers to unknown name {name!r}")
        # Before the stack exists: a Ref to a named resource is its name, except where
        # CloudFormation's Ref returns an ARN.
        props = res.get("Properties", {})
        kind = res["Type"]
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{self.resolve(props['TopicName'])}"
        if kind == "AWS::StepFunctions::StateMachine":
            sm = self.resolve(props["StateMachineName"])
            return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{sm}"
        for key in ("BucketName", "Name", "TableName", "FunctionName", "LogGroupName", "RoleName"):
            if key in props:
                return self.resolve(props[key])
        raise DeployError(f"cannot resolve Ref {name} ({kind}) before the stack exists")

    def _getatt(self, arg: list[str]) -> Any:
        name, attr = arg[0], arg[1]
        kind = self.resources[name]["Type"]
        ref = self._ref(name)
        if attr == "Arn":
            arns = {
                "AWS::S3::Bucket": f"arn:aws:s3:::{ref}",
                "AWS::KMS::Key": f"arn:aws:kms:{self.region}:{self.account}:key/{ref}",
                "AWS::Kinesis::Stream": f"arn:aws:kinesis:{self.region}:{self.account}:stream/{ref}",
                "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{self.region}:{self.account}:table/{ref}",
                "AWS::Lambda::Function": f"arn:aws:lambda:{self.region}:{self.account}:function:{ref}",
                "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{ref}",
            }
            if kind in arns:
                return arns[kind]
        raise DeployError(f"cannot resolve GetAtt {name}.{attr} ({kind}) locally")

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def one(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in local:
                return str(local[key])
            if "." in key and key.split(".", 1)[0] in self.resources:
                return str(self._getatt(key.split(".", 1)))
            return str(self._ref(key))

        return _SUB_ANY.sub(one, text).replace("${!", "${")

    def _if(self, arg: list[Any]) -> Any:
        return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])

    _functions: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _getatt,
        "Fn::Sub": _sub,
        "Fn::If": _if,
        "Fn::Equals": lambda self, a: self.resolve(a[0]) == self.resolve(a[1]),
        "Fn::Not": lambda self, a: not self.resolve(a[0]),
        "Fn::And": lambda self, a: all(self.resolve(x) for x in a),
        "Fn::Or": lambda self, a: any(self.resolve(x) for x in a),
        "Condition": lambda self, a: self.condition(a),
        "Fn::Join": lambda self, a: a[0].join(str(x) for x in self.resolve(a[1])),
    }

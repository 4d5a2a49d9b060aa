"""CloudFormation YAML both ways: short-form tags (!Ref, !Sub, !GetAtt ...) read into the long
JSON forms (as `aws cloudformation package --use-json` does), and Python values written back
out with the short forms, so generated parts of infra/gridtape.yaml read like the hand-written
rest of it."""

from __future__ import annotations

from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader plus the CloudFormation tags."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    fn = "Ref" if suffix == "Ref" else "Condition" if suffix == "Condition" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if fn == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {fn: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load(text: str) -> Any:
    return yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass


# --------------------------------------------------------------------------- writing


class Ref(str):
    """!Ref name"""


class Sub(str):
    """!Sub text"""


class GetAtt(str):
    """!GetAtt Resource.Attribute"""


class If(list[Any]):
    """!If [condition, then, else]"""


class Join(list[Any]):
    """!Join [separator, [values]]"""


_SHORT_TAGS = frozenset({"!Ref", "!Sub", "!GetAtt"})


class _CfnDumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent sequences under their key, as the hand-written template does.
        super().increase_indent(flow, False)

    def choose_scalar_style(self) -> str:
        # PyYAML quotes every scalar carrying an explicit tag; `!Ref Name` reads better than
        # `!Ref 'Name'` and means the same, so write tagged scalars plain where YAML allows it.
        style: str = super().choose_scalar_style()
        event = self.event
        if style == "'" and isinstance(event, yaml.ScalarEvent) and event.tag in _SHORT_TAGS and not event.style:
            analysis = self.analysis
            plain_ok = analysis.allow_flow_plain if self.flow_level else analysis.allow_block_plain
            if plain_ok and not analysis.empty and not analysis.multiline:
                return ""
        return style


for _scalar, _tag in ((Ref, "!Ref"), (Sub, "!Sub"), (GetAtt, "!GetAtt")):
    _CfnDumper.add_representer(_scalar, lambda d, v, t=_tag: d.represent_scalar(t, str(v)))
for _seq, _tag in ((If, "!If"), (Join, "!Join")):
    _CfnDumper.add_representer(_seq, lambda d, v, t=_tag: d.represent_sequence(t, list(v)))


def _mapping(dumper: _CfnDumper, data: dict[str, Any]) -> yaml.Node:
    # Small leaf maps ({Name: Iso, Value: CAISO}) on one line, the rest as blocks.
    small = len(data) <= 2 and all(not isinstance(v, dict | list) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=small)


_CfnDumper.add_representer(dict, _mapping)


def dump(resources: dict[str, Any], indent: int = 2) -> str:
    """`resources` as YAML block text, every line indented by `indent` spaces (to sit under
    `Resources:` or `Outputs:`), one blank line between top-level entries."""
    blocks = []
    for key, value in resources.items():
        text = yaml.dump({key: value}, Dumper=_CfnDumper, sort_keys=False, default_flow_style=None, width=1000)
        blocks.append("".join(" " * indent + line if line.strip() else line for line in text.splitlines(True)))
    return "\n".join(blocks)

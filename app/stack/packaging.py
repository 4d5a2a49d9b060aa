"""The emulator's `aws cloudformation package`. Production runs `aws cloudformation package`,
which uploads the file named by the state machine's `DefinitionS3Location`
(statemachines/nightly.asl.json) and rewrites the property. moto's CloudFormation reads only
`DefinitionString` and ignores `DefinitionSubstitutions`, so for the emulator this step inlines
that same file with the substitutions applied exactly as Step Functions applies them (`${Key}`
for the keys given, nothing else). The file is read at every deploy; there is no copy to drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from app.stack.template import DeployError, Resolver

_SUB_KEY = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def apply_substitutions(definition: str, substitutions: dict[str, Any]) -> str:
    """What Step Functions does with DefinitionSubstitutions: replace ${Key} for each given
    key; leave every other character (JSONPath `$.x`, context `$$.Execution`) alone."""
    return _SUB_KEY.sub(lambda m: str(substitutions.get(m.group(1), m.group(0))), definition)


def package(template: dict[str, Any], template_dir: Path, resolver: Resolver) -> dict[str, Any]:
    """The emulator's `aws cloudformation package`: every state machine whose
    DefinitionS3Location is a local path gets that file inlined as DefinitionString."""
    packaged = json.loads(json.dumps(template))
    for logical_id, res in packaged["Resources"].items():
        if res["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        props = res["Properties"]
        location = props.get("DefinitionS3Location")
        if not isinstance(location, str):
            continue
        path = (template_dir / location).resolve()
        if not path.is_file():
            raise DeployError(f"{logical_id}: DefinitionS3Location {location} -> {path} does not exist")
        text = path.read_text()
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise DeployError(f"{path} is not valid JSON: {exc}") from exc
        subs = resolver.resolve(props.pop("DefinitionSubstitutions", {}))
        missing = sorted(set(_SUB_KEY.findall(text)) - set(subs))
        if missing:
            raise DeployError(f"{path} uses ${{{', '.join(missing)}}} but {logical_id} does not substitute it")
        del props["DefinitionS3Location"]
        props["DefinitionString"] = apply_substitutions(text, subs)
    return packaged

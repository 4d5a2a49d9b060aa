"""Writes the generated parts of infra/gridtape.yaml from the ISO table and the metric names.

moto's CloudFormation has no Fn::ForEach (nor the AWS::LanguageExtensions transform), so the
per-ISO blocks are written into the committed template between marker comments:

    # >>> generated: <section> ...
    # <<< generated: <section>

Everything outside the markers is hand-written. `gridtape stack generate` rewrites the
sections; `gridtape stack generate --check` (and tests/test_infra.py) fails when the committed
file differs from what the table and metrics.py give now.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from app.stack import cfn_yaml, gen_alarms, gen_pollers
from app.stack.template import TEMPLATE, DeployError
from gridtape import isos

_NOTE = "app/stack/template_gen.py from gridtape/isos.py and gridtape/metrics.py; edit those, then `gridtape stack generate`"


def _pollers() -> str:
    parts = []
    for iso in isos.TABLE:
        body = {**gen_pollers.secrets(iso), **gen_pollers.poller(iso)}
        parts.append(f"  # ---- {iso.code}: {iso.name}\n{cfn_yaml.dump(body)}")
    return "\n".join(parts)


def _alarms() -> str:
    return cfn_yaml.dump(gen_alarms.all_alarms())


def _outputs() -> str:
    return cfn_yaml.dump(gen_pollers.outputs())


SECTIONS: dict[str, Callable[[], str]] = {"pollers": _pollers, "alarms": _alarms, "outputs": _outputs}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?P<begin>^  # >>> generated: {name}\b[^\n]*\n)(?P<body>.*?)(?P<end>^  # <<< generated: {name}\n)",
        re.S | re.M,
    )


def render(text: str) -> str:
    """`text` (the template) with every generated section rewritten."""
    for name, build in SECTIONS.items():
        pattern = _pattern(name)
        if len(pattern.findall(text)) != 1:
            raise DeployError(
                f"template needs exactly one `# >>> generated: {name}` ... `# <<< generated: {name}` block"
            )
        block = f"  # >>> generated: {name} — by {_NOTE}\n{build()}\n"
        match = pattern.search(text)
        assert match is not None
        text = text[: match.start()] + block + match["end"] + text[match.end() :]
    return text


def stale(path: Path = TEMPLATE) -> list[str]:
    """Names of the sections whose committed text differs from a fresh generation."""
    text = path.read_text()
    fresh = render(text)
    return [name for name in SECTIONS if _section(text, name) != _section(fresh, name)]


def _section(text: str, name: str) -> str:
    match = _pattern(name).search(text)
    return match["body"] if match else ""


def write(path: Path = TEMPLATE) -> bool:
    """Regenerate the sections in place; True when the file changed."""
    text = path.read_text()
    fresh = render(text)
    if fresh == text:
        return False
    path.write_text(fresh)
    return True

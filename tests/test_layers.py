"""Imports run one way: kernel <- stages <- composition root.

The kernel (gridtape/) imports nothing else of the project; a stage (producers/, streaming/,
batch/) imports the kernel and itself, never another stage or the root; the root (app/) may
import anything. Every import counts, including those inside functions, and so does
importlib.import_module with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "gridtape"
STAGES = ("producers", "streaming", "batch", "feed")
APP = "app"
PACKAGES = (KERNEL, *STAGES, APP)


def allowed(package: str) -> set[str]:
    if package == KERNEL:
        return {KERNEL}
    if package in STAGES:
        return {KERNEL, package}
    return set(PACKAGES)


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level project package) for every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        found += [(node.lineno, n.split(".")[0]) for n in names if n.split(".")[0] in PACKAGES]
    return found


def sources(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "recordings" not in p.parts)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_run_one_way(package: str) -> None:
    ok = allowed(package)
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in sources(package)
        for line, target in imported_packages(path)
        if target not in ok
    ]
    assert not wrong, f"{package} may import only {sorted(ok)}:\n" + "\n".join(wrong)


def test_the_checker_sees_function_level_and_importlib_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import importlib\ndef f():\n    from app import cli\n    importlib.import_module('batch.checks')\n"
    )
    assert imported_packages(probe) == [(3, "app"), (4, "batch")]


def test_every_python_package_is_in_a_layer() -> None:
    """A new top-level package must be placed in a layer here before it can be imported."""
    tops = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert tops == set(PACKAGES)

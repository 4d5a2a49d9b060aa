"""The recording generators live outside the shipped packages (tools/recordings/) and still
write the committed recordings byte for byte; the recordings stay where replay looks for them."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridtape import isos
from tests.producers.iso_contract import RECORDINGS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("iso", [c.lower() for c in isos.CODES])
def test_generator_writes_the_committed_recordings(iso: str, tmp_path: Path) -> None:
    env = {**os.environ, "GRIDTAPE_RECORDINGS_OUT": str(tmp_path)}
    subprocess.run([sys.executable, "-m", f"tools.recordings.generate_{iso}"], cwd=ROOT, env=env, check=True)
    written = sorted(p.name for p in (tmp_path / iso).iterdir())
    committed = sorted(p.name for p in (RECORDINGS / iso).iterdir())
    assert written == committed
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / iso, RECORDINGS / iso, committed, shallow=False)
    assert not mismatch and not errors, mismatch[:5]


def test_no_python_in_the_recordings_and_no_generator_in_a_shipped_package() -> None:
    assert not list(RECORDINGS.rglob("*.py"))
    for package in ("gridtape", "producers", "streaming", "batch", "app"):
        assert not list((ROOT / package).rglob("generate_*.py")), package
    assert {p.parent.name for p in RECORDINGS.glob("*/manifest.json")} == {c.lower() for c in isos.CODES}

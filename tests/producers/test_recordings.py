"""The recording generators live outside the shipped packages (tools/recordings/) and still
write the committed recordings byte for byte (the live polls, the history trees the archive
tests replay, the context outage reports); the recordings stay where replay looks for them."""

from __future__ import annotations

import filecmp
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridtape import isos
from tests.producers.iso_contract import RECORDINGS

ROOT = Path(__file__).resolve().parents[2]
ISOS = [c.lower() for c in isos.CODES]


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def assert_same_files(made: Path, committed: Path) -> None:
    """`made` holds exactly the files of `committed` (subfolders too), byte for byte, and is
    not that folder."""
    names = files_in(committed)
    assert made != committed and files_in(made) == names
    _, mismatch, errors = filecmp.cmpfiles(made, committed, names, shallow=False)
    assert not mismatch and not errors, mismatch[:5]


@pytest.mark.parametrize("iso", ISOS)
def test_generator_writes_the_committed_recordings(iso: str, tmp_path: Path) -> None:
    env = {**os.environ, "GRIDTAPE_RECORDINGS_OUT": str(tmp_path)}
    subprocess.run([sys.executable, "-m", f"tools.recordings.generate_{iso}"], cwd=ROOT, env=env, check=True)
    assert_same_files(tmp_path / iso, RECORDINGS / iso)
    # the same run writes the history tree test_<iso>_history.py replays; committed, so kept small
    history = RECORDINGS / "history" / iso
    assert_same_files(tmp_path / "history" / iso, history)
    assert sum(p.stat().st_size for p in history.iterdir()) < 1_500_000


@pytest.mark.parametrize("iso", ISOS)
def test_outage_generator_writes_the_committed_recordings(
    iso: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDTAPE_RECORDINGS_OUT", str(tmp_path))
    (tmp_path / "context").mkdir()  # as in the repository: some generators make only their own folder
    importlib.import_module(f"tools.recordings.context_outages_{iso}").main()
    folder = Path("context") / f"outages_{iso}"
    assert_same_files(tmp_path / folder, RECORDINGS / folder)


def test_no_python_in_the_recordings_and_no_generator_in_a_shipped_package() -> None:
    assert not list(RECORDINGS.rglob("*.py"))
    for package in ("gridtape", "producers", "streaming", "batch", "app"):
        assert not list((ROOT / package).rglob("generate_*.py")), package
    assert {p.parent.name for p in RECORDINGS.glob("*/manifest.json")} == {c.lower() for c in isos.CODES}

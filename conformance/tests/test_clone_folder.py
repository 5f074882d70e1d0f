"""A checkout named ``fromscratch``, seen from its parent folder, is caught in one line.

``fromscratch`` is a namespace package, so a folder of that name in the current directory
(which ``python -m`` puts on ``sys.path``) joins it, and the checkout's ``datasets/`` folder
passes for ``fromscratch.datasets``. The suite refuses to run that way and says what to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.registry import RegistryError, discover


def clone(parent: Path) -> Path:
    """The top of a checkout named ``fromscratch``: a pyproject.toml and a datasets/ folder."""
    checkout = parent / "fromscratch"
    (checkout / "datasets" / "src").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[tool.ruff]\n")
    return checkout


def test_the_cli_run_from_the_parent_of_a_clone_says_to_cd_into_it(tmp_path: Path):
    checkout = clone(tmp_path)
    command = [sys.executable, "-m", "fromscratch.conformance", "list"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "is a checkout of fromscratch" in done.stderr
    assert f"(cd {checkout})" in done.stderr


def test_the_checks_refuse_a_shadowing_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    clone(tmp_path)
    monkeypatch.syspath_prepend(os.fspath(tmp_path))
    with pytest.raises(RegistryError, match="is a checkout of fromscratch"):
        discover()
    with pytest.raises(ImportError, match="run from inside it"):
        checks.load("breast_cancer", "test")

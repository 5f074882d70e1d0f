"""The ``fromscratch`` command line, run as a user runs it: in a subprocess.

Success paths print what they promise; every mistake prints exactly one line on stderr
(no traceback) and exits with status 2; a failing check exits with 1. The live progress
bars are tested in a real pseudo-terminal.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fromscratch.conformance.registry import discover

FROMSCRATCH = shutil.which("fromscratch", path=str(Path(sys.executable).parent))
MODULE = [sys.executable, "-m", "fromscratch.conformance"]
COMMANDS = ("list", "train", "evaluate", "check", "report", "bench")
INSTALLED = list(discover())
# `nox -s <impl>` installs one implementation: use matrix where it is there
SOURCE = "matrix" if "matrix" in INSTALLED else INSTALLED[0]
LIVE = "evolution" if "evolution" in INSTALLED else SOURCE  # its recipe has 15 batches an epoch


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [FROMSCRATCH] if FROMSCRATCH else MODULE
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=600,
        check=False,
    )


def assert_mistake(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 2 and one line on stderr that says what was wrong."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("fromscratch: error: ") or "error:" in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def accuracy(stdout: str) -> str:
    found = re.search(r"^accuracy\s+(\d+\.\d+%)", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


def test_the_console_script_is_installed():
    assert FROMSCRATCH is not None, "pip install -e conformance provides `fromscratch`"


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_on_every_command(command: str | None):
    result = run(*([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: fromscratch")
    if command is None:
        assert all(c in result.stdout for c in COMMANDS)


def test_list_names_every_installed_implementation():
    result = run("list")
    assert result.returncode == 0
    for name, impl in discover().items():
        row = next(line for line in result.stdout.splitlines() if line.startswith(name + " "))
        assert impl.training in row
        assert impl.factory.__module__ in row
        assert re.search(r"\d+\.\d+", row)  # its version


# ----------------------------------------------------------------------- a registry of our own

LAUNCHER = textwrap.dedent(
    """
    import importlib.metadata as metadata
    import sys

    group = "fromscratch.implementations"
    ours = [metadata.EntryPoint(n, v, group) for n, v in (a.split("=") for a in sys.argv[1:2] if a)]
    real = metadata.entry_points

    def entry_points(**params):
        if params.get("group") == group:
            return metadata.EntryPoints(ep for ep in ours if params.get("name") in (None, ep.name))
        return real(**params)

    metadata.entry_points = entry_points
    from fromscratch.conformance.cli import main

    sys.exit(main(sys.argv[2:]))
    """
)

BROKEN = textwrap.dedent(
    """
    import numpy as np
    from fromscratch.matrix import RECIPES, Network as _Network

    class Network(_Network):
        \"\"\"matrix, with the softmax taken over the wrong axis: rows do not sum to 1.\"\"\"

        def predict_proba(self, X):
            p = super().predict_proba(X)
            return p / p.sum(axis=0, keepdims=True)
    """
)


def run_with_registry(
    tmp_path: Path, entry_point: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess whose only implementations are ``entry_point`` ("" for none)."""
    (tmp_path / "launch.py").write_text(LAUNCHER)
    (tmp_path / "broken_impl.py").write_text(BROKEN)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, str(tmp_path / "launch.py"), entry_point, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_list_with_nothing_installed_says_how_to_add_one(tmp_path: Path):
    result = run_with_registry(tmp_path, "", "list")
    assert result.returncode == 0, result.stderr
    assert "no fromscratch implementation is installed" in result.stdout
    assert "pip install" in result.stdout
    assert "fromscratch.implementations" in result.stdout
    result = run_with_registry(tmp_path, "", "train", "matrix", "--dataset", "mnist")
    assert_mistake(result, "no fromscratch implementation is installed")


def test_check_fails_with_status_1_on_a_broken_implementation(tmp_path: Path):
    pytest.importorskip("fromscratch.matrix", reason="the broken implementation extends matrix")
    result = run_with_registry(
        tmp_path, "broken=broken_impl:Network", "check", "broken", "--dataset", "none"
    )
    assert result.returncode == 1, result.stderr
    table = result.stdout[result.stdout.index("check ") :]
    # every forward case fails (18 MLP cases, plus the CNN cases where the layers are built)
    every_case_fails = r"^forward_vs_torch\s+(\d+)\s+FAIL \1\s+\S+\s+<= 1"
    assert re.search(every_case_fails, table, re.MULTILINE), table
    assert re.search(r"^gradient_vs_torch\s+\d+\s+pass\s+\S+\s+<= 1", table, re.MULTILINE)
    assert "FAILED forward_vs_torch" in result.stdout
    assert re.search(r"broken: \d+ passed, \d+ failed", result.stdout)


# ----------------------------------------------------------------------- success paths


def test_check_prints_each_figure_beside_its_bound():
    result = run("check", SOURCE, "--dataset", "breast_cancer")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        line.split()[0]: line.split()
        for line in result.stdout.splitlines()
        if line and line[0].isalpha()
    }
    if discover()[SOURCE].training == "gradient":
        # 63 MLP cases, plus the CNN cases of an implementation that builds those layers
        assert int(rows["gradient_vs_torch"][1]) >= 63
        assert rows["gradient_vs_torch"][2] == "pass"
        assert float(rows["gradient_vs_torch"][3]) <= 1
        assert rows["gradient_vs_torch"][4:] == ["<=", "1"]
    else:  # `nox -s evolution`: the ES estimate's cosine with torch's gradient, per population
        cosines = re.findall(
            r"^es_gradient\[n_pairs=(\d+), rank=\S+\]\s+1\s+pass\s+([\d.]+)\s+>=\s+([\d.]+)$",
            result.stdout,
            flags=re.MULTILINE,
        )
        assert [int(pairs) for pairs, _, _ in cosines] == [25, 100, 400], result.stdout
        assert all(float(score) >= float(bound) for _, score, bound in cosines)
    acc = rows["accuracy[breast_cancer]"]
    assert acc[2] == "pass"
    assert acc[4:] == [">=", "95.00%"]
    assert float(acc[3].rstrip("%")) >= 95
    assert rows["portability"][2] == "pass"


def test_train_save_and_evaluate_everywhere_give_the_same_metrics(tmp_path: Path):
    path = tmp_path / "bc.safetensors"
    trained = run(
        "train", SOURCE, "--dataset", "breast_cancer", "--epochs", "30", "--save", str(path)
    )
    assert trained.returncode == 0, trained.stderr
    for heading in ("macro precision", "macro recall", "macro F1", "class  precision", "wall time"):
        assert heading in trained.stdout
    assert re.search(rf"{SOURCE}: epoch 30/30  loss \d\.\d{{4}}", trained.stdout)
    assert path.is_file()
    assert not list(tmp_path.glob(".*.tmp"))
    expected = trained.stdout[
        trained.stdout.index("accuracy") : trained.stdout.index("wall time")
    ].strip()
    # every ordered pair is in test_portability.py; here the command line's path
    for impl in [INSTALLED[-1], "torch"]:
        evaluated = run("evaluate", str(path), "--dataset", "breast_cancer", "--impl", impl)
        assert evaluated.returncode == 0, evaluated.stderr
        assert f"evaluated by {impl}" in evaluated.stdout
        assert evaluated.stdout[evaluated.stdout.index("accuracy") :].strip() == expected


def test_python_dash_m_runs_the_same_command_line():
    result = subprocess.run([*MODULE, "list"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert SOURCE in result.stdout
    result = subprocess.run([*MODULE, "train"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("python -m fromscratch.conformance: error: ")


def test_live_bars_on_a_terminal():
    """In a pseudo-terminal, as a person sees it: bars redrawn in place, with ETA and loss."""
    command = [FROMSCRATCH or MODULE[0], *([] if FROMSCRATCH else MODULE[1:])]
    command += ["train", LIVE, "--dataset", "breast_cancer", "--epochs", "5"]
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=60)
    os.close(leader)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert "\x1b[" in text  # redrawn with escape codes
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert re.search(rf"{LIVE} run .*━.* 75/75 .*loss \d\.\d{{4}}.*ETA", plain), plain
    assert re.search(r"epoch 5/5 .*15/15", plain)
    assert plain.count(f"{LIVE}: epoch ") == 5  # one line left behind per finished epoch


# ----------------------------------------------------------------------- mistakes


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "bc.safetensors"
    result = run(
        "train", SOURCE, "--dataset", "breast_cancer", "--epochs", "2", "--save", str(path)
    )
    assert result.returncode == 0, result.stderr
    return path


MISTAKES = {
    "unknown implementation": (
        ["train", "nonesuch", "--dataset", "mnist"],
        ["no implementation named 'nonesuch'"],
    ),
    "unknown dataset": (["train", "{impl}", "--dataset", "cifar"], ["invalid choice: 'cifar'"]),
    "no dataset": (["train", "{impl}"], ["--dataset"]),
    "unknown command": (["fit", "{impl}"], ["invalid choice: 'fit'"]),
    "epochs 0": (
        ["train", "{impl}", "--dataset", "mnist", "--epochs", "0"],
        ["--epochs", "positive integer"],
    ),
    "epochs not a number": (
        ["train", "{impl}", "--dataset", "mnist", "--epochs", "ten"],
        ["'ten'"],
    ),
    "negative seed": (["train", "{impl}", "--dataset", "mnist", "--seed", "-1"], ["--seed"]),
    "learning rate nan": (
        ["train", "{impl}", "--dataset", "mnist", "--learning-rate", "nan"],
        ["--learning-rate"],
    ),
    "save into a directory": (
        ["train", "{impl}", "--dataset", "breast_cancer", "--save", "."],
        ["is a directory"],
    ),
    "unknown evaluate impl": (
        ["evaluate", "{saved}", "--dataset", "breast_cancer", "--impl", "jax"],
        ["'jax'"],
    ),
    "weights for another dataset": (
        ["evaluate", "{saved}", "--dataset", "mnist"],
        ["30 inputs", "784 features"],
    ),
    "missing weights file": (
        ["evaluate", "{tmp}/absent.safetensors", "--dataset", "mnist"],
        ["absent.safetensors", "cannot read"],
    ),
    "damaged weights file": (
        ["evaluate", "{tmp}/damaged.safetensors", "--dataset", "mnist"],
        ["damaged.safetensors", "truncated"],
    ),
    "not a weights file": (
        ["evaluate", "{tmp}/notes.safetensors", "--dataset", "mnist"],
        ["notes.safetensors"],
    ),
    "check none with a dataset": (
        ["check", "{impl}", "--dataset", "none", "--dataset", "mnist"],
        ["--dataset none"],
    ),
    "report unknown impl": (["report", "--impl", "nonesuch"], ["'nonesuch'"]),
    "bench rounds 0": (["bench", "--rounds", "0"], ["--rounds"]),
}


@pytest.mark.parametrize("mistake", list(MISTAKES), ids=list(MISTAKES))
def test_each_mistake_is_one_line_on_stderr_and_status_2(mistake: str, saved: Path, tmp_path: Path):
    (tmp_path / "damaged.safetensors").write_bytes(saved.read_bytes()[:-7])
    (tmp_path / "notes.safetensors").write_text("these are not weights\n")
    args, fragments = MISTAKES[mistake]
    args = [a.format(saved=saved, tmp=tmp_path, impl=SOURCE) for a in args]
    assert_mistake(run(*args, cwd=tmp_path), *fragments)


def test_missing_data_is_one_line_naming_the_file(tmp_path: Path):
    empty = tmp_path / "data"
    empty.mkdir()
    env = {
        "FROMSCRATCH_DATA": str(empty),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "FROMSCRATCH_MNIST_MIRRORS": (tmp_path / "no-mirror").as_uri(),
    }
    result = run("train", SOURCE, "--dataset", "mnist", "--epochs", "1", env=env)
    assert_mistake(result, "download failed", "no-mirror")

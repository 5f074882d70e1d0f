"""The plug-in path, walked as someone outside the project walks it.

A package of one's own (``outsider_mlp.py`` below a ``pyproject.toml`` that registers it under
``fromscratch.implementations``) is built in a temporary folder outside this repository and
installed by pip into a folder of its own (``pip install --target``, no build isolation:
setuptools comes with torch), which the commands below find through ``PYTHONPATH``, as they
would find site-packages. The suite (pytest, from the repository root, as docs/protocol.md
says) and the report then run on it, breast cancer only, in subprocesses.

Copies of the package carry the bugs a newcomer plants: a bias gradient taken as a mean, a
softmax normalised over the wrong axis, a bad-input message that leaves out what the
protocol asks of it. Each failure must say what is wrong in words.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.outsider

ROOT = Path(__file__).resolve().parents[2]
# Not named outsider_mlp.py: conftest puts this folder on sys.path, and a module of the
# package's own name there would shadow the installed package.
SOURCE = Path(__file__).with_name("outsider_source.py")

BUGS = {
    # entry-point name: (the sound line, the same line with the bug planted)
    "outsider_bias_mean": (
        'grads[f"{2 * i}.bias"] = dL_dz.sum(axis=0)',
        'grads[f"{2 * i}.bias"] = dL_dz.mean(axis=0)',
    ),
    "outsider_softmax_axis": (
        "return e / e.sum(axis=1, keepdims=True)",
        "return e / e.sum(axis=0, keepdims=True)",
    ),
    "outsider_terse": (
        'f"X has {X.shape[1]} columns, expected {self.layers[0]}"',
        'f"expected {self.layers[0]} columns"',
    ),
}
SAID = {
    # entry-point name: what one of its failure lines must say (a regular expression)
    "outsider_bias_mean": r"the gradient of [02]\.bias\[\d\] is \S+ where torch has .*"
    r"worst_parameter=[02]\.bias",
    "outsider_softmax_axis": r"forward_vs_torch\[.*predict_proba rows do not sum to 1",
    "outsider_terse": r"bad_input\[X wrong width\] FAILED: the ValueError message "
    r"'expected 4 columns' does not mention the argument X .* nor the width it got",
}
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "outsider-mlp"
version = "0.1.0"
dependencies = ["numpy"]

[project.entry-points."fromscratch.implementations"]
{entry_points}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outsider's package, built and installed outside the repository; returns the folder
    it is installed in."""
    project = tmp_path_factory.mktemp("outsider-project")
    package = project / "src" / "outsider_mlp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    sound = SOURCE.read_text()
    (package / "outsider.py").write_text(sound)
    for name, (line, bug) in BUGS.items():
        assert sound.count(line) == 1, f"{line!r} should occur once in {SOURCE.name}"
        (package / f"{name}.py").write_text(sound.replace(line, bug))
    names = ["outsider", *BUGS]
    entry_points = "\n".join(f'{n} = "outsider_mlp.{n}:MLP"' for n in names)
    (project / "pyproject.toml").write_text(PYPROJECT.format(entry_points=entry_points))

    target = tmp_path_factory.mktemp("outsider-site")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    pip += ["--no-build-isolation", "--target", str(target), str(project)]
    done = subprocess.run(pip, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"pip could not install the outsider's package:\n{done.stderr}"
    assert (target / "outsider_mlp-0.1.0.dist-info" / "entry_points.txt").is_file()
    assert ROOT not in target.parents
    return target


def run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python args...`` from the repository root, with the outsider's package installed."""
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "1000"}  # pytest's summary lines whole
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_an_outsiders_package_passes_the_report_and_the_suite(site: Path, tmp_path: Path):
    listed = run(site, "-m", "fromscratch.conformance", "list")
    assert "outsider " in listed.stdout, listed.stdout + listed.stderr

    out = tmp_path / "report"
    cli = ["-m", "fromscratch.conformance", "report", "--impl", "outsider"]
    report = run(site, *cli, "--dataset", "breast_cancer", "--out", str(out))
    assert report.returncode == 0, report.stdout + report.stderr
    measured = json.loads((out / "results.json").read_text())["measurements"]
    checks = {m["check"] for m in measured}
    assert {"gradient_vs_torch", "forward_vs_torch", "bad_input", "accuracy"} <= checks
    assert all(m["passed"] and m["implementation"] == "outsider" for m in measured)

    tests = [f"conformance/tests/test_{t}.py" for t in ("gradients", "forward", "bad_input")]
    tests += ["conformance/tests/test_training.py", "conformance/tests/test_es_gradient.py"]
    suite = run(site, "-m", "pytest", *tests, "--impl", "outsider", "--dataset", "breast_cancer")
    assert suite.returncode == 0, suite.stdout[-3000:]
    # What does not apply says why, in words.
    assert "outsider is gradient-trained: the ES-gradient check applies to" in suite.stdout
    assert "left out by --dataset breast_cancer" in suite.stdout


def test_each_planted_bug_is_named_in_the_report_and_in_the_suite(site: Path, tmp_path: Path):
    impls = [arg for name in BUGS for arg in ("--impl", name)]
    cli = ["-m", "fromscratch.conformance", "report", *impls, "--dataset", "breast_cancer"]
    report = run(site, *cli, "--out", str(tmp_path / "report"))
    assert report.returncode == 1, report.stdout + report.stderr
    for name, said in SAID.items():
        lines = [line for line in report.stderr.splitlines() if line.startswith(f"FAILED {name}:")]
        assert any(re.search(said, line) for line in lines), f"no failure of {name} says {said}"

    tests = [f"conformance/tests/test_{t}.py" for t in ("gradients", "forward", "bad_input")]
    suite = run(site, "-m", "pytest", *tests, *impls, "-k", "torch or wrong", "--tb=no")
    assert suite.returncode == 1, suite.stdout[-3000:]
    for name, said in SAID.items():
        lines = [line for line in suite.stdout.splitlines() if name in line]
        assert any(re.search(said, line) for line in lines), f"no failure of {name} says {said}"

"""Sessions for fromscratch: ``nox -s <session>``; ``nox -l`` lists them.

* ``tests``: every test of every distribution (CI runs this). A full accuracy check that
  ``SLOW_ACCURACY`` (conformance/tolerances.py) lists as too slow for CI is replaced by
  the same recipe on a training subset, judged by the subset's own threshold.
* ``<implementation>`` (e.g. ``matrix``): that implementation's own tests plus the
  conformance suite on it alone, every accuracy check in full.
* ``lint``: ruff (lint and format) and mypy (strict).
* ``report``: train every installed implementation with its recipes, run every check,
  print the results table and write the report under ``reports/``: ``index.html`` (one
  offline file), ``report.md`` with its figures, ``results.json`` and the trained
  weights. ``nox -s report -- --quick`` trains the slow checks on CI's subsets (minutes);
  ``-- --bench`` runs the bench too; ``-- --from reports/results.json`` only re-renders.
  It trains the character models beside torch first (``fromscratch text``, for the
  Sequences section; short with ``--quick``).
* ``bench``: one MNIST epoch per implementation against torch eager, torch.compile and
  scikit-learn, each in processes of its own, as ratios; then LeNet-5 and the character
  LSTM and Transformer (training tokens per second) against torch.
* ``docs``: refill the READMEs' code blocks from the source files, then build the site
  strictly into ``docs/_build/html`` (``tests`` builds it too, in a temporary folder).

Every install goes through ``constraints.txt``, which pins torch to the CPU build.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = ("-c", str(ROOT / "constraints.txt"))
# implementations/boundary is the code every implementation shares, not an implementation.
BOUNDARY = "implementations/boundary"
SHARED = ("datasets", "conformance", BOUNDARY)
IMPLEMENTATIONS = sorted(
    p.parent.name
    for p in ROOT.glob("implementations/*/pyproject.toml")
    if p.parent != ROOT / BOUNDARY
)
IMPLEMENTATION_DIRS = [f"implementations/{name}" for name in IMPLEMENTATIONS]
DOCS_REQUIREMENTS = ("-r", str(ROOT / "docs" / "requirements.txt"))

nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True


def install(session: nox.Session, *distributions: str) -> None:
    """Editable installs of the given distribution folders, with their test extras."""
    session.install(*CONSTRAINTS, *(f"-e{ROOT / d}[test]" for d in distributions))


def pytest(session: nox.Session, *args: str) -> None:
    session.run("pytest", *args, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Every test: datasets, conformance on every implementation, each implementation's own."""
    install(session, *SHARED, *IMPLEMENTATION_DIRS)
    session.install(*CONSTRAINTS, *DOCS_REQUIREMENTS, "beautifulsoup4", "playwright")
    tests = ["datasets/tests", "conformance/tests", f"{BOUNDARY}/tests"]
    tests += [f"{d}/tests" for d in IMPLEMENTATION_DIRS]
    tests += ["docs/test_snippets.py", "docs/test_site.py"]
    pytest(session, *tests, "-m", "not slow")


def _implementation_session(name: str) -> None:
    def session_fn(session: nox.Session) -> None:
        install(session, *SHARED, f"implementations/{name}")
        tests = [f"implementations/{name}/tests", "conformance/tests", "--impl", name]
        pytest(session, *tests, "-m", "not subset")

    session_fn.__doc__ = f"The {name} implementation: its own tests and the conformance suite."
    nox.session(name=name)(session_fn)


for _name in IMPLEMENTATIONS:
    _implementation_session(_name)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and mypy --strict over every distribution's source."""
    install(session, *SHARED, *IMPLEMENTATION_DIRS)
    session.install(*CONSTRAINTS, "ruff", "mypy", "nox")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    sources = [f"{d}/src" for d in (*SHARED, *IMPLEMENTATION_DIRS)]
    scripts = ["noxfile.py", "docs/snippets.py"]
    session.run("mypy", *sources, *scripts, env={"MYPYPATH": os.pathsep.join(sources)})


@nox.session
def docs(session: nox.Session) -> None:
    """Refill the READMEs' code blocks, then build the site (warnings are errors)."""
    # autodoc imports the implementations; they need NumPy alone, not their test extras.
    session.install(*CONSTRAINTS, *(f"-e{ROOT / d}" for d in (BOUNDARY, *IMPLEMENTATION_DIRS)))
    session.install(*CONSTRAINTS, *DOCS_REQUIREMENTS)
    session.run("python", "docs/snippets.py")
    out = "docs/_build/html"
    strict = ("-W", "--keep-going")
    session.run("python", "-m", "sphinx", *strict, "-b", "html", "docs", out, *session.posargs)
    session.log(f"the site: {ROOT / out / 'index.html'}")


@nox.session
def report(session: nox.Session) -> None:
    """Train with the recipes, run every check, write reports/ (index.html, report.md, ...)."""
    install(session, *SHARED, *IMPLEMENTATION_DIRS)
    given = {arg.split("=")[0] for arg in session.posargs}
    text = [] if given & {"--from", "--text"} else ["--text"]  # the Sequences section's models
    session.run("python", "-m", "fromscratch.conformance", "report", *text, *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Time one MNIST epoch of each implementation against torch and scikit-learn, fairly;
    then LeNet-5, the character LSTM and the Transformer against torch
    (reports/bench-<workload>.json)."""
    install(session, *SHARED, *IMPLEMENTATION_DIRS)
    session.run("python", "-m", "fromscratch.conformance", "bench", *session.posargs)
    for workload in ("lenet", "lstm", "transformer"):
        other = ("--workload", workload, "--out", f"reports/bench-{workload}.json")
        session.run("python", "-m", "fromscratch.conformance", "bench", *other, *session.posargs)

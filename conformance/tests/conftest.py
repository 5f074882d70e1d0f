"""Parametrize the suite over installed implementations and record what it measures.

Fixtures a test can ask for, each parametrized over the implementations it applies to:

* ``impl``: every implementation;
* ``differentiable_impl``: those with exact ``gradients``;
* ``estimator_impl``: those with an evolution-strategies ``estimate_gradient``;
* ``mnist_impl``: every implementation, marked ``slow`` where
  :data:`~fromscratch.conformance.tolerances.SLOW_ACCURACY` lists its MNIST check;
* ``mnist_subset_impl``: only those, marked ``subset``: CI's stand-in for the slow check.

Options:

* ``--impl NAME`` (repeatable): run the suite on these implementations only;
* ``--results-json PATH``: save every :class:`Measurement` the tests recorded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.registry import Implementation, select
from fromscratch.conformance.report import write_json
from fromscratch.conformance.tolerances import SLOW_ACCURACY, Dataset

# Helpers the report tests import (report_fixture.py, browser.py); pytest runs with
# --import-mode=importlib, which does not put this folder on the path.
sys.path.insert(0, str(Path(__file__).parent))

MEASUREMENTS = pytest.StashKey[list[Measurement]]()
IMPLEMENTATIONS = pytest.StashKey[list[Implementation]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fromscratch conformance")
    group.addoption("--impl", action="append", default=[], help="implementation to check")
    group.addoption("--results-json", type=Path, default=None, help="save measurements here")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[MEASUREMENTS] = []


def _implementations(config: pytest.Config) -> list[Implementation]:
    """The implementations under test, looked up once per session."""
    if IMPLEMENTATIONS not in config.stash:
        config.stash[IMPLEMENTATIONS] = select(config.getoption("--impl"))
    return config.stash[IMPLEMENTATIONS]


def _is_slow(impl: Implementation, dataset: Dataset) -> bool:
    return dataset in SLOW_ACCURACY.get(impl.name, ())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    impls = _implementations(metafunc.config)
    slow, subset = pytest.mark.slow, pytest.mark.subset
    # fixture -> (implementation, its marks) for each implementation it applies to
    chosen: dict[str, list[tuple[Implementation, list[pytest.MarkDecorator]]]] = {
        "impl": [(i, []) for i in impls],
        "differentiable_impl": [(i, []) for i in impls if i.differentiable],
        "estimator_impl": [(i, []) for i in impls if i.estimates_gradient],
        "mnist_impl": [(i, [slow] if _is_slow(i, "mnist") else []) for i in impls],
        "mnist_subset_impl": [(i, [subset]) for i in impls if _is_slow(i, "mnist")],
    }
    for fixture, entries in chosen.items():
        if fixture in metafunc.fixturenames:
            params = [pytest.param(i, marks=marks, id=i.name) for i, marks in entries]
            metafunc.parametrize(fixture, params)


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[[Measurement], Measurement]:
    """Keep a measurement for ``--results-json`` and hand it back for asserting."""

    def keep(measurement: Measurement) -> Measurement:
        request.config.stash[MEASUREMENTS].append(measurement)
        return measurement

    return keep


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--results-json")
    if path is not None:
        measured = session.config.stash[MEASUREMENTS]
        write_json(path, [m.to_json() for m in measured])


def pytest_report_header(config: pytest.Config) -> str:
    names = [i.name for i in _implementations(config)]
    return f"fromscratch implementations under test: {', '.join(names) or 'none installed'}"

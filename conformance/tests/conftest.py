"""Parametrize the suite over installed implementations and record what it measures.

Fixtures a test can ask for, each parametrized over the implementations it applies to:

* ``impl``: every implementation;
* ``differentiable_impl``: those with exact ``gradients``;
* ``estimator_impl``: those with an evolution-strategies ``estimate_gradient``;
* ``breast_cancer_impl``: every implementation, unless ``--dataset`` leaves breast cancer out;
* ``mnist_impl``: every implementation, marked ``slow`` where
  :data:`~fromscratch.conformance.tolerances.SLOW_ACCURACY` lists its MNIST check, unless
  ``--dataset`` leaves MNIST out;
* ``mnist_subset_impl``: only those, marked ``subset``: CI's stand-in for the slow check.

A fixture that applies to none of the implementations under test gives one skipped test
whose reason says why, in words.

Options:

* ``--impl NAME`` (repeatable): run the suite on these implementations only;
* ``--dataset NAME`` (repeatable): train and judge accuracy on these datasets only
  (``--dataset breast_cancer`` leaves out MNIST and its download);
* ``--results-json PATH``: save every :class:`Measurement` the tests recorded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest

from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.registry import Implementation, RegistryError, select
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
    group.addoption(
        "--dataset",
        action="append",
        default=[],
        choices=get_args(Dataset),
        help="dataset for the accuracy checks (repeatable; default: all)",
    )
    group.addoption("--results-json", type=Path, default=None, help="save measurements here")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[MEASUREMENTS] = []
    try:
        _implementations(config)
    except RegistryError as exc:  # an unknown --impl, a broken entry point: one line
        raise pytest.UsageError(str(exc)) from exc


def _implementations(config: pytest.Config) -> list[Implementation]:
    """The implementations under test, looked up once per session."""
    if IMPLEMENTATIONS not in config.stash:
        config.stash[IMPLEMENTATIONS] = select(config.getoption("--impl"))
    return config.stash[IMPLEMENTATIONS]


def _is_slow(impl: Implementation, dataset: Dataset) -> bool:
    return dataset in SLOW_ACCURACY.get(impl.name, ())


def _why_none(fixture: str, impls: list[Implementation], datasets: list[str]) -> str:
    """Why no implementation under test gets a test that asks for ``fixture``, in words."""
    names = ", ".join(i.name for i in impls)
    if not impls:
        return (
            "no implementation is installed (entry-point group 'fromscratch.implementations'); "
            "docs/protocol.md says how to register one"
        )
    if fixture in ("breast_cancer_impl", "mnist_impl", "mnist_subset_impl") and (
        fixture.removesuffix("_impl").removesuffix("_subset") not in datasets
    ):
        return f"left out by --dataset {' --dataset '.join(datasets)}"
    return {
        "differentiable_impl": f"{names}: no exact gradients (trained without them), "
        "so the gradient checks do not apply",
        "estimator_impl": "; ".join(
            f"{i.name} is {'gradient-trained' if i.differentiable else 'gradient-free without ES'}"
            for i in impls
        )
        + ": the ES-gradient check applies to models that offer estimate_gradient",
        "mnist_subset_impl": f"{names}: not in SLOW_ACCURACY, so the full MNIST check runs "
        "everywhere and needs no smaller stand-in",
    }.get(fixture, f"no implementation under test applies ({names})")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    impls = _implementations(metafunc.config)
    datasets = metafunc.config.getoption("--dataset") or list(get_args(Dataset))
    mnist = "mnist" in datasets
    slow, subset = pytest.mark.slow, pytest.mark.subset
    # fixture -> (implementation, its marks) for each implementation it applies to
    chosen: dict[str, list[tuple[Implementation, list[pytest.MarkDecorator]]]] = {
        "impl": [(i, []) for i in impls],
        "differentiable_impl": [(i, []) for i in impls if i.differentiable],
        "estimator_impl": [(i, []) for i in impls if i.estimates_gradient],
        "breast_cancer_impl": [(i, []) for i in impls if "breast_cancer" in datasets],
        "mnist_impl": [(i, [slow] if _is_slow(i, "mnist") else []) for i in impls if mnist],
        "mnist_subset_impl": [(i, [subset]) for i in impls if mnist and _is_slow(i, "mnist")],
    }
    for fixture, entries in chosen.items():
        if fixture in metafunc.fixturenames:
            params = [pytest.param(i, marks=marks, id=i.name) for i, marks in entries]
            if not params:  # one skipped test that says why, not pytest's "empty parameter set"
                skip = pytest.mark.skip(reason=_why_none(fixture, impls, datasets))
                params = [pytest.param(None, marks=skip, id="none")]
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

"""Parametrize the suite over installed implementations and record what it measures.

Options:

* ``--impl NAME`` (repeatable): run the suite on these implementations only;
* ``--results-json PATH``: save every :class:`Measurement` the tests recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.registry import Implementation, select
from fromscratch.conformance.report import write_json

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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    impls = _implementations(metafunc.config)
    for fixture, keep in (
        ("impl", lambda i: True),
        ("differentiable_impl", lambda i: i.differentiable),
    ):
        if fixture in metafunc.fixturenames:
            chosen = [i for i in impls if keep(i)]
            metafunc.parametrize(fixture, chosen, ids=[i.name for i in chosen])


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

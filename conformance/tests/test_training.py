"""Each implementation's own recipe reaches the threshold on the held-out test split."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.registry import Implementation

Record = Callable[[Measurement], Measurement]


def test_same_seed_same_parameters(impl: Implementation, record: Record):
    m = record(checks.determinism(impl))
    assert m.passed, m.describe()


def test_breast_cancer_accuracy(impl: Implementation, record: Record):
    m = record(checks.accuracy(impl, "breast_cancer"))
    assert m.details["n_test"] == 114
    assert m.passed, m.describe()


@pytest.mark.slow
def test_mnist_accuracy(impl: Implementation, record: Record):
    m = record(checks.accuracy(impl, "mnist"))
    assert m.details["n_test"] == 10_000
    assert m.passed, m.describe()

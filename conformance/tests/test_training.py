"""Each implementation's own recipe reaches the threshold on the held-out test split.

The full MNIST check of an implementation listed in ``SLOW_ACCURACY`` is marked ``slow``;
``nox -s tests`` (CI) runs ``-m "not slow"`` and so checks it on the training subset
instead, while ``nox -s <impl>`` runs ``-m "not subset"``: the full check alone.
"""

from __future__ import annotations

from collections.abc import Callable

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.registry import Implementation
from fromscratch.conformance.tolerances import SUBSETS

Record = Callable[[Measurement], Measurement]


def test_same_seed_same_parameters(breast_cancer_impl: Implementation, record: Record):
    m = record(checks.determinism(breast_cancer_impl))
    assert m.passed, m.describe()


def test_breast_cancer_accuracy(breast_cancer_impl: Implementation, record: Record):
    m = record(checks.accuracy(breast_cancer_impl, "breast_cancer"))
    assert m.details["n_test"] == 114
    assert m.passed, m.describe()


def test_mnist_accuracy(mnist_impl: Implementation, record: Record):
    m = record(checks.accuracy(mnist_impl, "mnist"))
    assert (m.details["n_train"], m.details["n_test"]) == ("all", 10_000)
    assert m.passed, m.describe()


def test_mnist_accuracy_on_the_ci_subset(mnist_subset_impl: Implementation, record: Record):
    m = record(checks.accuracy(mnist_subset_impl, "mnist", subset=True))
    assert (m.details["n_train"], m.details["n_test"]) == (SUBSETS["mnist"].n_train, 10_000)
    assert m.passed, m.describe()

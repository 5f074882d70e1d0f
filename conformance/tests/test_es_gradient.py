"""The evolution-strategies gradient estimate points the way torch's exact gradient does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.checks import ES_PAIRS, Measurement
from fromscratch.conformance.registry import Implementation

Record = Callable[[Measurement], Measurement]


@pytest.mark.parametrize("n_pairs", ES_PAIRS)
def test_es_estimate_agrees_with_torch(
    estimator_impl: Implementation, n_pairs: int, record: Record
):
    m = record(checks.es_gradient(estimator_impl, n_pairs))
    assert m.details["parameters_unchanged"], m.describe()
    assert m.passed, m.describe()

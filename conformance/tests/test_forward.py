"""The same state dict gives torch's probabilities, loss and predictions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Case, Measurement
from fromscratch.conformance.registry import Implementation

Record = Callable[[Measurement], Measurement]


@pytest.mark.parametrize(
    ("case", "dtype"), checks.forward_cases(), ids=lambda v: v.id if isinstance(v, Case) else v
)
def test_forward_matches_torch(impl: Implementation, case: Case, dtype: str, record: Record):
    m = record(checks.forward_vs_torch(impl, case, dtype))
    assert m.passed, m.describe()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_state_dict_has_torch_layout(impl: Implementation, dtype: str, record: Record):
    m = record(checks.state_dict_layout(impl, dtype))
    assert m.passed, m.describe()

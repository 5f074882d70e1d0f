"""Loss and gradients against torch autograd and against central differences, float64."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Case, Measurement
from fromscratch.conformance.registry import Implementation

Record = Callable[[Measurement], Measurement]


@pytest.mark.parametrize("case", checks.gradient_cases(), ids=lambda c: c.id)
def test_gradients_match_torch(differentiable_impl: Implementation, case: Case, record: Record):
    m = record(checks.gradient_vs_torch(differentiable_impl, case))
    assert m.passed, m.describe()


@pytest.mark.parametrize("case", checks.central_difference_cases(), ids=lambda c: c.id)
def test_gradients_match_central_differences(
    differentiable_impl: Implementation, case: Case, record: Record
):
    m = record(checks.central_difference(differentiable_impl, case))
    assert m.passed, m.describe()


@pytest.mark.parametrize("loss", checks.LOSSES)
def test_relu_kink_follows_torch(differentiable_impl: Implementation, loss: str, record: Record):
    m = record(checks.relu_kink(differentiable_impl, loss))
    assert m.details["exact_zeros"] > 0
    assert m.passed, m.describe()


def test_grid_covers_every_activation_loss_and_depth():
    cases = checks.gradient_cases()
    assert {(c.activation, c.loss) for c in cases if len(c.layers) > 2} == {
        (a, loss) for a in checks.ACTIVATIONS for loss in checks.LOSSES
    }
    assert {len(c.layers) - 1 for c in cases} == {1, 2, 3}
    assert {c.batch_size for c in cases} >= {1, 5}
    assert all(c.batch_size % 2 == 1 for c in cases if c.batch_size < 16)

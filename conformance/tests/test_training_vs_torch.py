"""Fifty steps of ``fit`` against fifty steps of ``torch.optim``, from one state dict, float64."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Measurement, TrainingCase
from fromscratch.conformance.registry import Implementation
from fromscratch.conformance.tolerances import TOLERANCES

Record = Callable[[Measurement], Measurement]


@pytest.mark.parametrize("case", checks.training_cases(), ids=lambda c: c.id)
def test_training_matches_torch_step_for_step(
    differentiable_impl: Implementation, case: TrainingCase, record: Record
):
    m = record(checks.training_vs_torch(differentiable_impl, case))
    assert m.details["steps"] == 50
    # The parameters travelled a million times farther than the tolerance forgives.
    assert m.details["moved"] > 1e6 * TOLERANCES["training_vs_torch"].atol
    assert m.passed, m.describe()


def test_cases_cover_every_optimizer_setting():
    cases = checks.training_cases()
    options = [c.options for c in cases]
    assert {o.get("optimizer", "sgd") for o in options} == {"sgd", "adam"}
    assert any(o.get("nesterov") for o in options)
    assert any(o.get("momentum") and not o.get("nesterov") for o in options)
    assert any(o.get("weight_decay") for o in options)
    assert {o.get("schedule", "constant") for o in options} == {"constant", "cosine"}
    assert {c.net.activation for c in cases} == set(checks.ACTIVATIONS)
    assert {c.net.loss for c in cases} == set(checks.LOSSES)
    # The last batch of every epoch is smaller than the others.
    assert checks.TRAINING_ROWS % checks.TRAINING_BATCH_SIZE != 0

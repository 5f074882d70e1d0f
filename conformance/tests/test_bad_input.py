"""Bad input raises a clear ValueError; divergence raises FloatingPointError."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fromscratch.conformance import checks
from fromscratch.conformance.checks import BadInput, Measurement
from fromscratch.conformance.registry import Implementation

Record = Callable[[Measurement], Measurement]


@pytest.mark.parametrize("case", checks.bad_inputs(), ids=lambda c: c.name)
def test_bad_input_is_rejected_clearly(impl: Implementation, case: BadInput, record: Record):
    m = record(checks.bad_input(impl, case))
    assert m.passed, m.describe()


def test_divergence_stops_with_a_clear_error(impl: Implementation, record: Record):
    m = record(checks.divergence(impl))
    assert m.passed, m.describe()

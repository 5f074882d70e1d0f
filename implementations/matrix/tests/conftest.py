"""Every numeric tolerance of the matrix tests, in one table.

Tests get the table through the session-scoped ``tol`` fixture: under
``--import-mode=importlib`` a test module cannot import this file, and hypothesis ``@given``
tests refuse function-scoped fixtures. Entries read as in :func:`numpy.testing.assert_allclose`
(``|x - ref| <= atol + rtol * |ref|``, passed as ``**tol[name]``); ``pytest.approx`` gets them
as ``rel=``/``abs=`` and allows the larger of the two instead of their sum. An ``atol`` of 1e-12
on an entry used with ``pytest.approx`` is its default ``abs``, which those checks always had.

Change a bound here, never at a call site, and never loosen one to make a test pass.
"""

from __future__ import annotations

from typing import Final

import pytest

from fromscratch.conformance.tolerances import TOLERANCES as SUITE

TOLERANCES: Final[dict[str, dict[str, float]]] = {
    # The suite's bound, for the same measurement: one op or one linear layer vs torch
    # autograd, both float64 (conformance tolerances.py says why).
    "vs_torch": {"rtol": SUITE["gradient_vs_torch"].rtol, "atol": SUITE["gradient_vs_torch"].atol},
    # Bounds only these tests use, each stricter than or apart from the suite's.
    # A whole float64 network vs torch: gradients through 3 layers, or 6 epochs of training.
    "network_vs_torch": {"rtol": 1e-9, "atol": 1e-12},
    # Central differences, h=1e-6: truncation ~h^2 plus cancellation ~1e-16/h = 1e-10.
    "central_difference": {"rtol": 1e-6, "atol": 1e-8},
    # A float64 scalar (loss, learning rate) vs torch, a closed form or another code path.
    "float64_scalar": {"rtol": 1e-12, "atol": 1e-12},
    # The same float64 loss from gradients() and from loss(): the same forward pass, twice.
    "same_loss_twice": {"rtol": 1e-14, "atol": 1e-12},
    # float64 probabilities vs torch's softmax or the closed-form sigmoid: round-off only.
    "float64_proba": {"rtol": 1e-12, "atol": 0.0},
    # Exact algebraic identities in float64 (cross-entropy dL/dz == (softmax - one_hot) / n).
    "float64_identity": {"rtol": 1e-14, "atol": 1e-16},
    # float64 entries that must be 0 (underflowed sigmoid, rows that cancel): a few ulps.
    "float64_zero": {"rtol": 1e-7, "atol": 1e-15},
    # float64 vs an exact value (probabilities summing to 1, MSE gradient): numpy's default.
    "float64_exact": {"rtol": 1e-7, "atol": 0.0},
    # The MSE of small integers vs its exact fraction: pytest.approx's default, as before.
    "mse_value": {"rtol": 1e-6, "atol": 1e-12},
    # float32 probabilities summing to 1: float32 eps ~1.2e-7 times a handful of terms.
    "float32_proba_sum": {"rtol": 1e-6, "atol": 0.0},
    # A float32 (or float64) loss at extreme logits vs torch in float64: float32 round-off.
    "float32_loss_vs_torch": {"rtol": 1e-6, "atol": 1e-12},
    # 5 optimizer steps vs torch.optim in float64: round-off only.
    "optim_vs_torch_float64": {"rtol": 1e-12, "atol": 1e-12},
    # 5 optimizer steps vs torch.optim in float32: float32 round-off (eps ~1.2e-7), with margin.
    "optim_vs_torch_float32": {"rtol": 1e-5, "atol": 1e-5},
    # Sample variance of 120,000 U(-b, b) weights vs b^2/3: standard error 0.26%, so ~8 sigma.
    "init_variance": {"rtol": 0.02, "atol": 1e-12},
}


@pytest.fixture(scope="session")
def tol() -> dict[str, dict[str, float]]:
    """The tolerance table, ``TOLERANCES``."""
    return TOLERANCES

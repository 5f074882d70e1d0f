"""Activations and losses against torch autograd (float64) and against central differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.conformance.tolerances import CENTRAL_DIFFERENCE_STEP
from fromscratch.loops.activations import ACTIVATIONS
from fromscratch.loops.losses import LOSSES, softmax

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES
TorchActivation = dict[str, Callable[[torch.Tensor], torch.Tensor]]
TorchLoss = Callable[[str, torch.Tensor, torch.Tensor], torch.Tensor]
H = CENTRAL_DIFFERENCE_STEP  # the step conftest's "central_difference" bound is for


def activate(name: str, z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return ACTIVATIONS[name].forward(z)


# ---------------------------------------------------------------------------- activations


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_and_its_backward_match_torch(
    name: str, tol: Tolerances, torch_activation: TorchActivation
) -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(scale=3.0, size=50)
    dL_da = rng.normal(size=50)  # a random upstream gradient, not ones

    z_t = torch.tensor(z, requires_grad=True)
    a_t = torch_activation[name](z_t)
    (dL_dz_t,) = torch.autograd.grad(a_t, z_t, grad_outputs=torch.from_numpy(dL_da))

    np.testing.assert_allclose(activate(name, z), a_t.detach().numpy(), **tol["vs_torch"])
    dL_dz = dL_da * ACTIVATIONS[name].derivative(z)
    np.testing.assert_allclose(dL_dz, dL_dz_t.numpy(), **tol["vs_torch"])


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_derivative_matches_central_differences(name: str, tol: Tolerances) -> None:
    z = np.random.default_rng(2).normal(scale=2.0, size=40)
    numeric = (activate(name, z + H) - activate(name, z - H)) / (2 * H)
    np.testing.assert_allclose(
        ACTIVATIONS[name].derivative(z), numeric, **tol["central_difference"]
    )


def test_relu_derivative_away_from_the_kink_matches_central_differences(tol: Tolerances) -> None:
    z = np.array([-3.0, -0.5, -1e-3, 1e-3, 0.5, 3.0])  # |z| > H: never straddles 0
    numeric = (activate("relu", z + H) - activate("relu", z - H)) / (2 * H)
    np.testing.assert_allclose(
        ACTIVATIONS["relu"].derivative(z) * 1.0, numeric, **tol["central_difference"]
    )


def test_relu_derivative_at_exactly_zero_is_zero_like_torch() -> None:
    z = np.array([-1.0, 0.0, -0.0, 1.0])
    z_t = torch.tensor(z, requires_grad=True)
    torch.relu(z_t).sum().backward()
    assert z_t.grad is not None
    np.testing.assert_array_equal(ACTIVATIONS["relu"].derivative(z) * 1.0, z_t.grad.numpy())
    np.testing.assert_array_equal(ACTIVATIONS["relu"].derivative(z) * 1.0, [0, 0, 0, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_finite_and_exact_at_extreme_inputs(dtype: type[np.floating[Any]]) -> None:
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    a = activate("sigmoid", z)  # filterwarnings=error: an overflow warning would fail here
    assert a.dtype == dtype
    assert a[2] == 0.5
    assert a[0] >= 0
    assert a[-1] == 1.0
    assert np.all(ACTIVATIONS["sigmoid"].derivative(z)[[0, -1]] >= 0)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_keep_float32(name: str) -> None:
    z = np.linspace(-2, 2, 9, dtype=np.float32)
    assert activate(name, z).dtype == np.float32
    assert (np.ones(9, np.float32) * ACTIVATIONS[name].derivative(z)).dtype == np.float32


# --------------------------------------------------------------------------------- losses


def loss_case(name: str, n: int = 7, seed: int = 0) -> tuple[np.ndarray[Any, Any], Any]:
    """Random logits Z, laid out (k, n) like the output layer's, and labels."""
    rng = np.random.default_rng(seed)
    k = 1 if name == "bce" else 4
    Z = rng.normal(scale=2.0, size=(k, n))
    y = rng.integers(0, 2 if name == "bce" else k, size=n)
    return Z, y


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("n", [1, 7])
def test_loss_and_dL_dZ_match_torch(
    name: str, n: int, tol: Tolerances, torch_loss: TorchLoss
) -> None:
    Z, y = loss_case(name, n)
    out_t = torch.tensor(Z.T.copy(), requires_grad=True)  # torch lays samples out in rows
    L_t = torch_loss(name, out_t, torch.from_numpy(y))
    (dL_dout_t,) = torch.autograd.grad(L_t, out_t)

    L, dL_dZ = LOSSES[name].value_and_gradient(Z, y)

    scalar = tol["vs_torch"]
    assert pytest.approx(L_t.item(), rel=scalar["rtol"], abs=scalar["atol"]) == L
    assert dL_dZ.shape == Z.shape
    np.testing.assert_allclose(dL_dZ, dL_dout_t.numpy().T, **tol["vs_torch"])


@pytest.mark.parametrize("name", list(LOSSES))
def test_dL_dZ_matches_central_differences(name: str, tol: Tolerances) -> None:
    Z, y = loss_case(name, seed=3)
    value = LOSSES[name].value_and_gradient
    _, dL_dZ = value(Z, y)
    numeric = np.empty_like(Z)
    for index in np.ndindex(Z.shape):
        plus, minus = Z.copy(), Z.copy()
        plus[index] += H
        minus[index] -= H
        numeric[index] = (value(plus, y)[0] - value(minus, y)[0]) / (2 * H)
    np.testing.assert_allclose(dL_dZ, numeric, **tol["central_difference"])


@pytest.mark.parametrize("name", ["cross_entropy", "bce"])
def test_likelihood_losses_stay_finite_at_extreme_logits(
    name: str, tol: Tolerances, torch_loss: TorchLoss
) -> None:
    Z, y = loss_case(name)
    Z = np.where(Z > 0, 1000.0, -1000.0)
    L, dL_dZ = LOSSES[name].value_and_gradient(Z, y)
    L_t = torch_loss(name, torch.tensor(Z.T.copy()), torch.from_numpy(y))
    assert np.isfinite(L)
    assert np.all(np.isfinite(dL_dZ))
    scalar = tol["vs_torch"]
    assert pytest.approx(L_t.item(), rel=scalar["rtol"], abs=scalar["atol"]) == L


def test_loss_does_not_write_into_Z() -> None:
    for name in LOSSES:
        Z, y = loss_case(name)
        before = Z.copy()
        LOSSES[name].value_and_gradient(Z, y)
        LOSSES[name].probabilities(Z)
        np.testing.assert_array_equal(Z, before)


@pytest.mark.parametrize("name", list(LOSSES))
def test_probabilities_match_torch(name: str, tol: Tolerances) -> None:
    Z, _ = loss_case(name)
    P = LOSSES[name].probabilities(Z)
    Z_t = torch.from_numpy(Z.T.copy())
    if name == "bce":
        p = torch.sigmoid(Z_t[:, 0])
        expected = torch.stack([1 - p, p], dim=1).numpy().T
    else:
        expected = torch.softmax(Z_t, dim=1).numpy().T
    np.testing.assert_allclose(P, expected, **tol["forward_vs_torch"])
    np.testing.assert_allclose(P.sum(axis=0), 1.0, **tol["forward_vs_torch"])


def test_softmax_survives_huge_logits(tol: Tolerances) -> None:
    Z = np.array([[1000.0, -1000.0], [999.0, 0.0], [-1000.0, 1000.0]])
    P = softmax(Z)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=0), 1.0, **tol["forward_vs_torch"])

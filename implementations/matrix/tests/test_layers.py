"""The linear layer: forward, backward (dL/dW, dL/db, dL/dX) and initialisation, against torch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fromscratch.matrix.layers import Linear

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES


def torch_linear(layer: Linear) -> torch.nn.Linear:
    linear = torch.nn.Linear(layer.W.shape[1], layer.W.shape[0], dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.W))
        linear.bias.copy_(torch.from_numpy(layer.b))
    return linear


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 9),
    fan_in=st.integers(1, 8),
    fan_out=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
)
def test_linear_forward_and_backward_match_torch(
    n: int, fan_in: int, fan_out: int, seed: int, tol: Tolerances
) -> None:
    rng = np.random.default_rng(seed)
    layer = Linear(fan_in, fan_out, rng, np.dtype(np.float64))
    X = rng.normal(size=(n, fan_in))
    dL_dz = rng.normal(size=(n, fan_out))  # a random upstream gradient, not ones

    linear = torch_linear(layer)
    X_t = torch.tensor(X, requires_grad=True)
    z_t = linear(X_t)
    dW_t, db_t, dX_t = torch.autograd.grad(
        z_t, (linear.weight, linear.bias, X_t), grad_outputs=torch.from_numpy(dL_dz)
    )

    z = layer.forward(X)
    dL_dX = layer.backward(dL_dz)

    np.testing.assert_allclose(z, z_t.detach().numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(layer.dL_dW, dW_t.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(layer.dL_db, db_t.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(dL_dX, dX_t.numpy(), **tol["vs_torch"])
    assert layer.dL_dW.shape == layer.W.shape
    assert layer.dL_db.shape == layer.b.shape


def test_linear_backward_does_not_touch_parameters_or_inputs() -> None:
    rng = np.random.default_rng(0)
    layer = Linear(5, 3, rng, np.dtype(np.float64))
    W, b = layer.W.copy(), layer.b.copy()
    X, dL_dz = rng.normal(size=(4, 5)), rng.normal(size=(4, 3))
    X_before, dL_dz_before = X.copy(), dL_dz.copy()

    layer.forward(X)
    layer.backward(dL_dz)

    np.testing.assert_array_equal(layer.W, W)
    np.testing.assert_array_equal(layer.b, b)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(dL_dz, dL_dz_before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_keeps_its_dtype(dtype: type[np.floating[Any]]) -> None:
    rng = np.random.default_rng(0)
    layer = Linear(6, 4, rng, np.dtype(dtype))
    X = rng.normal(size=(3, 6)).astype(dtype)
    z = layer.forward(X)
    dL_dX = layer.backward(z)
    assert dL_dX is not None
    assert layer.W.dtype == layer.b.dtype == z.dtype == dtype
    assert layer.dL_dW.dtype == layer.dL_db.dtype == dL_dX.dtype == dtype


def test_the_first_linear_layer_skips_the_gradient_of_the_data() -> None:
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng, np.dtype(np.float64))
    layer.needs_input_grad = False
    layer.forward(rng.normal(size=(4, 3)))
    assert layer.backward(rng.normal(size=(4, 2))) is None
    assert layer.dL_dW.shape == (2, 3)  # its own gradients are still stored


def test_init_is_uniform_in_plus_minus_one_over_sqrt_fan_in(tol: Tolerances) -> None:
    fan_in, fan_out = 400, 300
    layer = Linear(fan_in, fan_out, np.random.default_rng(0), np.dtype(np.float64))
    bound = 1 / np.sqrt(fan_in)
    for p in (layer.W, layer.b):
        assert np.abs(p).max() <= bound
    # Like torch.nn.Linear: U(-bound, bound) has mean 0 and variance bound^2 / 3.
    assert abs(layer.W.mean()) < 0.01 * bound
    var_tol = tol["init_variance"]
    assert layer.W.var() == pytest.approx(bound**2 / 3, rel=var_tol["rtol"], abs=var_tol["atol"])
    assert np.abs(layer.W).max() > 0.99 * bound

    reference = torch.nn.Linear(fan_in, fan_out)
    assert reference.weight.abs().max().item() <= bound
    expected_var = pytest.approx(bound**2 / 3, rel=var_tol["rtol"], abs=var_tol["atol"])
    assert reference.weight.var().item() == expected_var

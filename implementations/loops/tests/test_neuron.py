"""One neuron: forward, backward and initialisation against torch, float64, any shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fromscratch.boundary.optim import SGD, Parameter
from fromscratch.loops.activations import ACTIVATIONS, IDENTITY
from fromscratch.loops.neuron import Neuron

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES
TorchActivation = dict[str, Callable[[torch.Tensor], torch.Tensor]]
KINDS = ["relu", "sigmoid", "tanh", "linear"]


def make_neuron(n_inputs: int, kind: str, seed: int, dtype: Any = np.float64) -> Neuron:
    """A hidden neuron, or with ``kind="linear"`` an output neuron (identity activation)."""
    activation = IDENTITY if kind == "linear" else ACTIVATIONS[kind]
    return Neuron(n_inputs, activation, np.random.default_rng(seed), np.dtype(dtype))


def torch_neuron(
    neuron: Neuron, kind: str, A_prev: np.ndarray[Any, Any], torch_activation: TorchActivation
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The same neuron in torch: (z, a, w, b, A_prev), with w, b and A_prev requiring grad."""
    w = torch.tensor(neuron.w, requires_grad=True)
    b = torch.tensor(neuron.b, requires_grad=True)
    A = torch.tensor(A_prev, requires_grad=True)
    z = w @ A + b
    a = z if kind == "linear" else torch_activation[kind](z)
    return z, a, w, b, A


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 9),
    n_inputs=st.integers(1, 8),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32 - 1),
)
def test_neuron_forward_and_backward_match_torch(
    n: int, n_inputs: int, kind: str, seed: int, tol: Tolerances, torch_activation: TorchActivation
) -> None:
    rng = np.random.default_rng(seed)
    neuron = make_neuron(n_inputs, kind, seed)
    A_prev = rng.normal(size=(n_inputs, n)) * 2
    upstream = rng.normal(size=n)  # a random, non-uniform error arriving at the output
    already = rng.normal(size=(n_inputs, n))  # what other neurons sent back before this one

    z_t, a_t, w_t, b_t, A_t = torch_neuron(neuron, kind, A_prev, torch_activation)
    dw_t, db_t, dA_t = torch.autograd.grad(
        a_t, (w_t, b_t, A_t), grad_outputs=torch.from_numpy(upstream)
    )

    a = neuron.forward(A_prev)
    np.testing.assert_allclose(neuron.z, z_t.detach().numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(a, a_t.detach().numpy(), **tol["vs_torch"])

    dL_dA_prev = already.copy()
    neuron.backward(upstream, dL_dA_prev)

    np.testing.assert_allclose(neuron.dL_dw, dw_t.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(neuron.dL_db, db_t.numpy(), **tol["vs_torch"])
    # The neuron *adds* its share to the errors of its inputs.
    np.testing.assert_allclose(dL_dA_prev - already, dA_t.numpy(), **tol["vs_torch"])


def test_first_layer_neuron_computes_the_same_gradients_and_sends_nothing_back() -> None:
    neuron = make_neuron(3, "tanh", seed=0)
    A_prev = np.random.default_rng(0).normal(size=(3, 4))
    neuron.forward(A_prev)
    upstream = np.array([1.5, -0.5, 2.0, 0.25])
    neuron.backward(upstream, None)  # None: its inputs are the data, nothing learns there
    first_layer = neuron.dL_dw.copy(), neuron.dL_db.copy()

    neuron.backward(upstream, np.zeros((3, 4)))
    np.testing.assert_array_equal(neuron.dL_dw, first_layer[0])
    np.testing.assert_array_equal(neuron.dL_db, first_layer[1])


def test_relu_neuron_at_exactly_zero_passes_no_error_back_like_torch(
    tol: Tolerances, torch_activation: TorchActivation
) -> None:
    neuron = make_neuron(3, "relu", seed=1)
    A_prev = np.random.default_rng(1).normal(size=(3, 4))
    A_prev[:, 0] = 0.0
    neuron.b[...] = 0.0  # sample 0 sits at z = 0 exactly
    upstream = np.array([2.0, -1.0, 0.5, 3.0])

    z_t, a_t, w_t, b_t, A_t = torch_neuron(neuron, "relu", A_prev, torch_activation)
    assert z_t[0].item() == 0.0
    dw_t, db_t, dA_t = torch.autograd.grad(
        a_t, (w_t, b_t, A_t), grad_outputs=torch.from_numpy(upstream)
    )
    neuron.forward(A_prev)
    dL_dA_prev = np.zeros((3, 4))
    neuron.backward(upstream, dL_dA_prev)

    assert neuron.z[0] == 0.0
    assert neuron.dL_dz[0] == 0.0
    np.testing.assert_array_equal(dL_dA_prev[:, 0], 0.0)
    np.testing.assert_allclose(neuron.dL_dw, dw_t.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(neuron.dL_db, db_t.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(dL_dA_prev, dA_t.numpy(), **tol["vs_torch"])


def test_backward_reads_but_never_writes_parameters_inputs_or_its_error() -> None:
    neuron = make_neuron(5, "sigmoid", seed=2)
    rng = np.random.default_rng(2)
    A_prev = rng.normal(size=(5, 6))
    w, b, A_before = neuron.w.copy(), neuron.b.copy(), A_prev.copy()
    neuron.forward(A_prev)
    upstream = rng.normal(size=6)
    before = upstream.copy()
    neuron.backward(upstream, np.zeros((5, 6)))
    np.testing.assert_array_equal(neuron.w, w)
    np.testing.assert_array_equal(neuron.b, b)
    np.testing.assert_array_equal(A_prev, A_before)
    np.testing.assert_array_equal(upstream, before)


def test_the_optimizer_reads_the_gradients_backward_stores_beside_w_and_b() -> None:
    neuron = make_neuron(4, "relu", seed=3)
    w, b = Parameter(neuron, "w"), Parameter(neuron, "b")
    neuron.forward(np.random.default_rng(3).normal(size=(4, 5)))
    neuron.backward(np.ones(5), None)
    assert w.grad is neuron.dL_dw
    assert b.grad is neuron.dL_db
    assert neuron.dL_dw.shape == (4,)
    assert neuron.dL_db.shape == (1,)
    w_before, step = neuron.w.copy(), neuron.dL_dw.copy()
    SGD([w, b], lr=0.5).step()
    np.testing.assert_array_equal(neuron.w, w_before - 0.5 * step)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_neuron_keeps_its_dtype(dtype: type[np.floating[Any]]) -> None:
    neuron = make_neuron(6, "tanh", seed=0, dtype=dtype)
    A_prev = np.random.default_rng(0).normal(size=(6, 3)).astype(dtype)
    neuron.forward(A_prev)
    dL_dA_prev = np.zeros((6, 3), dtype)
    neuron.backward(np.ones(3, dtype), dL_dA_prev)
    arrays = (neuron.w, neuron.b, neuron.dL_dw, neuron.dL_db, neuron.z, neuron.a, neuron.dL_dz)
    for array in (*arrays, dL_dA_prev):
        assert array.dtype == dtype


def test_init_is_uniform_in_plus_minus_one_over_sqrt_fan_in(tol: Tolerances) -> None:
    fan_in = 400
    rng = np.random.default_rng(0)
    neurons = [Neuron(fan_in, IDENTITY, rng, np.dtype(np.float64)) for _ in range(300)]
    W = np.stack([neuron.w for neuron in neurons])
    b = np.concatenate([neuron.b for neuron in neurons])
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(W).max() <= bound
    assert np.abs(b).max() <= bound
    assert np.abs(W).max() > 0.99 * bound  # and it fills the interval
    # Like torch.nn.Linear: U(-bound, bound) has mean 0 and variance bound^2 / 3.
    assert abs(W.mean()) < 0.01 * bound
    var = tol["init_variance"]
    assert W.var() == pytest.approx(bound**2 / 3, rel=var["rtol"], abs=var["atol"])
    reference = torch.nn.Linear(fan_in, 300).weight.detach().numpy()
    assert reference.var() == pytest.approx(bound**2 / 3, rel=var["rtol"], abs=var["atol"])

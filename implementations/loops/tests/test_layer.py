"""One layer of neurons against torch.nn.Linear (+ activation), float64, any shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fromscratch.loops.activations import ACTIVATIONS, IDENTITY
from fromscratch.loops.layer import Layer

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES
TorchActivation = dict[str, Callable[[torch.Tensor], torch.Tensor]]


def make_layer(n_inputs: int, n_neurons: int, kind: str, seed: int) -> Layer:
    activation = IDENTITY if kind == "linear" else ACTIVATIONS[kind]
    return Layer(n_inputs, n_neurons, activation, np.random.default_rng(seed), np.dtype("float64"))


def check_against_torch(
    layer: Layer,
    kind: str,
    A_prev: np.ndarray[Any, Any],
    upstream: np.ndarray[Any, Any],
    tol: Tolerances,
    torch_activation: TorchActivation,
) -> None:
    """Forward, then backward from ``upstream`` (k, n); compare everything with torch."""
    linear = torch.nn.Linear(layer.n_inputs, len(layer.neurons), dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.weight_matrix()))
        linear.bias.copy_(torch.from_numpy(layer.bias_vector()))
    X_t = torch.tensor(A_prev.T.copy(), requires_grad=True)  # torch: one sample per row
    z_t = linear(X_t)
    a_t = z_t if kind == "linear" else torch_activation[kind](z_t)
    dW_t, db_t, dX_t = torch.autograd.grad(
        a_t, (linear.weight, linear.bias, X_t), grad_outputs=torch.from_numpy(upstream.T.copy())
    )

    A = layer.forward(A_prev)
    Z = np.stack([neuron.z for neuron in layer.neurons])
    np.testing.assert_allclose(Z, z_t.detach().numpy().T, **tol["vs_torch"])
    np.testing.assert_allclose(A, a_t.detach().numpy().T, **tol["vs_torch"])

    dL_dA_prev = np.zeros(A_prev.shape)  # every neuron adds its share into it
    layer.backward(upstream, dL_dA_prev)

    dL_dW = np.stack([neuron.dL_dw for neuron in layer.neurons])
    dL_db = np.concatenate([neuron.dL_db for neuron in layer.neurons])
    np.testing.assert_allclose(dL_dW, dW_t.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(dL_db, db_t.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(dL_dA_prev, dX_t.numpy().T, **tol["vs_torch"])


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 9),
    n_inputs=st.integers(1, 7),
    n_neurons=st.integers(1, 7),
    kind=st.sampled_from(["relu", "sigmoid", "tanh", "linear"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_layer_forward_and_backward_match_torch(
    n: int,
    n_inputs: int,
    n_neurons: int,
    kind: str,
    seed: int,
    tol: Tolerances,
    torch_activation: TorchActivation,
) -> None:
    rng = np.random.default_rng(seed)
    layer = make_layer(n_inputs, n_neurons, kind, seed)
    A_prev = rng.normal(size=(n_inputs, n)) * 2
    upstream = rng.normal(size=(n_neurons, n))  # a different error for every neuron and sample
    check_against_torch(layer, kind, A_prev, upstream, tol, torch_activation)


def test_batches_of_any_size_follow_each_other(
    tol: Tolerances, torch_activation: TorchActivation
) -> None:
    layer = make_layer(4, 3, "tanh", seed=0)
    rng = np.random.default_rng(0)
    for n in (5, 2, 5, 1):  # like the short last batch of an epoch, then a full one again
        A_prev = rng.normal(size=(4, n))
        check_against_torch(layer, "tanh", A_prev, rng.normal(size=(3, n)), tol, torch_activation)


def test_a_neurons_output_is_its_row_of_the_layer_output() -> None:
    layer = make_layer(3, 4, "relu", seed=1)
    A_prev = np.random.default_rng(1).normal(size=(3, 6))
    A = layer.forward(A_prev)
    assert A.shape == (4, 6)
    for j, neuron in enumerate(layer.neurons):
        expected = np.maximum(neuron.w @ A_prev + neuron.b, 0)
        np.testing.assert_array_equal(A[j], neuron.a)
        np.testing.assert_allclose(A[j], expected)


def test_output_layer_output_is_its_pre_activation() -> None:
    layer = make_layer(3, 2, "linear", seed=2)
    A = layer.forward(np.random.default_rng(2).normal(size=(3, 4)))
    np.testing.assert_array_equal(A, np.stack([neuron.z for neuron in layer.neurons]))


def test_weight_matrix_stacks_the_neurons_like_torch_linear() -> None:
    layer = make_layer(5, 3, "relu", seed=4)
    W, b = layer.weight_matrix(), layer.bias_vector()
    assert W.shape == (3, 5)
    assert b.shape == (3,)
    for j, neuron in enumerate(layer.neurons):
        np.testing.assert_array_equal(W[j], neuron.w)
        assert b[j] == neuron.b[0]
    W[...] = 0  # a copy
    assert not np.all(layer.weight_matrix() == 0)

"""Conv2d, max and average pooling, Flatten and Unflatten, one layer at a time, against torch.

Each test runs the layer forward and backward in float64 under a random upstream gradient
and compares the output, dL/dW, dL/db and dL/da with torch autograd. (The conformance suite
checks whole networks of these layers through the protocol; these tests point at the layer.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fromscratch.matrix.conv import Conv2d
from fromscratch.matrix.pool import AvgPool2d, MaxPool2d
from fromscratch.matrix.reshape import Flatten, Unflatten

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES
F64 = np.dtype(np.float64)


def _torch_backward(
    module: torch.nn.Module, a: np.ndarray[Any, Any], dL_dz: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], dict[str, np.ndarray[Any, Any]]]:
    a_t = torch.from_numpy(a).requires_grad_()
    z = module(a_t)
    z.backward(torch.from_numpy(dL_dz))
    grads = {k: p.grad.numpy() for k, p in module.named_parameters() if p.grad is not None}
    assert a_t.grad is not None
    return z.detach().numpy(), a_t.grad.numpy(), grads


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3),
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 4),
    k=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    hw=st.tuples(st.integers(5, 9), st.integers(5, 9)),
    bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv2d_matches_torch(
    n: int,
    c_in: int,
    c_out: int,
    k: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    hw: tuple[int, int],
    bias: bool,
    seed: int,
    tol: Tolerances,
) -> None:
    rng = np.random.default_rng(seed)
    layer = Conv2d(c_in, c_out, k, stride, padding, bias, rng, F64)
    a = rng.normal(size=(n, c_in, *hw))
    conv = torch.nn.Conv2d(c_in, c_out, k, stride, padding, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(layer.W))
        if layer.b is not None:
            conv.bias.copy_(torch.from_numpy(layer.b))
    z = layer.forward(a)
    dL_dz = rng.normal(size=z.shape)
    ref_z, ref_da, ref_grads = _torch_backward(conv, a, dL_dz)
    np.testing.assert_allclose(z, ref_z, **tol["vs_torch"])
    np.testing.assert_allclose(layer.backward(dL_dz), ref_da, **tol["vs_torch"])
    np.testing.assert_allclose(layer.dL_dW, ref_grads["weight"], **tol["vs_torch"])
    if bias:
        np.testing.assert_allclose(layer.dL_db, ref_grads["bias"], **tol["vs_torch"])
    else:
        assert layer.b is None
        assert layer.dL_db is None


def test_conv2d_initialises_like_torch() -> None:
    """U(-1/sqrt(C kh kw), +) for W and b, W drawn first."""
    layer = Conv2d(3, 8, (5, 5), (1, 1), (0, 0), True, np.random.default_rng(0), F64)
    bound = 1 / np.sqrt(3 * 25)
    assert layer.W.shape == (8, 3, 5, 5)
    assert layer.b is not None
    assert layer.b.shape == (8,)
    assert np.abs(layer.W).max() <= bound
    assert np.abs(layer.W).max() > 0.9 * bound
    expected = np.random.default_rng(0).uniform(-bound, bound, size=(8, 3, 5, 5))
    np.testing.assert_array_equal(layer.W, expected)


POOLS = [
    ((2, 2), (2, 2)),
    ((3, 3), (1, 1)),
    ((3, 3), (2, 2)),
    ((2, 3), (1, 2)),
    ((1, 1), (1, 1)),
]


@pytest.mark.parametrize(("kernel", "stride"), POOLS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch(
    kernel: tuple[int, int], stride: tuple[int, int], kind: str, tol: Tolerances
) -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(2, 3, 9, 7))
    ours = (MaxPool2d if kind == "max" else AvgPool2d)(kernel, stride)
    torch_pool = (torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d)(kernel, stride)
    z = ours.forward(a)
    dL_dz = rng.normal(size=z.shape)
    ref_z, ref_da, _ = _torch_backward(torch_pool, a, dL_dz)
    np.testing.assert_allclose(z, ref_z, **tol["vs_torch"])
    np.testing.assert_allclose(ours.backward(dL_dz), ref_da, **tol["vs_torch"])


@pytest.mark.parametrize(("kernel", "stride"), POOLS[:4])
def test_max_pool_ties_go_where_torch_sends_them(
    kernel: tuple[int, int], stride: tuple[int, int], tol: Tolerances
) -> None:
    """Images of a few integer levels: nearly every window holds a tie for its maximum.
    torch sends the gradient to the first maximum in row-major order; so must we. (Where
    windows overlap, a pixel's shares are summed in another order than torch's: round-off.)"""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, size=(2, 2, 8, 7)).astype(np.float64)
    pool = MaxPool2d(kernel, stride)
    z = pool.forward(a)
    windows = np.lib.stride_tricks.sliding_window_view(a, kernel, axis=(2, 3))
    windows = windows[:, :, :: stride[0], :: stride[1]].reshape(*z.shape, -1)
    tied = np.sum(np.sum(windows == z[..., None], axis=-1) > 1)
    assert tied > z.size // 3, f"only {tied} of {z.size} windows tie: the test would be vacuous"
    dL_dz = rng.normal(size=z.shape)
    _, ref_da, _ = _torch_backward(torch.nn.MaxPool2d(kernel, stride), a, dL_dz)
    np.testing.assert_allclose(pool.backward(dL_dz), ref_da, **tol["vs_torch"])


def test_max_pool_sending_to_the_last_maximum_is_caught() -> None:
    """The tie test can fail: the last maximum instead of the first differs from torch."""
    a = np.zeros((1, 1, 2, 2))
    pool = MaxPool2d((2, 2), (2, 2))
    pool.forward(a)
    pool.argmax = np.full_like(pool.argmax, 3)  # the planted bug: the last of four ties
    _, ref_da, _ = _torch_backward(torch.nn.MaxPool2d(2), a, np.ones((1, 1, 1, 1)))
    assert not np.array_equal(pool.backward(np.ones((1, 1, 1, 1))), ref_da)


def test_flatten_and_unflatten_are_inverse_reshapes_like_torch() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 2 * 3 * 5))
    unflatten, flatten = Unflatten((2, 3, 5)), Flatten()
    images = unflatten.forward(X)
    expected = torch.nn.Unflatten(1, (2, 3, 5))(torch.from_numpy(X)).numpy()
    np.testing.assert_array_equal(images, expected)
    np.testing.assert_array_equal(flatten.forward(images), X)
    dL_dz = rng.normal(size=X.shape)
    np.testing.assert_array_equal(unflatten.backward(flatten.backward(dL_dz)), dL_dz)

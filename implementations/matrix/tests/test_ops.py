"""Every activation and loss, forward and backward, against PyTorch and against finite differences.

One table drives it all: each ``Op`` says how to run our forward and backward, how to run
the torch reference, where its inputs live and where its kinks are. The backward is
checked with a *random, non-uniform* upstream gradient: with an all-ones cotangent a
wrong softmax Jacobian (for instance one that forgets the off-diagonal terms) can still
produce the right answer, because its rows sum to the same thing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from fromscratch.matrix import activations, losses

Array = NDArray[np.float64]
Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES


@dataclass(frozen=True)
class Op:
    """One differentiable operation ``z -> out`` and its PyTorch twin.

    ``forward(z, y)`` returns our output (an array, or a 0-d array for a loss);
    ``backward(z, y, g)`` returns our ``dL/dz`` for upstream gradient ``g`` (same shape as
    the output). ``torch_forward(z, y)`` is the reference. ``k`` fixes the number of columns
    (``None``: any number >= 2).
    """

    name: str
    forward: Callable[[Array, NDArray[np.int64]], Array]
    backward: Callable[[Array, NDArray[np.int64], Array], Array]
    torch_forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    domain: tuple[float, float] = (-4.0, 4.0)
    kinks: tuple[float, ...] = ()
    k: int | None = None
    n_classes: int | None = None  # labels are drawn from [0, n_classes or k)


def _activation_op(name: str, torch_fn: Callable[[torch.Tensor], torch.Tensor], **kw: Any) -> Op:
    act = activations.ACTIVATIONS[name]
    return Op(
        name=name,
        forward=lambda z, y: act.forward(z),
        backward=lambda z, y, g: act.backward(g, z, act.forward(z)),
        torch_forward=lambda z, y: torch_fn(z),
        **kw,
    )


def _loss_op(
    name: str, torch_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], **kw: Any
) -> Op:
    fn = losses.LOSSES[name].value_and_gradient
    return Op(
        name=name,
        forward=lambda z, y: np.asarray(fn(z, y)[0]),
        backward=lambda z, y, g: g * fn(z, y)[1],
        torch_forward=torch_fn,
        **kw,
    )


def _torch_mse(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    Y = torch.nn.functional.one_hot(y, z.shape[1]).to(z.dtype)
    return torch.nn.functional.mse_loss(z, Y)


def _torch_bce(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.binary_cross_entropy_with_logits(z, y.to(z.dtype).reshape(-1, 1))


OPS = [
    _activation_op("relu", torch.relu, kinks=(0.0,)),
    _activation_op("sigmoid", torch.sigmoid, domain=(-8.0, 8.0)),
    _activation_op("tanh", torch.tanh),
    _loss_op("cross_entropy", torch.nn.functional.cross_entropy, domain=(-6.0, 6.0)),
    _loss_op("bce", _torch_bce, domain=(-6.0, 6.0), k=1, n_classes=2),
    _loss_op("mse", _torch_mse),
]
OP_IDS = [op.name for op in OPS]


def sample(op: Op, n: int, k: int, seed: int) -> tuple[Array, NDArray[np.int64], Array]:
    """Inputs ``z`` away from the kinks, labels ``y``, and a random upstream gradient ``g``."""
    rng = np.random.default_rng(seed)
    k = op.k if op.k is not None else k
    low, high = op.domain
    z = rng.uniform(low, high, size=(n, k))
    for kink in op.kinks:  # keep finite differences off the non-differentiable points
        close = np.abs(z - kink) < 1e-3
        z[close] = kink + np.where(z[close] >= kink, 2e-3, -2e-3)
    y = rng.integers(0, op.n_classes or k, size=n)
    out_shape = op.forward(z, y).shape
    g = rng.uniform(0.5, 2.0, size=out_shape) * rng.choice([-1.0, 1.0], size=out_shape)
    return z, y, g


def torch_reference(op: Op, z: Array, y: NDArray[np.int64], g: Array) -> tuple[Array, Array]:
    """Torch's forward value and ``dL/dz`` for the upstream gradient ``g``."""
    z_t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    out = op.torch_forward(z_t, torch.from_numpy(y))
    (grad,) = torch.autograd.grad(out, z_t, grad_outputs=torch.tensor(g, dtype=torch.float64))
    return out.detach().numpy(), grad.numpy()


shapes = st.tuples(st.integers(1, 9), st.integers(2, 7), st.integers(0, 2**32 - 1))


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
@settings(max_examples=25, deadline=None)
@given(shape=shapes)
def test_forward_and_backward_match_torch(
    op: Op, shape: tuple[int, int, int], tol: Tolerances
) -> None:
    z, y, g = sample(op, *shape)
    expected_out, expected_grad = torch_reference(op, z, y, g)

    out = op.forward(z, y)
    grad = op.backward(z, y, g)

    np.testing.assert_allclose(out, expected_out, **tol["vs_torch"])
    assert grad.shape == z.shape
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, expected_grad, **tol["vs_torch"])


def central_difference(f: Callable[[Array], float], z: Array, h: float = 1e-6) -> Array:
    """The numerical gradient of the scalar ``f`` at ``z``, one coordinate at a time."""
    grad = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        bump = np.zeros_like(z)
        bump[index] = h
        grad[index] = (f(z + bump) - f(z - bump)) / (2 * h)
    return grad


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
@settings(max_examples=10, deadline=None)
@given(shape=shapes)
def test_backward_matches_central_differences(
    op: Op, shape: tuple[int, int, int], tol: Tolerances
) -> None:
    """No torch: the backward is the derivative of the forward, checked numerically."""
    z, y, g = sample(op, *shape)

    def weighted_output(z: Array) -> float:  # the scalar whose gradient is backward(z, y, g)
        return float(np.sum(g * op.forward(z, y)))

    numeric = central_difference(weighted_output, z)
    np.testing.assert_allclose(op.backward(z, y, g), numeric, **tol["central_difference"])


def test_relu_gradient_at_exactly_zero_is_zero_like_torch() -> None:
    z = np.array([[-1.0, 0.0, 1e-300, -0.0, 2.0]])
    g = np.array([[3.0, 5.0, 7.0, 11.0, 13.0]])
    relu = activations.ACTIVATIONS["relu"]

    ours = relu.backward(g, z, relu.forward(z))
    _, expected = torch_reference(OPS[0], z, np.zeros(1, dtype=np.int64), g)

    np.testing.assert_array_equal(ours, [[0.0, 0.0, 7.0, 0.0, 13.0]])
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_ops_keep_the_dtype(op: Op, dtype: type[np.floating[Any]]) -> None:
    z, y, g = sample(op, 4, 3, seed=0)
    z, g = z.astype(dtype), g.astype(dtype)
    assert op.backward(z, y, g).dtype == dtype
    if op.forward(z, y).ndim:  # activations return arrays; losses return a float
        assert op.forward(z, y).dtype == dtype


def test_sigmoid_and_bce_are_stable_at_extreme_logits(tol: Tolerances) -> None:
    z = np.array([[-1000.0], [1000.0], [-1000.0], [1000.0], [0.0]])
    y = np.array([0, 1, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail here
        s = activations.sigmoid(z)
        L, dL_dz = losses.bce(z, y)
        p = losses.bce_probabilities(z)

    np.testing.assert_array_equal(s[:, 0], [0.0, 1.0, 0.0, 1.0, 0.5])
    expected_L, _ = torch_reference(OPS[4], z, y, np.array(1.0))
    scalar = tol["float64_scalar"]
    assert pytest.approx(float(expected_L), rel=scalar["rtol"], abs=scalar["atol"]) == L
    closed_form = (0 + 0 + 1000 + 1000 + np.log(2)) / 5
    assert pytest.approx(closed_form, rel=scalar["rtol"], abs=scalar["atol"]) == L
    np.testing.assert_allclose(dL_dz[:, 0], [0.0, 0.0, -0.2, 0.2, -0.1], **tol["float64_zero"])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, **tol["float64_exact"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_at_extreme_logits(
    dtype: type[np.floating[Any]], tol: Tolerances
) -> None:
    z = np.array([[1000.0, -1000.0, 0.0], [-5e4, -5e4 + 3.0, -5e4 - 1.0]], dtype=dtype)
    y = np.array([1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L, dL_dz = losses.cross_entropy(z, y)
        P = losses.softmax(z)

    z_t = torch.tensor(z.astype(np.float64))
    expected = torch.nn.functional.cross_entropy(z_t, torch.from_numpy(y)).item()
    assert np.isfinite(L)
    loss_tol = tol["float32_loss_vs_torch"]
    assert pytest.approx(expected, rel=loss_tol["rtol"], abs=loss_tol["atol"]) == L
    assert np.isfinite(dL_dz).all()
    np.testing.assert_allclose(P.sum(axis=1), 1.0, **tol["float32_proba_sum"])


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n(tol: Tolerances) -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 4))
    y = np.array([0, 3, 1, 1, 2])
    _, dL_dz = losses.cross_entropy(z, y)
    expected = (losses.softmax(z) - losses.one_hot(y, 4, np.dtype(np.float64))) / 5
    np.testing.assert_allclose(dL_dz, expected, **tol["float64_identity"])
    # Each row of softmax sums to 1, so each row of dL/dz sums to 0.
    np.testing.assert_allclose(dL_dz.sum(axis=1), 0.0, **tol["float64_zero"])


def test_mse_averages_over_all_entries_like_torch(tol: Tolerances) -> None:
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = np.array([2, 0])
    L, dL_dz = losses.mse(z, y)
    # (1 + 4 + 4 + 1 + 0 + 0) / 6 entries
    assert pytest.approx(10 / 6, rel=tol["mse_value"]["rtol"], abs=tol["mse_value"]["atol"]) == L
    expected = 2 * (z - [[0, 0, 1], [1, 0, 0]]) / 6
    np.testing.assert_allclose(dL_dz, expected, **tol["float64_exact"])

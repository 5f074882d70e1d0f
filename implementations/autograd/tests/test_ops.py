"""Every op of the table (``conftest.OPS``), forward and backward, against torch and alone.

* against torch autograd in float64, with shapes and broadcasting drawn by hypothesis and
  a random, non-uniform upstream gradient (with all ones, a wrong Jacobian whose rows
  sum to the right thing would pass);
* against central differences of our own forward, no torch involved;
* at the exact kink and tie points, where the convention must be torch's;
* with shapes torch refuses: we raise the same exception type.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import fromscratch.autograd as ag

Tolerances = dict[str, dict[str, float]]
Arrays = list[NDArray[Any]]


def ours(
    op: Any, case: Any, arrays: Arrays, g: NDArray[Any] | None = None
) -> tuple[Any, list[Any]]:
    """Our output array and the gradients of the differentiable inputs for upstream ``g``."""
    wanted = op.grad_indices(arrays)
    tensors = [ag.Tensor(a, requires_grad=i in wanted) for i, a in enumerate(arrays)]
    out = op.ours(*tensors, **case.params)
    if g is None:
        return out.detach().numpy(), []
    out.backward(ag.Tensor(g))
    return out.detach().numpy(), [tensors[i].grad.numpy() for i in wanted]


def reference(op: Any, case: Any, arrays: Arrays, g: NDArray[Any]) -> tuple[Any, list[Any]]:
    """Torch's output and ``torch.autograd.grad`` for the same upstream gradient."""
    wanted = op.grad_indices(arrays)
    tensors = [torch.tensor(a, requires_grad=i in wanted) for i, a in enumerate(arrays)]
    out = op.torch(*tensors, **case.params)
    grads = torch.autograd.grad(out, [tensors[i] for i in wanted], grad_outputs=torch.tensor(g))
    return out.detach().numpy(), [grad.numpy() for grad in grads]


def upstream(rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """A random cotangent: every entry its own magnitude in [0.5, 2] and sign."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def test_the_table_names_each_op_once(op_table: list[Any]) -> None:
    names = [op.name for op in op_table]
    assert len(names) == len(set(names))


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_forward_and_backward_match_torch(op: Any, data: st.DataObject, tol: Tolerances) -> None:
    case = data.draw(op.cases, label="case")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    arrays = op.make_inputs(rng, case)
    out, _ = ours(op, case, arrays)
    g = upstream(rng, out.shape)

    out, grads = ours(op, case, arrays, g)
    expected_out, expected_grads = reference(op, case, arrays, g)

    assert out.shape == expected_out.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, expected_out, **tol["vs_torch"])
    for grad, expected, index in zip(grads, expected_grads, op.grad_indices(arrays), strict=True):
        assert grad.shape == arrays[index].shape
        assert grad.dtype == np.float64
        np.testing.assert_allclose(grad, expected, **tol["vs_torch"], err_msg=f"input {index}")


def central_difference(f: Any, arrays: Arrays, index: int, h: float = 1e-6) -> NDArray[np.float64]:
    """The numerical gradient of the scalar ``f(arrays)`` with respect to ``arrays[index]``."""
    grad = np.zeros_like(arrays[index])
    for position in np.ndindex(arrays[index].shape):
        values = []
        for sign in (1.0, -1.0):
            shifted = [a.copy() for a in arrays]
            shifted[index][position] += sign * h
            values.append(f(shifted))
        grad[position] = (values[0] - values[1]) / (2 * h)
    return grad


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_backward_matches_central_differences(
    op: Any, data: st.DataObject, tol: Tolerances
) -> None:
    """No torch: each gradient is the derivative of our own forward, ``sum(g * op(x))``."""
    case = data.draw(op.cases, label="case")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    arrays = op.make_inputs(rng, case)
    out, _ = ours(op, case, arrays)
    g = upstream(rng, out.shape)
    _, grads = ours(op, case, arrays, g)

    def weighted(shifted: Arrays) -> float:
        with ag.no_grad():
            value = op.ours(*(ag.Tensor(a) for a in shifted), **case.params)
        return float(np.sum(g * value.numpy()))

    for grad, index in zip(grads, op.grad_indices(arrays), strict=True):
        numeric = central_difference(weighted, arrays, index)
        np.testing.assert_allclose(grad, numeric, **tol["central_difference"])


def test_exact_kinks_and_ties_follow_torch(kink_op: Any) -> None:
    """At relu(0), |0| and tied maxima the derivative is a convention: torch's, exactly."""
    case, arrays = kink_op.exact
    rng = np.random.default_rng(0)
    out, _ = ours(kink_op, case, arrays)
    g = upstream(rng, out.shape)

    out, grads = ours(kink_op, case, arrays, g)
    expected_out, expected_grads = reference(kink_op, case, arrays, g)

    np.testing.assert_array_equal(out, expected_out)
    for grad, expected in zip(grads, expected_grads, strict=True):
        np.testing.assert_array_equal(grad, expected)


def test_kink_conventions_by_value() -> None:
    """The conventions spelled out: relu'(0) = 0, sign(0) = 0, ties share or pick the first."""
    x = ag.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    x.grad = None
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])

    m = ag.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    m.max().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])
    m.grad = None
    values, indices = m.max(dim=1)
    values.sum().backward()
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(
        indices.numpy(), torch.tensor(m.detach().numpy()).max(dim=1).indices.numpy()
    )


def test_invalid_shapes_raise_what_torch_raises(invalid_call: Any) -> None:
    op, case = invalid_call
    arrays = op.make_inputs(np.random.default_rng(0), case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns before some errors (mse_loss)
        with pytest.raises(Exception) as torch_error:  # noqa: PT011 -- any type, compared below
            op.torch(*(torch.tensor(a) for a in arrays), **case.params)
    with pytest.raises(torch_error.type):
        op.ours(*(ag.Tensor(a) for a in arrays), **case.params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ops_keep_float32_and_float64(op: Any, dtype: type[np.floating[Any]]) -> None:
    """No silent upcast: float32 in, float32 out, and the backward itself computes in float32.

    The engine casts a gradient back to its input's dtype, which would hide an op that
    computes in float64 (twice the memory traffic); so the op's own backward is called
    here, before that cast.
    """
    rng = np.random.default_rng(1)

    @settings(max_examples=3, deadline=None, database=None)
    @given(case=op.cases)
    def check(case: Any) -> None:
        arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in op.make_inputs(rng, case)]
        wanted = op.grad_indices(arrays)
        tensors = [ag.Tensor(a, requires_grad=i in wanted) for i, a in enumerate(arrays)]
        out = op.ours(*tensors, **case.params)
        assert out.dtype == dtype
        g = upstream(rng, out.shape).astype(dtype)
        raw = out._backward(g)
        for i in wanted:  # the op's parents may hold constants too (2.0 - x): match by identity
            positions = [k for k, p in enumerate(out._parents) if p is tensors[i]]
            if not positions:  # an op composed of others: each of those is checked alone
                continue
            grad = raw[positions[0]]
            assert grad is not None, f"input {i}"
            assert grad.dtype == dtype, f"input {i}"

    check()

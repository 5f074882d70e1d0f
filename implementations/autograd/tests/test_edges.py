"""Every op of the table at its edges, against torch in float64: 0-d tensors, size-0
dimensions, ``dim=()`` / negative / repeated / out-of-range dims, ``keepdim``, and integer
and boolean inputs (``conftest.EDGE_CLASSES``).

The rule is the same for every draw: do what torch does. Where torch returns a result
ours has its shape, dtype and values, and the same gradients for a random upstream
gradient; where torch raises, ours raises the same exception type.

CI draws ``CI_EXAMPLES`` cases per op and class (the ``subset`` marker, run by
``nox -s tests``); ``nox -s autograd`` draws ``FULL_EXAMPLES`` (the ``slow`` marker). The
numbers actually drawn are printed at the end of the run.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import fromscratch.autograd as ag

Tolerances = dict[str, dict[str, float]]
Arrays = list[NDArray[Any]]

CI_EXAMPLES = 6
FULL_EXAMPLES = 40
BUDGETS = [
    pytest.param(CI_EXAMPLES, marks=pytest.mark.subset, id="ci"),
    pytest.param(FULL_EXAMPLES, marks=pytest.mark.slow, id="full"),
]


def run_torch(op: Any, case: Any, arrays: Arrays, g: Any) -> tuple[Any, list[Any]]:
    wanted = op.grad_indices(arrays)
    tensors = [torch.tensor(a, requires_grad=i in wanted) for i, a in enumerate(arrays)]
    out = op.torch(*tensors, **case.params)
    if not wanted or not out.requires_grad:
        return out.detach().numpy(), []
    upstream = torch.tensor(g(out.shape)).to(out.dtype)
    grads = torch.autograd.grad(
        out, [tensors[i] for i in wanted], grad_outputs=upstream, allow_unused=True
    )
    return out.detach().numpy(), [
        np.zeros_like(arrays[i]) if grad is None else grad.numpy()
        for grad, i in zip(grads, wanted, strict=True)
    ]


def run_ours(op: Any, case: Any, arrays: Arrays, g: Any) -> tuple[Any, list[Any]]:
    wanted = op.grad_indices(arrays)
    tensors = [ag.Tensor(a, requires_grad=i in wanted) for i, a in enumerate(arrays)]
    out = op.ours(*tensors, **case.params)
    if not wanted or not out.requires_grad:
        return out.detach().numpy(), []
    out.backward(ag.Tensor(g(out.shape).astype(out.dtype)))
    return out.detach().numpy(), [
        np.zeros_like(arrays[i]) if tensors[i].grad is None else tensors[i].grad.numpy()
        for i in wanted
    ]


def assert_same_as_torch(op: Any, case: Any, arrays: Arrays, seed: int, tol: Tolerances) -> str:
    """Our result and gradients against torch's, or torch's exception type; says which."""

    def g(shape: tuple[int, ...]) -> NDArray[np.float64]:
        rng = np.random.default_rng(seed)
        return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)

    if op.torch_gradient_wrong is not None and op.torch_gradient_wrong(case):
        return assert_forward_and_central_differences(op, case, arrays, g, tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns before some results (var with m <= c)
        try:
            expected, expected_grads = run_torch(op, case, arrays, g)
        except Exception as torch_error:
            with pytest.raises(type(torch_error)):
                run_ours(op, case, arrays, g)
            return "raises"
    out, grads = run_ours(op, case, arrays, g)
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype, f"dtype {out.dtype}, torch {expected.dtype}"
    close = tol["vs_torch"] if out.dtype == np.float64 else tol["float32_result"]
    np.testing.assert_allclose(out, expected, **close)
    assert len(grads) == len(expected_grads)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(grad, expected_grad, **tol["vs_torch"])
    return "matches"


def assert_forward_and_central_differences(
    op: Any, case: Any, arrays: Arrays, g: Any, tol: Tolerances
) -> str:
    """Where torch's gradient is wrong: its forward, and our gradient against central
    differences of our own forward (h = 1e-6)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = op.torch(*(torch.tensor(a) for a in arrays), **case.params).numpy()
        out, grads = run_ours(op, case, arrays, g)
    np.testing.assert_allclose(out, expected, **tol["vs_torch"])
    upstream = g(out.shape)
    for grad, index in zip(grads, op.grad_indices(arrays), strict=True):
        numeric = np.zeros_like(arrays[index])
        for position in np.ndindex(arrays[index].shape):
            values = []
            for sign in (1.0, -1.0):
                shifted = [a.copy() for a in arrays]
                shifted[index][position] += sign * 1e-6
                with ag.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value = op.ours(*(ag.Tensor(a) for a in shifted), **case.params).numpy()
                values.append(float(np.sum(upstream * value)))
            numeric[position] = (values[0] - values[1]) / 2e-6
        np.testing.assert_allclose(grad, numeric, **tol["central_difference"])
    return "matches (torch's gradient is wrong here: central differences)"


@pytest.mark.parametrize("budget", BUDGETS)
def test_edge_cases_do_what_torch_does(
    edge_call: Any, budget: int, tol: Tolerances, edge_counts: Counter[str]
) -> None:
    op, edge = edge_call

    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        derandomize=budget == CI_EXAMPLES,  # CI: the same draws every run
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(op.edge_cases(edge), label="case")
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        arrays = op.make_inputs(np.random.default_rng(seed), case)
        outcome = assert_same_as_torch(op, case, arrays, seed, tol)
        edge_counts[f"{edge} ({'full' if budget == FULL_EXAMPLES else 'ci'}): {outcome}"] += 1

    check()


def test_every_op_declares_the_dims_it_takes(op: Any) -> None:
    """An op whose cases pass ``dim``-like or ``keepdim`` parameters must say so, or the
    dims and keepdim classes would silently skip it."""

    @settings(max_examples=10, deadline=None, database=None)
    @given(case=op.cases)
    def check(case: Any) -> None:
        named = {"dim", "dims", "dim0", "dim1"} & set(case.params)
        assert named <= set(op.dims), f"{op.name} takes {sorted(named)}: list them in dims="
        assert "keepdim" not in case.params or op.keepdim, f"{op.name} takes keepdim"

    check()

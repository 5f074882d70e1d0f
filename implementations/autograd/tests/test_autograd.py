"""What the engine promises beyond single ops, each against torch where torch has an answer:
reused nodes, accumulation, ``no_grad``, ``detach``, deep graphs, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fromscratch.autograd as ag

Tolerances = dict[str, dict[str, float]]


def test_a_node_used_twice_gets_both_contributions(tol: Tolerances) -> None:
    """b = a + a; c = b * b: dc/da = 2 * 2b = 8a, element by element, for a random cotangent."""
    rng = np.random.default_rng(0)
    a_np, g = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    a = ag.tensor(a_np, requires_grad=True)
    b = a + a
    (b * b).backward(g)
    a_t = torch.tensor(a_np, requires_grad=True)
    b_t = a_t + a_t
    (b_t * b_t).backward(torch.tensor(g))
    assert a.grad is not None
    assert a_t.grad is not None
    np.testing.assert_allclose(a.grad.numpy(), a_t.grad.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(a.grad.numpy(), 8 * a_np * g, **tol["vs_torch"])


def test_diamond_graph_matches_torch(tol: Tolerances) -> None:
    """x feeds two branches that meet again: both paths' gradients add up at x."""
    rng = np.random.default_rng(1)
    x_np, W_np = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))

    def f(x: ag.Tensor | torch.Tensor, W: ag.Tensor | torch.Tensor) -> ag.Tensor | torch.Tensor:
        h = x @ W
        return (h.tanh() * h.sigmoid() + h.exp() / (1 + x.abs())).sum()

    x, W = ag.tensor(x_np, requires_grad=True), ag.tensor(W_np, requires_grad=True)
    f(x, W).backward()
    x_t, W_t = torch.tensor(x_np, requires_grad=True), torch.tensor(W_np, requires_grad=True)
    f(x_t, W_t).backward()  # type: ignore[union-attr]
    for ours, theirs in ((x, x_t), (W, W_t)):
        assert ours.grad is not None
        assert theirs.grad is not None
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **tol["vs_torch"])


def test_grad_accumulates_over_backward_calls_like_torch(tol: Tolerances) -> None:
    x_np = np.array([1.0, -2.0, 3.0])
    x, x_t = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    for _ in range(2):
        (x * x).sum().backward()
        (x_t * x_t).sum().backward()
    (3 * x).sum().backward()
    (3 * x_t).sum().backward()
    assert x.grad is not None
    assert x_t.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(x.grad.numpy(), 4 * x_np + 3, **tol["vs_torch"])


def test_leaf_grads_are_independent_arrays() -> None:
    """add passes its upstream array through unchanged: two leaves must still get their own."""
    a, b = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(ag.tensor([1.0, 1.0]))
    assert a.grad is not None
    assert b.grad is not None
    a.grad.numpy()[0] = 100.0
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_no_grad_records_nothing() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():
        y = x * 2
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad
    assert y.is_leaf
    assert y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()

    @ag.no_grad()
    def double(t: ag.Tensor) -> ag.Tensor:
        return t * 2

    assert not double(x).requires_grad


def test_detach_shares_data_and_cuts_the_graph() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).detach()
    assert not y.requires_grad
    assert y.is_leaf
    z = (x * y).sum()
    z.backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 6.0])  # y is a constant


def test_leaf_flags_like_torch() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf
    assert not y.is_leaf
    assert y.requires_grad
    assert y.grad_fn == "MulBackward"
    assert ag.tensor([1.0]).is_leaf
    y.retain_grad()
    y.sum().backward()
    assert y.grad is not None
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def test_ten_thousand_op_chain_needs_no_recursion() -> None:
    x = ag.tensor(0.5, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad is not None
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-9)


def test_every_leaf_owns_its_grad() -> None:
    """``add`` hands one upstream array to both parents; each leaf's ``.grad`` is its own."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.tensor([3.0, 4.0], requires_grad=True)
    upstream = np.array([0.5, -1.5], dtype=np.float32)
    (x + y).backward(upstream)
    assert x.grad is not None
    assert y.grad is not None
    x.grad.data *= 10  # what an in-place optimizer step might do to one of them
    np.testing.assert_array_equal(y.grad.numpy(), [0.5, -1.5])
    np.testing.assert_array_equal(upstream, [0.5, -1.5])


def test_backward_errors_like_torch() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x_t = torch.tensor([1.0, 2.0], requires_grad=True)
    calls = [
        (lambda: (x * 2).backward(), lambda: (x_t * 2).backward()),  # non-scalar
        (lambda: ag.tensor([1.0]).sum().backward(), lambda: torch.tensor([1.0]).sum().backward()),
        (
            lambda: (x * 2).backward(ag.ones(3, dtype=np.float32)),
            lambda: (x_t * 2).backward(torch.ones(3)),
        ),
        (
            lambda: ag.tensor([1, 2], requires_grad=True),
            lambda: torch.tensor([1, 2], requires_grad=True),
        ),
        (lambda: x.numpy(), lambda: x_t.numpy()),
        (lambda: (x * 2).item(), lambda: (x_t * 2).item()),
        (lambda: np.asarray(x), lambda: np.asarray(x_t)),
    ]
    for ours, theirs in calls:
        with pytest.raises(Exception) as expected:  # noqa: PT011 -- the type is compared
            theirs()
        with pytest.raises(expected.type):
            ours()


def test_second_backward_through_a_freed_graph_fails_like_torch() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad is not None
    np.testing.assert_array_equal(
        x.grad.numpy(), 2 * 2 * np.array([1.0, 2.0]) + 2 * np.array([1.0, 2.0])
    )


def test_python_floats_do_not_upcast_float32() -> None:
    x = ag.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (2.5 * x - 1.0) / 3.0 + x**2.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad is not None
    assert x.grad.dtype == np.float32


def test_mixed_dtypes_promote_like_torch_and_grads_keep_input_dtype() -> None:
    a = ag.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = ag.tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    c = a * b
    assert c.dtype == (torch.ones(2) * torch.ones(2, dtype=torch.float64)).numpy().dtype
    c.sum().backward()
    assert a.grad is not None
    assert b.grad is not None
    assert a.grad.dtype == np.float32
    assert b.grad.dtype == np.float64


def test_comparisons_give_booleans_without_gradients() -> None:
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_
    assert not mask.requires_grad
    np.testing.assert_array_equal(mask.numpy(), [False, True, True])
    np.testing.assert_array_equal((x == 2.0).numpy(), [False, True, False])
    np.testing.assert_array_equal((x <= 2.0).numpy(), [True, True, False])
    np.testing.assert_array_equal((x != 2.0).numpy(), [True, False, True])


def test_default_dtypes_like_torch() -> None:
    assert ag.tensor([1.0, 2.0]).dtype == np.float32
    assert ag.tensor([1, 2]).dtype == np.int64
    assert ag.tensor(np.array([1.0])).dtype == np.float64
    assert ag.zeros(2, 3).shape == (2, 3)
    assert ag.ones((2,)).dtype == np.float32
    g = np.random.default_rng(0)
    assert ag.randn(3, 4, generator=g).shape == (3, 4)
    assert ag.rand(5, generator=g).numpy().min() >= 0.0


def test_boolean_mask_indexing_gradient() -> None:
    x_np = np.array([[1.0, -2.0], [3.0, -4.0]])
    x, x_t = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (x[x > 0] * 2).sum().backward()
    (x_t[x_t > 0] * 2).sum().backward()
    assert x.grad is not None
    assert x_t.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), x_t.grad.numpy())


def test_numpy_sees_tensors_as_arrays() -> None:
    x = ag.tensor([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    y = np.array([10.0, 20.0]) @ ag.tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    assert isinstance(y, ag.Tensor)
    assert y.requires_grad
    np.testing.assert_array_equal(y.detach().numpy(), [50.0])

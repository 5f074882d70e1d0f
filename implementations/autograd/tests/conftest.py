"""The two tables every autograd test reads: the tolerances and the ops.

Under ``--import-mode=importlib`` a test module cannot import another one (this file
included), so both tables reach the tests through fixtures: ``tol`` (session scoped, which
hypothesis ``@given`` tests accept) and the parametrized ``op``, ``kink_op`` and
``invalid_call`` (generated in :func:`pytest_generate_tests`).

The op table
------------
One :class:`Op` per differentiable operation (tinygrad style): our call, torch's call,
the hypothesis strategy that draws input shapes and parameters (broadcasting included,
minitorch style), the input domain, the kinks (kept away from for the random draws,
visited exactly by ``exact``), and calls torch refuses (we must raise the same type).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pytest
import torch
from hypothesis import strategies as st
from numpy.typing import NDArray

import fromscratch.autograd as ag
from fromscratch.autograd.nn import functional as F

# ----------------------------------------------------------------------------- tolerances

TOLERANCES: Final[dict[str, dict[str, float]]] = {
    # One op, forward or backward, against torch in float64: round-off only.
    "vs_torch": {"rtol": 1e-7, "atol": 1e-10},
    # Central differences with h = 1e-6 in float64: truncation ~h^2, cancellation ~1e-16/h.
    "central_difference": {"rtol": 1e-5, "atol": 1e-7},
    # N optimizer steps against torch.optim in float64: round-off only.
    "optim_float64": {"rtol": 1e-12, "atol": 1e-12},
    # N optimizer steps against torch.optim in float32 (eps ~1.2e-7), with margin.
    "optim_float32": {"rtol": 1e-5, "atol": 1e-6},
    # A whole network (forward, loss, gradients) against torch in float64.
    "network_float64": {"rtol": 1e-9, "atol": 1e-12},
    # A whole network's outputs against torch in float32.
    "network_float32": {"rtol": 1e-4, "atol": 1e-6},
    # A float64 scalar against its closed form (a loss at logits of +-1000, a schedule).
    "float64_scalar": {"rtol": 1e-12, "atol": 1e-12},
    # Sample variance of 120,000 U(-b, b) weights against b^2 / 3: ~8 standard errors.
    "init_variance": {"rtol": 0.02, "atol": 0.0},
}


@pytest.fixture(scope="session")
def tol() -> dict[str, dict[str, float]]:
    """The tolerance table, ``TOLERANCES``."""
    return TOLERANCES


# ----------------------------------------------------------------------------- shapes

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Case:
    """One call of an op: the input shapes and the keyword parameters."""

    shapes: tuple[Shape, ...]
    params: dict[str, Any] = field(default_factory=dict)


sizes = st.integers(1, 4)


def shape(min_ndim: int = 0, max_ndim: int = 3) -> st.SearchStrategy[Shape]:
    return st.lists(sizes, min_size=min_ndim, max_size=max_ndim).map(tuple)


@st.composite
def broadcastable(draw: st.DrawFn, n: int = 2) -> Case:
    """``n`` shapes that broadcast together: a common shape with leading dimensions
    dropped and some sizes turned into 1, independently per operand."""
    full = draw(shape())
    shapes = []
    for _ in range(n):
        drop = draw(st.integers(0, len(full)))
        own = tuple(1 if draw(st.booleans()) else s for s in full[drop:])
        shapes.append(own)
    return Case(tuple(shapes))


def unary(min_ndim: int = 0) -> st.SearchStrategy[Case]:
    return shape(min_ndim).map(lambda s: Case((s,)))


@st.composite
def reduction(draw: st.DrawFn) -> Case:
    s = draw(shape(1))
    ndim = len(s)
    dim = draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
        )
    )
    return Case((s,), {"dim": dim, "keepdim": draw(st.booleans())})


@st.composite
def along_dim(draw: st.DrawFn, keepdim: bool = False) -> Case:
    s = draw(shape(1))
    params: dict[str, Any] = {"dim": draw(st.integers(-len(s), len(s) - 1))}
    if keepdim:
        params["keepdim"] = draw(st.booleans())
    return Case((s,), params)


@st.composite
def matmul_shapes(draw: st.DrawFn) -> Case:
    """Matrix products with NumPy's rules: 1-D operands and broadcast batch dimensions."""
    n, k, m = draw(sizes), draw(sizes), draw(sizes)
    left = draw(st.sampled_from(["vector", "matrix", "batch"]))
    right = draw(st.sampled_from(["vector", "matrix", "batch"]))
    batch = draw(shape(1, 2))
    a = {"vector": (k,), "matrix": (n, k), "batch": (*batch, n, k)}[left]
    b_batch = tuple(1 if draw(st.booleans()) else s for s in batch)
    b = {"vector": (k,), "matrix": (k, m), "batch": (*b_batch, k, m)}[right]
    return Case((a, b))


@st.composite
def reshape_shapes(draw: st.DrawFn) -> Case:
    s = draw(shape(1))
    size = int(np.prod(s))
    target = draw(st.sampled_from([(size,), (-1,), tuple(reversed(s)), (1, size), (-1, s[-1])]))
    return Case((s,), {"shape": target})


@st.composite
def permute_shapes(draw: st.DrawFn) -> Case:
    s = draw(shape(1, 4))
    return Case((s,), {"dims": tuple(draw(st.permutations(range(len(s)))))})


@st.composite
def transpose_shapes(draw: st.DrawFn) -> Case:
    s = draw(shape(2, 4))
    dims = st.integers(-len(s), len(s) - 1)
    return Case((s,), {"dim0": draw(dims), "dim1": draw(dims)})


@st.composite
def basic_index(draw: st.DrawFn) -> Case:
    """Slices (any start, stop, positive step) and integers, dimension by dimension."""
    s = draw(shape(1))
    key: list[Any] = []
    for size in s:
        if draw(st.booleans()):
            key.append(draw(st.integers(-size, size - 1)))
        else:
            start = draw(st.one_of(st.none(), st.integers(-size, size)))
            stop = draw(st.one_of(st.none(), st.integers(-size, size)))
            key.append(slice(start, stop, draw(st.integers(1, 3))))
    return Case((s,), {"key": tuple(key)})


@st.composite
def gather_index(draw: st.DrawFn) -> Case:
    """An integer array index into the first dimension, repeats likely (np.add.at)."""
    s = draw(shape(1))
    index = draw(st.lists(st.integers(-s[0], s[0] - 1), min_size=1, max_size=6))
    return Case((s,), {"key": np.array(index)})


@st.composite
def cat_shapes(draw: st.DrawFn, same: bool = False) -> Case:
    s = draw(shape(1))
    dim = draw(st.integers(-len(s), len(s) - 1))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        own = list(s)
        if not same:
            own[dim] = draw(sizes)
        shapes.append(tuple(own))
    bound = len(s) + 1 if same else len(s)
    return Case(tuple(shapes), {"dim": draw(st.integers(-bound, bound - 1)) if same else dim})


@st.composite
def classification(draw: st.DrawFn, k: int | None = None) -> Case:
    n = draw(st.integers(1, 6))
    k = k if k is not None else draw(st.integers(2, 5))
    return Case(((n, k), (n,)), {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))})


@st.composite
def pairs_same_shape(draw: st.DrawFn) -> Case:
    s = draw(shape(1))
    return Case((s, s), {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))})


@st.composite
def linear_shapes(draw: st.DrawFn) -> Case:
    lead = draw(shape(1, 2))
    n_in, n_out = draw(sizes), draw(sizes)
    return Case(((*lead, n_in), (n_out, n_in), (n_out,)))


# ----------------------------------------------------------------------------- inputs

Arrays = list[NDArray[Any]]


def uniform(rng: np.random.Generator, s: Shape, low: float, high: float) -> NDArray[np.float64]:
    return np.asarray(rng.uniform(low, high, size=s), dtype=np.float64)


def away_from_zero(rng: np.random.Generator, s: Shape) -> NDArray[np.float64]:
    """Entries in +-[0.5, 2]: safe denominators."""
    return np.asarray(uniform(rng, s, 0.5, 2.0) * rng.choice([-1.0, 1.0], size=s))


def labels_input(rng: np.random.Generator, case: Case) -> Arrays:
    logits, targets = case.shapes
    return [uniform(rng, logits, -4, 4), rng.integers(0, logits[-1], size=targets)]


def probabilities_input(rng: np.random.Generator, case: Case) -> Arrays:
    (s, t) = case.shapes
    return [uniform(rng, s, 0.05, 0.95), uniform(rng, t, 0.0, 1.0)]


def logits_input(rng: np.random.Generator, case: Case) -> Arrays:
    (s, t) = case.shapes
    return [uniform(rng, s, -4, 4), uniform(rng, t, 0.0, 1.0)]


def quotient_input(rng: np.random.Generator, case: Case) -> Arrays:
    a, b = case.shapes
    return [uniform(rng, a, -2, 2), away_from_zero(rng, b)]


def power_input(rng: np.random.Generator, case: Case) -> Arrays:
    a, b = case.shapes
    return [uniform(rng, a, 0.5, 2.0), uniform(rng, b, -2, 2)]


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Op:
    """One op: ours and torch's, where its inputs live, its kinks, its invalid calls."""

    name: str
    ours: Callable[..., Any]
    torch: Callable[..., Any]
    cases: st.SearchStrategy[Case]
    domain: tuple[float, float] = (-2.0, 2.0)
    kinks: tuple[float, ...] = ()
    inputs: Callable[[np.random.Generator, Case], Arrays] | None = None
    differentiable: tuple[int, ...] | None = None
    """Indices of the inputs that get gradients; default: every floating input."""
    exact: tuple[Case, Arrays] | None = None
    """Inputs sitting exactly on kinks or ties, compared with torch as they are."""
    invalid: tuple[Case, ...] = ()
    """Calls torch refuses; ours must raise the same exception type."""

    def make_inputs(self, rng: np.random.Generator, case: Case) -> Arrays:
        if self.inputs is not None:
            return self.inputs(rng, case)
        arrays = []
        for s in case.shapes:
            x = uniform(rng, s, *self.domain)
            for kink in self.kinks:  # central differences must not straddle a kink
                close = np.abs(x - kink) < 1e-3
                x[close] = kink + np.where(x[close] >= kink, 2e-3, -2e-3)
            arrays.append(x)
        return arrays

    def grad_indices(self, arrays: Arrays) -> tuple[int, ...]:
        if self.differentiable is not None:
            return self.differentiable
        return tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")


def _all_dims(x: Any, dim: Any) -> Any:
    """torch spells "every dimension" as the tuple of all of them when keepdim is given."""
    return tuple(range(x.ndim)) if dim is None else dim


def _max_values(x: Any, dim: int, keepdim: bool) -> Any:
    return x.max(dim, keepdim).values


def _torch_bce_logits(z: Any, t: Any, reduction: str) -> Any:
    return torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction=reduction)


two = Case(((2, 3), (4,)))  # shapes that do not broadcast
TF = torch.nn.functional

OPS: Final[list[Op]] = [
    # arithmetic, broadcasting
    Op("add", lambda a, b: a + b, lambda a, b: a + b, broadcastable(), invalid=(two,)),
    Op("sub", lambda a, b: a - b, lambda a, b: a - b, broadcastable(), invalid=(two,)),
    Op("mul", lambda a, b: a * b, lambda a, b: a * b, broadcastable(), invalid=(two,)),
    Op("div", lambda a, b: a / b, lambda a, b: a / b, broadcastable(), inputs=quotient_input),
    Op("pow", lambda a, b: a**b, lambda a, b: a**b, broadcastable(), inputs=power_input),
    Op("neg", lambda x: -x, lambda x: -x, unary()),
    # with Python scalars, reflected
    Op("add_scalar", lambda x: 1.5 + x, lambda x: 1.5 + x, unary()),
    Op("rsub_scalar", lambda x: 2.5 - x, lambda x: 2.5 - x, unary()),
    Op("mul_scalar", lambda x: x * -3.0, lambda x: x * -3.0, unary()),
    Op("rdiv_scalar", lambda x: 2.0 / x, lambda x: 2.0 / x, unary(), domain=(0.5, 2.0)),
    Op("pow_int", lambda x: x**3, lambda x: x**3, unary()),
    Op("pow_half", lambda x: x**0.5, lambda x: x**0.5, unary(), domain=(0.2, 3.0)),
    Op("rpow_scalar", lambda x: 2.0**x, lambda x: 2.0**x, unary()),
    # with arrays on the left: numpy must defer to the tensor
    Op(
        "radd_array",
        lambda x: np.full(x.shape, 0.5, dtype=x.dtype) + x,
        lambda x: torch.full(x.shape, 0.5, dtype=x.dtype) + x,
        unary(),
    ),
    # element-wise functions
    Op("exp", lambda x: x.exp(), torch.exp, unary()),
    Op("log", lambda x: x.log(), torch.log, unary(), domain=(0.1, 3.0)),
    Op("sqrt", lambda x: x.sqrt(), torch.sqrt, unary(), domain=(0.1, 3.0)),
    Op(
        "abs",
        lambda x: x.abs(),
        torch.abs,
        unary(),
        kinks=(0.0,),
        exact=(Case(((6,),)), [np.array([-1.0, 0.0, -0.0, 2.0, 0.0, -3.0])]),
    ),
    Op("tanh", lambda x: x.tanh(), torch.tanh, unary(), domain=(-3.0, 3.0)),
    Op("sigmoid", lambda x: x.sigmoid(), torch.sigmoid, unary(), domain=(-6.0, 6.0)),
    Op(
        "relu",
        lambda x: x.relu(),
        torch.relu,
        unary(),
        kinks=(0.0,),
        exact=(Case(((6,),)), [np.array([-1.0, 0.0, -0.0, 2.0, 1e-300, -3.0])]),
    ),
    # reductions
    Op(
        "sum",
        lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim),
        lambda x, dim, keepdim: x.sum(dim=_all_dims(x, dim), keepdim=keepdim),
        reduction(),
        invalid=(Case(((2, 3),), {"dim": 2, "keepdim": False}),),
    ),
    Op(
        "mean",
        lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim),
        lambda x, dim, keepdim: x.mean(dim=_all_dims(x, dim), keepdim=keepdim),
        reduction(),
        invalid=(Case(((2, 3),), {"dim": -3, "keepdim": True}),),
    ),
    Op(
        "max",
        lambda x: x.max(),
        lambda x: x.max(),
        unary(1),
        # ties: torch shares the gradient equally among the maxima
        exact=(Case(((2, 3),)), [np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]])]),
    ),
    Op(
        "max_dim",
        _max_values,
        _max_values,
        along_dim(keepdim=True),
        # ties: the gradient goes to the index returned, the first maximum
        exact=(
            Case(((2, 3),), {"dim": 1, "keepdim": False}),
            [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])],
        ),
        invalid=(Case(((2, 3),), {"dim": 2, "keepdim": False}),),
    ),
    # linear algebra
    Op(
        "matmul",
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        matmul_shapes(),
        invalid=(Case(((2, 3), (2, 3))), Case(((3,), (4,))), Case(((2, 3), (4,)))),
    ),
    # shapes
    Op(
        "reshape",
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
        reshape_shapes(),
        invalid=(Case(((2, 3),), {"shape": (4,)}),),
    ),
    Op(
        "view",
        lambda x, shape: x.view(*shape),
        lambda x, shape: x.view(*shape),
        reshape_shapes(),
        invalid=(Case(((2, 3),), {"shape": (5, -1)}),),
    ),
    Op(
        "transpose",
        lambda x, dim0, dim1: x.transpose(dim0, dim1),
        lambda x, dim0, dim1: x.transpose(dim0, dim1),
        transpose_shapes(),
        invalid=(Case(((2, 3),), {"dim0": 0, "dim1": 2}),),
    ),
    Op(
        "permute",
        lambda x, dims: x.permute(*dims),
        lambda x, dims: x.permute(*dims),
        permute_shapes(),
        invalid=(Case(((2, 3),), {"dims": (0, 0)}), Case(((2, 3),), {"dims": (0,)})),
    ),
    Op("T", lambda x: x.T, lambda x: x.T, shape(2, 2).map(lambda s: Case((s,)))),
    Op(
        "getitem",
        lambda x, key: x[key],
        lambda x, key: x[key],
        basic_index(),
        invalid=(Case(((2, 3),), {"key": (5,)}),),
    ),
    Op(
        "getitem_repeated",
        lambda x, key: x[ag.tensor(key)],
        lambda x, key: x[torch.from_numpy(key)],
        gather_index(),
        invalid=(Case(((2, 3),), {"key": np.array([0, 2])}),),
    ),
    Op(
        "cat",
        lambda *xs, dim: ag.cat(xs, dim=dim),
        lambda *xs, dim: torch.cat(xs, dim=dim),
        cat_shapes(),
        invalid=(Case(((2, 3), (2, 4)), {"dim": 0}),),
    ),
    Op(
        "stack",
        lambda *xs, dim: ag.stack(xs, dim=dim),
        lambda *xs, dim: torch.stack(xs, dim=dim),
        cat_shapes(same=True),
        invalid=(Case(((2, 3), (2, 4)), {"dim": 0}),),
    ),
    # neural-network functions, fused
    Op("linear", F.linear, TF.linear, linear_shapes(), invalid=(Case(((2, 3), (4, 2), (4,))),)),
    Op("softmax", F.softmax, TF.softmax, along_dim(), domain=(-4.0, 4.0)),
    Op("log_softmax", F.log_softmax, TF.log_softmax, along_dim(), domain=(-4.0, 4.0)),
    Op(
        "cross_entropy",
        F.cross_entropy,
        TF.cross_entropy,
        classification(),
        inputs=labels_input,
        invalid=(Case(((2, 3), (3,)), {"reduction": "mean"}),),
    ),
    Op(
        "binary_cross_entropy",
        F.binary_cross_entropy,
        TF.binary_cross_entropy,
        pairs_same_shape(),
        inputs=probabilities_input,
        differentiable=(0,),  # torch has no gradient for the target here
    ),
    Op(
        "binary_cross_entropy_with_logits",
        F.binary_cross_entropy_with_logits,
        _torch_bce_logits,
        pairs_same_shape(),
        inputs=logits_input,
    ),
    Op(
        "mse_loss",
        F.mse_loss,
        TF.mse_loss,
        pairs_same_shape(),
        invalid=(Case(((2, 3), (2, 4)), {"reduction": "mean"}),),
    ),
]


@pytest.fixture(scope="session")
def op_table() -> list[Op]:
    """The op table itself, ``OPS``."""
    return OPS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``op`` over the table, ``kink_op`` over its entries with exact kink
    inputs, and ``invalid_call`` over every (op, refused case) pair."""
    if "op" in metafunc.fixturenames:
        metafunc.parametrize("op", OPS, ids=[op.name for op in OPS])
    if "kink_op" in metafunc.fixturenames:
        kinked = [op for op in OPS if op.exact is not None]
        metafunc.parametrize("kink_op", kinked, ids=[op.name for op in kinked])
    if "invalid_call" in metafunc.fixturenames:
        calls = [(op, case) for op in OPS for case in op.invalid]
        ids = [f"{op.name}-{'x'.join(map(str, case.shapes))}" for op, case in calls]
        metafunc.parametrize("invalid_call", calls, ids=ids)

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

import math
from collections import Counter
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
from fromscratch.conformance.tolerances import TOLERANCES as SUITE

# ----------------------------------------------------------------------------- tolerances

TOLERANCES: Final[dict[str, dict[str, float]]] = {
    # The suite's bound, for the same measurement: one op, forward or backward, against
    # torch in float64 (conformance tolerances.py says why).
    "vs_torch": {"rtol": SUITE["gradient_vs_torch"].rtol, "atol": SUITE["gradient_vs_torch"].atol},
    # Bounds only these tests use, each stricter than or apart from the suite's.
    # A float32 result (an integer input made floating, as torch does): round-off of float32.
    "float32_result": {"rtol": 1e-6, "atol": 1e-7},
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
    """One call of an op: the input shapes, the keyword parameters, and the input dtypes
    (empty: every input as the op's inputs make it, float64 unless they say otherwise)."""

    shapes: tuple[Shape, ...]
    params: dict[str, Any] = field(default_factory=dict)
    dtypes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Space:
    """Where a draw's shapes come from: ordinary sizes 1 to 4, or one edge class.

    Every case strategy below takes a space, so that the same strategy draws the
    ordinary cases and the 0-d and size-0 edge classes.
    """

    name: str
    low: int = 1
    high: int = 4
    zero_d: bool = False
    """Every shape is ``()``, whatever the op expects: torch decides what is valid."""
    empty: bool = False
    """Sizes from 0, and every shape drawn by :meth:`shape` has a dimension of size 0."""

    def sizes(self) -> st.SearchStrategy[int]:
        return st.integers(self.low, self.high)

    def shape(self, min_ndim: int = 0, max_ndim: int = 3) -> st.SearchStrategy[Shape]:
        if self.zero_d:
            return st.just(())
        plain = st.lists(self.sizes(), min_size=min_ndim, max_size=max_ndim).map(tuple)
        if not self.empty:
            return plain
        nonempty = st.lists(self.sizes(), min_size=max(min_ndim, 1), max_size=max(max_ndim, 1))
        return st.tuples(nonempty, st.integers(0, 3)).map(
            lambda drawn: tuple(
                0 if i == drawn[1] % len(drawn[0]) else n for i, n in enumerate(drawn[0])
            )
        )


ORDINARY = Space("ordinary")
ZERO_D = Space("0-d", zero_d=True)
SIZE_0 = Space("size-0", low=0, high=3, empty=True)

Cases = Callable[[Space], st.SearchStrategy[Case]]


@st.composite
def broadcastable(draw: st.DrawFn, space: Space, n: int = 2) -> Case:
    """``n`` shapes that broadcast together: a common shape with leading dimensions
    dropped and some sizes turned into 1, independently per operand."""
    full = draw(space.shape())
    shapes = []
    for _ in range(n):
        drop = draw(st.integers(0, len(full)))
        own = tuple(1 if draw(st.booleans()) and s else s for s in full[drop:])
        shapes.append(own)
    return Case(tuple(shapes))


def unary(space: Space, min_ndim: int = 0) -> st.SearchStrategy[Case]:
    return space.shape(min_ndim).map(lambda s: Case((s,)))


def dim_of(ndim: int) -> st.SearchStrategy[int]:
    """A valid dim of a tensor with ``ndim`` dimensions (0-d tensors accept 0 and -1)."""
    return st.integers(-max(ndim, 1), max(ndim, 1) - 1)


@st.composite
def reduction(draw: st.DrawFn, space: Space, correction: bool = False) -> Case:
    s = draw(space.shape(1))
    ndim = len(s)
    dim = draw(
        st.one_of(
            st.none(),
            dim_of(ndim),
            st.lists(
                st.integers(0, max(ndim - 1, 0)), min_size=1, max_size=max(ndim, 1), unique=True
            ).map(tuple),
        )
    )
    params = {"dim": dim, "keepdim": draw(st.booleans())}
    if correction:
        params["correction"] = draw(st.sampled_from([0, 1, 2, 0.5]))
    return Case((s,), params)


@st.composite
def along_dim(draw: st.DrawFn, space: Space, keepdim: bool = False) -> Case:
    s = draw(space.shape(1))
    params: dict[str, Any] = {"dim": draw(dim_of(len(s)))}
    if keepdim:
        params["keepdim"] = draw(st.booleans())
    return Case((s,), params)


@st.composite
def matmul_shapes(draw: st.DrawFn, space: Space) -> Case:
    """Matrix products with NumPy's rules: 1-D operands and broadcast batch dimensions."""
    if space.zero_d:
        return Case(((), draw(st.sampled_from([(), (3,), (2, 3)]))))
    n, k, m = draw(space.sizes()), draw(space.sizes()), draw(space.sizes())
    left = draw(st.sampled_from(["vector", "matrix", "batch"]))
    right = draw(st.sampled_from(["vector", "matrix", "batch"]))
    batch = draw(space.shape(1, 2))
    a = {"vector": (k,), "matrix": (n, k), "batch": (*batch, n, k)}[left]
    b_batch = tuple(1 if draw(st.booleans()) and s else s for s in batch)
    b = {"vector": (k,), "matrix": (k, m), "batch": (*b_batch, k, m)}[right]
    return Case((a, b))


@st.composite
def reshape_shapes(draw: st.DrawFn, space: Space) -> Case:
    s = draw(space.shape(1))
    size = int(np.prod(s))
    last = s[-1] if s else 1
    target = draw(st.sampled_from([(size,), (-1,), tuple(reversed(s)), (1, size), (-1, last)]))
    if size == 0 and target == (-1, 0):
        target = (0, -1, 1)  # -1 next to a 0 is ambiguous: torch refuses it, we test that elsewhere
    return Case((s,), {"shape": target})


@st.composite
def permute_shapes(draw: st.DrawFn, space: Space) -> Case:
    s = draw(space.shape(1, 4))
    return Case((s,), {"dims": tuple(draw(st.permutations(range(len(s)))))})


@st.composite
def transpose_shapes(draw: st.DrawFn, space: Space) -> Case:
    s = draw(space.shape(2, 4))
    dims = dim_of(len(s))
    return Case((s,), {"dim0": draw(dims), "dim1": draw(dims)})


@st.composite
def basic_index(draw: st.DrawFn, space: Space) -> Case:
    """Slices (any start, stop, positive step) and integers, dimension by dimension."""
    s = draw(space.shape(1))
    key: list[Any] = []
    for size in s:
        if draw(st.booleans()) and size:
            key.append(draw(st.integers(-size, size - 1)))
        else:
            start = draw(st.one_of(st.none(), st.integers(-size, size)))
            stop = draw(st.one_of(st.none(), st.integers(-size, size)))
            key.append(slice(start, stop, draw(st.integers(1, 3))))
    return Case((s,), {"key": tuple(key)})


@st.composite
def gather_index(draw: st.DrawFn, space: Space) -> Case:
    """An integer array index into the first dimension, repeats likely (np.add.at)."""
    s = draw(space.shape(1))
    first = s[0] if s else 1
    index = draw(st.lists(st.integers(-first, max(first - 1, 0)), min_size=1, max_size=6))
    return Case((s,), {"key": np.array(index)})


@st.composite
def cat_shapes(draw: st.DrawFn, space: Space, same: bool = False) -> Case:
    s = draw(space.shape(1))
    dim = draw(dim_of(len(s)))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        own = list(s)
        if not same and own:
            own[dim] = draw(space.sizes())
        shapes.append(tuple(own))
    bound = len(s) + 1 if same else len(s)
    return Case(tuple(shapes), {"dim": draw(dim_of(bound)) if same else dim})


@st.composite
def classification(draw: st.DrawFn, space: Space) -> Case:
    """Logits (N, C), (N, C, d...) or unbatched (C,), against labels or probabilities."""
    params: dict[str, Any] = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    logits = draw(space.shape(1, 4))
    if len(logits) == 1 and not space.zero_d:
        labels: Shape = ()
    else:
        labels = logits[:1] + logits[2:]
    if draw(st.booleans()):
        params["target"] = "probabilities"
        labels = logits
    return Case((logits, labels), params)


@st.composite
def cross_entropy_options(draw: st.DrawFn, space: Space) -> Case:
    """:func:`classification` with class weights, ``ignore_index`` and label smoothing."""
    case = draw(classification(space))
    params = dict(case.params)
    classes = (
        case.shapes[0][1] if len(case.shapes[0]) > 1 else case.shapes[0][0] if case.shapes[0] else 1
    )
    if draw(st.booleans()):
        params["weight"] = classes
    if draw(st.booleans()):
        params["label_smoothing"] = draw(st.sampled_from([0.1, 0.25, 1.0]))
    if draw(st.booleans()) and params.get("target") != "probabilities" and classes > 1:
        params["ignore_index"] = draw(st.integers(0, max(classes - 1, 0)))
    return Case(case.shapes, params)


@st.composite
def pairs_same_shape(draw: st.DrawFn, space: Space) -> Case:
    s = draw(space.shape(1))
    return Case((s, s), {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))})


@st.composite
def linear_shapes(draw: st.DrawFn, space: Space) -> Case:
    lead = draw(space.shape(1, 2))
    n_in, n_out = draw(space.sizes()), draw(space.sizes())
    if space.zero_d:
        return Case(((), (n_out, n_in), (n_out,)))
    return Case(((*lead, n_in), (n_out, n_in), (n_out,)))


@st.composite
def clamp_bounds(draw: st.DrawFn, space: Space) -> Case:
    """Bounds as numbers, one side missing, or tensors that broadcast to the input."""
    s = draw(space.shape())
    kind = draw(st.sampled_from(["numbers", "min only", "max only", "tensors"]))
    if kind == "tensors":
        bounds = [s[draw(st.integers(0, len(s))) :] for _ in range(2)]
        return Case((s, *(tuple(1 if draw(st.booleans()) else n for n in b) for b in bounds)))
    low, high = draw(st.sampled_from([(-0.5, 0.7), (-1.0, 1.0), (0.25, 0.3)]))
    params = {
        "min": None if kind == "max only" else low,
        "max": None if kind == "min only" else high,
    }
    return Case((s,), params)


def over_no_dims(case: Case) -> bool:
    """``dim=()``: torch's var and std reduce over every entry but their backward divides
    by :math:`1 - c` (the size of no dims) instead of :math:`m - c`."""
    return case.params.get("dim") in ((), [])


def more_entries_than_correction(case: Case) -> bool:
    """var and std over m entries with correction c are finite only for m > c."""
    (s,) = case.shapes
    dim = case.params["dim"]
    dims = range(len(s)) if dim is None else (dim,) if isinstance(dim, int) else dim
    return math.prod(s[d] if s else 1 for d in dims) > case.params["correction"]


@st.composite
def where_shapes(draw: st.DrawFn, space: Space) -> Case:
    """Condition, input and other, broadcasting; the condition is drawn as a mask."""
    case = draw(broadcastable(space, 3))
    return Case(case.shapes, {}, ("bool", "float64", "float64"))


@st.composite
def masked_fill_shapes(draw: st.DrawFn, space: Space) -> Case:
    s = draw(space.shape())
    mask = s[draw(st.integers(0, len(s))) :]
    value = draw(st.sampled_from([-1.5, 0.0, 2.0, "tensor"]))
    if value == "tensor":  # a 0-d tensor value, which gets a gradient
        return Case((s, mask, ()), {}, ("float64", "bool", "float64"))
    return Case((s, mask), {"value_kind": value}, ("float64", "bool"))


@st.composite
def gather_shapes(draw: st.DrawFn, space: Space) -> Case:
    """``index`` of the input's rank, no larger outside ``dim``; drawn as an int64 input."""
    s = draw(space.shape(1))
    dim = draw(dim_of(len(s)))
    axis = dim % max(len(s), 1)
    index = tuple(
        draw(st.integers(space.low, 4)) if d == axis else draw(st.integers(min(space.low, n), n))
        for d, n in enumerate(s)
    )
    return Case((s, index), {"dim": dim}, ("float64", "index"))


@st.composite
def triangle_shapes(draw: st.DrawFn, space: Space) -> Case:
    return Case((draw(space.shape(2, 4)),), {"diagonal": draw(st.integers(-3, 3))})


@st.composite
def pad_shapes(draw: st.DrawFn, space: Space) -> Case:
    """Pads for up to every dimension, negative ones (crops) included, and a fill value."""
    s = draw(space.shape(1))
    k = draw(st.integers(1, max(len(s), 1)))
    amounts = []
    for d in range(k):
        size = s[-1 - d] if d < len(s) else 1
        left = draw(st.integers(-size // 2, 3))
        amounts += [left, draw(st.integers(-((size + min(left, 0)) // 2), 3))]
    return Case((s,), {"pad": tuple(amounts), "value": draw(st.sampled_from([None, 0.0, -1.5]))})


EINSUMS = (
    ("ij,jk->ik", 2),  # matrix product
    ("ij->ji", 1),  # transpose
    ("ij->", 1),  # sum of everything
    ("ij->j", 1),  # column sums
    ("ii->i", 1),  # diagonal
    ("ii", 1),  # trace, implicit output
    ("i,i->", 2),  # dot product
    ("i,j->ij", 2),  # outer product
    ("bij,bjk->bik", 2),  # batched matrix product
    ("ijk,ik->j", 2),
    ("ij,jk,kl->il", 3),  # a chain of three
    ("iij,jk->ik", 2),  # a diagonal inside a product
)


@st.composite
def einsum_shapes(draw: st.DrawFn, space: Space) -> Case:
    equation, n = draw(st.sampled_from(EINSUMS))
    if space.zero_d:
        return Case(((),) * n, {"equation": equation})
    letters = {c: draw(space.sizes()) for c in equation if c.isalpha()}
    if space.empty and 0 not in letters.values():
        letters[draw(st.sampled_from(sorted(letters)))] = 0
    subscripts = equation.partition("->")[0].split(",")
    return Case(tuple(tuple(letters[c] for c in sub) for sub in subscripts), {"equation": equation})


# ------------------------------------------------------------------- images (issue 13)


def image_shape(draw: st.DrawFn, space: Space, channels: int, rows: int, cols: int) -> Shape:
    """(N, C, H, W), or unbatched (C, H, W) now and then; the size-0 class empties N."""
    n = 0 if space.empty else draw(space.sizes())
    if not space.empty and draw(st.integers(0, 4)) == 0:
        return (channels, rows, cols)
    return (n, channels, rows, cols)


def least_size(kernel: int, padding: int, dilation: int) -> int:
    """The smallest image side a (dilated) kernel fits into once padded."""
    return max(1, dilation * (kernel - 1) + 1 - 2 * padding)


@st.composite
def conv_shapes(draw: st.DrawFn, space: Space) -> Case:
    """Input, weight and (mostly) bias of a convolution; kernels 1 to 3, strides 1 and 2,
    padding 0 to 2, dilation 1 and 2, per axis or both."""
    stride = draw(st.sampled_from([1, 2, (1, 2), (2, 1)]))
    padding = draw(st.sampled_from([0, 1, 2, (0, 1), (2, 0)]))
    dilation = draw(st.sampled_from([1, 1, 2, (1, 2)]))
    params = {"stride": stride, "padding": padding, "dilation": dilation}
    bias = draw(st.integers(0, 3)) > 0
    if space.zero_d:
        return Case(((), (), ()) if bias else ((), ()), params)
    c, o = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kH, kW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    p = padding if isinstance(padding, tuple) else (padding, padding)
    d = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    rows = draw(st.integers(least_size(kH, p[0], d[0]), 7))
    cols = draw(st.integers(least_size(kW, p[1], d[1]), 7))
    x = image_shape(draw, space, c, rows, cols)
    return Case((x, (o, c, kH, kW), (o,)) if bias else (x, (o, c, kH, kW)), params)


@st.composite
def pool_shapes(draw: st.DrawFn, space: Space, average: bool = False) -> Case:
    """One image batch and a pooling window: kernels 1 to 3, stride None (the kernel), 1
    or 2, padding up to half the kernel (torch's limit), dilation for max pooling."""
    kernel = draw(st.sampled_from([1, 2, 3, (2, 3), (3, 1)]))
    stride = draw(st.sampled_from([None, 1, 2, (1, 2)]))
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    d = (1, 1) if average else draw(st.sampled_from([(1, 1), (2, 2), (1, 2)]))
    # Padding with dilation could make a window of padding only: its maximum is -inf and
    # torch sends its gradient to an arbitrary pixel. Not a case worth matching.
    p = tuple(0 if d[a] > 1 else draw(st.integers(0, k[a] // 2)) for a in (0, 1))
    params: dict[str, Any] = {"kernel_size": kernel, "stride": stride, "padding": p}
    if average:
        params["count_include_pad"] = draw(st.booleans())
        params["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    else:
        params["dilation"] = d
    if space.zero_d:
        return Case(((),), params)
    rows = draw(st.integers(least_size(k[0], p[0], d[0]), 7))
    cols = draw(st.integers(least_size(k[1], p[1], d[1]), 7))
    return Case((image_shape(draw, space, draw(st.integers(1, 3)), rows, cols),), params)


@st.composite
def batch_norm_shapes(draw: st.DrawFn, space: Space) -> Case:
    """(N, C), (N, C, L) or (N, C, H, W) with gamma and beta (or neither), in training
    (more than one value per channel, as torch requires) or evaluation."""
    params = {
        "training": draw(st.booleans()),
        "momentum": draw(st.sampled_from([0.1, 0.5])),
        "eps": draw(st.sampled_from([1e-5, 1e-3])),
    }
    affine = draw(st.integers(0, 3)) > 0
    if space.zero_d:
        return Case(((), (), ()) if affine else ((),), params)
    s = draw(space.shape(2, 4))
    if space.empty:
        s = (0, *s[1:])
    elif params["training"] and math.prod(s) // s[1] < 2:
        s = (s[0] + 1, *s[1:])
    return Case((s, (s[1],), (s[1],)) if affine else (s,), params)


@st.composite
def dropout_shapes(draw: st.DrawFn, space: Space) -> Case:
    """Any shape, p from 0 to 1, and the seed of the mask's generator."""
    params = {
        "p": draw(st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0])),
        "seed": draw(st.integers(0, 99)),
    }
    return Case((draw(space.shape()),), params)


@st.composite
def flatten_shapes(draw: st.DrawFn, space: Space) -> Case:
    """Any shape, and a start and end dimension (counted from either end) in order."""
    s = draw(space.shape(0, 4))
    n = max(len(s), 1)
    start = draw(st.integers(0, n - 1))
    end = draw(st.integers(start, n - 1))
    if draw(st.booleans()):
        start -= n
    if draw(st.booleans()):
        end -= n
    return Case((s,), {"start_dim": start, "end_dim": end})


@st.composite
def unflatten_shapes(draw: st.DrawFn, space: Space) -> Case:
    """A dimension split into two factors of its size (one maybe spelled -1)."""
    s = draw(space.shape(1, 3))
    dim = draw(dim_of(len(s)))
    size = s[dim % len(s)] if s else 1
    first = draw(st.sampled_from([n for n in range(1, size + 1) if size % n == 0] or [1]))
    sizes = (first, size // first if size else 0)
    if size and draw(st.booleans()):
        sizes = (first, -1)
    return Case((s,), {"dim": dim, "sizes": sizes})


@st.composite
def split_shapes(draw: st.DrawFn, space: Space) -> Case:
    """A split size, or sections that add up to the size of ``dim``."""
    s = draw(space.shape(1))
    dim = draw(dim_of(len(s)))
    size = s[dim] if s else 1
    if draw(st.booleans()) or not s:
        return Case((s,), {"split": draw(st.integers(1, 4)), "dim": dim})
    cuts = sorted(draw(st.lists(st.integers(0, size), max_size=3)))
    sections = [b - a for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    return Case((s,), {"split": sections, "dim": dim})


@st.composite
def chunk_shapes(draw: st.DrawFn, space: Space) -> Case:
    s = draw(space.shape(1))
    return Case((s,), {"chunks": draw(st.integers(1, 4)), "dim": draw(dim_of(len(s)))})


@st.composite
def embedding_shapes(draw: st.DrawFn, space: Space) -> Case:
    """Token ids of any shape and a table (V, d); ids repeat often (np.add.at)."""
    ids = draw(space.shape(0, 2))
    if space.zero_d:
        return Case(((), ()), {}, ("index", "float64"))
    return Case((ids, (draw(space.sizes()), draw(space.sizes()))), {}, ("index", "float64"))


@st.composite
def layer_norm_shapes(draw: st.DrawFn, space: Space) -> Case:
    """The input, then weight and bias of its last one or two dimensions."""
    s = draw(space.shape(1, 3))
    k = draw(st.integers(1, max(min(len(s), 2), 1)))
    normalized = s[len(s) - k :] if s else ()
    return Case((s, normalized, normalized), {"normalized_shape": normalized})


@st.composite
def attention_shapes(draw: st.DrawFn, space: Space) -> Case:
    """Queries (..., L, d), keys (..., S, d), values (..., S, dv); causal, or a float mask
    (L, S) as a fourth input, which gets a gradient too."""
    if space.zero_d:
        return Case(((), (), ()), {"is_causal": False})
    lead = draw(space.shape(0, 2))
    L, S, d, dv = (draw(space.sizes()) for _ in range(4))
    shapes = ((*lead, L, d), (*lead, S, d), (*lead, S, dv))
    if draw(st.booleans()):
        return Case(shapes, {"is_causal": True})
    return Case((*shapes, (L, S)), {"is_causal": False})


# ----------------------------------------------------------------------------- inputs

Arrays = list[NDArray[Any]]


def uniform(rng: np.random.Generator, s: Shape, low: float, high: float) -> NDArray[np.float64]:
    return np.asarray(rng.uniform(low, high, size=s), dtype=np.float64)


def away_from_zero(rng: np.random.Generator, s: Shape) -> NDArray[np.float64]:
    """Entries in +-[0.5, 2]: safe denominators."""
    return np.asarray(uniform(rng, s, 0.5, 2.0) * rng.choice([-1.0, 1.0], size=s))


def class_count(case: Case) -> int:
    logits = case.shapes[0]
    return logits[1] if len(logits) > 1 else logits[0] if logits else 1


def labels_input(rng: np.random.Generator, case: Case) -> Arrays:
    """Logits, and integer labels, or probabilities where ``target="probabilities"``."""
    logits, targets = case.shapes
    if case.params.get("target") == "probabilities":
        return [uniform(rng, logits, -4, 4), uniform(rng, targets, 0.0, 1.0)]
    k = class_count(case)
    labels = rng.integers(0, max(k, 1), size=targets)
    ignored = case.params.get("ignore_index")
    if labels.size and (labels == ignored).all():  # keep one label: a mean over none is NaN
        labels.reshape(-1)[0] = (ignored + 1) % k
    return [uniform(rng, logits, -4, 4), labels]


def log_probabilities_input(rng: np.random.Generator, case: Case) -> Arrays:
    scores, labels = labels_input(rng, case)
    return [scores - 4.5, labels]


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


def clamp_input(rng: np.random.Generator, case: Case) -> Arrays:
    """The input, and bounds below and above 0 where they are tensors, each entry of the
    input at least 1e-3 from every bound (central differences must not cross one)."""
    x = uniform(rng, case.shapes[0], -2, 2)
    bounds = (
        [uniform(rng, case.shapes[1], -1.5, -0.2), uniform(rng, case.shapes[2], 0.2, 1.5)]
        if len(case.shapes) == 3
        else []
    )
    if case.params.get("min") is not None:
        bounds.append(np.asarray(case.params["min"]))
    if case.params.get("max") is not None:
        bounds.append(np.asarray(case.params["max"]))
    for bound in bounds:
        try:
            close = np.abs(x - bound) < 1e-3
        except ValueError:  # shapes torch refuses too
            continue
        if close.shape == x.shape:
            x = np.where(close, x + 3e-3, x)
    return [x, *([] if len(case.shapes) < 3 else bounds[:2])]


def gather_input(rng: np.random.Generator, case: Case) -> Arrays:
    """The input, and an int64 index into its ``dim`` (repeats likely)."""
    s, index = case.shapes
    axis = case.params["dim"] % max(len(s), 1)
    size = s[axis] if s else 1
    return [uniform(rng, s, -2, 2), rng.integers(0, max(size, 1), size=index)]


def cumprod_input(rng: np.random.Generator, case: Case) -> Arrays:
    """Factors in +-[0.5, 2]: running products stay of order 1."""
    return [away_from_zero(rng, case.shapes[0])]


def embedding_input(rng: np.random.Generator, case: Case) -> Arrays:
    """Ids in [0, V) and the table."""
    ids, table = case.shapes
    V = table[0] if table else 1
    return [rng.integers(0, max(V, 1), size=ids), uniform(rng, table, -2, 2)]


def layer_norm_input(rng: np.random.Generator, case: Case) -> Arrays:
    """The input, a weight in +-[0.5, 2] and a bias: the affine part must count."""
    x, w, b = case.shapes
    return [uniform(rng, x, -2, 2), away_from_zero(rng, w), uniform(rng, b, -1, 1)]


def cast(rng: np.random.Generator, x: NDArray[Any], dtype: str) -> NDArray[Any]:
    """A floating input redrawn as ``dtype`` (int64 in [-3, 3], or bool); others stay."""
    if x.dtype.kind != "f" or dtype == "float64":
        return x
    if dtype == "int64":
        return rng.integers(-3, 4, size=x.shape)
    if dtype == "bool":
        return np.asarray(rng.random(x.shape) < 0.5)
    raise ValueError(f"unknown dtype {dtype!r} in a case")


# ----------------------------------------------------------------------------- edge classes

EDGE_CLASSES: Final = ("0-d", "size-0", "dims", "keepdim", "int/bool")
"""Drawn for every op where the op has the argument (dims, keepdim), against torch in
float64: each case matches torch's output, dtype and gradients, or raises what torch
raises. ``dims`` draws ``dim=()``, negative, repeated and out-of-range dims."""


def single_dim_edge(ndim: int) -> st.SearchStrategy[int]:
    """A negative dim, or one just out of range on either side."""
    n = max(ndim, 1)
    return st.one_of(st.integers(-n, -1), st.sampled_from([n, -n - 1]))


def many_dims_edge(ndim: int) -> st.SearchStrategy[Any]:
    """``()``, ``[]``, one dim, or a list with repeats, negatives and out-of-range dims
    (the same dim spelled both ways, ``(d, d - ndim)``, among them)."""
    n = max(ndim, 1)
    return st.one_of(
        st.sampled_from([(), []]),
        single_dim_edge(ndim),
        st.lists(st.integers(-n - 1, n), min_size=1, max_size=n + 1).map(tuple),
        st.integers(0, n - 1).map(lambda d: (d, d - n)),
    )


def permutation_edge(ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Orders of the dims with repeats, negatives, out-of-range dims, or a wrong length."""
    n = max(ndim, 1)
    return st.lists(st.integers(-n - 1, n), min_size=max(ndim - 1, 0), max_size=ndim + 1).map(tuple)


@st.composite
def at_dim_edges(draw: st.DrawFn, cases: st.SearchStrategy[Case], dims: tuple[str, ...]) -> Case:
    case = draw(cases)
    ndim = len(case.shapes[0])
    params = dict(case.params)
    for name in dims:
        if name == "dims":
            params[name] = draw(permutation_edge(ndim))
        elif isinstance(params.get(name), tuple) or (params.get(name) is None and name == "dim"):
            params[name] = draw(many_dims_edge(ndim))
        else:
            params[name] = draw(single_dim_edge(ndim))
    return Case(case.shapes, params, case.dtypes)


@st.composite
def with_int_and_bool(
    draw: st.DrawFn, cases: st.SearchStrategy[Case], one: bool, kinds: tuple[str, ...]
) -> Case:
    """The case with some floating inputs made int64 or bool (torch may accept or refuse);
    with ``one``, all of them the same."""
    case = draw(cases)
    n = len(case.shapes)
    fixed = case.dtypes or ("float64",) * n
    chosen = [
        fixed[i] if fixed[i] != "float64" else draw(st.sampled_from([*kinds, "float64"]))
        for i in range(n)
    ]
    floats = [i for i in range(n) if fixed[i] == "float64"]
    if floats and all(chosen[i] == "float64" for i in floats):
        chosen[draw(st.sampled_from(floats))] = draw(st.sampled_from(kinds))
    if one and floats:
        chosen = [chosen[floats[0]] if i in floats else chosen[i] for i in range(n)]
    return Case(case.shapes, case.params, tuple(chosen))


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Op:
    """One op: ours and torch's, where its inputs live, its kinks, its invalid calls, and
    which of its parameters the edge classes vary."""

    name: str
    ours: Callable[..., Any]
    torch: Callable[..., Any]
    shapes: Cases
    """The case strategy, given a :class:`Space` (ordinary, 0-d or size-0)."""
    domain: tuple[float, float] = (-2.0, 2.0)
    kinks: tuple[float, ...] = ()
    inputs: Callable[[np.random.Generator, Case], Arrays] | None = None
    differentiable: tuple[int, ...] | None = None
    """Indices of the inputs that get gradients; default: every floating input."""
    exact: tuple[Case, Arrays] | None = None
    """Inputs sitting exactly on kinks or ties, compared with torch as they are."""
    invalid: tuple[Case, ...] = ()
    """Calls torch refuses; ours must raise the same exception type."""
    dims: tuple[str, ...] = ()
    """The parameters that name dimensions (``dim``, ``dim0``, ``dims``...)."""
    keepdim: bool = False
    """Whether the op takes ``keepdim``."""
    int_dtypes: tuple[str, ...] = ("int64", "bool")
    """The dtypes the int/bool class draws."""
    torch_gradient_wrong: Callable[[Case], bool] | None = None
    """Cases where torch's gradient contradicts its own forward (a torch bug): the edge
    test holds our gradient to central differences there instead."""
    one_dtype: bool = False
    """Whether the int/bool class gives every input one dtype: torch's matmul and einsum
    accept mixed dtypes or not, with one error type or another, depending on the path
    their kernels take (ours refuses, with a RuntimeError, and promotes, respectively)."""

    @property
    def cases(self) -> st.SearchStrategy[Case]:
        return self.shapes(ORDINARY)

    def edge_classes(self) -> tuple[str, ...]:
        """The edge classes this op has: all, less dims and keepdim where it takes none."""
        return tuple(
            edge
            for edge in EDGE_CLASSES
            if (edge != "dims" or self.dims) and (edge != "keepdim" or self.keepdim)
        )

    def edge_cases(self, edge: str) -> st.SearchStrategy[Case]:
        if edge == "0-d":
            return self.shapes(ZERO_D)
        if edge == "size-0":
            return self.shapes(SIZE_0)
        if edge == "dims":
            return at_dim_edges(st.one_of(self.cases, self.shapes(ZERO_D)), self.dims)
        if edge == "keepdim":
            spaces = st.one_of(self.cases, self.shapes(ZERO_D), self.shapes(SIZE_0))
            return spaces.map(lambda c: Case(c.shapes, {**c.params, "keepdim": True}, c.dtypes))
        if edge == "int/bool":
            return with_int_and_bool(self.cases, self.one_dtype, self.int_dtypes)
        raise ValueError(f"unknown edge class {edge!r}; expected one of {EDGE_CLASSES}")

    def make_inputs(self, rng: np.random.Generator, case: Case) -> Arrays:
        if self.inputs is not None:
            arrays = self.inputs(rng, case)
        else:
            arrays = []
            for s in case.shapes:
                x = uniform(rng, s, *self.domain)
                for kink in self.kinks:  # central differences must not straddle a kink
                    close = np.abs(x - kink) < 1e-3
                    x[close] = kink + np.where(x[close] >= kink, 2e-3, -2e-3)
                arrays.append(x)
        dtypes = case.dtypes or ("float64",) * len(arrays)
        return [cast(rng, a, dtype) for a, dtype in zip(arrays, dtypes, strict=True)]

    def grad_indices(self, arrays: Arrays) -> tuple[int, ...]:
        if self.differentiable is not None:
            return tuple(i for i in self.differentiable if arrays[i].dtype.kind == "f")
        return tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")


def _all_dims(x: Any, dim: Any) -> Any:
    """torch spells "every dimension" as the tuple of all of them when keepdim is given."""
    return tuple(range(x.ndim)) if dim is None else dim


def _max_values(x: Any, dim: int, keepdim: bool) -> Any:
    return x.max(dim, keepdim).values


def _torch_bce_logits(z: Any, t: Any, reduction: str) -> Any:
    return torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction=reduction)


def class_weights(k: int, like: Any) -> Any:
    """Class weights 0.5 .. 2 for ``k`` classes, a tensor of ``like``'s library and dtype."""
    w = np.linspace(0.5, 2.0, k)
    if isinstance(like, torch.Tensor):
        return torch.tensor(w, dtype=like.dtype if like.is_floating_point() else None)
    return ag.tensor(w, dtype=like.dtype if like.dtype.kind == "f" else None)


def loss_with_options(loss: Callable[..., Any]) -> Callable[..., Any]:
    """``loss(input, target, **params)`` with the table's spellings turned into arguments:
    ``weight`` is a class count, ``target`` says what kind the target is (not passed on)."""

    def call(z: Any, t: Any, target: str | None = None, **params: Any) -> Any:
        if "weight" in params:
            params["weight"] = class_weights(params["weight"], z)
        return loss(z, t, **params)

    return call


def clamp_call(
    x: Any, *bounds: Any, min: Any = None, max: Any = None, bounds_kind: Any = None
) -> Any:
    return x.clamp(*bounds) if bounds else x.clamp(min, max)


def clip_call(
    x: Any, *bounds: Any, min: Any = None, max: Any = None, bounds_kind: Any = None
) -> Any:
    return x.clip(*bounds) if bounds else x.clip(min=min, max=max)


def masked_fill_call(x: Any, mask: Any, *value: Any, value_kind: Any = None) -> Any:
    return x.masked_fill(mask, value[0] if value else value_kind)


def batch_norm_call(lib: Any, functional: Any) -> Callable[..., Any]:
    """``batch_norm(x, running_mean, running_var, weight, bias, ...)`` with running
    statistics made fresh for each call (the op updates them in place in training):
    means from -0.5 to 0.5 and variances from 0.5 to 2 across the channels."""

    def call(x: Any, *affine: Any, training: bool, momentum: float, eps: float) -> Any:
        C = x.shape[1] if x.ndim > 1 else 1
        floating = x.dtype in (torch.float32, torch.float64, np.float32, np.float64)
        dtype = x.dtype if floating else (torch.float64 if lib is torch else np.float64)
        running_mean = lib.tensor(np.linspace(-0.5, 0.5, C), dtype=dtype)
        running_var = lib.tensor(np.linspace(0.5, 2.0, C), dtype=dtype)
        weight, bias = affine if affine else (None, None)
        return functional.batch_norm(
            x, running_mean, running_var, weight, bias, training, momentum, eps
        )

    return call


def keep_mask(seed: int, shape: tuple[int, ...], p: float) -> NDArray[np.bool_]:
    """The keep-mask our dropout draws from ``default_rng(seed)``: ``u >= p``."""
    return np.asarray(np.random.default_rng(seed).random(shape) >= p)


def dropout_ours(x: Any, p: float, seed: int) -> Any:
    return F.dropout(x, p, generator=np.random.default_rng(seed))


def dropout_torch(x: Any, p: float, seed: int) -> Any:
    """torch's dropout with our mask: ``M x / (1 - p)`` (0 for p = 1), torch's own call
    where it refuses the input or needs no mask (non-floating inputs)."""
    if not x.is_floating_point() or not 0.0 <= p <= 1.0:
        return TF.dropout(x, p)
    kept = torch.from_numpy(keep_mask(seed, tuple(x.shape), p)).to(x.dtype)
    return x * kept * (0.0 if p == 1.0 else 1.0 / (1.0 - p))


def conv_call(functional: Any) -> Callable[..., Any]:
    def call(x: Any, weight: Any, *bias: Any, **params: Any) -> Any:
        return functional.conv2d(x, weight, *bias, **params)

    return call


def weighted_pieces(pieces: Any, dim: int, library: Any) -> Any:
    """The pieces joined again, piece k times k + 1: a wrong order or size shows."""
    return library.cat([p * (k + 1) for k, p in enumerate(pieces)], dim=dim)


def weighted_unbind(pieces: Any, dim: int, library: Any) -> Any:
    return library.stack([p * (k + 1) for k, p in enumerate(pieces)], dim=dim)


def sdpa_call(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(q: Any, k: Any, v: Any, *mask: Any, is_causal: bool) -> Any:
        return function(q, k, v, attn_mask=mask[0] if mask else None, is_causal=is_causal)

    return call


two = Case(((2, 3), (4,)))  # shapes that do not broadcast
TF = torch.nn.functional

OPS: Final[list[Op]] = [
    # arithmetic, broadcasting
    Op("add", lambda a, b: a + b, lambda a, b: a + b, broadcastable, invalid=(two,)),
    Op("sub", lambda a, b: a - b, lambda a, b: a - b, broadcastable, invalid=(two,)),
    Op("mul", lambda a, b: a * b, lambda a, b: a * b, broadcastable, invalid=(two,)),
    Op("div", lambda a, b: a / b, lambda a, b: a / b, broadcastable, inputs=quotient_input),
    Op("pow", lambda a, b: a**b, lambda a, b: a**b, broadcastable, inputs=power_input),
    Op("neg", lambda x: -x, lambda x: -x, unary),
    # with Python scalars, reflected
    Op("add_scalar", lambda x: 1.5 + x, lambda x: 1.5 + x, unary),
    Op("rsub_scalar", lambda x: 2.5 - x, lambda x: 2.5 - x, unary),
    Op("mul_scalar", lambda x: x * -3.0, lambda x: x * -3.0, unary),
    Op("rdiv_scalar", lambda x: 2.0 / x, lambda x: 2.0 / x, unary, domain=(0.5, 2.0)),
    Op("pow_int", lambda x: x**3, lambda x: x**3, unary),
    Op("pow_half", lambda x: x**0.5, lambda x: x**0.5, unary, domain=(0.2, 3.0)),
    Op("rpow_scalar", lambda x: 2.0**x, lambda x: 2.0**x, unary),
    # with arrays on the left: numpy must defer to the tensor
    Op(
        "radd_array",
        lambda x: np.full(x.shape, 0.5, dtype=x.dtype) + x,
        lambda x: torch.full(x.shape, 0.5, dtype=x.dtype) + x,
        unary,
    ),
    # element-wise functions
    Op("exp", lambda x: x.exp(), torch.exp, unary),
    Op("log", lambda x: x.log(), torch.log, unary, domain=(0.1, 3.0)),
    Op("sqrt", lambda x: x.sqrt(), torch.sqrt, unary, domain=(0.1, 3.0)),
    Op(
        "abs",
        lambda x: x.abs(),
        torch.abs,
        unary,
        kinks=(0.0,),
        exact=(Case(((6,),)), [np.array([-1.0, 0.0, -0.0, 2.0, 0.0, -3.0])]),
    ),
    Op("tanh", lambda x: x.tanh(), torch.tanh, unary, domain=(-3.0, 3.0)),
    Op("sigmoid", lambda x: x.sigmoid(), torch.sigmoid, unary, domain=(-6.0, 6.0)),
    Op(
        "relu",
        lambda x: x.relu(),
        torch.relu,
        unary,
        kinks=(0.0,),
        exact=(Case(((6,),)), [np.array([-1.0, 0.0, -0.0, 2.0, 1e-300, -3.0])]),
    ),
    # reductions
    Op(
        "sum",
        lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim),
        lambda x, dim, keepdim: x.sum(dim=_all_dims(x, dim), keepdim=keepdim),
        reduction,
        invalid=(Case(((2, 3),), {"dim": 2, "keepdim": False}),),
        dims=("dim",),
        keepdim=True,
    ),
    Op(
        "mean",
        lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim),
        lambda x, dim, keepdim: x.mean(dim=_all_dims(x, dim), keepdim=keepdim),
        reduction,
        invalid=(Case(((2, 3),), {"dim": -3, "keepdim": True}),),
        dims=("dim",),
        keepdim=True,
    ),
    Op(
        "max",
        lambda x: x.max(),
        lambda x: x.max(),
        lambda s: unary(s, 1),
        # ties: torch shares the gradient equally among the maxima
        exact=(Case(((2, 3),)), [np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]])]),
    ),
    Op(
        "max_dim",
        _max_values,
        _max_values,
        lambda s: along_dim(s, keepdim=True),
        # ties: the gradient goes to the index returned, the first maximum
        exact=(
            Case(((2, 3),), {"dim": 1, "keepdim": False}),
            [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])],
        ),
        invalid=(Case(((2, 3),), {"dim": 2, "keepdim": False}),),
        dims=("dim",),
        keepdim=True,
    ),
    # linear algebra
    Op(
        "matmul",
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        matmul_shapes,
        one_dtype=True,
        invalid=(Case(((2, 3), (2, 3))), Case(((3,), (4,))), Case(((2, 3), (4,)))),
    ),
    # shapes
    Op(
        "reshape",
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
        reshape_shapes,
        invalid=(Case(((2, 3),), {"shape": (4,)}),),
    ),
    Op(
        "view",
        lambda x, shape: x.view(*shape),
        lambda x, shape: x.view(*shape),
        reshape_shapes,
        invalid=(Case(((2, 3),), {"shape": (5, -1)}),),
    ),
    Op(
        "transpose",
        lambda x, dim0, dim1: x.transpose(dim0, dim1),
        lambda x, dim0, dim1: x.transpose(dim0, dim1),
        transpose_shapes,
        invalid=(Case(((2, 3),), {"dim0": 0, "dim1": 2}),),
        dims=("dim0", "dim1"),
    ),
    Op(
        "permute",
        lambda x, dims: x.permute(*dims),
        lambda x, dims: x.permute(*dims),
        permute_shapes,
        invalid=(Case(((2, 3),), {"dims": (0, 0)}), Case(((2, 3),), {"dims": (0,)})),
        dims=("dims",),
    ),
    Op("T", lambda x: x.T, lambda x: x.T, lambda s: s.shape(2, 2).map(lambda s: Case((s,)))),
    Op(
        "getitem",
        lambda x, key: x[key],
        lambda x, key: x[key],
        basic_index,
        invalid=(Case(((2, 3),), {"key": (5,)}),),
    ),
    Op(
        "getitem_repeated",
        lambda x, key: x[ag.tensor(key)],
        lambda x, key: x[torch.from_numpy(key)],
        gather_index,
        invalid=(Case(((2, 3),), {"key": np.array([0, 2])}),),
    ),
    Op(
        "cat",
        lambda *xs, dim: ag.cat(xs, dim=dim),
        lambda *xs, dim: torch.cat(xs, dim=dim),
        cat_shapes,
        invalid=(Case(((2, 3), (2, 4)), {"dim": 0}),),
        dims=("dim",),
    ),
    Op(
        "stack",
        lambda *xs, dim: ag.stack(xs, dim=dim),
        lambda *xs, dim: torch.stack(xs, dim=dim),
        lambda s: cat_shapes(s, same=True),
        invalid=(Case(((2, 3), (2, 4)), {"dim": 0}),),
        dims=("dim",),
    ),
    # neural-network functions, fused
    Op("linear", F.linear, TF.linear, linear_shapes, invalid=(Case(((2, 3), (4, 2), (4,))),)),
    Op("softmax", F.softmax, TF.softmax, along_dim, domain=(-4.0, 4.0), dims=("dim",)),
    Op("log_softmax", F.log_softmax, TF.log_softmax, along_dim, (-4.0, 4.0), dims=("dim",)),
    Op(
        "cross_entropy",
        loss_with_options(F.cross_entropy),
        loss_with_options(TF.cross_entropy),
        classification,
        inputs=labels_input,
        invalid=(Case(((2, 3), (3,)), {"reduction": "mean"}), Case(((2, 3), (2, 1)))),
    ),
    Op(
        "cross_entropy_options",
        loss_with_options(F.cross_entropy),
        loss_with_options(TF.cross_entropy),
        cross_entropy_options,
        inputs=labels_input,
    ),
    Op(
        "nll_loss",
        loss_with_options(F.nll_loss),
        loss_with_options(TF.nll_loss),
        lambda s: cross_entropy_options(s).filter(
            lambda c: (
                c.params.get("target") != "probabilities" and "label_smoothing" not in c.params
            )
        ),
        inputs=log_probabilities_input,
        invalid=(Case(((2, 3), (3,)), {"reduction": "mean"}),),
    ),
    Op(
        "binary_cross_entropy",
        F.binary_cross_entropy,
        TF.binary_cross_entropy,
        pairs_same_shape,
        inputs=probabilities_input,
    ),
    Op(
        "binary_cross_entropy_with_logits",
        F.binary_cross_entropy_with_logits,
        _torch_bce_logits,
        pairs_same_shape,
        inputs=logits_input,
    ),
    Op(
        "mse_loss",
        F.mse_loss,
        TF.mse_loss,
        pairs_same_shape,
        invalid=(Case(((2, 3), (2, 4)), {"reduction": "mean"}),),
    ),
    # reductions that real programs reach for
    Op(
        "var",
        lambda x, dim, keepdim, correction: x.var(dim, correction=correction, keepdim=keepdim),
        lambda x, dim, keepdim, correction: x.var(dim, correction=correction, keepdim=keepdim),
        lambda s: reduction(s, correction=True).filter(more_entries_than_correction),
        dims=("dim",),
        keepdim=True,
        torch_gradient_wrong=over_no_dims,
    ),
    Op(
        "std",
        lambda x, dim, keepdim, correction: x.std(dim, correction=correction, keepdim=keepdim),
        lambda x, dim, keepdim, correction: x.std(dim, correction=correction, keepdim=keepdim),
        lambda s: reduction(s, correction=True).filter(more_entries_than_correction),
        dims=("dim",),
        keepdim=True,
        torch_gradient_wrong=over_no_dims,
    ),
    Op(
        "cumsum",
        lambda x, dim: x.cumsum(dim),
        lambda x, dim: x.cumsum(dim),
        along_dim,
        dims=("dim",),
    ),
    Op(
        "cumprod",
        lambda x, dim: x.cumprod(dim),
        lambda x, dim: x.cumprod(dim),
        along_dim,
        inputs=cumprod_input,
        # zeros: the gradient of every factor but the zero itself passes through the zero
        exact=(
            Case(((2, 4),), {"dim": 1}),
            [np.array([[2.0, 0.0, 3.0, -1.0], [0.0, 1.5, 0.0, 2.0]])],
        ),
        dims=("dim",),
    ),
    # choosing entries
    Op(
        "clamp",
        clamp_call,
        clamp_call,
        clamp_bounds,
        inputs=clamp_input,
        # at a bound the gradient goes to the input, as torch
        exact=(Case(((5,),), {"min": -0.5, "max": 0.7}), [np.array([-0.5, 0.7, -1.0, 1.0, 0.0])]),
        invalid=(Case(((2, 3),), {"min": None, "max": None}),),
        one_dtype=True,  # see the report: a bool tensor bound beside float ones differed
    ),
    Op("clip", clip_call, clip_call, clamp_bounds, inputs=clamp_input, one_dtype=True),
    Op(
        "where",
        lambda c, a, b: ag.where(c, a, b),
        torch.where,
        where_shapes,
        invalid=(Case(((2, 3), (2, 3), (4,)), {}, ("bool", "float64", "float64")),),
    ),
    Op(
        "masked_fill",
        masked_fill_call,
        masked_fill_call,
        masked_fill_shapes,
        invalid=(Case(((2, 3), (3, 3)), {"value_kind": 1.0}, ("float64", "bool")),),
    ),
    Op(
        "gather",
        lambda x, index, dim: x.gather(dim, index),
        lambda x, index, dim: x.gather(dim, index),
        gather_shapes,
        inputs=gather_input,
        invalid=(Case(((2, 3), (3, 3)), {"dim": 1}, ("float64", "index")),),
        dims=("dim",),
    ),
    Op(
        "triu",
        lambda x, diagonal: x.triu(diagonal),
        lambda x, diagonal: x.triu(diagonal),
        triangle_shapes,
        invalid=(Case(((3,),), {"diagonal": 0}),),
    ),
    Op(
        "tril",
        lambda x, diagonal: x.tril(diagonal),
        lambda x, diagonal: x.tril(diagonal),
        triangle_shapes,
        invalid=(Case(((3,),), {"diagonal": 0}),),
    ),
    # shapes and products
    Op(
        "pad",
        lambda x, pad, value: F.pad(x, pad, value=value),
        lambda x, pad, value: TF.pad(x, pad, value=value),
        pad_shapes,
        invalid=(
            Case(((2, 3),), {"pad": (1,), "value": None}),
            Case(((2, 3),), {"pad": (0, 0, 0, 0, 1, 1), "value": None}),
        ),
    ),
    Op(
        "einsum",
        lambda *xs, equation: ag.einsum(equation, *xs),
        lambda *xs, equation: torch.einsum(equation, *xs),
        einsum_shapes,
        one_dtype=True,
        int_dtypes=("int64",),  # bool: torch accepts or refuses by its contraction path
        invalid=(Case(((2, 3), (4, 5)), {"equation": "ij,jk->ik"}),),
    ),
    # softmax as tensor methods
    Op(
        "softmax_method",
        lambda x, dim: x.softmax(dim),
        lambda x, dim: x.softmax(dim),
        along_dim,
        dims=("dim",),
    ),
    Op(
        "log_softmax_method",
        lambda x, dim: x.log_softmax(dim),
        lambda x, dim: x.log_softmax(dim),
        along_dim,
        dims=("dim",),
    ),
    # images (issue 13)
    Op(
        "conv2d",
        conv_call(F),
        conv_call(TF),
        conv_shapes,
        invalid=(
            Case(((2, 3, 5, 5), (4, 2, 3, 3), (4,))),  # 3 channels in, weight expects 2
            Case(((2, 3, 2, 5), (4, 3, 3, 3), (4,))),  # the kernel is taller than the image
            Case(((2, 3, 5, 5), (4, 3, 3, 3), (2,))),  # one bias per filter
            Case(((3, 5, 5, 2, 1), (4, 3, 3, 3))),  # 5-D input
        ),
    ),
    Op(
        "max_pool2d",
        F.max_pool2d,
        TF.max_pool2d,
        pool_shapes,
        # ties: each window's gradient goes to its first maximum (row-major), and a pixel
        # that wins two overlapping windows gets both gradients (no more than two: the
        # sum of three would depend on the order of addition, in the last bit)
        exact=(
            Case(((1, 2, 4, 5),), {"kernel_size": 2, "stride": (1, 2), "padding": 1}),
            [
                np.array(
                    [
                        [[0, 1, 1, 0, 2], [1, 1, 2, 2, 0], [2, 0, 2, 1, 1], [0, 2, 2, 0, 2]],
                        [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 0, 1, 0, 1]],
                    ],
                    dtype=np.float64,
                )[np.newaxis]
            ],
        ),
        invalid=(
            Case(((2, 3, 5, 5),), {"kernel_size": 2, "padding": 2}),  # pad over half the kernel
            Case(((2, 3, 5, 5),), {"kernel_size": 6}),  # no window fits
            Case(((5, 5),), {"kernel_size": 2}),  # no channel dimension
        ),
    ),
    Op(
        "avg_pool2d",
        F.avg_pool2d,
        TF.avg_pool2d,
        lambda s: pool_shapes(s, average=True),
        invalid=(
            Case(((2, 3, 5, 5),), {"kernel_size": 2, "padding": 2}),
            Case(((2, 3, 5, 5),), {"kernel_size": 6}),
            Case(((5, 5),), {"kernel_size": 2}),
        ),
    ),
    Op(
        "batch_norm",
        batch_norm_call(ag, F),
        batch_norm_call(torch, TF),
        batch_norm_shapes,
        invalid=(
            # one value per channel: no variance to normalize by
            Case(((1, 3), (3,), (3,)), {"training": True, "momentum": 0.1, "eps": 1e-5}),
            Case(((4, 3), (2,), (2,)), {"training": True, "momentum": 0.1, "eps": 1e-5}),
        ),
    ),
    Op(
        "dropout",
        dropout_ours,
        dropout_torch,
        dropout_shapes,
        invalid=(Case(((3, 4),), {"p": 1.5, "seed": 0}),),
    ),
    Op(
        "flatten",
        lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim),
        lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim),
        flatten_shapes,
        invalid=(Case(((2, 3, 4),), {"start_dim": 2, "end_dim": 1}),),
        dims=("start_dim", "end_dim"),
    ),
    Op(
        "unflatten",
        lambda x, dim, sizes: x.unflatten(dim, sizes),
        lambda x, dim, sizes: x.unflatten(dim, sizes),
        unflatten_shapes,
        invalid=(Case(((2, 6),), {"dim": 1, "sizes": (4, 2)}),),
        dims=("dim",),
    ),
    # sequences: cutting, looking up, normalizing, attending
    Op(
        "split",
        lambda x, split, dim: weighted_pieces(x.split(split, dim), dim, ag),
        lambda x, split, dim: weighted_pieces(x.split(split, dim), dim, torch),
        split_shapes,
        invalid=(Case(((2, 3),), {"split": [1, 1], "dim": 1}),),
        dims=("dim",),
    ),
    Op(
        "chunk",
        lambda x, chunks, dim: weighted_pieces(x.chunk(chunks, dim), dim, ag),
        lambda x, chunks, dim: weighted_pieces(x.chunk(chunks, dim), dim, torch),
        chunk_shapes,
        invalid=(Case(((2, 3),), {"chunks": 0, "dim": 1}),),
        dims=("dim",),
    ),
    Op(
        "unbind",
        lambda x, dim: weighted_unbind(x.unbind(dim), dim, ag),
        lambda x, dim: weighted_unbind(x.unbind(dim), dim, torch),
        along_dim,
        invalid=(Case(((2, 3),), {"dim": 2}),),
        dims=("dim",),
    ),
    Op(
        "embedding",
        F.embedding,
        TF.embedding,
        embedding_shapes,
        inputs=embedding_input,
        invalid=(Case(((2,), (3,)), {}, ("index", "float64")),),
    ),
    Op(
        "layer_norm",
        lambda x, w, b, normalized_shape: F.layer_norm(x, normalized_shape, w, b),
        lambda x, w, b, normalized_shape: TF.layer_norm(x, normalized_shape, w, b),
        layer_norm_shapes,
        inputs=layer_norm_input,
        invalid=(Case(((2, 3), (2,), (2,)), {"normalized_shape": (2,)}),),
    ),
    Op(
        "scaled_dot_product_attention",
        sdpa_call(F.scaled_dot_product_attention),
        sdpa_call(TF.scaled_dot_product_attention),
        attention_shapes,
        invalid=(Case(((2, 3), (4, 5), (4, 5)), {"is_causal": False}),),
    ),
]


@pytest.fixture(scope="session")
def op_table() -> list[Op]:
    """The op table itself, ``OPS``."""
    return OPS


EDGE_COUNTS: Counter[str] = Counter()


@pytest.fixture(scope="session")
def edge_counts() -> Counter[str]:
    """How many cases of each edge class were drawn, and how each ended (printed at the end)."""
    return EDGE_COUNTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if EDGE_COUNTS:
        terminalreporter.section("autograd edge cases drawn, per class")
        for key in sorted(EDGE_COUNTS):
            terminalreporter.write_line(f"{key}: {EDGE_COUNTS[key]}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``op`` over the table, ``kink_op`` over its entries with exact kink
    inputs, and ``invalid_call`` over every (op, refused case) pair."""
    if "op" in metafunc.fixturenames:
        metafunc.parametrize("op", OPS, ids=[op.name for op in OPS])
    if "kink_op" in metafunc.fixturenames:
        kinked = [op for op in OPS if op.exact is not None]
        metafunc.parametrize("kink_op", kinked, ids=[op.name for op in kinked])
    if "edge_call" in metafunc.fixturenames:
        pairs = [(op, edge) for op in OPS for edge in op.edge_classes()]
        metafunc.parametrize("edge_call", pairs, ids=[f"{op.name}-{edge}" for op, edge in pairs])
    if "invalid_call" in metafunc.fixturenames:
        calls = [(op, case) for op in OPS for case in op.invalid]
        ids = [f"{op.name}-{'x'.join(map(str, case.shapes))}" for op, case in calls]
        metafunc.parametrize("invalid_call", calls, ids=ids)

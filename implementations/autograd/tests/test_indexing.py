"""Indexing as a property: hypothesis draws index expressions and torch is the oracle.

An expression mixes, in any number, order and combination: integers (some out of range),
slices (any start and stop; steps 1 to 3, and negative steps, which torch refuses with a
ValueError), lists, integer arrays (1-D and 2-D, as NumPy arrays or tensors; a nested
list is not drawn, since torch reads it as a tuple of indices), 0-d integer
tensors, boolean masks over one or two dimensions (some of the wrong size), ``None``,
``True``/``False`` and ``Ellipsis``. Each expression must give torch's result and torch's
gradient for a random upstream gradient, or raise what torch raises. One deliberate
difference: several ellipses, which torch answers inconsistently, raise an IndexError.

CI draws ``CI_EXAMPLES`` expressions (the ``subset`` marker, ``nox -s tests``);
``nox -s autograd`` draws ``FULL_EXAMPLES`` (the ``slow`` marker). The counts of parts
and outcomes are printed at the end of the run.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fromscratch.autograd as ag

Tolerances = dict[str, dict[str, float]]

CI_EXAMPLES = 150
FULL_EXAMPLES = 600
BUDGETS = [
    pytest.param(CI_EXAMPLES, marks=pytest.mark.subset, id="ci"),
    pytest.param(FULL_EXAMPLES, marks=pytest.mark.slow, id="full"),
]

KINDS = ("int", "slice", "list", "array", "tensor", "0-d tensor", "mask", "None", "bool", "...")


@st.composite
def index_part(draw: st.DrawFn, shape: tuple[int, ...], dim: int) -> tuple[str, Any, int]:
    """One part of an index for dimension ``dim`` of ``shape``: (kind, part, dims read)."""
    size = shape[dim] if dim < len(shape) else 2
    kind = draw(st.sampled_from(KINDS))
    out = st.sampled_from([size, -size - 1])  # one step out of range on either side
    valid = st.integers(-size, size - 1) if size else out
    position = st.integers(0, 9).flatmap(lambda r: out if r == 0 else valid)
    if kind == "int":
        return kind, draw(position), 1
    if kind == "slice":
        bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
        step = draw(st.sampled_from([None, 1, 2, 3, None, 1, 2, -1]))
        return kind, slice(draw(bound), draw(bound), step), 1
    if kind in ("list", "array", "tensor"):
        shapes = [(0,), (1,), (2,), (3,)] + ([(2, 2), (1, 3)] if kind != "list" else [])
        index_shape = draw(st.sampled_from(shapes))  # a nested list is a tuple to torch
        count = math.prod(index_shape)
        drawn = draw(st.lists(position, min_size=count, max_size=count))
        values = np.array(drawn, dtype=np.int64).reshape(index_shape)
        if kind == "list":
            return kind, values.tolist(), 1
        return kind, values if kind == "array" else ("tensor", values), 1
    if kind == "0-d tensor":
        return kind, ("tensor", np.array(draw(position), dtype=np.int64)), 1
    if kind == "mask":
        k = draw(st.integers(1, 2))
        mask_shape = list(shape[dim : dim + k]) or [size]
        if draw(st.integers(0, 9)) == 0:  # a mask of the wrong size
            mask_shape[0] += 1
        count = math.prod(mask_shape)
        mask = np.array(draw(st.lists(st.booleans(), min_size=count, max_size=count)), dtype=bool)
        mask = mask.reshape(mask_shape)
        return kind, mask if draw(st.booleans()) else ("tensor", mask), len(mask_shape)
    if kind == "None":
        return kind, None, 0
    if kind == "bool":
        return kind, draw(st.booleans()), 0
    return kind, Ellipsis, 0


@st.composite
def index_expressions(draw: st.DrawFn) -> tuple[tuple[int, ...], Any, list[str]]:
    size = st.integers(0, 9).flatmap(lambda r: st.just(0) if r == 0 else st.integers(1, 4))
    ndim = st.integers(0, 9).flatmap(lambda r: st.just(0) if r == 0 else st.integers(1, 4))
    shape = tuple(draw(st.lists(size, min_size=draw(ndim), max_size=4)))
    parts, kinds, dim = [], [], 0
    extra = draw(st.integers(0, 9)) == 0  # sometimes one part too many
    for _ in range(draw(st.integers(1, max(len(shape), 1) + extra))):
        kind, part, read = draw(index_part(shape, dim))
        parts.append(part)
        kinds.append(kind)
        dim += read
    single = len(parts) == 1 and draw(st.booleans())
    return shape, parts[0] if single else tuple(parts), kinds


def for_library(key: Any, library: str) -> Any:
    """The drawn key with its tensors made for ``library`` ("ours" or "torch")."""
    if isinstance(key, tuple) and len(key) == 2 and key[0] == "tensor":
        return ag.tensor(key[1]) if library == "ours" else torch.from_numpy(key[1])
    if isinstance(key, np.ndarray):
        return key if library == "ours" else torch.from_numpy(key)
    if isinstance(key, tuple):
        return tuple(for_library(k, library) for k in key)
    return key


@pytest.mark.parametrize("budget", BUDGETS)
def test_index_expressions_do_what_torch_does(
    budget: int, tol: Tolerances, edge_counts: Counter[str]
) -> None:
    run = "full" if budget == FULL_EXAMPLES else "ci"

    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=budget == CI_EXAMPLES,  # CI: the same draws every run
    )
    @given(drawn=index_expressions(), seed=st.integers(0, 2**32 - 1))
    def check(drawn: tuple[tuple[int, ...], Any, list[str]], seed: int) -> None:
        shape, key, kinds = drawn
        rng = np.random.default_rng(seed)
        data = rng.normal(size=shape)
        x, x_t = ag.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        for kind in set(kinds):
            edge_counts[f"indexing ({run}): expressions with {kind}"] += 1
        if kinds.count("...") > 1:
            # torch accepts several ellipses, with answers that contradict each other
            # (zeros(0, 1)[..., ..., 0] is an IndexError about a dimension 2); we refuse them
            with pytest.raises(IndexError, match="single ellipsis"):
                x[for_library(key, "ours")]
            edge_counts[f"indexing ({run}): several ellipses, refused"] += 1
            return
        try:
            out_t = x_t[for_library(key, "torch")]
        except Exception as torch_error:
            with pytest.raises(type(torch_error)):
                x[for_library(key, "ours")]
            edge_counts[f"indexing ({run}): raises"] += 1
            return
        out = x[for_library(key, "ours")]
        assert out.shape == tuple(out_t.shape), f"key {key!r}"
        np.testing.assert_array_equal(out.detach().numpy(), out_t.detach().numpy())
        g = rng.normal(size=out.shape)
        out.backward(g)
        out_t.backward(torch.tensor(g))
        assert x.grad is not None
        assert x_t.grad is not None
        np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), **tol["vs_torch"])
        edge_counts[f"indexing ({run}): matches"] += 1

    check()

"""The factory functions against torch's: dtypes, shapes (0-d and size-0 included) and
values; the random ones by shape, dtype, range and reproducibility under one seed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import fromscratch.autograd as ag

ARANGES = [(5,), (0,), (2, 7), (1, 2, 0.25), (-1.5, 2.5, 0.5), (3, -3, -2), (0.0, 1.0, 0.3), (4, 4)]


@pytest.mark.parametrize("args", ARANGES, ids=str)
def test_arange_is_torchs(args: tuple[Any, ...]) -> None:
    ours, theirs = ag.arange(*args), torch.arange(*args)
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("args", [(1, 2, 0), (3, 1, 1)], ids=str)
def test_arange_refuses_what_torch_refuses(args: tuple[Any, ...]) -> None:
    with pytest.raises(RuntimeError):
        torch.arange(*args)
    with pytest.raises(RuntimeError):
        ag.arange(*args)


@pytest.mark.parametrize("size", [(), (0,), (2, 0, 3), (2, 3)], ids=str)
@pytest.mark.parametrize("fill", [1.5, 7, True], ids=str)
def test_full_zeros_ones_and_like_forms_are_torchs(size: tuple[int, ...], fill: Any) -> None:
    pairs = [
        (ag.full(size, fill), torch.full(size, fill)),
        (ag.zeros(size), torch.zeros(size)),
        (ag.ones(size), torch.ones(size)),
    ]
    for dtype in (np.int64, np.float64, np.bool_):
        x, x_t = (
            ag.tensor(np.zeros(size, dtype=dtype)),
            torch.from_numpy(np.zeros(size, dtype=dtype)),
        )
        pairs += [
            (ag.zeros_like(x), torch.zeros_like(x_t)),
            (ag.ones_like(x), torch.ones_like(x_t)),
            (ag.full_like(x, fill), torch.full_like(x_t, fill)),
        ]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("size", [(), (0,), (3, 4)], ids=str)
def test_random_factories_have_torchs_shapes_and_dtypes_and_repeat_under_a_seed(
    size: tuple[int, ...],
) -> None:
    x = ag.zeros(size, dtype=np.float64)
    for draw, low, high in ((ag.rand_like, 0.0, 1.0), (ag.randn_like, -np.inf, np.inf)):
        ag.manual_seed(3)
        first = draw(x)
        ag.manual_seed(3)
        again = draw(x)
        assert first.shape == size
        assert first.dtype == np.float64
        np.testing.assert_array_equal(first.numpy(), again.numpy())
        assert np.all((first.numpy() >= low) & (first.numpy() < high))
    assert ag.rand(size).dtype == torch.rand(size).numpy().dtype
    assert ag.randn(size).shape == tuple(torch.randn(size).shape)
    with pytest.raises(RuntimeError):
        torch.rand_like(torch.zeros(2, dtype=torch.int64))
    with pytest.raises(RuntimeError):
        ag.rand_like(ag.zeros(2, dtype=np.int64))

r"""Ops that move entries around without changing them.

Each output entry *is* some input entry, so the backward moves each gradient entry back
to where its value came from: reshape un-reshapes, a permutation applies the inverse
permutation, indexing scatters into zeros, ``cat`` and ``stack`` cut the gradient into
the pieces they glued.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Array, Tensor
from .broadcast import normalize_dim


def reshape(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    r"""The same entries in a new shape (``-1`` infers one size); :math:`\bar{x}` is
    :math:`\bar{o}` reshaped back.

    ``view`` is the same op here: NumPy copies when it must, where torch's ``view``
    refuses non-contiguous input.
    """
    try:
        out = x.data.reshape(shape)
    except ValueError:
        raise RuntimeError(
            f"shape {list(shape)} is invalid for input of size {x.data.size} (shape {x.shape})"
        ) from None

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout.reshape(x.data.shape),)

    return Tensor._make(out, (x,), backward, "ViewBackward")


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    r"""Reorder the dimensions: :math:`o` has dimension ``dims[i]`` of :math:`x` at
    position :math:`i`; :math:`\bar{x}` is :math:`\bar{o}` under the inverse permutation."""
    if len(dims) != x.data.ndim:
        raise RuntimeError(
            f"permute(): number of dims {len(dims)} does not match the tensor's {x.data.ndim}"
        )
    axes = tuple(normalize_dim(d, x.data.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {tuple(dims)}")
    inverse = tuple(int(i) for i in np.argsort(axes))

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout.transpose(inverse),)

    return Tensor._make(x.data.transpose(axes), (x,), backward, "PermuteBackward")


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    r"""Swap two dimensions; swapping them again is the backward."""
    i, j = normalize_dim(dim0, x.data.ndim), normalize_dim(dim1, x.data.ndim)

    def backward(dL_dout: Array) -> tuple[Array]:
        return (np.swapaxes(dL_dout, i, j),)

    return Tensor._make(np.swapaxes(x.data, i, j), (x,), backward, "TransposeBackward")


def _is_basic(key: Any) -> bool:
    """Whether ``key`` is basic indexing (ints, slices, None, ...): each entry picked once."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(
        isinstance(k, int | slice | type(None) | type(Ellipsis)) and not isinstance(k, bool)
        for k in parts
    )


def _plain_key(key: Any) -> Any:
    """The index with tensors replaced by their arrays."""
    if isinstance(key, tuple):
        return tuple(k.data if isinstance(k, Tensor) else k for k in key)
    return key.data if isinstance(key, Tensor) else key


def getitem(x: Tensor, key: Any) -> Tensor:
    r"""Indexing, ``x[key]``, basic (slices) or advanced (integer or boolean arrays).

    Each output entry is one input entry, so its gradient goes back there. An index
    array may pick the same entry several times; then the gradients add up:

    .. math::

        \bar{x}_j = \sum_{i \,:\, \text{key}_i = j} \bar{o}_i

    which is what ``np.add.at`` computes (plain ``x[key] += g`` would keep only one).
    """
    key = _plain_key(key)
    out = np.asarray(x.data[key])
    basic = _is_basic(key)

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dx = np.zeros_like(x.data)
        if basic:  # every entry appears once: a plain assignment is exact, and faster
            dL_dx[key] = dL_dout
        else:
            np.add.at(dL_dx, key, dL_dout)
        return (dL_dx,)

    return Tensor._make(out, (x,), backward, "IndexBackward")


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    r"""Join tensors along an existing dimension; :math:`\bar{x}_k` is the slice of
    :math:`\bar{o}` that :math:`x_k` filled."""
    parts = tuple(tensors)
    if not parts:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    axis = normalize_dim(dim, parts[0].data.ndim)
    try:
        out = np.concatenate([t.data for t in parts], axis=axis)
    except ValueError as exc:
        shapes = [t.shape for t in parts]
        raise RuntimeError(
            f"Sizes of tensors must match except in dimension {axis}; got shapes {shapes}: {exc}"
        ) from None
    bounds = np.cumsum([t.data.shape[axis] for t in parts])[:-1]

    def backward(dL_dout: Array) -> list[Array]:
        return np.split(dL_dout, bounds, axis=axis)

    return Tensor._make(out, parts, backward, "CatBackward")


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    r"""Join equally shaped tensors along a new dimension; :math:`\bar{x}_k` is
    :math:`\bar{o}` at index :math:`k` of that dimension."""
    parts = tuple(tensors)
    if not parts:
        raise RuntimeError("stack expects a non-empty TensorList")
    axis = normalize_dim(dim, parts[0].data.ndim + 1)
    shapes = [t.shape for t in parts]
    if any(shape != shapes[0] for shape in shapes):
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {shapes}")
    out = np.stack([t.data for t in parts], axis=axis)

    def backward(dL_dout: Array) -> list[Array]:
        return [np.take(dL_dout, k, axis=axis) for k in range(len(parts))]

    return Tensor._make(out, parts, backward, "StackBackward")

r"""Operands and broadcasting: the two chores every binary op shares.

Broadcasting
------------
``a + b`` with shapes (3, 1) and (4,) gives shape (3, 4): NumPy (and torch) align the
shapes on the right, prepend 1s to the shorter one, and stretch every size-1 dimension.
Stretching copies a value to many outputs, so on the way back those outputs' gradients
are *summed*: if :math:`o_{ij} = a_{i0} + b_j` then

.. math::

    \bar{a}_{i0} = \sum_j \bar{o}_{ij}, \qquad \bar{b}_j = \sum_i \bar{o}_{ij}

:func:`unbroadcast` does exactly that: it sums the upstream gradient over the prepended
dimensions and over the dimensions where the input had size 1, and returns an array of
the input's shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Array, Tensor


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a constant tensor (no gradient); tensors pass through unchanged.

    A Python number takes the dtype of the floating tensor it meets (``x * 2.0`` stays
    float32, as in torch) so that scalars never silently promote an op to float64.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, bool | int | float) and like is not None:
        if like.data.dtype.kind == "f":
            return Tensor._wrap(np.asarray(value, dtype=like.data.dtype))
        if isinstance(value, float):
            return Tensor._wrap(np.asarray(value, dtype=np.float32))
    array = np.asarray(value)
    if array.dtype == np.float64 and not isinstance(value, np.ndarray | np.generic):
        array = array.astype(np.float32)  # Python floats are float32 in torch
    return Tensor._wrap(array)


def operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors; at least one of them already is one."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    return as_tensor(a, b), b


def unbroadcast(dL_dout: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``dL_dout`` down to ``shape``, undoing broadcasting (see the module docs)."""
    if dL_dout.shape == shape:
        return dL_dout
    extra = dL_dout.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and dL_dout.shape[extra + i] != 1
    )
    return dL_dout.sum(axis=axes).reshape(shape) if axes else dL_dout.reshape(shape)


def broadcast_error(exc: ValueError, *shapes: tuple[int, ...]) -> RuntimeError:
    """The ``RuntimeError`` torch raises for shapes that do not broadcast."""
    listed = " and ".join(str(s) for s in shapes)
    return RuntimeError(f"shapes {listed} cannot be broadcast together: {exc}")


def normalize_dim(dim: int, ndim: int) -> int:
    """``dim`` in ``[0, ndim)``, counting negative dims from the end, as torch does."""
    low, high = -max(ndim, 1), max(ndim, 1) - 1
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or not low <= dim <= high:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})"
        )
    return int(dim) % max(ndim, 1)


def normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """A reduction's ``dim`` argument (one, several, or None for all) as sorted axes.

    As torch 2.13: ``None`` and the empty tuple ``()`` both mean every dimension, a dim
    named twice is refused, and a 0-d tensor accepts dim 0 and -1 although it has no
    axis to reduce (so its axes are ``()``).
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    if not dims:
        return tuple(range(ndim))
    named: list[int] = []
    for d in dims:  # in torch's order: each dim checked for range, then for a repeat
        axis = normalize_dim(d, ndim)
        if axis in named:
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims {dims}")
        named.append(axis)
    return tuple(sorted(named)) if ndim else ()

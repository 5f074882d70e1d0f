r"""Ops that choose, entry by entry, where each output comes from: ``where``, ``clamp``,
``masked_fill``, ``gather``, ``triu`` and ``tril``.

An output entry is a copy of one input entry (or a constant), so the gradient is routed
by the same choice: each input gets :math:`\bar{o}` where it was chosen and 0 elsewhere
(summed back over broadcast dimensions, or added up where ``gather`` picked an entry
twice).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Array, Tensor
from .broadcast import as_tensor, broadcast_error, normalize_dim, unbroadcast


def where(condition: Any, input: Any, other: Any) -> Tensor:
    r""":math:`o = c \; ? \; a : b`, entry by entry, broadcasting all three.

    .. math::

        \bar{a} = \bar{o} \odot [c], \qquad \bar{b} = \bar{o} \odot [\lnot c]
    """
    c = as_tensor(condition).data
    if c.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got {c.dtype}")
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
    a, b = as_tensor(input, like), as_tensor(other, like)
    try:
        out = np.where(c, a.data, b.data)
    except ValueError as exc:
        raise broadcast_error(exc, c.shape, a.shape, b.shape) from None

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        zero = np.zeros((), dtype=dL_dout.dtype)
        return (
            unbroadcast(np.where(c, dL_dout, zero), a.data.shape) if a.requires_grad else None,
            unbroadcast(np.where(c, zero, dL_dout), b.data.shape) if b.requires_grad else None,
        )

    return Tensor._make(out, (a, b), backward, "WhereBackward")


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    r""":math:`o = \min(\max(x, \text{lo}), \text{hi})`, ``clip`` in torch too.

    .. math::

        \bar{x} = \bar{o} \odot [\text{lo} \le x \le \text{hi}], \qquad
        \bar{\text{lo}} = \bar{o} \odot [x < \text{lo}], \qquad
        \bar{\text{hi}} = \bar{o} \odot [x > \text{hi}]

    At :math:`x = \text{lo}` or :math:`\text{hi}` the gradient goes to :math:`x`, as in
    torch. The bounds may be numbers or tensors (which then get their gradients too).
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = None if min is None else as_tensor(min, x)
    hi = None if max is None else as_tensor(max, x)
    if x.data.dtype == np.bool_ and all(t is None or t.data.dtype == np.bool_ for t in (lo, hi)):
        raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
    out = x.data
    try:
        if lo is not None:
            out = np.maximum(out, lo.data)
        if hi is not None:
            out = np.minimum(out, hi.data)
    except ValueError as exc:
        raise broadcast_error(exc, x.shape) from None
    out = np.asarray(out)
    if out is x.data:
        out = out.copy()
    if out.dtype.kind == "f" and x.data.dtype.kind != "f":  # an int tensor, float bounds
        floats = [t.data.dtype for t in (lo, hi) if t is not None and t.data.dtype.kind == "f"]
        out = out.astype(floats[0])
    above = np.zeros((), dtype=bool) if lo is None else x.data < lo.data
    below = np.zeros((), dtype=bool) if hi is None else x.data > hi.data

    def backward(dL_dout: Array) -> list[Array | None]:
        zero = np.zeros((), dtype=dL_dout.dtype)
        grads: list[Array | None] = [
            unbroadcast(np.where(above | below, zero, dL_dout), x.data.shape)
        ]
        for bound, chosen in ((lo, above), (hi, below)):
            if bound is not None:
                grads.append(
                    unbroadcast(np.where(chosen, dL_dout, zero), bound.data.shape)
                    if bound.requires_grad
                    else None
                )
        return grads

    parents = (x, *(t for t in (lo, hi) if t is not None))
    return Tensor._make(out, parents, backward, "ClampBackward")


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    r""":math:`o = m \; ? \; v : x`: the entries under the boolean ``mask`` replaced by ``value``.

    .. math::

        \bar{x} = \bar{o} \odot [\lnot m], \qquad \bar{v} = \sum_{m} \bar{o}

    (``value`` is a number or a 0-d tensor, which then gets that gradient).
    """
    m = as_tensor(mask).data
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {m.dtype}"
        )
    v = as_tensor(value, x)
    if v.requires_grad and x.data.dtype.kind != "f":
        raise RuntimeError(
            f"Autograd not support dtype: {x.data.dtype} (masked_fill of a non-float tensor)"
        )
    if v.data.ndim != 0:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{v.data.ndim} dimension(s)"
        )
    try:
        out = np.where(m, v.data.astype(x.data.dtype), x.data)
    except ValueError as exc:
        raise broadcast_error(exc, x.shape, m.shape) from None
    if out.shape != x.data.shape:
        raise RuntimeError(
            f"the mask of shape {m.shape} must broadcast to the input's shape {x.shape}"
        )

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        zero = np.zeros((), dtype=dL_dout.dtype)
        return (
            np.where(m, zero, dL_dout),
            np.asarray(np.where(m, dL_dout, zero).sum()) if v.requires_grad else None,
        )

    return Tensor._make(out, (x, v), backward, "MaskedFillBackward")


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    r"""Entries picked along ``dim``; for ``dim=1``,
    :math:`o_{ijk} = x_{i,\,\text{index}_{ijk},\,k}`.

    ``index`` has ``x``'s number of dimensions and is no larger than ``x`` outside
    ``dim``. An entry picked several times gets all its gradients (a scatter-add):

    .. math::

        \bar{x}_{i j k} = \sum_{l \,:\, \text{index}_{ilk} = j} \bar{o}_{ilk}
    """
    axis = normalize_dim(dim, x.data.ndim)
    index = np.asarray(index.data if isinstance(index, Tensor) else index)
    if index.dtype != np.int64:
        raise RuntimeError(f"gather(): Expected dtype int64 for index, got {index.dtype}")
    if index.ndim != x.data.ndim and not (index.ndim <= 1 and x.data.ndim <= 1):
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as input tensor "
            f"({index.ndim} vs {x.data.ndim})"
        )
    shape = x.data.shape or (1,)
    for d, n in enumerate(index.shape):
        if d != axis and n > shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d}: expected index {index.shape} to be no "
                f"larger than self {x.shape} apart from dimension {axis}"
            )
    if index.size and ((index < 0) | (index >= shape[axis])).any():
        bad = index[(index < 0) | (index >= shape[axis])][0]
        raise RuntimeError(
            f"index {bad} is out of bounds for dimension {axis} with size {shape[axis]}"
        )
    where = list(np.indices(index.shape, sparse=True))
    if where:
        where[axis] = index
    key = tuple(where)
    data = x.data.reshape(shape[: index.ndim] or ()) if x.data.ndim == 0 else x.data
    out = np.asarray(data[key]) if key else data.copy()

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dx = np.zeros_like(data)
        if key:
            np.add.at(dL_dx, key, dL_dout)
        else:
            dL_dx += dL_dout
        return (dL_dx.reshape(x.data.shape),)

    return Tensor._make(out, (x,), backward, "GatherBackward")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    r"""The upper triangle of the last two dimensions, :math:`o = x \odot U` with
    :math:`U_{ij} = [j - i \ge \text{diagonal}]`; so :math:`\bar{x} = \bar{o} \odot U`."""
    return _triangle(x, np.triu, diagonal, "TriuBackward")


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    r"""The lower triangle, :math:`o = x \odot L` with :math:`L_{ij} = [j - i \le
    \text{diagonal}]`; so :math:`\bar{x} = \bar{o} \odot L`."""
    return _triangle(x, np.tril, diagonal, "TrilBackward")


def _triangle(x: Tensor, part: Any, diagonal: int, op: str) -> Tensor:
    if x.data.ndim < 2:
        raise RuntimeError(f"{op[:4].lower()}: input tensor must have at least 2 dimensions")

    def backward(dL_dout: Array) -> tuple[Array]:
        return (part(dL_dout, diagonal),)

    return Tensor._make(part(x.data, diagonal), (x,), backward, op)

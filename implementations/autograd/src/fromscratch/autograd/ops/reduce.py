r"""Reductions: sum, mean and max, over all entries or over chosen dimensions.

A reduction maps many inputs to one output, so its backward *spreads* the upstream
gradient back out: every input that fed an output receives that output's gradient,
weighted by how much it contributed. With ``keepdim=False`` the reduced dimensions are
dropped from the output, so the backward first puts them back as size-1 dimensions
and then broadcasts.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np

from ..tensor import Array, MaxResult, Tensor
from .broadcast import normalize_dim, normalize_dims


def _restore(dL_dout: Array, axes: tuple[int, ...], keepdim: bool) -> Array:
    """The upstream gradient with the reduced ``axes`` back as size-1 dimensions."""
    return dL_dout if keepdim else np.expand_dims(dL_dout, axes)


def sum(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    r""":math:`o = \sum_{i \in \text{dims}} x_i`; every summand gets the whole gradient.

    .. math::

        \bar{x}_i = \bar{o}_{\,\text{(the output } x_i \text{ was summed into)}}
    """
    axes = normalize_dims(dim, x.data.ndim)
    out = np.asarray(x.data.sum(axis=axes, keepdims=keepdim))

    def backward(dL_dout: Array) -> tuple[Array]:
        return (np.broadcast_to(_restore(dL_dout, axes, keepdim), x.data.shape),)

    return Tensor._make(out, (x,), backward, "SumBackward")


def mean(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    r""":math:`o = \frac{1}{m} \sum_{i \in \text{dims}} x_i` over :math:`m` entries, so
    :math:`\bar{x}_i = \bar{o} / m`."""
    axes = normalize_dims(dim, x.data.ndim)
    m = prod(x.data.shape[a] for a in axes)
    out = np.asarray(x.data.mean(axis=axes, keepdims=keepdim))

    def backward(dL_dout: Array) -> tuple[Array]:
        return (np.broadcast_to(_restore(dL_dout, axes, keepdim) / m, x.data.shape),)

    return Tensor._make(out, (x,), backward, "MeanBackward")


def max_all(x: Tensor) -> Tensor:
    r"""The largest entry, :math:`o = \max_i x_i`.

    .. math::

        \bar{x}_i = \bar{o}\, \frac{[x_i = o]}{\#\{j : x_j = o\}}

    :math:`\max` is not differentiable where several entries tie for the maximum; like
    torch we share the gradient equally among them (a subgradient).
    """
    if x.data.size == 0:
        raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() == 0")
    out = np.asarray(x.data.max())

    def backward(dL_dout: Array) -> tuple[Array]:
        winners = x.data == out
        return (winners * (dL_dout / int(winners.sum())),)

    return Tensor._make(out, (x,), backward, "MaxBackward")


def max_dim(x: Tensor, dim: int, keepdim: bool = False) -> MaxResult:
    r"""The largest entry along ``dim`` and its index: ``(values, indices)``, as torch.

    .. math::

        \bar{x}_{\ldots k \ldots} = \bar{o}_{\ldots}\, [k = \operatorname{argmax}]

    Only the entry whose index is returned receives the gradient; on ties that is the
    first one, which is also the index torch returns on the CPU.
    """
    axis = normalize_dim(dim, x.data.ndim)
    index = np.expand_dims(np.argmax(x.data, axis=axis), axis)
    values = np.take_along_axis(x.data, index, axis=axis)
    if not keepdim:
        values, index = values.squeeze(axis), index.squeeze(axis)

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dx = np.zeros_like(x.data)
        np.put_along_axis(
            dL_dx,
            index if keepdim else np.expand_dims(index, axis),
            dL_dout if keepdim else np.expand_dims(dL_dout, axis),
            axis=axis,
        )
        return (dL_dx,)

    out = Tensor._make(values, (x,), backward, "MaxBackward")
    return MaxResult(out, Tensor._wrap(index.astype(np.int64)))

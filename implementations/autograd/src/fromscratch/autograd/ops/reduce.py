r"""Reductions: sum, mean, var, std and max, over all entries or over chosen dimensions;
and the running reductions cumsum and cumprod.

A reduction maps many inputs to one output, so its backward *spreads* the upstream
gradient back out: every input that fed an output receives that output's gradient,
weighted by how much it contributed. With ``keepdim=False`` the reduced dimensions are
dropped from the output, so the backward first puts them back as size-1 dimensions
and then broadcasts.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

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
    if x.data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {x.data.dtype}"
        )
    axes = normalize_dims(dim, x.data.ndim)
    m = prod(x.data.shape[a] for a in axes)
    with np.errstate(invalid="ignore", divide="ignore"):  # over no entries: NaN, as torch
        out = np.asarray(x.data.sum(axis=axes, keepdims=keepdim) / x.data.dtype.type(m))

    def backward(dL_dout: Array) -> tuple[Array]:
        with np.errstate(invalid="ignore", divide="ignore"):
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
    if x.data.ndim == 0:  # torch accepts dim 0 or -1 of a scalar: its own maximum, at 0
        return MaxResult(x[()], Tensor._wrap(np.zeros((), dtype=np.int64)))
    if x.data.shape[axis] == 0:
        raise IndexError(f"max(): Expected reduction dim {axis} to have non-zero size.")
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


def var(
    x: Tensor, dim: int | Sequence[int] | None = None, correction: float = 1, keepdim: bool = False
) -> Tensor:
    r"""Variance over :math:`m` entries, :math:`o = \frac{1}{m - c} \sum_i (x_i - \mu)^2`.

    ``correction`` :math:`c = 1` (torch's default) is Bessel's unbiased estimate, 0 the
    population variance. The mean's own dependence on :math:`x_i` drops out, because the
    deviations sum to zero:

    .. math::

        \bar{x}_i = \bar{o}\, \frac{2 (x_i - \mu)}{m - c}
    """
    _floating("var", x)
    axes = normalize_dims(dim, x.data.ndim)
    m = prod(x.data.shape[a] for a in axes)
    c = min(correction, m)  # torch: no fewer than 0 degrees of freedom, m - c >= 0
    deviation = x.data - x.data.mean(axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # m <= c: inf or nan, as torch
        out = np.asarray((deviation * deviation).sum(axis=axes, keepdims=keepdim) / (m - c))

    def backward(dL_dout: Array) -> tuple[Array]:
        with np.errstate(divide="ignore", invalid="ignore"):
            # torch's backward keeps m - c as it is, even where the forward clamped it
            return (_restore(dL_dout, axes, keepdim) * (2 * deviation / (m - correction)),)

    return Tensor._make(out, (x,), backward, "VarBackward")


def std(
    x: Tensor, dim: int | Sequence[int] | None = None, correction: float = 1, keepdim: bool = False
) -> Tensor:
    r"""Standard deviation, :math:`o = \sqrt{\operatorname{var}(x)}` (see :func:`var`).

    .. math::

        \bar{x}_i = \bar{o}\, \frac{x_i - \mu}{(m - c)\, o}

    :math:`o = \sqrt{\cdot}` has no derivative where :math:`o = 0` (all entries equal);
    like torch we send 0 there.
    """
    _floating("std", x)
    axes = normalize_dims(dim, x.data.ndim)
    m = prod(x.data.shape[a] for a in axes)
    c = min(correction, m)  # torch: no fewer than 0 degrees of freedom, m - c >= 0
    deviation = x.data - x.data.mean(axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        o = np.sqrt((deviation * deviation).sum(axis=axes, keepdims=True) / (m - c))

    def backward(dL_dout: Array) -> tuple[Array]:
        with np.errstate(divide="ignore", invalid="ignore"):
            upstream = _restore(dL_dout, axes, keepdim)
            per_deviation = np.where(o == 0, 0, upstream / ((m - correction) * o))
            return (per_deviation * deviation,)

    out = o if keepdim else o.reshape(_dropped(x.data.shape, axes))
    return Tensor._make(out, (x,), backward, "StdBackward")


def cumsum(x: Tensor, dim: int) -> Tensor:
    r"""Running sum along ``dim``, :math:`o_k = \sum_{j \le k} x_j`.

    Entry :math:`x_j` feeds every :math:`o_k` with :math:`k \ge j`, so its gradient is the
    running sum of :math:`\bar{o}` taken from the other end:

    .. math::

        \bar{x}_j = \sum_{k \ge j} \bar{o}_k
    """
    axis = normalize_dim(dim, x.data.ndim)
    if x.data.ndim == 0:  # a scalar is its own running sum
        return x[()]
    out = np.cumsum(x.data, axis=axis, dtype=_accumulator(x.data.dtype))

    def backward(dL_dout: Array) -> tuple[Array]:
        reverse = [slice(None)] * dL_dout.ndim
        reverse[axis] = slice(None, None, -1)
        flip = tuple(reverse)
        return (np.cumsum(dL_dout[flip], axis=axis)[flip],)

    return Tensor._make(out, (x,), backward, "CumsumBackward")


def cumprod(x: Tensor, dim: int) -> Tensor:
    r"""Running product along ``dim``, :math:`o_k = \prod_{j \le k} x_j`.

    .. math::

        \bar{x}_j = \sum_{k \ge j} \bar{o}_k \prod_{i \le k,\, i \ne j} x_i

    Dividing :math:`o_k` by :math:`x_j` would give the product without :math:`x_j` only
    where :math:`x_j \ne 0`; instead the backward forms each such product directly (the
    running product of :math:`x` with :math:`x_j` replaced by 1), exact at zeros, at a cost
    quadratic in the length of ``dim``.
    """
    axis = normalize_dim(dim, x.data.ndim)
    if x.data.ndim == 0:
        return x[()]
    out = np.cumprod(x.data, axis=axis, dtype=_accumulator(x.data.dtype))

    def backward(dL_dout: Array) -> tuple[Array]:
        X = np.moveaxis(x.data, axis, -1)  # (..., n)
        n = X.shape[-1]
        without = np.repeat(X[..., np.newaxis, :], n, axis=-2)  # (..., j, k): x with x_j := 1
        without[..., np.arange(n), np.arange(n)] = 1
        products = np.cumprod(without, axis=-1)  # prod_{i <= k, i != j} x_i
        later = np.triu(np.ones((n, n), dtype=bool))  # k >= j
        g = np.moveaxis(dL_dout, axis, -1)[..., np.newaxis, :]
        dL_dx = (products * later * g).sum(axis=-1)
        return (np.moveaxis(dL_dx, -1, axis),)

    return Tensor._make(out, (x,), backward, "CumprodBackward")


def _accumulator(dtype: np.dtype[Any]) -> np.dtype[Any] | None:
    """torch accumulates integers and booleans in int64, floats in their own dtype."""
    return np.dtype(np.int64) if dtype.kind in "iub" else None


def _dropped(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for a, n in enumerate(shape) if a not in axes)


def _floating(name: str, x: Tensor) -> None:
    if x.data.dtype.kind != "f":
        raise RuntimeError(
            f"{name}(): expected a floating point input, got dtype {x.data.dtype}; "
            "convert it first with .double() or .float()"
        )

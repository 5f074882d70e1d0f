r"""The arithmetic operators ``+ - * / **``, negation, and comparisons.

All of them broadcast; each gradient is summed back to its input's shape by
:func:`~.broadcast.unbroadcast`. A backward computes only the gradients of inputs that
require them: ``x * 2.0`` never works out a gradient for the constant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Array, Tensor, bool_, float32
from .broadcast import broadcast_error, operands, unbroadcast


def promoted(out: Array, a: Tensor, b: Tensor) -> Array:
    """``out`` in torch's result dtype where NumPy's differs.

    torch lets a floating operand set the dtype (an int64 tensor times a float32 one is
    float32; NumPy makes it float64), and divides integers into its default float32.
    """
    if out.dtype.kind != "f" or out.dtype == a.data.dtype or out.dtype == b.data.dtype:
        return out  # the common case, float32 with float32: nothing to decide
    floats = [t.data.dtype for t in (a, b) if t.data.dtype.kind == "f"]
    return out.astype(floats[0] if len(floats) == 1 else float32)


def add(a: Any, b: Any) -> Tensor:
    r"""Sum, :math:`o = a + b`.

    .. math::

        \bar{a} = \bar{o}, \qquad \bar{b} = \bar{o}
        \qquad (\text{each summed back to its input's shape})
    """
    a, b = operands(a, b)
    try:
        out = promoted(a.data + b.data, a, b)
    except ValueError as exc:
        raise broadcast_error(exc, a.shape, b.shape) from None

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        return (
            unbroadcast(dL_dout, a.data.shape) if a.requires_grad else None,
            unbroadcast(dL_dout, b.data.shape) if b.requires_grad else None,
        )

    return Tensor._make(out, (a, b), backward, "AddBackward")


def sub(a: Any, b: Any) -> Tensor:
    r"""Difference, :math:`o = a - b`.

    .. math::

        \bar{a} = \bar{o}, \qquad \bar{b} = -\bar{o}
    """
    a, b = operands(a, b)
    if a.data.dtype == bool_ or b.data.dtype == bool_:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    try:
        out = promoted(a.data - b.data, a, b)
    except ValueError as exc:
        raise broadcast_error(exc, a.shape, b.shape) from None

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        return (
            unbroadcast(dL_dout, a.data.shape) if a.requires_grad else None,
            unbroadcast(-dL_dout, b.data.shape) if b.requires_grad else None,
        )

    return Tensor._make(out, (a, b), backward, "SubBackward")


def mul(a: Any, b: Any) -> Tensor:
    r"""Element-wise product, :math:`o = a \odot b`.

    .. math::

        \bar{a} = \bar{o} \odot b, \qquad \bar{b} = \bar{o} \odot a
    """
    a, b = operands(a, b)
    try:
        out = promoted(a.data * b.data, a, b)
    except ValueError as exc:
        raise broadcast_error(exc, a.shape, b.shape) from None

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        return (
            unbroadcast(dL_dout * b.data, a.data.shape) if a.requires_grad else None,
            unbroadcast(dL_dout * a.data, b.data.shape) if b.requires_grad else None,
        )

    return Tensor._make(out, (a, b), backward, "MulBackward")


def div(a: Any, b: Any) -> Tensor:
    r"""Element-wise quotient, :math:`o = a / b`.

    .. math::

        \bar{a} = \frac{\bar{o}}{b}, \qquad
        \bar{b} = -\bar{o} \odot \frac{a}{b^2} = -\bar{o} \odot \frac{o}{b}
    """
    a, b = operands(a, b)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 is inf or nan, as torch
            out = promoted(a.data / b.data, a, b)
    except ValueError as exc:
        raise broadcast_error(exc, a.shape, b.shape) from None

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        with np.errstate(divide="ignore", invalid="ignore"):
            dL_da = unbroadcast(dL_dout / b.data, a.data.shape) if a.requires_grad else None
            dL_db = unbroadcast(-dL_dout * out / b.data, b.data.shape) if b.requires_grad else None
        return dL_da, dL_db

    return Tensor._make(out, (a, b), backward, "DivBackward")


def pow(a: Any, b: Any) -> Tensor:
    r"""Element-wise power, :math:`o = a^b`.

    .. math::

        \bar{a} = \bar{o} \odot b\, a^{b - 1}, \qquad
        \bar{b} = \bar{o} \odot a^b \ln a

    At the edges we follow torch: :math:`\bar{a} = 0` where :math:`b = 0` (the constant 1
    does not move), and :math:`\bar{b} = 0` where :math:`a = 0` and :math:`b \ge 0`
    (:math:`0^b` is constant there, although :math:`\ln 0 = -\infty`). Integers follow
    torch too: to a negative Python integer they are refused, and to a negative integer
    tensor they give what integer arithmetic can hold (see :func:`_integer_power`).
    """
    scalar_exponent = isinstance(b, int) and not isinstance(b, bool)
    a, b = operands(a, b)
    if a.data.dtype == bool_ and b.data.dtype == bool_:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if a.data.dtype.kind in "iub" and b.data.dtype.kind in "iu" and (b.data < 0).any():
        if scalar_exponent:
            raise RuntimeError(
                f"Integers to negative integer powers are not allowed: {a.data.dtype} tensor "
                f"to the power {int(b.data)}; convert the base with .double() or .float() first"
            )
        return _integer_power(a, b)
    try:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = promoted(a.data**b.data, a, b)
    except ValueError as exc:
        raise broadcast_error(exc, a.shape, b.shape) from None

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        A, B = a.data, b.data
        if a.requires_grad and B.dtype == bool_:  # torch's backward forms b - 1 and refuses
            raise RuntimeError(
                "Subtraction, the `-` operator, with a bool tensor is not supported: the "
                "gradient of a ** b needs b - 1; give the exponent a numeric dtype"
            )
        dL_da = dL_db = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if a.requires_grad:
                local = np.where(B == 0, 0, B * A ** (B - 1))
                dL_da = unbroadcast(dL_dout * local, A.shape)
            if b.requires_grad:
                local = np.where((A == 0) & (B >= 0), 0, out * np.log(A))
                dL_db = unbroadcast(dL_dout * local, B.shape)
        return dL_da, dL_db

    return Tensor._make(out, (a, b), backward, "PowBackward")


def _integer_power(a: Tensor, b: Tensor) -> Tensor:
    r"""``a ** b`` for integer tensors with some negative exponents, as torch computes it.

    :math:`a^b` for :math:`b < 0` is the integer part of :math:`1 / a^{|b|}`: 1 for
    :math:`a = 1`, :math:`\pm 1` for :math:`a = -1` (by the parity of :math:`b`), and 0 for
    every other base, 0 included (torch does not raise there). Integers carry no gradient.
    """
    try:
        A, B = np.broadcast_arrays(a.data, b.data)
    except ValueError as exc:
        raise broadcast_error(exc, a.shape, b.shape) from None
    dtype = np.result_type(a.data, b.data)
    if dtype == np.bool_:
        dtype = np.dtype(np.int64)
    positive = np.where(B >= 0, A.astype(dtype) ** np.abs(B).astype(dtype), 0)
    negative = np.where(A == 1, 1, np.where(A == -1, np.where(B % 2 == 0, 1, -1), 0))
    return Tensor._wrap(np.where(B >= 0, positive, negative).astype(dtype))


def neg(a: Tensor) -> Tensor:
    r"""Negation, :math:`o = -a`, so :math:`\bar{a} = -\bar{o}`."""
    if a.data.dtype == bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )

    def backward(dL_dout: Array) -> tuple[Array]:
        return (-dL_dout,)

    return Tensor._make(-a.data, (a,), backward, "NegBackward")


def compare(ufunc: Callable[[Array, Array], Array], a: Any, b: Any) -> Tensor:
    """An element-wise comparison: a boolean tensor, outside the graph (no gradient)."""
    a, b = operands(a, b)
    try:
        return Tensor._wrap(np.asarray(ufunc(a.data, b.data)))
    except ValueError as exc:
        raise broadcast_error(exc, a.shape, b.shape) from None

r"""Element-wise functions of one tensor.

For :math:`o = f(x)` applied entry by entry the Jacobian is diagonal, so the
vector-Jacobian product is an element-wise product:
:math:`\bar{x} = \bar{o} \odot f'(x)`. Where :math:`f'` is cheaper in terms of the
output (exp, tanh, sigmoid) the backward uses the saved output.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Array, Tensor, bool_, float32


def floating(x: Tensor) -> Array:
    """``x``'s data, integers and booleans as float32: torch's exp(int tensor) is float32."""
    return x.data if x.data.dtype.kind == "f" else x.data.astype(float32)


def exp(x: Tensor) -> Tensor:
    r""":math:`o = e^x`, :math:`\bar{x} = \bar{o} \odot e^x = \bar{o} \odot o`."""
    with np.errstate(over="ignore"):  # overflow to inf, as torch
        out = np.exp(floating(x))

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout * out,)

    return Tensor._make(out, (x,), backward, "ExpBackward")


def log(x: Tensor) -> Tensor:
    r""":math:`o = \ln x`, :math:`\bar{x} = \bar{o} / x` (``-inf`` at 0, NaN below, as torch)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(floating(x))

    def backward(dL_dout: Array) -> tuple[Array]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (dL_dout / x.data,)

    return Tensor._make(out, (x,), backward, "LogBackward")


def sqrt(x: Tensor) -> Tensor:
    r""":math:`o = \sqrt{x}`, :math:`\bar{x} = \bar{o} / (2\sqrt{x})` (infinite at 0)."""
    with np.errstate(invalid="ignore"):
        out = np.sqrt(floating(x))

    def backward(dL_dout: Array) -> tuple[Array]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (dL_dout / (2 * out),)

    return Tensor._make(out, (x,), backward, "SqrtBackward")


def abs(x: Tensor) -> Tensor:
    r""":math:`o = |x|`, :math:`\bar{x} = \bar{o} \odot \operatorname{sign}(x)`.

    :math:`|x|` has a kink at 0; like torch we take :math:`\operatorname{sign}(0) = 0` there.
    """
    if x.data.dtype == bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout * np.sign(x.data),)

    return Tensor._make(np.abs(x.data), (x,), backward, "AbsBackward")


def tanh(x: Tensor) -> Tensor:
    r""":math:`o = \tanh x`, :math:`\bar{x} = \bar{o} \odot (1 - o^2)`."""
    out = np.tanh(floating(x))

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout * (1 - out * out),)

    return Tensor._make(out, (x,), backward, "TanhBackward")


def stable_sigmoid(z: Array) -> Array:
    r"""The logistic function :math:`\sigma(z) = 1 / (1 + e^{-z})` without overflow.

    With :math:`e = e^{-|z|} \in (0, 1]`, :math:`\sigma(z) = 1/(1 + e)` for :math:`z \ge 0`
    and :math:`e/(1 + e)` for :math:`z < 0`: only non-positive numbers are exponentiated.
    """
    e = np.exp(-np.abs(z))
    sigma: Array = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return sigma


def sigmoid(x: Tensor) -> Tensor:
    r""":math:`o = \sigma(x)`, :math:`\bar{x} = \bar{o} \odot o \odot (1 - o)`."""
    out = stable_sigmoid(floating(x))

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout * out * (1 - out),)

    return Tensor._make(out, (x,), backward, "SigmoidBackward")


def relu(x: Tensor) -> Tensor:
    r""":math:`o = \max(x, 0)`, :math:`\bar{x} = \bar{o} \odot [x > 0]`.

    The kink at 0 gets derivative 0, as in torch: a unit sitting exactly at 0 passes no
    gradient.
    """
    if x.data.dtype == bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    out = np.maximum(x.data, 0)

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout * (out > 0),)

    return Tensor._make(out, (x,), backward, "ReluBackward")


def to_dtype(x: Tensor, dtype: np.dtype[np.generic]) -> Tensor:
    r"""A copy cast to ``dtype``; the gradient is cast back: :math:`\bar{x} = \bar{o}`."""
    if dtype == x.data.dtype:
        return x

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout.astype(x.data.dtype),)

    return Tensor._make(x.data.astype(dtype), (x,), backward, "ToCopyBackward")

r"""Neural-network functions, as ``torch.nn.functional``: activations, softmax, losses.

``linear``, ``softmax``, ``log_softmax`` and every loss are *fused* ops: one node each,
with a closed-form backward. Composing them from primitives (``exp``, ``sum``, ``log``,
...) would give the same gradients, but with a dozen nodes, a dozen temporaries, and the
overflow of the naive formulas; the fused forms are both faster and numerically stable.

Losses take ``reduction="mean"`` (the default, as torch), ``"sum"`` or ``"none"``.
Below, :math:`n` is the number of rows, :math:`\bar{L}` the upstream gradient of the
loss (1 when the loss is what ``backward()`` starts from), and :math:`Y` the one-hot
matrix of integer labels :math:`y`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Array, Tensor

REDUCTIONS = ("mean", "sum", "none")


def relu(x: Tensor) -> Tensor:
    """:math:`\\max(x, 0)`, see :func:`fromscratch.autograd.ops.relu`."""
    return ops.relu(x)


def sigmoid(x: Tensor) -> Tensor:
    """:math:`1 / (1 + e^{-x})`, see :func:`fromscratch.autograd.ops.sigmoid`."""
    return ops.sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    """:math:`\\tanh x`, see :func:`fromscratch.autograd.ops.tanh`."""
    return ops.tanh(x)


def linear(x: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    r"""The affine map of ``torch.nn.Linear``, :math:`z = x W^\top + b`, as one node.

    ``x`` has shape (..., in), ``W`` (out, in), ``b`` (out,). With rows of ``x`` as
    samples (flattening any leading dimensions into :math:`n` rows):

    .. math::

        \bar{W} = \bar{z}^\top x, \qquad \bar{b} = \sum_{\text{rows}} \bar{z},
        \qquad \bar{x} = \bar{z}\, W

    Each of these is computed only when its input requires a gradient: the first layer
    of a network never needs :math:`\bar{x}`, the gradient with respect to the data.
    """
    if W.data.ndim != 2 or x.data.ndim == 0 or x.data.shape[-1] != W.data.shape[1]:
        raise RuntimeError(
            f"linear(): input of shape {x.shape} cannot be multiplied by weight of shape "
            f"{W.shape}: expected input (..., {W.shape[-1] if W.ndim else '?'})"
        )
    z = x.data @ W.data.T  # W.T is a view: BLAS reads W transposed, nothing is copied
    parents: tuple[Tensor, ...] = (x, W)
    if b is not None:
        z += b.data  # z is fresh, so adding in place saves a temporary
        parents = (x, W, b)

    def backward(dL_dz: Array) -> list[Array | None]:
        x2 = x.data.reshape(-1, x.data.shape[-1])
        dL_dz2 = dL_dz.reshape(-1, dL_dz.shape[-1])
        grads: list[Array | None] = [
            dL_dz @ W.data if x.requires_grad else None,
            dL_dz2.T @ x2 if W.requires_grad else None,
        ]
        if b is not None:
            grads.append(dL_dz2.sum(axis=0) if b.requires_grad else None)
        return grads

    return Tensor._make(z, parents, backward, "AddmmBackward")


def _log_softmax_parts(z: Array, axis: int) -> tuple[Array, Array, Array]:
    r"""``(shifted, exp(shifted), sum)`` with :math:`\text{shifted} = z - \max z`.

    Subtracting the maximum along ``axis`` changes nothing mathematically (it cancels in
    the ratio) but keeps every exponent :math:`\le 0`, so ``exp`` cannot overflow.
    """
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=axis, keepdims=True)


def softmax(x: Tensor, dim: int) -> Tensor:
    r""":math:`s_i = e^{x_i} / \sum_j e^{x_j}` along ``dim``.

    The Jacobian :math:`\partial s_i / \partial x_j = s_i ([i = j] - s_j)` gives

    .. math::

        \bar{x} = s \odot \Big(\bar{s} - \sum_j \bar{s}_j s_j\Big)
    """
    axis = ops.normalize_dim(dim, x.data.ndim)
    _, e, total = _log_softmax_parts(x.data, axis)
    s = e / total

    def backward(dL_ds: Array) -> tuple[Array]:
        return (s * (dL_ds - (dL_ds * s).sum(axis=axis, keepdims=True)),)

    return Tensor._make(s, (x,), backward, "SoftmaxBackward")


def log_softmax(x: Tensor, dim: int) -> Tensor:
    r""":math:`o_i = x_i - \log \sum_j e^{x_j}` along ``dim``, computed stably.

    :math:`\partial o_i / \partial x_j = [i = j] - s_j` with :math:`s` the softmax, so

    .. math::

        \bar{x} = \bar{o} - s \sum_i \bar{o}_i
    """
    axis = ops.normalize_dim(dim, x.data.ndim)
    shifted, e, total = _log_softmax_parts(x.data, axis)
    out = shifted - np.log(total)

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout - (e / total) * dL_dout.sum(axis=axis, keepdims=True),)

    return Tensor._make(out, (x,), backward, "LogSoftmaxBackward")


def _float_target(target: Any, input: Tensor) -> Tensor:
    """``target`` as a tensor; integer or boolean labels become the input's float dtype."""
    t = ops.as_tensor(target, input)
    if t.data.dtype.kind != "f":
        return Tensor._wrap(t.data.astype(input.data.dtype))
    return t


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction; expected {REDUCTIONS}")


def _reduce(loss: Array, reduction: str) -> tuple[Array, Any]:
    """The reduced loss and the factor each element's gradient gets (1/count for mean)."""
    if reduction == "none":
        return loss, 1
    total = np.asarray(loss.sum(), dtype=loss.dtype)
    if reduction == "sum":
        return total, 1
    return np.asarray(total / max(loss.size, 1), dtype=loss.dtype), 1 / max(loss.size, 1)


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    r"""Softmax cross-entropy of logits ``input`` (n, k) against integer labels ``target`` (n,).

    Fused log-softmax and negative log-likelihood, like ``torch.nn.functional.cross_entropy``:

    .. math::

        \ell_i = \log \sum_c e^{z_{ic}} - z_{i y_i}, \qquad
        \frac{\partial \ell_i}{\partial z_{ij}} = p_{ij} - Y_{ij}

    with :math:`p = \operatorname{softmax}(z)` row by row: the softmax's Jacobian and the
    log's :math:`1/p` cancel, leaving "predicted minus true". For the mean,

    .. math::

        L = \frac{1}{n} \sum_i \ell_i, \qquad \bar{z} = \frac{\bar{L}}{n} (P - Y)
    """
    _check_reduction(reduction)
    z = input.data
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    if z.ndim == 2 and y.ndim == 1 and len(y) != len(z):
        raise ValueError(
            f"Expected input batch_size ({len(z)}) to match target batch_size ({len(y)})"
        )
    if z.ndim != 2 or y.shape != (z.shape[0],) or y.dtype.kind not in "iu":
        raise RuntimeError(
            f"cross_entropy expects logits (n, k) and integer targets (n,), got input "
            f"{input.shape} and target {y.shape} of dtype {y.dtype}"
        )
    n, k = z.shape
    out_of_range = (y < 0) | (y >= k)
    if out_of_range.any():
        raise IndexError(f"Target {int(y[out_of_range][0])} is out of bounds.")
    rows = np.arange(n)
    shifted, e, total = _log_softmax_parts(z, 1)
    losses = np.log(total[:, 0]) - shifted[rows, y]
    out, scale = _reduce(losses, reduction)

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dz = e / total  # P, a fresh array that we turn into the gradient in place
        dL_dz[rows, y] -= 1  # P - Y, without building Y
        if reduction == "none":
            dL_dz *= dL_dout[:, np.newaxis]
        else:
            dL_dz *= dL_dout * scale
        return (dL_dz,)

    return Tensor._make(out, (input,), backward, "NllLossBackward")


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    reduction: str = "mean",
) -> Tensor:
    r"""Binary cross-entropy on logits :math:`z` against targets :math:`y \in [0, 1]`.

    With :math:`\log \sigma(z) = -\operatorname{softplus}(-z)` and
    :math:`\log(1 - \sigma(z)) = -\operatorname{softplus}(z)`,

    .. math::

        \ell = -y \log \sigma(z) - (1 - y) \log(1 - \sigma(z))
             = \max(z, 0) - z y + \log(1 + e^{-|z|})

    which never exponentiates a positive number: finite at logits of :math:`\pm 1000`.
    Since :math:`\operatorname{softplus}' = \sigma`,

    .. math::

        \frac{\partial \ell}{\partial z} = \sigma(z) - y, \qquad
        \frac{\partial \ell}{\partial y} = -z
    """
    _check_reduction(reduction)
    z = input.data
    y_t = _float_target(target, input)
    y = y_t.data
    if y.shape != z.shape:
        raise ValueError(f"Target size ({y.shape}) must be the same as input size ({z.shape})")
    losses = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    out, scale = _reduce(losses, reduction)

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        upstream = dL_dout * scale
        dL_dz = (ops.unary.stable_sigmoid(z) - y) * upstream if input.requires_grad else None
        dL_dy = -z * upstream if y_t.requires_grad else None
        return dL_dz, dL_dy

    return Tensor._make(out, (input, y_t), backward, "BinaryCrossEntropyWithLogitsBackward")


def binary_cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    r"""Binary cross-entropy on probabilities :math:`p` against targets :math:`y`.

    .. math::

        \ell = -\big(y \log p + (1 - y) \log(1 - p)\big), \qquad
        \frac{\partial \ell}{\partial p} = \frac{p - y}{p (1 - p)}

    As torch does, each log is clamped at :math:`-100` (so :math:`p = 0` or 1 gives a
    finite loss) and the denominator at :math:`10^{-12}`. Prefer
    :func:`binary_cross_entropy_with_logits`, which is exact where :math:`\sigma` saturates.
    The target gets no gradient (torch does not implement one either).
    """
    _check_reduction(reduction)
    p = input.data
    y = _float_target(target, input).data
    if y.shape != p.shape:
        raise ValueError(f"Target size ({y.shape}) must be the same as input size ({p.shape})")
    if ((p < 0) | (p > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_1mp = np.maximum(np.log1p(-p), -100)
    losses = -(y * log_p + (1 - y) * log_1mp)
    out, scale = _reduce(losses, reduction)

    def backward(dL_dout: Array) -> tuple[Array]:
        denominator = np.maximum(p * (1 - p), 1e-12)
        return ((p - y) / denominator * (dL_dout * scale),)

    return Tensor._make(out, (input,), backward, "BinaryCrossEntropyBackward")


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    r"""Mean squared error, :math:`L = \frac{1}{m} \sum (x - t)^2` over all :math:`m` entries.

    .. math::

        \bar{x} = \frac{2 \bar{L}}{m} (x - t), \qquad \bar{t} = -\bar{x}
    """
    _check_reduction(reduction)
    t = _float_target(target, input)
    try:
        diff = input.data - t.data
    except ValueError as exc:
        raise ops.broadcast.broadcast_error(exc, input.shape, t.shape) from None
    out, scale = _reduce(diff * diff, reduction)

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        dL_ddiff = diff * (dL_dout * (2 * scale))
        return (
            ops.unbroadcast(dL_ddiff, input.data.shape) if input.requires_grad else None,
            ops.unbroadcast(-dL_ddiff, t.data.shape) if t.requires_grad else None,
        )

    return Tensor._make(out, (input, t), backward, "MseLossBackward")

r"""Neural-network functions, as ``torch.nn.functional``: activations, softmax, losses
(here), and ``conv2d``, ``max_pool2d``, ``avg_pool2d``, ``batch_norm`` and ``dropout``
(each in the module of its layer, re-exported here).

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

from collections.abc import Callable
from math import prod
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Array, Tensor
from .batchnorm import batch_norm as batch_norm

# The image ops live beside their layers; torch users find them here, as in torch.
from .convolution import conv2d as conv2d
from .dropout import dropout as dropout
from .pooling import avg_pool2d as avg_pool2d
from .pooling import max_pool2d as max_pool2d

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


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Constant padding of the last dimensions, see :func:`fromscratch.autograd.ops.pad`."""
    return ops.pad(input, pad, mode, value)


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
    _check_linear(x, W, b)
    z = x.data @ W.data.T  # W.T is a view: BLAS reads W transposed, nothing is copied
    parents: tuple[Tensor, ...] = (x, W)
    if b is not None:
        z += b.data  # z is fresh, so adding in place saves a temporary
        parents = (x, W, b)

    def backward(dL_dz: Array) -> list[Array | None]:
        rows = x.data.size // max(x.data.shape[-1], 1)  # not -1: a size-0 shape is ambiguous
        x2 = x.data.reshape(rows, x.data.shape[-1])
        dL_dz2 = dL_dz.reshape(rows, dL_dz.shape[-1])
        grads: list[Array | None] = [
            dL_dz @ W.data if x.requires_grad else None,
            dL_dz2.T @ x2 if W.requires_grad else None,
        ]
        if b is not None:
            grads.append(dL_dz2.sum(axis=0) if b.requires_grad else None)
        return grads

    return Tensor._make(z, parents, backward, "AddmmBackward")


def _check_linear(x: Tensor, W: Tensor, b: Tensor | None) -> None:
    """Raise what torch raises for mismatched dtypes or shapes in :func:`linear`."""
    if x.data.dtype != W.data.dtype or (b is not None and b.data.dtype != W.data.dtype):
        raise RuntimeError(
            "linear(): input, weight and bias must have the same dtype, got "
            + ", ".join(str(t.data.dtype) for t in (x, W, b) if t is not None)
        )
    if W.data.dtype == np.bool_:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    if W.data.ndim != 2 or x.data.ndim == 0 or x.data.shape[-1] != W.data.shape[1]:
        raise RuntimeError(
            f"linear(): input of shape {x.shape} cannot be multiplied by weight of shape "
            f"{W.shape}: expected input (..., {W.shape[-1] if W.ndim else '?'})"
        )


def _log_softmax_parts(z: Array, axis: int) -> tuple[Array, Array, Array]:
    r"""``(shifted, exp(shifted), sum)`` with :math:`\text{shifted} = z - \max z`.

    Subtracting the maximum along ``axis`` changes nothing mathematically (it cancels in
    the ratio) but keeps every exponent :math:`\le 0`, so ``exp`` cannot overflow.
    """
    if not z.size:  # nothing to normalise (and max has no identity)
        return z.copy(), z.copy(), np.zeros_like(z.sum(axis=axis, keepdims=True))
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
    _floating_only("softmax_lastdim_kernel_impl", x)
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
    _floating_only("log_softmax_lastdim_kernel_impl", x)
    shifted, e, total = _log_softmax_parts(x.data, axis)
    with np.errstate(divide="ignore"):  # a sum over no classes is 0
        out = shifted - np.log(total)

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout - (e / total) * dL_dout.sum(axis=axis, keepdims=True),)

    return Tensor._make(out, (x,), backward, "LogSoftmaxBackward")


def _floating_only(kernel: str, x: Tensor) -> None:
    """torch has no integer or boolean kernel for the softmax family and the losses."""
    if x.data.dtype.kind != "f":
        name = {"int64": "Long", "bool": "Bool", "int32": "Int"}.get(
            str(x.data.dtype), x.data.dtype
        )
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction!r} is not a valid value for reduction; expected {REDUCTIONS}")


def _reduce(loss: Array, reduction: str) -> tuple[Array, Any]:
    """The reduced loss and the factor each element's gradient gets (1/count for mean).

    The mean over no elements is NaN, as in torch.
    """
    if reduction == "none":
        return loss, 1
    total = np.asarray(loss.sum(), dtype=loss.dtype)
    if reduction == "sum":
        return total, 1
    if not loss.size:
        return np.asarray(np.nan, dtype=loss.dtype), 1
    return np.asarray(total / loss.size, dtype=loss.dtype), 1 / loss.size


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""Softmax cross-entropy of logits ``input`` against class labels or probabilities.

    ``input`` holds :math:`C` class scores along dimension 1: (N, C), (N, C, d1, ...) or
    unbatched (C,). ``target`` is either integer labels, (N,), (N, d1, ...) or (), or
    class probabilities of the input's own shape, as torch takes them.

    The common case (integer labels, no weight, no smoothing, nothing ignored) is one
    fused node, log-softmax and negative log-likelihood together:

    .. math::

        \ell_i = \log \sum_c e^{z_{ic}} - z_{i y_i}, \qquad
        \frac{\partial \ell_i}{\partial z_{ij}} = p_{ij} - Y_{ij}

    with :math:`p = \operatorname{softmax}(z)` row by row: the softmax's Jacobian and the
    log's :math:`1/p` cancel, leaving "predicted minus true". For the mean,

    .. math::

        L = \frac{1}{n} \sum_i \ell_i, \qquad \bar{z} = \frac{\bar{L}}{n} (P - Y)

    Every other case is :math:`\ell_i = -\sum_c q_{ic} \log p_{ic}` with soft targets
    :math:`q`, composed from :func:`log_softmax` and :func:`nll_loss` (see
    :func:`_soft_cross_entropy`), so its gradients follow from theirs.
    """
    _check_reduction(reduction)
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.data.ndim == 0:
        error = IndexError if y.dtype.kind == "f" else RuntimeError  # torch's two messages
        raise error("cross_entropy(): expected input with a class dimension, got a 0-d tensor")
    class_dim = 0 if input.data.ndim == 1 else 1
    _floating_only("log_softmax_lastdim_kernel_impl", input)
    C = input.data.shape[class_dim]
    plain = weight is None and label_smoothing == 0.0 and y.dtype.kind in "iu"
    plain = plain and not 0 <= ignore_index < C  # else a valid label may be ignored
    if y.dtype.kind == "f" or not plain:
        return _soft_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
    z, y, restore = _classes_last(input, y)
    n, k = z.shape
    out_of_range = (y < 0) | (y >= k)
    if out_of_range.any():  # ignored entries leave the fast path; anything else is an error
        if (y[out_of_range] == ignore_index).all():
            return _soft_cross_entropy(input, target, weight, ignore_index, reduction, 0.0)
        raise IndexError(f"Target {int(y[out_of_range][0])} is out of bounds.")
    rows = np.arange(n)
    shifted, e, total = _log_softmax_parts(z, 1)
    losses = np.log(total[:, 0]) - shifted[rows, y]
    out, scale = _reduce(losses, reduction)
    if reduction == "none":
        out = out.reshape(target_shape(input.data.shape, class_dim))

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dz = e / total  # P, a fresh array that we turn into the gradient in place
        dL_dz[rows, y] -= 1  # P - Y, without building Y
        if reduction == "none":
            dL_dz *= dL_dout.reshape(-1, 1)
        else:
            dL_dz *= dL_dout * scale
        return (restore(dL_dz),)

    return Tensor._make(out, (input,), backward, "NllLossBackward")


def target_shape(shape: tuple[int, ...], class_dim: int) -> tuple[int, ...]:
    """The shape of a label target for an input of ``shape``: the class dimension dropped."""
    return shape[:class_dim] + shape[class_dim + 1 :]


def _classes_last(input: Tensor, y: Array) -> tuple[Array, Array, Callable[[Array], Array]]:
    """Scores as an (m, C) matrix and labels as (m,), and the map back to input's shape.

    Checks the label target's shape against the input's, with torch's error types. For
    (N, C) input both are views: the MLP's loss pays nothing for the general shapes.
    """
    z = input.data
    class_dim = 0 if z.ndim == 1 else 1
    expected = target_shape(z.shape, class_dim)
    if z.ndim >= 2 and y.ndim >= 1 and len(y) != len(z):
        raise ValueError(
            f"Expected input batch_size ({len(z)}) to match target batch_size ({len(y)})"
        )
    if y.shape != expected or y.dtype.kind not in "iu":
        raise RuntimeError(
            f"expected integer class labels of shape {expected} for input of shape "
            f"{z.shape} (classes along dimension {class_dim}), got target of shape "
            f"{y.shape} and dtype {y.dtype}"
        )
    if z.ndim == 2:  # the MLP's case: nothing to move
        return z, y, _same
    moved = np.moveaxis(z, class_dim, -1)

    def restore(dL_dz2: Array) -> Array:
        return np.moveaxis(dL_dz2.reshape(moved.shape), -1, class_dim)

    m = prod(expected)  # not -1: a size-0 shape is ambiguous
    return moved.reshape(m, z.shape[class_dim]), y.reshape(m), restore


def _same(dL_dz2: Array) -> Array:
    return dL_dz2


def _soft_cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    r"""Cross-entropy against soft targets, composed from differentiable ops.

    With :math:`\log p = \operatorname{log\_softmax}(z)` along the class dimension,
    smoothing :math:`\varepsilon` and class weights :math:`w` (1 without ``weight``):

    * probability targets :math:`t`: :math:`\ell_i = -\sum_c w_c\, q_{ic} \log p_{ic}`
      with :math:`q = (1 - \varepsilon) t + \varepsilon / C`; the mean divides by the
      number of rows. :math:`t` may require grad.
    * integer labels :math:`y`: :math:`\ell_i = (1 - \varepsilon)\, \text{nll}_i +
      \frac{\varepsilon}{C} \sum_c -w_c \log p_{ic}`, zero where :math:`y_i` is
      ``ignore_index``; the mean divides by :math:`\sum_i w_{y_i}` over the kept rows,
      as :func:`nll_loss` does.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    class_dim = 0 if input.data.ndim == 1 else 1
    C = input.data.shape[class_dim]
    log_p = log_softmax(input, class_dim)
    w_shape = [1] * input.data.ndim
    w_shape[class_dim] = C
    w = None if weight is None else ops.as_tensor(weight, input).reshape(tuple(w_shape))
    dtype = input.data.dtype
    eps = label_smoothing
    share = eps / C if C else float("nan")  # the smoothing each class gets
    if np.asarray(target.data if isinstance(target, Tensor) else target).dtype.kind == "f":
        t = ops.as_tensor(target, input)
        if t.data.shape != input.data.shape:
            raise RuntimeError(
                f"probability target of shape {t.shape} must have the input's shape {input.shape}"
            )
        q = t * (1 - eps) + share if eps else t
        losses = -(q * log_p if w is None else q * w * log_p).sum(dim=class_dim)
        if reduction == "none":
            return losses
        total = losses.sum()
        rows = input.data.size / C if C else float("nan")  # torch's count; no classes: NaN
        return total if reduction == "sum" else total / rows
    nll = nll_loss(log_p, target, weight, ignore_index, reduction)
    if not eps:
        return nll
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    kept = Tensor._wrap((y != ignore_index).astype(input.data.dtype))
    smooth = -(log_p if w is None else log_p * w).sum(dim=class_dim) * kept
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        safe = np.where(y != ignore_index, y, 0)
        w_y = np.ones(y.shape) if weight is None else ops.as_tensor(weight).data[safe]
        total_weight = np.asarray((w_y * kept.data).sum(), dtype=dtype)
        with np.errstate(divide="ignore", invalid="ignore"):  # no kept rows: NaN, as torch
            smooth = smooth.sum() / Tensor._wrap(total_weight)
    return nll * (1 - eps) + smooth * share


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    r"""Negative log-likelihood of log-probabilities ``input`` at integer labels ``target``.

    Shapes as :func:`cross_entropy`: (N, C), (N, C, d1, ...) or (C,) against labels
    (N,), (N, d1, ...) or (). Each row picks its label's entry, weighted by its class:

    .. math::

        \ell_i = -w_{y_i}\, x_{i y_i}, \qquad
        L_{\text{mean}} = \frac{\sum_i \ell_i}{\sum_i w_{y_i}}, \qquad
        \bar{x}_{ic} = -\bar{\ell}_i\, w_{y_i} [c = y_i]

    Rows whose label is ``ignore_index`` count neither in the sum nor in the weights.
    """
    _check_reduction(reduction)
    if input.data.ndim == 0:
        raise ValueError("nll_loss(): expected input with 1 or more dimensions, got a 0-d tensor")
    _floating_only("nll_loss_out_frame", input)
    y_full = np.asarray(target.data if isinstance(target, Tensor) else target)
    x, y, restore = _classes_last(input, y_full)
    n, k = x.shape
    kept = y != ignore_index
    bad = kept & ((y < 0) | (y >= k))
    if bad.any():
        raise IndexError(f"Target {int(y[bad][0])} is out of bounds.")
    y = np.where(kept, y, 0)
    if weight is None:
        w_y = kept.astype(x.dtype)
    else:
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=x.dtype)
        if w.shape != (k,) or (not k and y.size):
            raise RuntimeError(
                f"weight tensor should be defined for all {k} classes, got {w.shape}"
            )
        w_y = w[y] * kept
    rows = np.arange(n)
    losses = -w_y * x[rows, y]
    if reduction == "none":
        out = losses.reshape(y_full.shape)
        scale: Any = 1
    else:
        out = np.asarray(losses.sum(), dtype=x.dtype)
        scale = 1
        if reduction == "mean":
            with np.errstate(divide="ignore", invalid="ignore"):  # all ignored: nan, as torch
                scale = 1 / w_y.sum()
                out = np.asarray(out * scale, dtype=x.dtype)

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dx = np.zeros_like(x)
        with np.errstate(invalid="ignore"):
            upstream = dL_dout.reshape(-1) if reduction == "none" else dL_dout * scale
            dL_dx[rows[kept], y[kept]] = (-w_y * upstream)[kept]  # ignored rows get nothing
        return (restore(dL_dx),)

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
    _floating_only("binary_cross_entropy_with_logits", input)
    z = input.data
    y_t = ops.as_tensor(target, input)
    if y_t.data.dtype.kind != "f":
        raise RuntimeError(
            f"result type {z.dtype} can't be cast to the desired output type {y_t.data.dtype}: "
            "binary_cross_entropy_with_logits needs floating targets (use .float())"
        )
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
        \frac{\partial \ell}{\partial p} = \frac{p - y}{p (1 - p)}, \qquad
        \frac{\partial \ell}{\partial y} = -\log \frac{p}{1 - p}

    As torch does, each log of the loss is clamped at :math:`-100` (so :math:`p = 0` or 1
    gives a finite loss) and the first denominator at :math:`10^{-12}`; the target's
    gradient, :math:`-\operatorname{logit}(p)`, is not clamped (torch's is not either).
    Prefer :func:`binary_cross_entropy_with_logits`, which is exact where :math:`\sigma`
    saturates.
    """
    _check_reduction(reduction)
    _floating_only("binary_cross_entropy", input)
    p = input.data
    y_t = ops.as_tensor(target, input)
    if y_t.data.dtype != p.dtype:
        raise RuntimeError(
            f"Found dtype {y_t.data.dtype} but expected {p.dtype}: binary_cross_entropy needs "
            "the target in the input's dtype"
        )
    y = y_t.data
    if y.shape != p.shape:
        raise ValueError(f"Target size ({y.shape}) must be the same as input size ({p.shape})")
    if ((p < 0) | (p > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_1mp = np.maximum(np.log1p(-p), -100)
    losses = -(y * log_p + (1 - y) * log_1mp)
    out, scale = _reduce(losses, reduction)

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        upstream = dL_dout * scale
        dL_dp = dL_dy = None
        if input.requires_grad:
            dL_dp = (p - y) / np.maximum(p * (1 - p), 1e-12) * upstream
        if y_t.requires_grad:
            with np.errstate(divide="ignore"):
                dL_dy = -(np.log(p) - np.log1p(-p)) * upstream
        return dL_dp, dL_dy

    return Tensor._make(out, (input, y_t), backward, "BinaryCrossEntropyBackward")


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    r"""Mean squared error, :math:`L = \frac{1}{m} \sum (x - t)^2` over all :math:`m` entries.

    .. math::

        \bar{x} = \frac{2 \bar{L}}{m} (x - t), \qquad \bar{t} = -\bar{x}
    """
    _check_reduction(reduction)
    t = ops.as_tensor(target, input)
    if input.data.dtype.kind != "f" and t.data.dtype.kind != "f":
        _floating_only("mse_cpu", input)
    try:
        diff = ops.arithmetic.promoted(input.data - t.data, input, t)
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


# The sequence functions live beside their modules (one idea per file); they are part of
# ``functional`` as in torch. Imported last: attention composes the functions above.
from .attention import scaled_dot_product_attention as scaled_dot_product_attention  # noqa: E402
from .embedding import embedding as embedding  # noqa: E402
from .normalization import layer_norm as layer_norm  # noqa: E402

r"""Batch normalization: the op ``batch_norm`` and the layer ``BatchNorm2d``, as torch's.

Forward, in training
--------------------
Each channel :math:`c` (dimension 1) is normalized over the :math:`m` entries it has in
the batch (every dimension but 1: batch, height, width), then scaled and shifted by
learned :math:`\gamma_c` (``weight``) and :math:`\beta_c` (``bias``):

.. math::

    \mu = \frac{1}{m} \sum x, \qquad \sigma^2 = \frac{1}{m} \sum (x - \mu)^2, \qquad
    \hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
    y = \gamma\, \hat{x} + \beta

and the running statistics move towards the batch's, with ``momentum`` :math:`\alpha`
(the variance unbiased, :math:`\frac{m}{m - 1} \sigma^2`, as torch keeps it):

.. math::

    \mu_{\text{run}} \leftarrow (1 - \alpha)\, \mu_{\text{run}} + \alpha\, \mu, \qquad
    \sigma^2_{\text{run}} \leftarrow (1 - \alpha)\, \sigma^2_{\text{run}}
        + \alpha\, \frac{m}{m - 1}\, \sigma^2

Backward, in training
---------------------
:math:`\mu` and :math:`\sigma` depend on every :math:`x` of the channel, so
:math:`\bar{x}` is not just :math:`\bar{y} \gamma / \sigma`. Writing
:math:`\bar{\hat{x}} = \bar{y}\, \gamma` and :math:`\langle \cdot \rangle` for the mean
over the channel's :math:`m` entries, the chain rule through :math:`\mu` and
:math:`\sigma^2` collapses to

.. math::

    \bar{x} = \frac{1}{\sqrt{\sigma^2 + \epsilon}} \Big( \bar{\hat{x}}
        - \langle \bar{\hat{x}} \rangle - \hat{x}\, \langle \bar{\hat{x}}\, \hat{x} \rangle \Big),
    \qquad \bar{\gamma} = \sum \bar{y}\, \hat{x}, \qquad \bar{\beta} = \sum \bar{y}

The two subtracted terms remove the parts of :math:`\bar{\hat{x}}` that would shift the
batch mean or scale its spread, which normalization undoes anyway.

In evaluation
-------------
The running statistics stand in for the batch's; they are constants, so
:math:`\bar{x} = \bar{y}\, \gamma / \sqrt{\sigma^2_{\text{run}} + \epsilon}`, and
:math:`\bar{\gamma}`, :math:`\bar{\beta}` are as above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..tensor import Array, Tensor
from .module import Module, Parameter


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """``torch.nn.functional.batch_norm`` over dimension 1 of (N, C, ...) input.

    In training the running statistics, when given, are updated in place. See the module
    docstring for the math.
    """
    x = input.data
    _check_batch_norm(x, running_mean, running_var, weight, bias, training)
    axes = (0, *range(2, x.ndim))  # every dimension but the channels
    m = x.size // x.shape[1] if x.shape[1] else 0
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # broadcasts against x

    def channel_mean(a: Array) -> Array:  # <a>, per channel; NaN for an empty batch, unused
        with np.errstate(invalid="ignore", divide="ignore"):
            mean: Array = a.sum(axis=axes, keepdims=True) / a.dtype.type(m)
        return mean

    with np.errstate(invalid="ignore", divide="ignore"):
        if training:
            mu = channel_mean(x)
            var = channel_mean((x - mu) ** 2)
            if running_mean is not None and running_var is not None and m:
                _update(running_mean, mu.reshape(-1), momentum)
                _update(running_var, var.reshape(-1) * (m / (m - 1)), momentum)
        else:  # _check_batch_norm made sure both are there
            mu = running_mean.data.reshape(per_channel)  # type: ignore[union-attr]
            var = running_var.data.reshape(per_channel)  # type: ignore[union-attr]
        inv_std = (1 / np.sqrt(var + eps)).astype(x.dtype)
        x_hat = (x - mu) * inv_std
    gamma = None if weight is None else weight.data.reshape(per_channel)
    y = x_hat if gamma is None else x_hat * gamma
    if bias is not None:
        y = y + bias.data.reshape(per_channel)

    def backward(dL_dy: Array) -> list[Array | None]:
        dL_dx_hat = dL_dy if gamma is None else dL_dy * gamma
        if training:
            dL_dx = inv_std * (
                dL_dx_hat - channel_mean(dL_dx_hat) - x_hat * channel_mean(dL_dx_hat * x_hat)
            )
        else:
            dL_dx = dL_dx_hat * inv_std
        grads: list[Array | None] = [dL_dx if input.requires_grad else None]
        if weight is not None:
            grads.append((dL_dy * x_hat).sum(axis=axes) if weight.requires_grad else None)
        if bias is not None:
            grads.append(dL_dy.sum(axis=axes) if bias.requires_grad else None)
        return grads

    parents = tuple(t for t in (input, weight, bias) if t is not None)
    return Tensor._make(y, parents, backward, "NativeBatchNormBackward")


def _update(running: Tensor, batch: Array, momentum: float) -> None:
    """``running <- (1 - momentum) running + momentum batch``, in place, as torch."""
    running.data[...] = (1 - momentum) * running.data + momentum * batch


class BatchNorm2d(Module):
    r"""Batch normalization of (N, C, H, W) input per channel, like ``torch.nn.BatchNorm2d``.

    Parameters ``weight`` (:math:`\gamma`, ones) and ``bias`` (:math:`\beta`, zeros), both
    (C,), when ``affine``; buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` (an int64 count) when ``track_running_stats``. In training
    mode the batch's statistics normalize and the running ones are updated; in
    evaluation mode (``eval()``) the running ones normalize. ``momentum=None`` makes the
    running statistics a plain average over every batch seen, as in torch.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int):
            raise TypeError(f"BatchNorm2d: num_features must be an int, got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        if affine:
            self.weight = Parameter(np.ones(num_features), dtype=dtype)
            self.bias = Parameter(np.zeros(num_features), dtype=dtype)
        self.running_mean: Tensor | None = None
        self.running_var: Tensor | None = None
        self.num_batches_tracked: Tensor | None = None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features), dtype=dtype))
            self.register_buffer("running_var", Tensor(np.ones(num_features), dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor(0, dtype=np.int64))

    def forward(self, x: Tensor) -> Tensor:
        if x.data.ndim != 4:
            raise ValueError(f"expected 4D input (got {x.data.ndim}D input)")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:  # a cumulative average: the n-th batch weighs 1/n
                momentum = 1.0 / float(self.num_batches_tracked.data)
        # Batch statistics in training, or whenever there are no running ones to use.
        return batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or self.running_mean is None,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


def _check_batch_norm(
    x: Array,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
) -> None:
    """torch's refusals, with its exception types."""
    if x.ndim < 2:  # torch's batch-size check indexes the shape in training, C++ later
        error = IndexError if training else RuntimeError
        raise error(
            f"batch_norm(): input of shape {x.shape} has no channel dimension (dimension 1); "
            "expected (N, C, ...)"
        )
    C = x.shape[1]
    if C == 0 and weight is not None:
        raise IndexError("batch_norm(): no channels to scale: the input has C = 0")
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.data.shape != (C,):
            raise RuntimeError(f"{name} should contain {C} elements not {t.data.size}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.data.shape != (C,):
            raise RuntimeError(f"{name} should contain {C} elements not {t.data.size}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    if x.dtype.kind != "f":
        kind = {"b": "Bool", "i": "Long", "u": "Byte"}.get(x.dtype.kind, str(x.dtype))
        raise NotImplementedError(f"\"batch_norm\" not implemented for '{kind}'")
    others: list[Any] = [weight, bias, running_mean, running_var]
    for t in others:
        if t is not None and t.data.dtype != x.dtype:
            raise RuntimeError(
                f"mixed dtype (CPU): expect parameter to have scalar type of {x.dtype}, "
                f"got {t.data.dtype}"
            )
    if training and x.shape[0] and x.size // max(C, 1) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {x.shape}"
        )

r"""Layer normalization: each vector scaled to mean 0 and variance 1, then an affine map.

Over the last :math:`m` entries of each vector (the ``normalized_shape``):

.. math::

    \mu = \tfrac{1}{m} \sum_j x_j, \qquad
    \sigma = \sqrt{\tfrac{1}{m} \sum_j (x_j - \mu)^2 + \epsilon}, \qquad
    \hat{x} = (x - \mu) / \sigma, \qquad
    o = \gamma \odot \hat{x} + \beta

(the variance is the biased one, divided by :math:`m`, as torch's). Backward, with
:math:`\bar{\hat{x}} = \bar{o} \odot \gamma`: the affine part gives
:math:`\bar{\gamma} = \sum \bar{o} \odot \hat{x}` and :math:`\bar{\beta} = \sum \bar{o}`
(summed over every vector). :math:`\hat{x}` depends on each :math:`x_j` directly and
through :math:`\mu` and :math:`\sigma`; since :math:`\partial \mu / \partial x_j = 1/m` and
:math:`\partial \sigma / \partial x_j = \hat{x}_j / m`, the three paths add up to

.. math::

    \bar{x} = \frac{1}{\sigma} \Big( \bar{\hat{x}} - \operatorname{mean}(\bar{\hat{x}})
              - \hat{x} \odot \operatorname{mean}(\bar{\hat{x}} \odot \hat{x}) \Big)

the component of :math:`\bar{\hat{x}}` that neither shifts nor rescales the vector,
divided by :math:`\sigma`. One node, where composing ``mean``, ``var``, ``sqrt`` and ``/``
would take seven.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike

from ..tensor import Array, Tensor
from .module import Module, Parameter


def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """``torch.nn.functional.layer_norm``: normalize over the last ``len(normalized_shape)``
    dimensions, which must equal ``normalized_shape``; then ``weight * x̂ + bias``."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    m = len(shape)
    dtypes = {t.data.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise RuntimeError(
            f"mixed dtype: layer_norm's input, weight and bias must share one dtype, got "
            f"{', '.join(sorted(map(str, dtypes)))}"
        )
    if x.data.dtype.kind != "f":
        raise NotImplementedError(f'"LayerNormKernelImpl" not implemented for {x.data.dtype}')
    if m == 0 or x.data.ndim < m or x.data.shape[x.data.ndim - m :] != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of size {list(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.data.shape != shape:
            raise RuntimeError(f"layer_norm: {name} has shape {t.shape}, expected {shape}")
    axes = tuple(range(x.data.ndim - m, x.data.ndim))
    count = max(math.prod(shape), 1)  # no entries: sums of nothing, and no 0 / 0
    mu = x.data.sum(axis=axes, keepdims=True) / count
    sigma = np.sqrt(((x.data - mu) ** 2).sum(axis=axes, keepdims=True) / count + eps)
    x_hat = (x.data - mu) / sigma
    out = x_hat
    if weight is not None:
        out = out * weight.data
    if bias is not None:
        out = out + bias.data
    parents = tuple(t for t in (x, weight, bias) if t is not None)
    batch_axes = tuple(range(x.data.ndim - m))

    def backward(dL_dout: Array) -> list[Array | None]:
        dL_dx_hat = dL_dout if weight is None else dL_dout * weight.data
        dL_dx = (
            dL_dx_hat
            - dL_dx_hat.sum(axis=axes, keepdims=True) / count
            - x_hat * (dL_dx_hat * x_hat).sum(axis=axes, keepdims=True) / count
        ) / sigma
        grads: list[Array | None] = [dL_dx if x.requires_grad else None]
        if weight is not None:
            grads.append((dL_dout * x_hat).sum(axis=batch_axes) if weight.requires_grad else None)
        if bias is not None:
            grads.append(dL_dout.sum(axis=batch_axes) if bias.requires_grad else None)
        return grads

    return Tensor._make(out, parents, backward, "NativeLayerNormBackward")


class LayerNorm(Module):
    """``torch.nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)``:
    ``weight`` starts at ones and ``bias`` at zeros."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        shape = (
            (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        )
        self.normalized_shape, self.eps = shape, eps
        self.weight: Parameter | None = (
            Parameter(np.ones(shape), dtype=dtype) if elementwise_affine else None
        )
        self.bias: Parameter | None = (
            Parameter(np.zeros(shape), dtype=dtype) if elementwise_affine and bias else None
        )

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"

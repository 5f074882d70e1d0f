r"""2-D convolution: the op ``conv2d`` and the layer ``Conv2d``, as torch's.

Forward
-------
An input ``x`` of shape (N, C, H, W), a weight ``W`` of shape (O, C, kH, kW), a bias
``b`` of shape (O,). Each output channel :math:`o` slides its filter :math:`W_o` over the
zero-padded input and takes, at every position, the dot product with the window it
covers (a cross-correlation, as in every deep-learning library):

.. math::

    z_{n,o,h,w} = b_o + \sum_{c,i,j} W_{o,c,i,j}\;
                  x^{\text{pad}}_{n,\,c,\,h s + i d,\,w s + j d}

With ``X`` the table of windows (:func:`~.windows.windows`, shape (N, C, H_out, W_out,
kH, kW)) that is one matrix product: lay the windows out as the columns of a matrix
(*im2col*: one row per :math:`(c, i, j)`, one column per output pixel :math:`(n, h, w)`)
and the filters as the rows of another, and

.. math::

    Z = W_{\text{mat}}\; X_{\text{cols}} + b, \qquad
    W_{\text{mat}} \in \mathbb{R}^{O \times C k_H k_W}, \quad
    X_{\text{cols}} \in \mathbb{R}^{C k_H k_W \times N H_{\text{out}} W_{\text{out}}}

Backward
--------
Given :math:`\bar{z} = \partial L / \partial z` of shape (N, O, H_out, W_out), each
gradient is the forward's sum read from another side:

.. math::

    \bar{b}_o = \sum_{n,h,w} \bar{z}_{n,o,h,w}, \qquad
    \bar{W}_{\text{mat}} = \bar{Z}\, X_{\text{cols}}^\top, \qquad
    \bar{X}_{\text{cols}} = W_{\text{mat}}^\top \bar{Z}

the backward of a matrix product, as in a dense layer. :math:`\bar{X}_{\text{cols}}`
gives every window entry its share of the gradient; a pixel sits in several
overlapping windows, and :func:`~.windows.scatter_windows` adds its shares back in place
(*col2im*). Cropping the padding gives :math:`\bar{x}`. Shapes: :math:`\bar{b}` (O,),
:math:`\bar{W}` (O, C, kH, kW), :math:`\bar{x}` (N, C, H, W), each that of its input.

The columns are ordered :math:`(c, i, j)` by :math:`(n, h, w)`, not the other way round,
for speed: each row of :math:`X_{\text{cols}}` is then one kernel offset's whole image,
copied in long runs, and the col2im adds whole images too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..init import default_generator
from ..tensor import Array, Tensor
from .module import Module, Parameter
from .windows import Pair, crop, output_size, pad_image, pair, scatter_windows, windows


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """``torch.nn.functional.conv2d``: batched (N, C, H, W) or unbatched (C, H, W) input,
    zero padding, ``groups=1``. See the module docstring for the math."""
    s, p, d = _check_conv(input, weight, bias, stride, padding, dilation, groups)
    x, W = input.data, weight.data
    unbatched = x.ndim == 3
    if unbatched:
        x = x[np.newaxis]
    O, C, kH, kW = W.shape
    x_pad = pad_image(x, p)
    X = windows(x_pad, (kH, kW), s, d)  # (N, C, H_out, W_out, kH, kW), a view
    N, _, H_out, W_out = X.shape[:4]
    X_cols = X.transpose(1, 4, 5, 0, 2, 3).reshape(C * kH * kW, N * H_out * W_out)  # a copy
    W_mat = W.reshape(O, C * kH * kW)
    Z = W_mat @ X_cols  # (O, N * H_out * W_out)
    if bias is not None:
        Z += bias.data[:, np.newaxis]
    z = np.ascontiguousarray(Z.reshape(O, N, H_out, W_out).transpose(1, 0, 2, 3))

    def backward(dL_dz: Array) -> list[Array | None]:
        if unbatched:
            dL_dz = dL_dz[np.newaxis]
        dL_dZ = dL_dz.transpose(1, 0, 2, 3).reshape(O, N * H_out * W_out)
        grads: list[Array | None] = [None, None]
        if input.requires_grad:
            dL_dX_cols = W_mat.T @ dL_dZ  # (C * kH * kW, N * H_out * W_out)
            dL_dX = dL_dX_cols.reshape(C, kH, kW, N, H_out, W_out).transpose(3, 0, 4, 5, 1, 2)
            dL_dx = crop(scatter_windows(dL_dX, x_pad.shape, s, d), p)
            grads[0] = dL_dx[0] if unbatched else dL_dx
        if weight.requires_grad:
            grads[1] = (dL_dZ @ X_cols.T).reshape(W.shape)
        if bias is not None:
            grads.append(dL_dZ.sum(axis=1) if bias.requires_grad else None)
        return grads

    parents = (input, weight) if bias is None else (input, weight, bias)
    return Tensor._make(z[0] if unbatched else z, parents, backward, "ConvolutionBackward")


class Conv2d(Module):
    r"""A bank of ``out_channels`` learned filters, like ``torch.nn.Conv2d``.

    ``weight`` has shape (out_channels, in_channels, kH, kW) and ``bias`` (out_channels,),
    both drawn from torch's default :math:`\mathcal{U}(-1/\sqrt{f}, 1/\sqrt{f})` with the
    fan-in :math:`f = \text{in\_channels} \cdot k_H k_W`, from ``generator`` (the global one
    of :func:`~fromscratch.autograd.manual_seed` when omitted), the weight first.
    The forward and backward are :func:`conv2d`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"Conv2d: only padding_mode='zeros' is implemented, got {padding_mode!r}"
            )
        if groups != 1:
            raise NotImplementedError(f"Conv2d: only groups=1 is implemented, got {groups}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {value!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.padding = pair(padding, "padding", "Conv2d")
        self.dilation = pair(dilation, "dilation", "Conv2d")
        self.groups = groups
        rng = default_generator() if generator is None else generator
        kH, kW = self.kernel_size
        bound = 1 / math.sqrt(in_channels * kH * kW)
        shape = (out_channels, in_channels, kH, kW)
        self.weight = Parameter(rng.uniform(-bound, bound, size=shape), dtype=dtype)
        self.bias: Parameter | None = (
            Parameter(rng.uniform(-bound, bound, size=out_channels), dtype=dtype) if bias else None
        )

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        extra = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        extra += f", stride={self.stride}"
        if self.padding != (0, 0):
            extra += f", padding={self.padding}"
        if self.dilation != (1, 1):
            extra += f", dilation={self.dilation}"
        if self.bias is None:
            extra += ", bias=False"
        return extra


# ----------------------------------------------------------------------------- checks


def _check_conv(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> tuple[Pair, Pair, Pair]:
    """torch's refusals, with its exception types: RuntimeError for shapes and mixed
    dtypes, NotImplementedError for a dtype it has no kernel for."""
    if groups != 1:
        raise NotImplementedError(f"conv2d(): only groups=1 is implemented, got groups={groups}")
    x, W = input.data, weight.data
    if x.ndim not in (3, 4):
        raise RuntimeError(
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
            f"{list(x.shape)}"
        )
    if W.ndim != 4:
        raise RuntimeError(f"conv2d(): weight must be 4-D (O, C, kH, kW), got shape {W.shape}")
    if bias is not None and x.dtype != bias.data.dtype:
        raise RuntimeError(
            f"Input type ({x.dtype}) and bias type ({bias.data.dtype}) should be the same"
        )
    if x.dtype == np.bool_:  # torch looks for a kernel by the input's dtype
        raise NotImplementedError("\"slow_conv2d_cpu\" not implemented for 'Bool'")
    if x.dtype != W.dtype:
        raise RuntimeError(f"expected scalar type {W.dtype} but found {x.dtype}")
    s, p, d = (
        pair(stride, "stride", "conv2d"),
        pair(padding, "padding", "conv2d"),
        pair(dilation, "dilation", "conv2d"),
    )
    if min(s) <= 0:
        raise RuntimeError(f"non-positive stride is not supported, got stride={s}")
    if min(p) < 0:
        raise RuntimeError(f"negative padding is not supported, got padding={p}")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got {list(d)}")
    O, C, kH, kW = W.shape
    if O == 0 or kH == 0 or kW == 0:
        raise RuntimeError(f"conv2d(): weight of shape {W.shape} has no filters or no taps")
    if x.shape[-3] != C:
        raise RuntimeError(
            f"Given groups=1, weight of size {list(W.shape)}, expected input{list(x.shape)} "
            f"to have {C} channels, but got {x.shape[-3]} channels instead"
        )
    if bias is not None and bias.data.shape != (O,):
        raise RuntimeError(
            f"Given weight of size {list(W.shape)}, expected bias to be 1-dimensional with "
            f"{O} elements, but got bias of size {list(bias.data.shape)} instead"
        )
    H, Wd = x.shape[-2], x.shape[-1]
    if min(output_size(H, kH, s[0], p[0], d[0]), output_size(Wd, kW, s[1], p[1], d[1])) <= 0:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({H + 2 * p[0]} x {Wd + 2 * p[1]}). "
            f"Kernel size: ({d[0] * (kH - 1) + 1} x {d[1] * (kW - 1) + 1}). "
            "Kernel size can't be greater than actual input size"
        )
    return s, p, d

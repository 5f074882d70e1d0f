r"""The 2-D convolution layer, as one matrix product (im2col), and its backward pass.

Forward
-------
The input ``a`` has shape (n, C, H, W): n images of C channels. The layer holds ``W`` of
shape (O, C, kh, kw) (one C x kh x kw filter per output channel, as ``torch.nn.Conv2d``
stores it) and ``b`` of shape (O,). With padding p (zeros around every image) and stride s,

.. math::

    z_{n,o,i,j} = b_o + \sum_{c,u,v} W_{o,c,u,v}\; a^{\text{pad}}_{n,c,\,s_h i + u,\,s_w j + v},
    \qquad H_o = \lfloor (H + 2p_h - k_h) / s_h \rfloor + 1

(and the same for the width). Every output pixel is a dot product of one filter with one
**patch** of the input, the C x kh x kw values under the filter. Write each patch as a
column: the matrix ``cols`` has one row per (c, u, v) and one column per (image, output
pixel), shape (C kh kw, n H_o W_o). Its row (c, u, v) is channel c of the padded input
read at rows :math:`u, u + s_h, \ldots` and columns :math:`v, v + s_w, \ldots`: one strided
slice, so building ``cols`` ("im2col") is kh kw slice copies, not a loop over pixels. With
the filters as the rows of ``W_flat`` (O, C kh kw), the whole convolution is one product,

.. math::

    z = W_{\text{flat}}\; \text{cols} + b \qquad (O,\ n H_o W_o)

reshaped to (n, O, H_o, W_o): the dense layer's :math:`z = W a + b` with columns as
samples, one "sample" per patch.

Backward
--------
Given :math:`\partial L / \partial z` (n, O, H_o, W_o), laid out like ``z``'s product as
``dL_dz_flat`` (O, n H_o W_o), the dense layer's three results carry over unchanged:

.. math::

    \frac{\partial L}{\partial W_{\text{flat}}} = \frac{\partial L}{\partial z}\,
    \text{cols}^\top \quad (O, C k_h k_w), \qquad
    \frac{\partial L}{\partial b_o} = \sum_{n,i,j} \frac{\partial L}{\partial z_{n,o,i,j}},
    \qquad
    \frac{\partial L}{\partial\, \text{cols}} = W_{\text{flat}}^\top
    \frac{\partial L}{\partial z} \quad (C k_h k_w,\ n H_o W_o)

The last one is the gradient of every *patch*. An input pixel sits in several patches (one
for each filter offset (u, v) that covers it), so its gradient is the **sum** over those
patches: "col2im". Take one offset (u, v) at a time: over all output pixels (i, j) it
touches the input pixels :math:`(s_h i + u, s_w j + v)`, a strided slice of the padded
input, and no pixel twice. So

.. math::

    \frac{\partial L}{\partial a^{\text{pad}}}[:, :, u + s_h i,\ v + s_w j]
    \mathrel{+}= \frac{\partial L}{\partial\, \text{cols}}[(\cdot, u, v), \ldots]
    \qquad \text{for each } (u, v)

is kh x kw vectorized additions, with no loop over pixels; cutting the padding off gives
:math:`\partial L / \partial a` (n, C, H, W).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from fromscratch.boundary.types import Array

from .layers import Module


class Conv2d(Module):
    r"""``torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias)``.

    Parameters are drawn like torch's defaults: :math:`W, b \sim \mathcal{U}(-1/\sqrt{k},
    1/\sqrt{k})` with :math:`k = C k_h k_w` inputs per output, ``W`` first and then ``b``.
    The gradients live beside them, in ``dL_dW`` and ``dL_db``. ``bias=False`` leaves
    ``b`` out (and ``"bias"`` out of the state dict), as torch does.
    """

    params: ClassVar[dict[str, str]] = {"weight": "W", "bias": "b"}

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
        bias: bool,
        rng: np.random.Generator,
        dtype: np.dtype[Any],
    ) -> None:
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        fan_in = in_channels * kernel_size[0] * kernel_size[1]
        bound = 1 / np.sqrt(fan_in)
        shape = (out_channels, in_channels, *kernel_size)
        self.W: Array = rng.uniform(-bound, bound, size=shape).astype(dtype)
        self.b: Array | None = (
            rng.uniform(-bound, bound, size=out_channels).astype(dtype) if bias else None
        )
        self.dL_dW: Array = np.zeros_like(self.W)
        self.dL_db: Array | None = None if self.b is None else np.zeros_like(self.b)
        if not bias:
            self.params = {"weight": "W"}  # type: ignore[misc]  # this one has no bias

    def forward(self, a: Array) -> Array:
        r""":math:`z = W_{flat}\, \text{cols} + b`, shape (n, O, H_o, W_o); keeps ``cols``."""
        self.input_shape = a.shape
        self.cols = self._im2col(a)
        z = self.W.reshape(len(self.W), -1) @ self.cols  # (O, n H_o W_o)
        if self.b is not None:
            z += self.b[:, None]
        return z.reshape(len(self.W), len(a), *self.out_hw).transpose(1, 0, 2, 3)

    def backward(self, dL_dz: Array) -> Array | None:
        r"""Store ``dL_dW`` and ``dL_db``; return :math:`\partial L/\partial a` (n, C, H, W),
        or ``None`` when nothing before this layer learns."""
        O = len(self.W)
        dL_dz_flat = dL_dz.transpose(1, 0, 2, 3).reshape(O, -1)  # (O, n H_o W_o)
        # (cols dL_dz^T)^T is dL_dz cols^T; with the long n*H_o*W_o axis inside, OpenBLAS
        # runs this form 10-15x faster on two busy cores (LeNet's first layer, batch 64).
        self.dL_dW = (self.cols @ dL_dz_flat.T).T.reshape(self.W.shape)
        if self.b is not None:
            self.dL_db = dL_dz_flat.sum(axis=1)
        if not self.needs_input_grad:
            return None
        return self._col2im(self.W.reshape(O, -1).T @ dL_dz_flat)

    # ---------------------------------------------------------------- im2col and col2im

    def _offsets(self, shape: tuple[int, ...]) -> list[tuple[int, int, slice, slice]]:
        """For each filter offset (u, v), the rows and columns of the padded input that it
        reads over all output pixels: ``u, u + s_h, ...`` (H_o of them) and ``v, ...``."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        Ho, Wo = self.out_hw = (shape[2] - kh) // sh + 1, (shape[3] - kw) // sw + 1
        return [
            (u, v, slice(u, u + sh * Ho, sh), slice(v, v + sw * Wo, sw))
            for u in range(kh)
            for v in range(kw)
        ]

    def _im2col(self, a: Array) -> Array:
        """Every patch as a column: (C kh kw, n H_o W_o), row (c, u, v) a strided slice."""
        ph, pw = self.padding
        padded = np.pad(a, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else a
        n, C = a.shape[:2]
        offsets = self._offsets(padded.shape)
        cols = np.empty((C, *self.kernel_size, n, *self.out_hw), dtype=a.dtype)
        for u, v, rows, columns in offsets:
            cols[:, u, v] = padded[:, :, rows, columns].transpose(1, 0, 2, 3)
        return cols.reshape(C * self.kernel_size[0] * self.kernel_size[1], -1)

    def _col2im(self, dL_dcols: Array) -> Array:
        """Add each patch's gradient back onto the pixels it came from, one offset at a time."""
        n, C, H, W = self.input_shape
        ph, pw = self.padding
        dL_dpadded = np.zeros((n, C, H + 2 * ph, W + 2 * pw), dtype=dL_dcols.dtype)
        per_offset = dL_dcols.reshape(C, *self.kernel_size, n, *self.out_hw)
        for u, v, rows, columns in self._offsets(dL_dpadded.shape):
            dL_dpadded[:, :, rows, columns] += per_offset[:, u, v].transpose(1, 0, 2, 3)
        return dL_dpadded[:, :, ph : ph + H, pw : pw + W]

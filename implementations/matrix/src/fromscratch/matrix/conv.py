r"""The 2-D convolution layer, as one matrix product (im2col), and its backward pass.

Forward
-------
The input ``a`` has shape (n, C, H, W): n images of C channels. The layer holds ``W`` of
shape (O, C, kh, kw) (one C x kh x kw filter per output channel, as ``torch.nn.Conv2d``
stores it) and ``b`` of shape (O,). With padding p (zeros around every image) and stride s,

.. math::

    z_{n,o,i,j} = b_o + \sum_{c,u,v} W_{o,c,u,v}\; a^{\text{pad}}_{n,c,\,s i + u,\,s j + v},
    \qquad H_o = \lfloor (H + 2p_h - k_h) / s_h \rfloor + 1

(and the same for the width). Every output pixel is a dot product of one filter with one
**patch** of the input, the C x kh x kw values under the filter. Write each patch as a row:
the matrix ``cols`` has one row per (image, output pixel), (n H_o W_o, C kh kw), and the
filters are the rows of ``W`` flattened to (O, C kh kw). The whole convolution is then the
dense layer's product,

.. math::

    z = \text{cols}\; W_{\text{flat}}^\top + b \qquad (n H_o W_o,\ O)

reshaped to (n, O, H_o, W_o). Building ``cols`` is "im2col": NumPy's
``sliding_window_view`` gives every patch as a view, and one copy lays them out as rows.

Backward
--------
Given :math:`\partial L / \partial z` (n, O, H_o, W_o), laid out as the rows of ``cols``
(``dL_dz_flat``, (n H_o W_o, O)), the dense layer's three results carry over unchanged:

.. math::

    \frac{\partial L}{\partial W_{\text{flat}}} = \Big(\frac{\partial L}{\partial z}\Big)^\top
    \text{cols} \quad (O, C k_h k_w), \qquad
    \frac{\partial L}{\partial b_o} = \sum_{n,i,j} \frac{\partial L}{\partial z_{n,o,i,j}},
    \qquad
    \frac{\partial L}{\partial\, \text{cols}} = \frac{\partial L}{\partial z}\, W_{\text{flat}}

The last one is the gradient of every *patch*. An input pixel sits in several patches (one
for each filter offset (u, v) that covers it), so its gradient is the **sum** over those
patches: "col2im". Take one offset (u, v) at a time: over all output pixels (i, j) it
touches the input pixels (s i + u, s j + v), a strided slice of the padded input, and no
pixel twice. So

.. math::

    \frac{\partial L}{\partial a^{\text{pad}}}[:, :, u + s_h i,\ v + s_w j]
    \mathrel{+}= \frac{\partial L}{\partial\, \text{cols}}[\ldots, u, v]
    \qquad \text{for each } (u, v)

is kh x kw vectorized additions, with no loop over pixels; cutting the padding off gives
:math:`\partial L / \partial a` (n, C, H, W).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]


class Conv2d:
    r"""``torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias)``.

    Parameters are drawn like torch's defaults: :math:`W, b \sim \mathcal{U}(-1/\sqrt{k},
    1/\sqrt{k})` with :math:`k = C k_h k_w` inputs per output, ``W`` first and then ``b``.
    The gradients live beside them, in ``dL_dW`` and ``dL_db``.
    """

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

    def forward(self, a: Array) -> Array:
        """:math:`z = \\text{cols}\\, W_{flat}^T + b`, shape (n, O, H_o, W_o); keeps ``cols``."""
        n = a.shape[0]
        self.input_shape = a.shape
        patches = self._patches(a)  # (n, H_o, W_o, C, kh, kw), a view
        self.out_hw = patches.shape[1:3]
        self.cols = patches.reshape(n * self.out_hw[0] * self.out_hw[1], -1)  # the one copy
        z = self.cols @ self.W.reshape(len(self.W), -1).T
        if self.b is not None:
            z += self.b
        return z.reshape(n, *self.out_hw, -1).transpose(0, 3, 1, 2)

    def backward(self, dL_dz: Array) -> Array:
        """Fill ``dL_dW`` and ``dL_db``; return :math:`\\partial L/\\partial a` (n, C, H, W)."""
        O = len(self.W)
        dL_dz_flat = dL_dz.transpose(0, 2, 3, 1).reshape(-1, O)
        self.dL_dW[...] = (dL_dz_flat.T @ self.cols).reshape(self.W.shape)
        if self.dL_db is not None:
            self.dL_db[...] = dL_dz_flat.sum(axis=0)
        dL_dcols = dL_dz_flat @ self.W.reshape(O, -1)
        return self._col2im(dL_dcols)

    # ---------------------------------------------------------------------------- im2col

    def _patches(self, a: Array) -> Array:
        """Every patch under the filter, as a view of shape (n, H_o, W_o, C, kh, kw)."""
        (ph, pw), (sh, sw) = self.padding, self.stride
        padded = np.pad(a, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else a
        windows = sliding_window_view(padded, self.kernel_size, axis=(2, 3))
        return windows[:, :, ::sh, ::sw].transpose(0, 2, 3, 1, 4, 5)

    def _col2im(self, dL_dcols: Array) -> Array:
        """Sum each patch's gradient back onto the pixels it came from, one offset at a time."""
        n, C, H, W = self.input_shape
        (ph, pw), (sh, sw), (kh, kw) = self.padding, self.stride, self.kernel_size
        Ho, Wo = self.out_hw
        dL_dpatches = dL_dcols.reshape(n, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)
        dL_dpadded = np.zeros((n, C, H + 2 * ph, W + 2 * pw), dtype=dL_dcols.dtype)
        for u in range(kh):
            for v in range(kw):
                rows, columns = slice(u, u + sh * Ho, sh), slice(v, v + sw * Wo, sw)
                dL_dpadded[:, :, rows, columns] += dL_dpatches[:, :, u, v]
        return dL_dpadded[:, :, ph : ph + H, pw : pw + W]

r"""Max and average pooling over kh x kw windows, and their backward passes.

Forward
-------
The input ``a`` (n, C, H, W) is read in windows of kh x kw pixels, one every s pixels
(stride s, torch's default s = k), each channel on its own. Window (i, j) covers rows
:math:`s_h i + u` and columns :math:`s_w j + v` for the offsets :math:`0 \le u < k_h`,
:math:`0 \le v < k_w`, and

.. math::

    \text{max:}\quad z_{n,c,i,j} = \max_{u,v}\ a_{n,c,\,s_h i + u,\,s_w j + v}
    \qquad\qquad
    \text{avg:}\quad z_{n,c,i,j} = \frac{1}{k_h k_w} \sum_{u,v} a_{n,c,\,s_h i + u,\,s_w j + v}

with :math:`H_o = \lfloor (H - k_h) / s_h \rfloor + 1` (and the same for the width): pixels
past the last whole window are never read. Neither layer has parameters.

Backward
--------
Average pooling spreads each window's gradient evenly over its pixels,
:math:`\partial z_{n,c,i,j} / \partial a_{\ldots,s_h i + u,\,s_w j + v} = 1 / (k_h k_w)`.
Max pooling is the identity on the window's largest pixel and flat on the rest, so the
window's whole gradient goes to that one pixel, its **argmax**. At a tie torch picks the
first largest pixel in row-major order (u, then v), and so does ``np.argmax``: the same
pixel gets the gradient.

Windows overlap when the stride is smaller than the kernel, and a pixel in several windows
collects the sum of their gradients. As in the convolution's col2im, the sum runs over the
kh x kw offsets (u, v): for one offset the windows touch the strided slice
``[u::s_h, v::s_w]``, each pixel at most once, so each offset is one vectorized addition

.. math::

    \frac{\partial L}{\partial a}[:, :, u + s_h i,\ v + s_w j] \mathrel{+}=
    \frac{\partial L}{\partial z}\cdot
    \begin{cases} [\,\text{argmax}_{i,j} = (u, v)\,] & \text{max} \\
    1 / (k_h k_w) & \text{avg} \end{cases}
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]


class _Pool2d:
    """The windows and the offset-by-offset scatter that both poolings share."""

    def __init__(self, kernel_size: tuple[int, int], stride: tuple[int, int]) -> None:
        self.kernel_size, self.stride = kernel_size, stride

    def _windows(self, a: Array) -> Array:
        """Every window, as a view of shape (n, C, H_o, W_o, kh, kw)."""
        self.input_shape = a.shape
        sh, sw = self.stride
        return sliding_window_view(a, self.kernel_size, axis=(2, 3))[:, :, ::sh, ::sw]

    def _scatter(self, share: Array) -> Array:
        """``dL/da`` from ``share`` (n, C, H_o, W_o, kh, kw): what each window sends to each
        of its pixels, summed over the windows a pixel belongs to."""
        (sh, sw), (kh, kw) = self.stride, self.kernel_size
        Ho, Wo = share.shape[2:4]
        dL_da = np.zeros(self.input_shape, dtype=share.dtype)
        for u in range(kh):
            for v in range(kw):
                dL_da[:, :, u : u + sh * Ho : sh, v : v + sw * Wo : sw] += share[..., u, v]
        return dL_da


class MaxPool2d(_Pool2d):
    """``torch.nn.MaxPool2d(kernel_size, stride)``: the largest pixel of each window."""

    def forward(self, a: Array) -> Array:
        windows = self._windows(a)
        flat = windows.reshape(*windows.shape[:4], -1)  # (n, C, H_o, W_o, kh*kw), a copy
        self.argmax = flat.argmax(axis=-1)  # the first largest, like torch
        return np.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dL_dz: Array) -> Array:
        kh, kw = self.kernel_size
        winner = self.argmax[..., None] == np.arange(kh * kw)  # one-hot, (..., kh*kw)
        share = (winner * dL_dz[..., None]).reshape(*dL_dz.shape, kh, kw)
        return self._scatter(share.astype(dL_dz.dtype, copy=False))


class AvgPool2d(_Pool2d):
    """``torch.nn.AvgPool2d(kernel_size, stride)``: the mean of each window."""

    def forward(self, a: Array) -> Array:
        z: Array = self._windows(a).mean(axis=(-2, -1))
        return z

    def backward(self, dL_dz: Array) -> Array:
        kh, kw = self.kernel_size
        share = np.broadcast_to((dL_dz / (kh * kw))[..., None, None], (*dL_dz.shape, kh, kw))
        return self._scatter(share)

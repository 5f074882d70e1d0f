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
first largest pixel in row-major order (u, then v); the forward pass below visits the
offsets in that order and lets a later pixel win only when it is strictly larger, so the
same pixel gets the gradient.

Windows overlap when the stride is smaller than the kernel, and a pixel in several windows
collects the sum of their gradients. Both passes run over the kh x kw offsets (u, v), not
over pixels: for one offset the windows touch the strided slice ``[u::s_h, v::s_w]``, each
pixel at most once, so the forward pass is kh kw vectorized comparisons (or additions) and
the backward pass kh kw vectorized additions

.. math::

    \frac{\partial L}{\partial a}[:, :, u + s_h i,\ v + s_w j] \mathrel{+}=
    \frac{\partial L}{\partial z}\cdot
    \begin{cases} [\,\text{argmax}_{i,j} = (u, v)\,] & \text{max} \\
    1 / (k_h k_w) & \text{avg} \end{cases}
"""

from __future__ import annotations

import numpy as np

from fromscratch.boundary.types import Array

from .layers import Module


class _Pool2d(Module):
    """What both poolings share: the pixels one window offset (u, v) touches."""

    def __init__(self, kernel_size: tuple[int, int], stride: tuple[int, int]) -> None:
        self.kernel_size, self.stride = kernel_size, stride

    def _offsets(self, shape: tuple[int, ...]) -> list[tuple[slice, slice]]:
        """For each offset (u, v), row-major, the slices of the input it reads in every
        window: rows u, u + s_h, ... and columns v, v + s_w, ..., H_o and W_o of them."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        Ho, Wo = (shape[2] - kh) // sh + 1, (shape[3] - kw) // sw + 1
        return [
            (slice(u, u + sh * Ho, sh), slice(v, v + sw * Wo, sw))
            for u in range(kh)
            for v in range(kw)
        ]


class MaxPool2d(_Pool2d):
    """``torch.nn.MaxPool2d(kernel_size, stride)``: the largest pixel of each window."""

    def forward(self, a: Array) -> Array:
        self.input_shape = a.shape
        offsets = self._offsets(a.shape)
        z = a[:, :, offsets[0][0], offsets[0][1]].copy()
        self.argmax = np.zeros(z.shape, dtype=np.intp)  # which offset won each window
        for k, (rows, columns) in enumerate(offsets[1:], start=1):
            candidate = a[:, :, rows, columns]
            larger = candidate > z  # strictly: at a tie the first maximum stays, as in torch
            z[larger] = candidate[larger]
            self.argmax[larger] = k
        return z

    def backward(self, dL_dz: Array) -> Array:
        dL_da = np.zeros(self.input_shape, dtype=dL_dz.dtype)
        for k, (rows, columns) in enumerate(self._offsets(self.input_shape)):
            dL_da[:, :, rows, columns] += np.where(self.argmax == k, dL_dz, 0)
        return dL_da


class AvgPool2d(_Pool2d):
    """``torch.nn.AvgPool2d(kernel_size, stride)``: the mean of each window."""

    def forward(self, a: Array) -> Array:
        self.input_shape = a.shape
        offsets = self._offsets(a.shape)
        total = np.zeros_like(a[:, :, offsets[0][0], offsets[0][1]])
        for rows, columns in offsets:
            total += a[:, :, rows, columns]
        return total / len(offsets)

    def backward(self, dL_dz: Array) -> Array:
        offsets = self._offsets(self.input_shape)
        share = dL_dz / len(offsets)
        dL_da = np.zeros(self.input_shape, dtype=dL_dz.dtype)
        for rows, columns in offsets:
            dL_da[:, :, rows, columns] += share
        return dL_da

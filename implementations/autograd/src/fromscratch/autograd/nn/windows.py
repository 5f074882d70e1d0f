r"""The sliding windows under a 2-D kernel, and their adjoint: what convolution and
pooling share.

A kernel of size :math:`k_H \times k_W`, moved over a padded image in steps of ``stride``
:math:`s`, with its taps ``dilation`` :math:`d` apart, sees at output position
:math:`(h, w)` and kernel offset :math:`(i, j)` the input entry

.. math::

    x^{\text{pad}}[\,\ldots,\; h s + i d,\; w s + j d\,], \qquad
    H_{\text{out}} = \left\lfloor \frac{H + 2p - d (k_H - 1) - 1}{s} \right\rfloor + 1

:func:`windows` is that whole table as one NumPy *view* of shape
(N, C, H_out, W_out, kH, kW): no entry is copied until a product reads it.

Backward, each window entry's gradient must go back to the pixel it was read from.
Windows overlap (a pixel sits in several when :math:`s < k`), so the gradients add up.
:func:`scatter_windows` does this one kernel offset at a time: for a fixed
:math:`(i, j)` the pixels read, over all :math:`(h, w)`, form one strided slice of the
image, and no pixel appears twice in it. So ``dx[slice] += grad[..., i, j]`` is exact, and
the only Python loop is over the :math:`k_H k_W` offsets, never over pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Array

Pair = tuple[int, int]


def pair(value: Any, name: str, op: str) -> Pair:
    """``3`` or ``(3, 3)`` as ``(3, 3)``, as torch reads a size, stride or padding."""
    if isinstance(value, bool) or not isinstance(value, int | tuple | list):
        raise TypeError(f"{op}(): {name} must be an int or a pair of ints, got {value!r}")
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) == 1:
        values = (values[0], values[0])
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise RuntimeError(f"{op}(): {name} must be an int or a pair of ints, got {value!r}")
    return (int(values[0]), int(values[1]))


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """How many positions a kernel takes along one dimension (floor mode)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pad_image(x: Array, padding: Pair, value: float = 0.0) -> Array:
    """``x`` (N, C, H, W) with ``padding`` rows and columns of ``value`` on each side."""
    p, q = padding
    if p == 0 and q == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (p, p), (q, q)), constant_values=value)


def windows(x_pad: Array, kernel: Pair, stride: Pair, dilation: Pair) -> Array:
    """The view (N, C, H_out, W_out, kH, kW) of every window of the padded image."""
    (kH, kW), (sH, sW), (dH, dW) = kernel, stride, dilation
    span = (dH * (kH - 1) + 1, dW * (kW - 1) + 1)  # the extent of a dilated kernel
    view = np.lib.stride_tricks.sliding_window_view(x_pad, span, axis=(2, 3))
    return view[:, :, ::sH, ::sW, ::dH, ::dW]


def scatter_windows(
    dL_dwindows: Array, padded_shape: tuple[int, ...], stride: Pair, dilation: Pair
) -> Array:
    """The adjoint of :func:`windows`: window gradients (N, C, H_out, W_out, kH, kW) summed
    back onto the padded image they were read from."""
    H_out, W_out, kH, kW = dL_dwindows.shape[2:]
    (sH, sW), (dH, dW) = stride, dilation
    dL_dx_pad = np.zeros(padded_shape, dtype=dL_dwindows.dtype)
    if dL_dwindows.size == 0:  # no window, or no image: nothing was read
        return dL_dx_pad
    for i in range(kH):
        for j in range(kW):
            rows = slice(i * dH, i * dH + sH * (H_out - 1) + 1, sH)
            cols = slice(j * dW, j * dW + sW * (W_out - 1) + 1, sW)
            dL_dx_pad[:, :, rows, cols] += dL_dwindows[:, :, :, :, i, j]
    return dL_dx_pad


def crop(x_pad: Array, padding: Pair) -> Array:
    """The inverse of :func:`pad_image`: the image without its padding."""
    p, q = padding
    H, W = x_pad.shape[2], x_pad.shape[3]
    return x_pad[:, :, p : H - p, q : W - q]

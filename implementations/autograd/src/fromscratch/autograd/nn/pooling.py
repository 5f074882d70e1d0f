r"""Pooling: ``max_pool2d`` and ``avg_pool2d``, and the layers ``MaxPool2d`` and
``AvgPool2d``, as torch's.

Both slide a :math:`k_H \times k_W` window over each channel (stride :math:`s`, which
defaults to the kernel size; zero or :math:`-\infty` padding :math:`p`) and reduce it to
one number. With ``X`` the table of windows of :func:`~.windows.windows`, shape
(N, C, H_out, W_out, kH, kW):

Max pooling
-----------
.. math::

    z_{n,c,h,w} = \max_{i,j} X_{n,c,h,w,i,j}, \qquad
    \bar{X}_{n,c,h,w,i,j} = \bar{z}_{n,c,h,w}\,[(i, j) = \operatorname{argmax}]

The whole gradient of a window goes to the one entry that won it. Where entries tie,
:math:`\max` has no derivative; torch picks the *first* maximum in row-major order of
the window (``np.argmax`` does the same), and so do we. Windows overlap when
:math:`s < k`, so one pixel may win several and receive the sum of their gradients:
:func:`~.windows.scatter_windows` adds them up. The padding is :math:`-\infty`: it never
wins.

Average pooling
---------------
.. math::

    z_{n,c,h,w} = \frac{1}{D_{h,w}} \sum_{i,j} X_{n,c,h,w,i,j}, \qquad
    \bar{X}_{n,c,h,w,i,j} = \frac{\bar{z}_{n,c,h,w}}{D_{h,w}}

Every entry of a window gets an equal share. The divisor :math:`D` is :math:`k_H k_W`
(``count_include_pad=True``, torch's default, zero padding counted), the number of real
pixels in the window (``count_include_pad=False``), or ``divisor_override``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Array, Tensor
from .module import Module
from .windows import Pair, crop, output_size, pad_image, pair, scatter_windows, windows


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """``torch.nn.functional.max_pool2d`` on (N, C, H, W) or (C, H, W) input (floor mode;
    ``return_indices`` is not implemented)."""
    if return_indices:
        raise NotImplementedError("max_pool2d(): return_indices=True is not implemented")
    x, unbatched = _batched(input, "max_pool2d")
    k, s, p, d = _check_pool(x, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)
    if x.dtype == np.bool_:
        raise NotImplementedError("\"max_pool2d\" not implemented for 'Bool'")
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    x_pad = pad_image(x, p, lowest)
    X = windows(x_pad, k, s, d)  # (N, C, H_out, W_out, kH, kW), a view
    offsets = list(np.ndindex(*k))  # (i, j) in row-major order, as torch scans a window
    # The running maximum over the offsets; a later entry wins only if strictly greater
    # (so ties keep the first), or if it is NaN, as in torch's kernel.
    z = X[..., 0, 0].copy()
    winner = np.zeros(z.shape, dtype=np.intp)  # the offset that won each window
    for offset, (i, j) in enumerate(offsets[1:], start=1):
        candidate = X[..., i, j]
        better = candidate > z
        if x.dtype.kind == "f":
            better |= np.isnan(candidate)
        z = np.maximum(z, candidate)  # NaN propagates, as it wins in torch
        winner = np.where(better, offset, winner)

    def backward(dL_dz: Array) -> tuple[Array]:
        if unbatched:
            dL_dz = dL_dz[np.newaxis]
        # One gradient image per offset: the window's gradient where that offset won.
        won = winner == np.arange(len(offsets)).reshape(-1, 1, 1, 1, 1)
        dL_dX = (won * dL_dz).reshape(*k, *dL_dz.shape).transpose(2, 3, 4, 5, 0, 1)
        dL_dx = crop(scatter_windows(dL_dX, x_pad.shape, s, d), p)
        return (dL_dx[0] if unbatched else dL_dx,)

    return Tensor._make(z[0] if unbatched else z, (input,), backward, "MaxPool2DBackward")


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """``torch.nn.functional.avg_pool2d`` on (N, C, H, W) or (C, H, W) input (floor mode)."""
    if input.data.ndim < 3:  # torch indexes dimension -3 before any other check
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(input.data.ndim, 1)}, "
            f"{max(input.data.ndim, 1) - 1}], but got -3)"
        )
    x, unbatched = _batched(input, "avg_pool2d")
    k, s, p, d = _check_pool(x, "avg_pool2d", kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if x.dtype == np.bool_:
        raise NotImplementedError("\"avg_pool2d\" not implemented for 'Bool'")
    x_pad = pad_image(x, p)
    sums = windows(x_pad, k, s, d).sum(axis=(4, 5))
    D = _divisor(x.shape, k, s, p, count_include_pad, divisor_override)
    # torch divides integers in C++: their quotient is truncated towards zero.
    z = sums / D.astype(x.dtype) if x.dtype.kind == "f" else np.trunc(sums / D).astype(x.dtype)

    def backward(dL_dz: Array) -> tuple[Array]:
        if unbatched:
            dL_dz = dL_dz[np.newaxis]
        share = (dL_dz / D.astype(dL_dz.dtype))[..., np.newaxis, np.newaxis]
        dL_dX = np.broadcast_to(share, (*share.shape[:4], *k))
        dL_dx = crop(scatter_windows(dL_dX, x_pad.shape, s, d), p)
        return (dL_dx[0] if unbatched else dL_dx,)

    return Tensor._make(z[0] if unbatched else z, (input,), backward, "AvgPool2DBackward")


def _divisor(
    shape: tuple[int, ...],
    k: Pair,
    s: Pair,
    p: Pair,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Array:
    """:math:`D_{h,w}`, shape (H_out, W_out): what each window's sum is divided by."""
    H_out = output_size(shape[2], k[0], s[0], p[0], 1)
    W_out = output_size(shape[3], k[1], s[1], p[1], 1)
    if divisor_override is not None:
        return np.full((H_out, W_out), float(divisor_override))
    if count_include_pad:
        return np.full((H_out, W_out), float(k[0] * k[1]))
    real = pad_image(np.ones((1, 1, shape[2], shape[3])), p)  # 1 on pixels, 0 on padding
    counts: Array = windows(real, k, s, (1, 1)).sum(axis=(4, 5))[0, 0]
    return counts


class MaxPool2d(Module):
    """:func:`max_pool2d` as a layer, with torch's arguments; it has no parameters."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return (
            f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """:func:`avg_pool2d` as a layer, with torch's arguments; it has no parameters."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


# ----------------------------------------------------------------------------- checks


def _batched(input: Tensor, op: str) -> tuple[Array, bool]:
    """The input as (N, C, H, W), and whether it came unbatched (C, H, W)."""
    x = input.data
    if x.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): non-empty 3D or 4D (batch mode) tensor expected for input")
    if any(n == 0 for n in x.shape[-3:]):
        raise RuntimeError(
            f"{op}(): Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{list(x.shape)}"
        )
    return (x[np.newaxis], True) if x.ndim == 3 else (x, False)


def _check_pool(
    x: Array, op: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
) -> tuple[Pair, Pair, Pair, Pair]:
    if ceil_mode:
        raise NotImplementedError(f"{op}(): ceil_mode=True is not implemented")
    k = pair(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == [] else pair(stride, "stride", op)
    p, d = pair(padding, "padding", op), pair(dilation, "dilation", op)
    if min(k) <= 0:
        raise RuntimeError(f"{op}(): kernel_size must be greater than zero, got {k}")
    if min(s) <= 0:
        raise RuntimeError(f"{op}(): stride should not be zero, got {s}")
    if min(p) < 0:
        raise RuntimeError(f"{op}(): pad must be non-negative, but got pad: {p}")
    if min(d) <= 0:
        raise RuntimeError(f"{op}(): dilation must be greater than zero, got {d}")
    for a in (0, 1):
        if 2 * p[a] > d[a] * (k[a] - 1) + 1:
            raise RuntimeError(
                f"{op}(): pad should be at most half of effective kernel size, but got "
                f"pad={p[a]}, kernel_size={k[a]} and dilation={d[a]}"
            )
    H_out = output_size(x.shape[2], k[0], s[0], p[0], d[0])
    W_out = output_size(x.shape[3], k[1], s[1], p[1], d[1])
    if H_out <= 0 or W_out <= 0:
        raise RuntimeError(
            f"{op}(): Given input size: ({x.shape[1]}x{x.shape[2]}x{x.shape[3]}). "
            f"Calculated output size: ({x.shape[1]}x{H_out}x{W_out}). Output size is too small"
        )
    return k, s, p, d

r"""A fixed input transform: parameter-free layers in front of the MLP.

A network may open with ``Unflatten(1, (C, H, W))``, ``AvgPool2d(k)``, ``Flatten()``:
each row of ``X`` becomes a C x H x W image, every k x k block of pixels is replaced by
its mean, and the smaller image becomes a row again. With the rows of ``X`` read as
images, the output pixel :math:`(c, i, j)` is

.. math::

    x'_{c,i,j} = \frac{1}{k^2} \sum_{u=0}^{k-1} \sum_{v=0}^{k-1} x_{c,\,k i + u,\,k j + v},
    \qquad i < \lfloor H / k \rfloor,\ j < \lfloor W / k \rfloor

(``nn.AvgPool2d(k)``: stride k, no padding, a partial block at the edge is dropped).

The transform has no parameters, so evolution never changes it; it only changes what the
first ``Linear`` sees. On MNIST a 2 x 2 pool turns 784 inputs into 196, and the first
layer's weights shrink fourfold: an evolution strategy's gradient estimate, whose quality
falls with the number of parameters, improves with it. Because it is fixed, ``fit``
applies it once to the whole training set, and each generation only ever sees the
pooled rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]


@dataclass(frozen=True)
class AvgPool:
    """``Unflatten(1, (C, H, W)), AvgPool2d(k), Flatten()`` on the rows of ``X``."""

    image: tuple[int, int, int]
    """(C, H, W): the shape each row of ``X`` is read as."""
    k: int
    """The pool's kernel size and stride."""

    @property
    def in_features(self) -> int:
        C, H, W = self.image
        return C * H * W

    @property
    def out_features(self) -> int:
        C, H, W = self.image
        return C * (H // self.k) * (W // self.k)

    def __call__(self, X: Array) -> Array:
        """The pooled rows, (n, C (H/k) (W/k)), in ``X``'s dtype."""
        (C, H, W), k = self.image, self.k
        h, w = H // k, W // k
        images = X.reshape(len(X), C, H, W)[:, :, : h * k, : w * k]  # drop a partial edge
        blocks = images.reshape(len(X), C, h, k, w, k)
        pooled: Array = blocks.mean(axis=(3, 5), dtype=X.dtype)
        return pooled.reshape(len(X), C * h * w)

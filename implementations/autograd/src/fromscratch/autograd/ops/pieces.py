r"""Cutting one tensor into pieces: ``split``, ``chunk``, ``unbind``.

Each piece is a slice of :math:`x` along one dimension, so the gradient of :math:`x` is the
pieces' gradients put back side by side, zeros where a piece got none:

.. math::

    x = [\,p_1 \;|\; p_2 \;|\; \cdots \;|\; p_m\,], \qquad
    \bar{x} = [\,\bar{p}_1 \;|\; \bar{p}_2 \;|\; \cdots \;|\; \bar{p}_m\,]

Why not ``x[:, t]`` for each piece? Indexing is an op with one output, whose backward
returns a gradient of :math:`x`'s full size, mostly zeros. An LSTM reads its input one time
step at a time: T such slices would cost T full-size arrays, O(T^2) work for a sequence.
Here the m pieces are the outputs of *one* op. The engine records single-output nodes, so
each piece's backward writes its slice into one buffer the pieces share, and a hidden
node between :math:`x` and the pieces (the *hub*) hands that buffer on to :math:`x` once,
after every piece has written (the walk visits the hub after all its consumers).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from ..tensor import Array, Tensor
from .broadcast import normalize_dim


def _pieces(
    x: Tensor, bounds: Sequence[tuple[int, int]], axis: int, squeeze: bool
) -> tuple[Tensor, ...]:
    """The slices ``[start, stop)`` of ``x`` along ``axis`` (dropping it if ``squeeze``)."""
    shared: dict[str, Array] = {}  # "dL_dx": the buffer, made when the first piece writes

    def hub_backward(_: Array) -> tuple[Array]:
        dL_dx = shared.pop("dL_dx")  # popped: a second backward (retain_graph) starts again
        return (dL_dx,)

    hub = Tensor._make(x.data, (x,), hub_backward, "SplitBackward")
    pieces = []
    for start, stop in bounds:
        where = (slice(None),) * axis + ((start if squeeze else slice(start, stop)),)

        def backward(dL_dpiece: Array, where: tuple[Any, ...] = where) -> tuple[Array]:
            if "dL_dx" not in shared:
                shared["dL_dx"] = np.zeros_like(x.data, dtype=dL_dpiece.dtype)
            shared["dL_dx"][where] += dL_dpiece
            return (np.zeros((), dtype=dL_dpiece.dtype),)  # a token: the hub has work to do

        pieces.append(Tensor._make(x.data[where], (hub,), backward, "SplitBackward"))
    return tuple(pieces)


def split(
    x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last one smaller), or of the given sizes,
    as ``torch.split``."""
    if x.data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = normalize_dim(dim, x.data.ndim)
    n = x.data.shape[axis]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n > 0):
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={size}"
            )
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {axis}), but got split_sizes={sizes}"
            )
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    return _pieces(x, list(pairwise(starts)), axis, squeeze=False)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces of size ``ceil(n / chunks)`` (the last smaller), as ``torch.chunk``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if x.data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = x.data.shape[normalize_dim(dim, x.data.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Every index of ``dim`` as its own tensor, that dimension removed (``torch.unbind``)."""
    if x.data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    axis = normalize_dim(dim, x.data.ndim)
    return _pieces(x, [(t, t + 1) for t in range(x.data.shape[axis])], axis, squeeze=True)

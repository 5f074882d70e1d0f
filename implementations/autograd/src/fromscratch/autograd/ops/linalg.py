r"""Matrix multiplication, with NumPy's (and torch's) batching and 1-D rules.

For matrices, :math:`O = A B` with :math:`O_{ij} = \sum_k A_{ik} B_{kj}` gives

.. math::

    \bar{A}_{ik} = \sum_j \bar{O}_{ij} B_{kj} \;\Rightarrow\; \bar{A} = \bar{O} B^\top,
    \qquad
    \bar{B}_{kj} = \sum_i A_{ik} \bar{O}_{ij} \;\Rightarrow\; \bar{B} = A^\top \bar{O}

Leading (batch) dimensions broadcast like any element-wise op, so their gradients are
summed back with :func:`~.broadcast.unbroadcast`. A 1-D left operand is a row vector
(shape (1, k)) and a 1-D right operand a column vector (shape (k, 1)) whose extra
dimension is dropped from the result; the backward puts it back first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Array, Tensor
from .broadcast import operands, unbroadcast


def matmul(a: Any, b: Any) -> Tensor:
    r""":math:`O = A B` over the last two dimensions (see the module docs)."""
    a, b = operands(a, b)
    try:
        out = np.matmul(a.data, b.data)
    except ValueError:
        raise RuntimeError(
            f"shapes {a.shape} and {b.shape} cannot be multiplied: the last dimension of the "
            f"first ({a.shape[-1] if a.ndim else 'scalar'}) must equal the "
            f"{'first' if b.ndim == 1 else 'second-to-last'} dimension of the second"
        ) from None

    def backward(dL_dout: Array) -> tuple[Array | None, Array | None]:
        A = a.data if a.data.ndim > 1 else a.data[np.newaxis, :]
        B = b.data if b.data.ndim > 1 else b.data[:, np.newaxis]
        dL_dO = dL_dout
        if b.data.ndim == 1:
            dL_dO = dL_dO[..., np.newaxis]
        if a.data.ndim == 1:
            dL_dO = dL_dO[..., np.newaxis, :]
        dL_dA = dL_dB = None
        if a.requires_grad:
            dL_dA = unbroadcast(dL_dO @ np.swapaxes(B, -1, -2), A.shape).reshape(a.data.shape)
        if b.requires_grad:
            dL_dB = unbroadcast(np.swapaxes(A, -1, -2) @ dL_dO, B.shape).reshape(b.data.shape)
        return dL_dA, dL_dB

    return Tensor._make(out, (a, b), backward, "MmBackward")

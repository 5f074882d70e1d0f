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
    if a.data.dtype == np.bool_ and b.data.dtype == np.bool_:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(
            f"expected both operands of matmul to have the same dtype, got {a.data.dtype} "
            f"and {b.data.dtype}; convert one with .to(dtype)"
        )
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.data.ndim}D "
            f"and {b.data.ndim}D"
        )
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


def einsum(equation: str, *operands: Any) -> Tensor:
    r"""Einstein summation, ``torch.einsum("ij,jk->ik", A, B)`` and so on.

    Each subscript letter names one dimension; letters missing from the output are
    summed over. The output is linear in each operand, so the gradient of operand
    :math:`k` is the same kind of sum, with :math:`\bar{o}` in :math:`x_k`'s place:
    for ``ij,jk->ik``, :math:`\bar{A}` is ``einsum("ik,jk->ij", Ō, B)`` :math:`= \bar{O} B^\top`.
    A letter found only in :math:`x_k` (summed there alone) broadcasts the gradient along
    its dimension; a letter repeated in :math:`x_k` (a diagonal, ``ii->i``) sends it to
    the diagonal. Ellipses (``...``) are not implemented.
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    xs = [t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t)) for t in operands]
    equation = equation.replace(" ", "")
    if "." in equation:
        raise NotImplementedError("einsum(): ellipsis ('...') subscripts are not implemented")
    inputs, _, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != len(xs):
        raise RuntimeError(
            f"einsum(): {len(subscripts)} operand subscripts in {equation!r} for {len(xs)} operands"
        )
    if "->" not in equation:  # implicit output: the letters used once, in order
        letters = "".join(subscripts)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    arrays = [x.data for x in xs]
    if arrays and arrays[0].dtype == np.bool_ and len(arrays) > 1:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    if arrays and arrays[0].dtype == np.bool_ and set(inputs) - set(output + ","):
        arrays = [a.astype(np.int64) if a.dtype == np.bool_ else a for a in arrays]  # sums count
    try:
        out = np.asarray(np.einsum(f"{inputs}->{output}", *arrays))
    except ValueError as exc:
        raise RuntimeError(f"einsum(): {exc} (equation {equation!r})") from None

    def backward(dL_dout: Array) -> list[Array | None]:
        return [
            _einsum_grad(k, subscripts, output, xs, dL_dout) if x.requires_grad else None
            for k, x in enumerate(xs)
        ]

    return Tensor._make(out, tuple(xs), backward, "EinsumBackward")


def _einsum_grad(
    k: int, subscripts: list[str], output: str, xs: list[Tensor], dL_dout: Array
) -> Array:
    """The gradient of operand ``k`` of an einsum (see :func:`einsum`)."""
    own = subscripts[k]
    unique = "".join(dict.fromkeys(own))  # letters of x_k, each once, in order
    others = [s for j, s in enumerate(subscripts) if j != k]
    linked = "".join(c for c in unique if c in output or any(c in s for s in others))
    sizes = dict(zip(own, xs[k].data.shape, strict=True))
    terms = ",".join([output, *others])
    arrays = [dL_dout, *(x.data for j, x in enumerate(xs) if j != k)]
    g = np.einsum(f"{terms}->{linked}", *arrays)
    # letters summed inside x_k alone: the gradient is the same along them
    g = np.expand_dims(g, tuple(i for i, c in enumerate(unique) if c not in linked))
    g = np.broadcast_to(g, tuple(sizes[c] for c in unique))
    if unique == own:
        return np.array(g)
    # a repeated letter: x_k's entries off that diagonal were never read
    dL_dx = np.zeros_like(xs[k].data, dtype=g.dtype)
    grid = np.indices(g.shape, sparse=True)
    dL_dx[tuple(grid[unique.index(c)] for c in own)] = g
    return dL_dx

r"""Embeddings: a learned vector per token, and a learned vector per position.

An embedding is a lookup, :math:`o_{i} = W_{x_i}` (row :math:`x_i` of the table
:math:`W`, shape (V, d)). It is the product of the one-hot vector of :math:`x_i` with
:math:`W`, so its gradient is the one-hot transpose times :math:`\bar{o}`: every row of the
table receives the sum of the upstream gradients of the positions that read it,

.. math::

    \bar{W}_v = \sum_{i \,:\, x_i = v} \bar{o}_i

which is ``np.add.at`` (a plain ``dW[x] += g`` would keep one of the repeated rows).
The token ids get no gradient: they are integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import ops
from ..init import default_generator
from ..tensor import Array, Tensor
from .module import Module, Parameter


def embedding(input: Any, weight: Tensor) -> Tensor:
    """Rows of ``weight`` (V, d) picked by the integer ids ``input`` (any shape), as
    ``torch.nn.functional.embedding``: the output has shape ``input.shape + (d,)``."""
    x = ops.as_tensor(input).data
    if x.dtype.kind not in "iu":
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {x.dtype} instead (embedding takes integer ids)"
        )
    if weight.data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if weight.data.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got shape {weight.shape}")
    V = weight.data.shape[0]
    if x.size and (x.min() < 0 or x.max() >= V):
        bad = x[(x < 0) | (x >= V)].flat[0]
        raise IndexError(f"index out of range in self: id {bad} with {V} rows in the table")
    out = weight.data[x]

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dW = np.zeros_like(weight.data, dtype=dL_dout.dtype)
        np.add.at(dL_dW, x.reshape(-1), dL_dout.reshape(x.size, weight.data.shape[1]))
        return (dL_dW,)

    return Tensor._make(out, (weight,), backward, "EmbeddingBackward")


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, drawn from N(0, 1)
    as ``torch.nn.Embedding``; ``forward(ids)`` looks them up (:func:`embedding`)."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        dtype: DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        rng = default_generator() if generator is None else generator
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(rng.standard_normal((num_embeddings, embedding_dim)), dtype=dtype)

    def forward(self, ids: Any) -> Tensor:
        return embedding(ids, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class PositionalEmbedding(Embedding):
    """A learned vector per position, added to a batch-first sequence: ``x + P[:T]``.

    ``P`` is ``weight``, shape (``num_positions``, d): an :class:`Embedding`'s table, drawn
    the same way, looked up by position instead of by id. It is not a ``torch.nn`` module:
    the protocol's reference is an ``nn.Embedding`` whose forward is exactly this line, so
    its key is ``weight`` too. The gradient of ``P[t]`` is the sum over the batch of the
    gradient at position t.
    """

    def __init__(
        self,
        num_positions: int,
        embedding_dim: int,
        dtype: DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__(num_positions, embedding_dim, dtype, generator)
        self.num_positions = num_positions

    def forward(self, x: Tensor) -> Tensor:
        T = x.shape[-2]
        if self.num_positions < T:
            raise ValueError(
                f"a sequence of {T} positions is longer than the {self.num_positions} "
                "positions this PositionalEmbedding has"
            )
        return x + self.weight[:T]


__all__ = ["Embedding", "PositionalEmbedding", "embedding"]

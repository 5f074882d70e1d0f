r"""The embedding: a lookup table of learned vectors, one row per token.

``W`` (state-dict key ``weight``) has shape (V, d), as ``torch.nn.Embedding(V, d)``
stores it, drawn from
:math:`\mathcal{N}(0, 1)` as torch draws it. For integer tokens ``X`` of any shape,

.. math::

    a[\dots] = W[X[\dots]] \qquad (\dots, d)

which is the same as multiplying a one-hot row of the token by :math:`W`: row
:math:`X[\dots]` of the identity, times W.

Backward
--------
Each output row is a copy of one row of W, so the gradient of row v is the sum of the
upstream gradients of every position that looked v up:

.. math::

    \frac{\partial L}{\partial W_v} = \sum_{p \,:\, X_p = v} \frac{\partial L}{\partial a_p}

A token that appears twice gets both gradients added; one that does not appear gets
zero. There is no gradient for ``X``: tokens are integers, not something to learn.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]


class Embedding:
    """``torch.nn.Embedding(num_embeddings, embedding_dim)``: ``forward(X) = W[X]``.

    The gradient lives beside the table, in ``dL_dW``.
    """

    params: ClassVar[dict[str, str]] = {"weight": "W"}  # torch's name -> the attribute

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        rng: np.random.Generator,
        dtype: np.dtype[Any],
    ) -> None:
        self.W: Array = rng.standard_normal((num_embeddings, embedding_dim)).astype(dtype)
        self.dL_dW: Array = np.zeros_like(self.W)
        self.X: NDArray[np.integer[Any]] = np.zeros(0, dtype=np.int64)

    def forward(self, X: NDArray[np.integer[Any]]) -> Array:
        """The row of ``W`` for every token of `X`: shape ``X.shape + (d,)``."""
        self.X = X  # the backward pass needs to know which rows were read
        a: Array = self.W[X]
        return a

    def backward(self, dL_da: Array) -> None:
        """Sum each position's gradient into its token's row of ``dL_dW``; return None."""
        self.dL_dW = np.zeros_like(self.W)
        np.add.at(self.dL_dW, self.X.reshape(-1), dL_da.reshape(-1, self.W.shape[1]))

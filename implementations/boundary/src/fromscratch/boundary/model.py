"""What a model of the protocol offers beyond its math: ``predict`` from ``predict_proba``,
and a ``__repr__`` that reads like the call that built it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .types import Array


class Classifier:
    """Mixin: ``predict`` is the most probable class of ``predict_proba``; ``__repr__``
    shows the constructor call. A subclass sets ``sizes``, ``activation_name``,
    ``loss_name``, ``seed`` and ``dtype``, and defines ``predict_proba``."""

    sizes: Sequence[int]
    activation_name: str
    loss_name: str
    seed: int
    dtype: np.dtype[Any]

    def predict_proba(self, X: NDArray[Any]) -> Array:
        raise NotImplementedError

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        """The most probable class of each row, int64, shape (n,)."""
        labels: NDArray[np.int64] = np.argmax(self.predict_proba(X), axis=1).astype(np.int64)
        return labels

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({list(self.sizes)}, activation={self.activation_name!r}, "
            f"loss={self.loss_name!r}, seed={self.seed}, dtype={self.dtype.name!r})"
        )

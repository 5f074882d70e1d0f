r"""Dropout: the op ``dropout`` and the layer ``Dropout``, as torch's.

In training, each entry is kept with probability :math:`1 - p` and scaled by
:math:`1 / (1 - p)`, so that its expected value is unchanged; the others become 0. With
the random keep-mask :math:`M \in \{0, 1\}`:

.. math::

    y = \frac{M \odot x}{1 - p}, \qquad \bar{x} = \frac{M \odot \bar{y}}{1 - p}

The mask is drawn once in the forward and kept for the backward: the same entries that
were dropped get no gradient. Out of training (``training=False``, or a ``Dropout``
layer after ``eval()``) dropout is the identity. :math:`p = 1` drops everything
(:math:`y = 0`, not :math:`0/0`).

The mask is ``u >= p`` for :math:`u \sim \mathcal{U}[0, 1)` drawn by ``generator`` (a
:class:`numpy.random.Generator`; the global one of
:func:`~fromscratch.autograd.manual_seed` when omitted): torch's masks come from torch's
own generator, so the two agree in distribution, not entry for entry.
"""

from __future__ import annotations

import numpy as np

from ..init import default_generator
from ..tensor import Array, Tensor
from .module import Module


def dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """``torch.nn.functional.dropout``; ``inplace`` is accepted and ignored (a new tensor
    is returned either way)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return input
    if input.data.dtype.kind != "f" and p in (0.0, 1.0):  # torch's integer answers
        return input if p == 0.0 else Tensor._wrap(np.zeros_like(input.data))
    if input.data.dtype.kind != "f":
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {input.data.dtype}: "
            "dropout needs a floating input"
        )
    rng = default_generator() if generator is None else generator
    keep = rng.random(input.data.shape) >= p
    scale = input.data.dtype.type(0.0 if p == 1.0 else 1.0 / (1.0 - p))
    kept = keep * scale  # M / (1 - p), in the input's dtype

    def backward(dL_dy: Array) -> tuple[Array]:
        return (dL_dy * kept,)

    return Tensor._make(input.data * kept, (input,), backward, "MulBackward")


class Dropout(Module):
    """:func:`dropout` as a layer: active in training mode, the identity after ``eval()``."""

    def __init__(
        self, p: float = 0.5, inplace: bool = False, generator: np.random.Generator | None = None
    ) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"

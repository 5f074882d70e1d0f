r"""One flat vector :math:`\theta \in \mathbb{R}^d` for every parameter of the network.

Every strategy in this package works on a flat vector: a mutation is a vector
:math:`\epsilon \in \mathbb{R}^d`, a population is a matrix with one :math:`\theta` per
row, and an evolution-strategies gradient is a weighted sum of such rows. The model, on
the other hand, is a stack of dense layers whose parameters have the layout of
``torch.nn.Sequential``: ``"0.weight"`` (out, in), ``"0.bias"`` (out,), ``"2.weight"``, ...
:class:`Layout` maps between the two. :math:`\theta` is the concatenation, in that key
order, of every array flattened row-major:

.. math::

    \theta = \big(\operatorname{vec} W^{(1)}, b^{(1)}, \operatorname{vec} W^{(2)}, b^{(2)},
    \dots\big), \qquad d = \sum_l (\text{out}_l \cdot \text{in}_l + \text{out}_l)

Going from :math:`\theta` to the arrays costs nothing: each array is a reshaped *view* of
a slice of :math:`\theta`. The same holds for a whole population :math:`\Theta` (P, d):
its layer-:math:`l` weights are the view ``Theta[:, start:stop].reshape(P, out, in)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.types import Array


@dataclass(frozen=True)
class Block:
    """Where one parameter array lives inside :math:`\\theta`: ``theta[start:stop]``."""

    key: str
    shape: tuple[int, ...]
    start: int

    @property
    def stop(self) -> int:
        return self.start + int(np.prod(self.shape))


class Layout:
    """The blocks of :math:`\\theta` for an MLP with the given layer sizes.

    ``blocks`` alternate weight and bias, layer by layer, with ``nn.Sequential``'s keys:
    the Linear modules sit at indices ``first``, ``first + 2``, ... because an activation
    sits between them (``first`` is 0, or 3 behind a fixed input pool).
    """

    def __init__(self, sizes: Sequence[int], first: int = 0) -> None:
        blocks = []
        start = 0
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            for name, shape in (("weight", (fan_out, fan_in)), ("bias", (fan_out,))):
                block = Block(f"{first + 2 * i}.{name}", shape, start)
                blocks.append(block)
                start = block.stop
        self.blocks: tuple[Block, ...] = tuple(blocks)
        self.size = start
        """:math:`d`, the number of parameters."""

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {block.key: block.shape for block in self.blocks}

    def layers(self, Theta: Array) -> list[tuple[Array, Array]]:
        """Views ``(W, b)`` per layer of a population ``Theta`` (P, d).

        ``W`` has shape (P, out, in) and ``b`` (P, out); writing into them writes ``Theta``.
        """
        P = Theta.shape[0]
        views = [Theta[:, b.start : b.stop].reshape(P, *b.shape) for b in self.blocks]
        return list(zip(views[0::2], views[1::2], strict=True))

    def to_state_dict(self, theta: Array) -> dict[str, Array]:
        """Copies of every array of one :math:`\\theta` (d,), keyed like ``state_dict``."""
        return {b.key: theta[b.start : b.stop].reshape(b.shape).copy() for b in self.blocks}

    def from_state_dict(self, state: Mapping[str, NDArray[Any]], dtype: np.dtype[Any]) -> Array:
        """The flat :math:`\\theta` of a state dict whose keys and shapes are already checked."""
        return np.concatenate([np.asarray(state[b.key], dtype=dtype).ravel() for b in self.blocks])

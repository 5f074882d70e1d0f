r"""Gaussian perturbations, fast: slices of one shared table of standard normal numbers.

Every strategy here draws a vector :math:`\epsilon \sim \mathcal N(0, I_d)` per member and
generation: with 100 members of 25,000 parameters that is 2.5 million normal numbers per
mini-batch, and drawing them takes several times longer than evaluating the population.
Like OpenAI's evolution strategies (Salimans et al. 2017), we draw one table of
:math:`T` i.i.d. standard normal numbers once, and take each perturbation as the window
``table[o : o + d]`` at a random offset :math:`o`. Copying a window is a memory copy,
many times cheaper than drawing it.

Each window is exactly :math:`\mathcal N(0, I_d)`. Two windows at different offsets
overlap but are uncorrelated, :math:`\mathbb E[\epsilon_o \cdot \epsilon_{o'}] = 0` for
:math:`o \ne o'`, because their equal-index entries are different table entries; the
table only has to be large enough that equal offsets are rare
(:math:`T \approx 4 \times 10^6` here).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.types import Array

TABLE_SIZE: Final = 1 << 22
"""How many windows (distinct perturbations) the table offers."""


class NoiseTable:
    """``TABLE_SIZE`` distinct :math:`\\mathcal N(0, I_d)` windows, drawn once from ``rng``."""

    def __init__(self, d: int, dtype: np.dtype[Any], rng: np.random.Generator) -> None:
        self.table: Array = rng.standard_normal(TABLE_SIZE + d - 1, dtype=dtype)
        self.windows = np.lib.stride_tricks.sliding_window_view(self.table, d)

    def offsets(self, count: int, rng: np.random.Generator) -> NDArray[np.int64]:
        """``count`` window offsets drawn from ``rng``: all a perturbation is, given the table."""
        offsets: NDArray[np.int64] = rng.integers(0, TABLE_SIZE, size=count)
        return offsets

    def take(self, offsets: NDArray[np.int64], width: int | None = None) -> Array:
        """The windows at ``offsets``, (count, width); ``width`` defaults to d."""
        windows = self.windows if width is None else self.windows[:, :width]
        E: Array = windows[offsets]  # fancy indexing copies: E is ours to modify
        return E

    def sample(self, count: int, rng: np.random.Generator, width: int | None = None) -> Array:
        """``count`` perturbations (count, width), each a window at an offset drawn from ``rng``."""
        return self.take(self.offsets(count, rng), width)

r"""A genetic algorithm with truncation selection: mutate, compete, keep the best half.

The population is :math:`M` parameter vectors, the rows of :math:`\Theta` (M, d), kept
sorted from best to worst. One generation on a mini-batch:

1. **Variation.** Every parent gets one child: a copy of a parent drawn at random,
   optionally mixed with a second random parent by uniform crossover (each parameter
   from either parent with probability 1/2), then mutated,
   :math:`\theta_{\text{child}} \leftarrow \theta_{\text{child}} + \eta\,\epsilon`,
   :math:`\epsilon \sim \mathcal N(0, I_d)`. ``learning_rate`` is the mutation scale
   :math:`\eta`.
2. **Selection.** Parents and children are evaluated together on the batch (one batched
   forward pass); the worst :math:`M` of the :math:`2M` are dropped ("truncation", a
   :math:`(\mu + \lambda)` scheme with :math:`\mu = \lambda = M`).

Parents compete again on every new batch, so a member that was lucky on one batch does
not survive forever. The model's parameters are the best member's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.types import Array, Labels

from .mlp import MLP
from .noise import NoiseTable


class GeneticAlgorithm:
    """Truncation selection over ``population`` members, with optional uniform crossover."""

    def __init__(
        self,
        mlp: MLP,
        theta: Array,
        *,
        learning_rate: float,
        population: int,
        crossover: bool,
        noise: NoiseTable,
        rng: np.random.Generator,
    ) -> None:
        self.mlp, self.noise, self.rng = mlp, noise, rng
        self.learning_rate = learning_rate
        self.crossover = crossover
        # The starting point itself, and mutants of it.
        self.Theta = np.repeat(theta[None], population, axis=0)
        self.Theta[1:] += learning_rate * noise.sample(population - 1, rng)

    @property
    def theta(self) -> Array:
        """The best member (the population is kept sorted by the last batch's loss)."""
        best: Array = self.Theta[0]
        return best

    def step(self, X: Array, y: Labels, rows: NDArray[np.intp] | None = None) -> float:
        """One generation on a mini-batch; returns the loss of the best member before it.

        ``rows`` (the batch's indices) is unused: the population is evaluated here."""
        M = len(self.Theta)
        children = self.Theta[self.rng.integers(0, M, size=M)]  # copies
        if self.crossover:
            mates = self.Theta[self.rng.integers(0, M, size=M)]
            # float32 uniforms and copyto: half the cost of float64 ones and a masked assignment.
            from_mate = self.rng.random(children.shape, dtype=np.float32) < 0.5
            np.copyto(children, mates, where=from_mate)
        children += self.learning_rate * self.noise.sample(M, self.rng)
        everyone = np.concatenate([self.Theta, children])
        L = self.mlp.losses(everyone, X, y)
        L = np.where(np.isnan(L), np.inf, L)  # a member whose outputs overflowed is the worst
        self.Theta = everyone[np.argsort(L, kind="stable")[:M]]
        return float(L[0])

r"""A genetic algorithm with truncation selection: mutate, compete, keep the best.

The population is :math:`M` parameter vectors, the rows of :math:`\Theta` (M, d), kept
sorted from best to worst. One generation on a mini-batch:

1. **Variation.** :math:`\lambda` children (``offspring``, default :math:`M`), each a copy
   of a parent drawn at random, optionally mixed with a second random parent by uniform
   crossover (each parameter from either parent with probability 1/2), then mutated,
   :math:`\theta_{\text{child}} \leftarrow \theta_{\text{child}} + \eta\,\epsilon`,
   :math:`\epsilon \sim \mathcal N(0, I_d)`.
2. **Selection.** Parents and children are evaluated together on the batch (one batched
   forward pass); the best :math:`M` of the :math:`M + \lambda` survive ("truncation", a
   :math:`(\mu + \lambda)` scheme).

**The mutation strength** :math:`\eta` is ``learning_rate``, the same for everyone, or,
with ``self_adaptive=True`` (as in Prellberg & Kramer 2018, after Schwefel), each
member's own: a child inherits its first parent's :math:`\eta_p` and changes it before
it mutates,

.. math::

    \eta_{\text{child}} = \eta_p\, e^{\tau \xi}, \quad \xi \sim \mathcal N(0, 1), \qquad
    \tau = 1 / \sqrt{d}.

No rule says when to take smaller steps: members whose :math:`\eta` suits the landscape
leave better children, and their :math:`\eta` survives with them.

Parents compete again on every new batch, so a member that was lucky on one batch does
not survive forever. The model's parameters are the best member's.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.types import Array, Labels

from .mlp import MLP
from .noise import NoiseTable


class GeneticAlgorithm:
    """Truncation selection over ``population`` members and ``offspring`` children per
    generation, with optional uniform crossover and self-adaptive mutation strength."""

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
        offspring: int | None = None,
        self_adaptive: bool = False,
    ) -> None:
        self.mlp, self.noise, self.rng = mlp, noise, rng
        self.learning_rate = learning_rate
        self.crossover = crossover
        self.offspring = population if offspring is None else offspring
        self.self_adaptive = self_adaptive
        self.tau = 1 / math.sqrt(len(theta))
        # The starting point itself, and mutants of it.
        self.Theta = np.repeat(theta[None], population, axis=0)
        self.Theta[1:] += learning_rate * noise.sample(population - 1, rng)
        self.eta = np.full(population, learning_rate)  # each member's mutation strength

    @property
    def theta(self) -> Array:
        """The best member (the population is kept sorted by the last batch's loss)."""
        best: Array = self.Theta[0]
        return best

    def step(self, X: Array, y: Labels, rows: NDArray[np.intp] | None = None) -> float:
        """One generation on a mini-batch; returns the loss of the best member before it.

        ``rows`` (the batch's indices) is unused: the population is evaluated here."""
        M, lam = len(self.Theta), self.offspring
        parents = self.rng.integers(0, M, size=lam)
        children = self.Theta[parents]  # copies
        if self.crossover:
            mates = self.Theta[self.rng.integers(0, M, size=lam)]
            # float32 uniforms and copyto: half the cost of float64 ones and a masked assignment.
            from_mate = self.rng.random(children.shape, dtype=np.float32) < 0.5
            np.copyto(children, mates, where=from_mate)
        if self.self_adaptive:
            eta = self.eta[parents] * np.exp(self.tau * self.rng.standard_normal(lam))
        else:
            eta = np.full(lam, self.learning_rate)
        children += eta[:, None].astype(children.dtype) * self.noise.sample(lam, self.rng)
        everyone = np.concatenate([self.Theta, children])
        L = self.mlp.losses(everyone, X, y)
        L = np.where(np.isnan(L), np.inf, L)  # a member whose outputs overflowed is the worst
        survivors = np.argsort(L, kind="stable")[:M]
        self.Theta = everyone[survivors]
        self.eta = np.concatenate([self.eta, eta])[survivors]
        return float(L[0])

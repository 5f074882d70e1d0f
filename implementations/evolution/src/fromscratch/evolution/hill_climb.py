r"""Greedy mutation hill climbing: try a few random changes, keep the best, never go back.

One step on a mini-batch draws :math:`K` mutations :math:`\epsilon_k \sim \mathcal N(0,
I_d)` of the current parameters, evaluates the candidates
:math:`\theta + \eta\,\epsilon_k` together with :math:`\theta` itself in one batched
forward pass, and moves to whichever has the lowest loss on the batch:

.. math::

    \theta \leftarrow \operatorname*{arg\,min}_{\theta' \in \{\theta,\ \theta + \eta\epsilon_1,
    \dots,\ \theta + \eta\epsilon_K\}} L(\theta';\ X_{\text{batch}}, y_{\text{batch}})

``learning_rate`` is the mutation scale :math:`\eta`; ``population`` is :math:`K`. This is
the simplest evolutionary algorithm: a population of one parent and :math:`K` children.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.types import Array, Labels

from .mlp import MLP
from .noise import NoiseTable


class HillClimber:
    """Keep the best of the current parameters and ``population`` mutations of them."""

    def __init__(
        self,
        mlp: MLP,
        theta: Array,
        *,
        learning_rate: float,
        population: int,
        noise: NoiseTable,
        rng: np.random.Generator,
    ) -> None:
        self.mlp, self.theta, self.noise, self.rng = mlp, theta, noise, rng
        self.learning_rate = learning_rate
        self.population = population

    def step(self, X: Array, y: Labels, rows: NDArray[np.intp] | None = None) -> float:
        """One step on a mini-batch; returns the loss of :math:`\\theta` before it.

        ``rows`` (the batch's indices) is unused: the candidates are evaluated here."""
        mutations = self.learning_rate * self.noise.sample(self.population, self.rng)
        candidates = np.concatenate([self.theta[None], self.theta + mutations])
        L = self.mlp.losses(candidates, X, y)
        L = np.where(np.isnan(L), np.inf, L)  # an overflowing candidate is never chosen
        self.theta[:] = candidates[int(np.argmin(L))]  # index 0 (no change) wins ties
        return float(L[0])

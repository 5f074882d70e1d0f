r"""Natural evolution strategies in the style of OpenAI-ES (Salimans et al. 2017).

**Why a population estimates a gradient.** Replace the loss :math:`L(\theta)` by its
Gaussian smoothing :math:`J(\theta) = \mathbb E_{\epsilon \sim \mathcal N(0, I)}
[L(\theta + \sigma\epsilon)]`. Writing the expectation as an integral against the density
:math:`\varphi` of :math:`\mathcal N(\theta, \sigma^2 I)` and differentiating the density,
:math:`\nabla_\theta \varphi(x) = \varphi(x)\,(x - \theta)/\sigma^2`, gives

.. math::

    \nabla_\theta J(\theta) = \frac{1}{\sigma}\,
        \mathbb E_{\epsilon}\big[L(\theta + \sigma\epsilon)\,\epsilon\big]

no derivative of :math:`L` needed: only its values at random points. For small
:math:`\sigma`, :math:`\nabla J \approx \nabla L`.

**Antithetic pairs.** Evaluating :math:`\theta + \sigma\epsilon_i` *and*
:math:`\theta - \sigma\epsilon_i` and using

.. math::

    \nabla_\theta J(\theta) = \frac{1}{2\sigma}\,
        \mathbb E\big[(L(\theta + \sigma\epsilon) - L(\theta - \sigma\epsilon))\,\epsilon\big]

cancels the even part of :math:`L` around :math:`\theta` (the constant :math:`L(\theta)`
and the curvature term), the largest sources of variance.

**Rank shaping.** The raw losses are replaced by their centered ranks in :math:`[-0.5,
0.5]` over all :math:`2Q` members. The step then ignores the loss's scale and outliers
(a batch where everything is bad moves :math:`\theta` no more than one where everything
is good); the price is a factor :math:`\sqrt{3/\pi}` in the estimate's alignment with the
true gradient. With :math:`R_i^\pm` the centered ranks of :math:`L(\theta \pm
\sigma\epsilon_i)` (lowest loss, lowest rank), the estimate of the loss's gradient is

.. math::

    \hat g = \frac{1}{2 Q \sigma} \sum_{i=1}^{Q} \big(R_i^+ - R_i^-\big)\,\epsilon_i

It points uphill, like the ``.grad`` of a torch parameter; the optimizer steps against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.optim import SGD, Adam, Parameter
from fromscratch.boundary.types import Array, Labels

from .lowrank import Perturbations, perturbations
from .mlp import MLP, ChunkMap
from .noise import NoiseTable

if TYPE_CHECKING:
    from .pool import WorkerPool


def centered_ranks(L: Array) -> NDArray[np.float64]:
    """Ranks of ``L`` scaled to [-0.5, 0.5]: the lowest loss gets -0.5, the highest 0.5.

    A NaN loss (a member whose outputs overflowed) ranks as the worst; ties are broken by
    position, so the result is deterministic.
    """
    L = np.where(np.isnan(L), np.inf, L)
    ranks = np.empty(len(L), dtype=np.float64)
    ranks[np.argsort(L, kind="stable")] = np.arange(len(L))
    return ranks / (len(L) - 1) - 0.5


def es_gradient(
    L_plus: Array, L_minus: Array, E: Array, sigma: float, kind: Perturbations | None = None
) -> Array:
    r""":math:`\hat g = \frac{1}{2Q\sigma}\sum_i (R^+_i - R^-_i)\,\epsilon_i` from the losses of
    :math:`\theta \pm \sigma\epsilon_i` and the perturbations ``E`` (Q, width), stored as
    ``kind`` stores them (dense rows :math:`\epsilon_i` if None)."""
    Q = len(E)
    R = centered_ranks(np.concatenate([L_plus, L_minus]))
    w = (R[:Q] - R[Q:]).astype(E.dtype)  # in E's dtype: float32 stays float32
    weighted_sum = w @ E if kind is None else kind.combine(w, E)
    g: Array = weighted_sum / (2 * Q * sigma)
    return g


class EvolutionStrategy:
    """OpenAI-ES: one gradient estimate from ``population`` antithetic members per batch,
    then one optimizer step (Adam or SGD with momentum) on :math:`\\theta`.

    ``learning_rate`` is the optimizer's step size; ``sigma`` the perturbation scale;
    ``momentum`` is SGD's :math:`\\mu` or Adam's :math:`\\beta_1`: how many generations'
    estimates (about :math:`1 / (1 - \\beta_1)`) the step averages.
    """

    def __init__(
        self,
        mlp: MLP,
        theta: Array,
        *,
        learning_rate: float,
        population: int,
        sigma: float,
        optimizer: str,
        momentum: float,
        weight_decay: float,
        rank: int | None,
        noise: NoiseTable,
        rng: np.random.Generator,
        pool: WorkerPool | None = None,
        map_chunks: ChunkMap = map,
    ) -> None:
        self.mlp, self.theta, self.noise, self.rng = mlp, theta, noise, rng
        self.pool, self.map_chunks = pool, map_chunks
        self.pairs = population // 2
        self.sigma = sigma
        self.kind = perturbations(mlp.sizes, rank)
        # The estimate is stored beside theta, as a backward pass stores a gradient, and
        # a torch-shaped optimizer steps against it.
        self.dL_dtheta: Array | None = None
        params = [Parameter(self, "theta")]
        self.optimizer: Adam | SGD = (
            Adam(params, lr=learning_rate, betas=(momentum, 0.999), weight_decay=weight_decay)
            if optimizer == "adam"
            else SGD(params, lr=learning_rate, momentum=momentum, weight_decay=weight_decay)
        )

    @property
    def learning_rate(self) -> float:
        lr: float = self.optimizer.param_groups[0]["lr"]
        return lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.optimizer.param_groups[0]["lr"] = value

    def estimate(self, X: Array, y: Labels, rows: NDArray[np.intp]) -> Array:
        """The rank-shaped antithetic estimate of :math:`\\nabla_\\theta L(X, y)`.

        The pairs are evaluated here (their chunks through ``map_chunks``: in turn, or on
        threads), or on the workers of a ``pool`` (processes or Ray actors), which hold the
        data and the noise table: they get the batch's ``rows`` and the perturbations'
        offsets, never the numbers themselves.
        """
        offsets = self.noise.offsets(self.pairs, self.rng)
        F = self.noise.take(offsets, self.kind.width)
        if self.pool is None:
            L_plus, L_minus = self.mlp.antithetic_losses(
                self.theta, F, self.sigma, X, y, self.kind, self.map_chunks
            )
        else:
            L_plus, L_minus = self.pool.antithetic_losses(self.theta, rows, offsets, self.sigma)
        return es_gradient(L_plus, L_minus, F, self.sigma, self.kind)

    def step(self, X: Array, y: Labels, rows: NDArray[np.intp]) -> float:
        """One generation on the mini-batch ``X, y`` (the training set's ``rows``); returns
        the loss of :math:`\\theta` before it."""
        L = float(self.mlp.losses(self.theta[None], X, y)[0])
        self.dL_dtheta = self.estimate(X, y, rows)
        self.optimizer.step()
        return L

r"""Optimizers for the evolution-strategies gradient estimate, on the flat vector :math:`\theta`.

Evolution strategies estimate a gradient :math:`g_t` (see :mod:`~fromscratch.evolution.es`)
and then step like any gradient method. Both optimizers update :math:`\theta` in place and
add L2 weight decay :math:`\lambda \theta` to the estimate first, which keeps the weights
small: ES, like SGD, otherwise lets them drift, and large weights saturate the units.
Hyper-parameters are Python floats, so a float32 :math:`\theta` stays float32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]

OPTIMIZERS = ("adam", "sgd")


class SGD:
    r"""Gradient descent with (heavy-ball) momentum :math:`\mu`, as ``torch.optim.SGD``.

    .. math::

        g_t \leftarrow g_t + \lambda\theta_{t-1}, \qquad
        v_t = \mu v_{t-1} + g_t \ (v_1 = g_1), \qquad
        \theta_t = \theta_{t-1} - \eta\, v_t
    """

    def __init__(self, theta: Array, lr: float, *, momentum: float, weight_decay: float) -> None:
        self.theta = theta
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.velocity: Array | None = None

    def step(self, g: Array) -> None:
        """Move :math:`\\theta` (in place) against the gradient estimate ``g``."""
        if self.weight_decay:
            g = g + self.weight_decay * self.theta
        if self.velocity is None:
            self.velocity = g.copy()
        else:
            self.velocity *= self.momentum
            self.velocity += g
        self.theta -= self.lr * self.velocity


class Adam:
    r"""Adam (Kingma & Ba 2015) with L2 weight decay, as ``torch.optim.Adam``.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}
            \cdot \frac{m_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}

    Each parameter moves about :math:`\eta` per step whatever the scale of its estimate,
    which suits ES: rank shaping fixes the scale of :math:`g` arbitrarily, and Adam does
    not care. The running mean :math:`m` also averages the noisy estimates over the last
    :math:`\approx 1/(1 - \beta_1)` generations.
    """

    def __init__(
        self,
        theta: Array,
        lr: float,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.theta = theta
        self.lr = float(lr)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.m = np.zeros_like(theta)
        self.v = np.zeros_like(theta)

    def step(self, g: Array) -> None:
        """Move :math:`\\theta` (in place) against the gradient estimate ``g``."""
        self.t += 1
        if self.weight_decay:
            g = g + self.weight_decay * self.theta
        self.m *= self.beta1
        self.m += (1 - self.beta1) * g
        self.v *= self.beta2
        self.v += (1 - self.beta2) * (g * g)
        step_size = self.lr / (1 - self.beta1**self.t)
        denom = np.sqrt(self.v) / math.sqrt(1 - self.beta2**self.t) + self.eps
        self.theta -= step_size * (self.m / denom)

r"""Optimizers: how a gradient becomes a parameter update, step for step like ``torch.optim``.

An optimizer owns a list of parameter arrays and updates them **in place** from a list of
gradient arrays of the same shapes, in the same order. It never writes into the
gradients. Hyper-parameters are kept as Python floats: under NumPy 2's promotion rules a
Python float multiplies a float32 array into float32, where a ``np.float64`` scalar would
silently promote the result to float64.

Learning-rate schedule
----------------------
``cosine`` anneals the learning rate once per epoch, like
``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=epochs, eta_min=0)`` stepped after each
epoch: epoch :math:`e = 1, \dots, E` uses

.. math::

    \eta_e = \frac{\eta}{2} \Big(1 + \cos\frac{\pi (e - 1)}{E}\Big)

so training starts at the full rate :math:`\eta` and ends close to zero, where the last
epochs settle into a minimum instead of bouncing around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("constant", "cosine")


class SGD:
    r"""Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    With gradient :math:`g_t`, parameter :math:`\theta`, learning rate :math:`\eta`,
    momentum :math:`\mu` and weight decay :math:`\lambda`, each step is (as in
    ``torch.optim.SGD`` with ``dampening=0``):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \begin{cases} g_t & t = 1 \\ \mu v_{t-1} + g_t & t > 1 \end{cases} \\
        d_t &= \begin{cases} g_t + \mu v_t & \text{Nesterov} \\ v_t & \text{otherwise}
               \end{cases} \\
        \theta_t &= \theta_{t-1} - \eta\, d_t

    With :math:`\mu = 0` this is plain :math:`\theta \leftarrow \theta - \eta g`. The velocity
    :math:`v` is a running sum of past gradients: directions that agree from step to step
    build up speed, directions that flip sign cancel out. Weight decay adds the gradient
    of :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2`, pulling every weight towards zero.
    """

    def __init__(
        self,
        params: Sequence[Array],
        lr: float,
        *,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if nesterov and momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0 (Nesterov is a momentum method)")
        self.params = list(params)
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)
        self.velocity: list[Array | None] = [None] * len(self.params)
        # Each step's update lr * d is written here instead of into a new temporary.
        self.updates = [np.empty_like(theta) for theta in self.params]

    def step(self, grads: Sequence[Array]) -> None:
        """Update every parameter in place from its gradient."""
        for i, (theta, g, update) in enumerate(zip(self.params, grads, self.updates, strict=True)):
            if self.weight_decay:
                g = g + self.weight_decay * theta
            if self.momentum:
                v = self.velocity[i]
                if v is None:
                    v = self.velocity[i] = g.copy()
                else:
                    v *= self.momentum
                    v += g
                g = g + self.momentum * v if self.nesterov else v
            np.multiply(g, self.lr, out=update)
            theta -= update


class Adam:
    r"""Adam, as ``torch.optim.Adam`` (L2 weight decay added to the gradient, no AMSGrad).

    With gradient :math:`g_t`, step count :math:`t = 1, 2, \dots`:

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot
            \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    :math:`m` and :math:`v` are running averages of the gradient and of its square, both
    started at zero; the factors :math:`1/(1 - \beta^t)` undo that start's bias towards
    zero. Dividing by :math:`\sqrt{v}` gives every parameter its own step size: about
    :math:`\eta` per step whatever the scale of its gradient.
    """

    def __init__(
        self,
        params: Sequence[Array],
        lr: float,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.params = list(params)
        self.lr = float(lr)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.m = [np.zeros_like(theta) for theta in self.params]
        self.v = [np.zeros_like(theta) for theta in self.params]

    def step(self, grads: Sequence[Array]) -> None:
        """Update every parameter in place from its gradient."""
        self.t += 1
        step_size = self.lr / (1 - self.beta1**self.t)
        sqrt_bias_correction2 = math.sqrt(1 - self.beta2**self.t)
        for theta, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * theta
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * (g * g)
            denom = np.sqrt(v) / sqrt_bias_correction2 + self.eps
            theta -= step_size * (m / denom)


def cosine_learning_rate(learning_rate: float, epoch: int, epochs: int) -> float:
    r"""The cosine-annealed rate for ``epoch`` (from 1) of ``epochs``: see the module docs."""
    return 0.5 * learning_rate * (1 + math.cos(math.pi * (epoch - 1) / epochs))

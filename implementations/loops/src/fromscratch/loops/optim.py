r"""Optimizers: gradient descent, one neuron at a time, step for step like ``torch.optim``.

Backpropagation only *computes* the gradient: every neuron's
:meth:`~fromscratch.loops.neuron.Neuron.backward` leaves :math:`\partial L / \partial w`
and :math:`\partial L / \partial b` in its ``dL_dw`` and ``dL_db`` and changes nothing
else. An optimizer is what moves the parameters, in a separate step that runs after the
whole backward pass, neuron by neuron:

.. math::

    \theta \leftarrow \theta - \eta\, \frac{\partial L}{\partial \theta}
    \qquad \text{(plain gradient descent, learning rate } \eta \text{)}

where :math:`\theta` is any one parameter, a neuron's ``w`` or its ``b``. Keeping the two
apart is what makes the gradient checkable (it sits there, whole, until the step reads
it) and what guarantees that the error sent back through a layer used the weights of the
forward pass.

An optimizer holds two lists of the same length: every neuron's ``w`` and ``b``, and their
gradients ``dL_dw`` and ``dL_db``. It updates the parameters **in place** and never
writes into the gradients. Hyper-parameters are Python floats, which
NumPy 2 does not let promote a float32 array to float64.

Learning-rate schedule
----------------------
``cosine`` anneals the rate once per epoch, like
``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=epochs, eta_min=0)`` stepped after each
epoch: epoch :math:`e = 1, \dots, E` uses

.. math::

    \eta_e = \frac{\eta}{2} \Big(1 + \cos\frac{\pi (e - 1)}{E}\Big)

from the full rate at the start to nearly zero at the end, where the last epochs settle
into a minimum instead of bouncing around it.
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


def _pairs(params: Sequence[Array], grads: Sequence[Array]) -> tuple[list[Array], list[Array]]:
    if len(params) != len(grads) or any(
        p.shape != g.shape for p, g in zip(params, grads, strict=False)
    ):
        raise ValueError("an optimizer needs one gradient of the same shape per parameter")
    return list(params), list(grads)


class SGD:
    r"""Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    With gradient :math:`g_t`, parameters :math:`\theta`, learning rate :math:`\eta`,
    momentum :math:`\mu` and weight decay :math:`\lambda`, each step is (as
    ``torch.optim.SGD`` with ``dampening=0``):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \begin{cases} g_t & t = 1 \\ \mu v_{t-1} + g_t & t > 1 \end{cases} \\
        d_t &= \begin{cases} g_t + \mu v_t & \text{Nesterov} \\ v_t & \text{otherwise}
               \end{cases} \\
        \theta_t &= \theta_{t-1} - \eta\, d_t

    With :math:`\mu = 0`, :math:`d_t = g_t`: plain gradient descent. The velocity :math:`v`
    is a running sum of past gradients: directions that agree step after step gather
    speed, directions that flip sign cancel. Weight decay adds the gradient of
    :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2`, pulling every weight towards zero.
    """

    def __init__(
        self,
        params: Sequence[Array],
        grads: Sequence[Array],
        lr: float,
        *,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if nesterov and momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0 (Nesterov is a momentum method)")
        self.params, self.grads = _pairs(params, grads)
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)
        self.velocity = [np.zeros_like(theta) for theta in self.params]

    def step(self) -> None:
        """Move every neuron's parameters against its gradient, in place."""
        lr, mu = self.lr, self.momentum
        for i, (theta, g) in enumerate(zip(self.params, self.grads, strict=True)):
            if self.weight_decay:  # a new array: the gradient itself stays as it is
                g = g + self.weight_decay * theta
            d = g
            if mu:
                # v starts at 0, so the first step's mu * 0 + g is torch's v_1 = g, exactly.
                self.velocity[i] = v = mu * self.velocity[i] + g
                d = g + mu * v if self.nesterov else v
            theta -= lr * d


class Adam:
    r"""Adam, as ``torch.optim.Adam`` (L2 weight decay added to the gradient, no AMSGrad).

    With gradient :math:`g_t` and step count :math:`t = 1, 2, \dots`:

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot
            \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    :math:`m` and :math:`v` are running averages of the gradient and of its square, both
    started at zero; dividing by :math:`1 - \beta^t` undoes that start's pull towards
    zero. Dividing by :math:`\sqrt{v}` gives every parameter its own step size, about
    :math:`\eta` whatever the scale of its gradient.
    """

    def __init__(
        self,
        params: Sequence[Array],
        grads: Sequence[Array],
        lr: float,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.params, self.grads = _pairs(params, grads)
        self.lr = float(lr)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.m = [np.zeros_like(theta) for theta in self.params]
        self.v = [np.zeros_like(theta) for theta in self.params]

    def step(self) -> None:
        """Move every neuron's parameters against its gradient, in place."""
        self.t += 1
        beta1, beta2 = self.beta1, self.beta2
        step_size = self.lr / (1 - beta1**self.t)
        sqrt_bias_correction2 = math.sqrt(1 - beta2**self.t)
        for i, (theta, g) in enumerate(zip(self.params, self.grads, strict=True)):
            if self.weight_decay:
                g = g + self.weight_decay * theta
            self.m[i] = m = beta1 * self.m[i] + (1 - beta1) * g
            self.v[i] = v = beta2 * self.v[i] + (1 - beta2) * g * g
            theta -= step_size * m / (np.sqrt(v) / sqrt_bias_correction2 + self.eps)


def cosine_learning_rate(learning_rate: float, epoch: int, epochs: int) -> float:
    r"""The cosine-annealed rate for ``epoch`` (from 1) of ``epochs``: see the module docs."""
    return 0.5 * learning_rate * (1 + math.cos(math.pi * (epoch - 1) / epochs))

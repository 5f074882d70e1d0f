r"""Optimizers, as ``torch.optim``: each turns ``.grad`` into an in-place parameter update.

An optimizer holds ``param_groups``, a list of dicts with the group's ``"params"`` and
hyper-parameters (``"lr"``, ...): a learning-rate schedule edits
``param_groups[0]["lr"]`` between steps, as with torch. ``state[p]`` keeps what a
parameter's rule remembers across steps (a momentum buffer, Adam's moments).
Hyper-parameters stay Python floats: NumPy lets a Python float multiply a float32 array
without promoting it to float64, where a ``np.float64`` would not.

Updates run under :class:`~fromscratch.autograd.no_grad` semantics by construction: they
write ``p.data`` directly, so no graph is recorded. Every rule below is torch's, step for
step; :math:`g_t` is the gradient, :math:`\theta` the parameter, :math:`\eta` the
learning rate and :math:`\lambda` the weight decay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Array, Tensor


def _check(name: str, value: float, low: float = 0.0, high: float = math.inf) -> None:
    if not (isinstance(value, int | float) and low <= value < high):
        raise ValueError(f"Invalid {name} value: {value!r}; expected a number in [{low}, {high})")


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad`` and ``step``."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        given = list(params)
        if not given:
            raise ValueError("optimizer got an empty parameter list")
        groups = given if isinstance(given[0], dict) else [{"params": given}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"can only optimize tensors that require grad, got {p!r}")
        self.param_groups.append({**self.defaults, **group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._wrap(np.zeros_like(p.data))

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p.data, p.grad.data, self.state.setdefault(p, {}), group)

    def _update(self, theta: Array, g: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases} \\
        d_t &= \begin{cases} g_t + \mu b_t & \text{Nesterov} \\ b_t & \text{otherwise}
               \end{cases} \\
        \theta_t &= \theta_{t-1} - \eta\, d_t

    with momentum :math:`\mu` and dampening :math:`\tau`; with :math:`\mu = 0` it is plain
    :math:`\theta \leftarrow \theta - \eta g`. The buffer :math:`b` is a running sum of
    past gradients: directions that agree from step to step build up speed.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        _check("learning rate", lr)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": float(lr),
            "momentum": float(momentum),
            "dampening": float(dampening),
            "weight_decay": float(weight_decay),
            "nesterov": bool(nesterov),
        }
        super().__init__(params, defaults)

    def _update(self, theta: Array, g: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if weight_decay:
            g = g + weight_decay * theta
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = g.copy()
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * g
            g = g + momentum * buffer if group["nesterov"] else buffer
        # The step lr * d goes into a buffer the optimizer owns, not a new temporary.
        update = state.get("update")
        if update is None:
            update = state["update"] = np.empty_like(theta)
        np.multiply(g, group["lr"], out=update)
        theta -= update


class Adam(Optimizer):
    r"""Adam (with the optional AMSGrad variant), with L2 weight decay added to the gradient.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot
            \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    :math:`m` and :math:`v` are running means of the gradient and of its square, started
    at zero; the factors :math:`1/(1 - \beta^t)` undo that start's pull towards zero.
    Dividing by :math:`\sqrt{v}` gives every parameter a step of about :math:`\eta`
    whatever the scale of its gradient. AMSGrad uses :math:`\max_{s \le t} v_s` instead
    of :math:`v_t`, so the effective step never grows.
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        _check("learning rate", lr)
        _check("beta parameter at index 0", betas[0], high=1.0)
        _check("beta parameter at index 1", betas[1], high=1.0)
        _check("epsilon", eps)
        _check("weight_decay", weight_decay)
        defaults = {
            "lr": float(lr),
            "betas": (float(betas[0]), float(betas[1])),
            "eps": float(eps),
            "weight_decay": float(weight_decay),
            "amsgrad": bool(amsgrad),
        }
        super().__init__(params, defaults)

    def _update(self, theta: Array, g: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps, weight_decay = (
            group["lr"],
            group["betas"],
            group["eps"],
            group["weight_decay"],
        )
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(theta), exp_avg_sq=np.zeros_like(theta))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(theta)
        state["step"] += 1
        t = state["step"]
        if weight_decay and self.decoupled:
            theta *= 1 - lr * weight_decay
        elif weight_decay:
            g = g + weight_decay * theta
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1**t)
        denominator = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
        theta -= step_size * (m / denominator)


class AdamW(Adam):
    r"""Adam with *decoupled* weight decay (Loshchilov and Hutter), as ``torch.optim.AdamW``.

    Instead of adding :math:`\lambda \theta` to the gradient (where Adam's division by
    :math:`\sqrt{v}` would rescale it), the parameter shrinks directly before the Adam step:

    .. math::

        \theta_{t-1} \leftarrow (1 - \eta \lambda)\, \theta_{t-1}

    The default :math:`\lambda` is 0.01, as in torch.
    """

    decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


def cosine_learning_rate(learning_rate: float, epoch: int, epochs: int) -> float:
    r"""Cosine annealing per epoch, as ``CosineAnnealingLR(T_max=epochs, eta_min=0)``.

    Epoch :math:`e = 1, \dots, E` uses
    :math:`\eta_e = \frac{\eta}{2} \big(1 + \cos\frac{\pi (e - 1)}{E}\big)`: the full rate
    first, close to zero at the end, where the last epochs settle into a minimum.
    """
    return 0.5 * learning_rate * (1 + math.cos(math.pi * (epoch - 1) / epochs))

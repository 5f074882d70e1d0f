r"""Optimizers in ``torch.optim``'s shape: ``SGD(params, lr=...)``, ``Adam``, ``AdamW``.

An optimizer turns the gradient that the backward pass stored next to each parameter
into an in-place update of that parameter, step for step as torch does. In every rule
below :math:`g_t` is the gradient, :math:`\theta` the parameter, :math:`\eta` the
learning rate and :math:`\lambda` the weight decay.

**SGD** (momentum :math:`\mu`, dampening :math:`\tau`):

.. math::

    g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
    v_t &= \begin{cases} g_t & t = 1 \\ \mu v_{t-1} + (1 - \tau) g_t & t > 1 \end{cases} \\
    d_t &= \begin{cases} g_t + \mu v_t & \text{Nesterov} \\ v_t & \text{otherwise} \end{cases} \\
    \theta_t &= \theta_{t-1} - \eta\, d_t

With :math:`\mu = 0` this is plain :math:`\theta \leftarrow \theta - \eta g`. The velocity
:math:`v` is a running sum of past gradients: directions that agree from step to step
build up speed, directions that flip sign cancel out.

**Adam**:

.. math::

    g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
    m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
    v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
    \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot
        \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

:math:`m` and :math:`v` are running means of the gradient and of its square, started at
zero; the factors :math:`1/(1 - \beta^t)` undo that start's pull towards zero. Dividing by
:math:`\sqrt{v}` gives every parameter a step of about :math:`\eta` whatever the scale of
its gradient. AMSGrad uses :math:`\max_{s \le t} v_s` instead of :math:`v_t`.
**AdamW** decays the parameter itself, :math:`\theta \leftarrow (1 - \eta\lambda)\theta`,
instead of adding :math:`\lambda\theta` to the gradient.

**Cosine schedule**: epoch :math:`e = 1, \dots, E` uses
:math:`\eta_e = \frac{\eta}{2}\big(1 + \cos\frac{\pi (e - 1)}{E}\big)`, like
``CosineAnnealingLR(T_max=E, eta_min=0)`` stepped after each epoch.

Where the gradient lives
------------------------
A NumPy array cannot carry a ``.grad``, so a layer keeps each parameter's gradient in
an attribute beside it, named after it: ``W`` and ``dL_dW``, ``b`` and ``dL_db``. A
:class:`Parameter` is a handle on that pair, and it is what the optimizer is given::

    optimizer = SGD([Parameter(layer, "W"), Parameter(layer, "b")], lr=0.1, momentum=0.9)
    layer.backward(dL_dz)   # stores layer.dL_dW and layer.dL_db
    optimizer.step()        # reads them, updates layer.W and layer.b in place

**Gradient clipping** (:func:`clip_grad_norm`, torch's ``clip_grad_norm_``) scales all
gradients together, before a step, so that their joint norm is at most a bound.

Hyper-parameters are Python floats: NumPy lets a Python float multiply a float32 array
without promoting it to float64, where a ``np.float64`` scalar would not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .types import Array

# ------------------------------------------------------------------------------ the rules


def sgd_update(theta: Array, g: Array, state: dict[str, Any], group: Mapping[str, Any]) -> None:
    """One SGD step on ``theta``, in place (the rule in the module docstring)."""
    momentum, weight_decay = group["momentum"], group["weight_decay"]
    if weight_decay:
        g = g + weight_decay * theta
    if momentum:
        v = state.get("momentum_buffer")
        if v is None:
            v = state["momentum_buffer"] = g.copy()
        else:
            v *= momentum
            v += (1 - group["dampening"]) * g
        g = g + momentum * v if group["nesterov"] else v
    theta -= group["lr"] * g


def adam_update(theta: Array, g: Array, state: dict[str, Any], group: Mapping[str, Any]) -> None:
    """One Adam (or AdamW, if ``group["decoupled"]``) step on ``theta``, in place."""
    lr, (beta1, beta2), eps, weight_decay = (
        group["lr"],
        group["betas"],
        group["eps"],
        group["weight_decay"],
    )
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(theta), exp_avg_sq=np.zeros_like(theta))
    state["step"] += 1
    t = state["step"]
    if weight_decay and group["decoupled"]:
        theta *= 1 - lr * weight_decay
    elif weight_decay:
        g = g + weight_decay * theta
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    if group["amsgrad"]:
        v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", v), v)
    step_size = lr / (1 - beta1**t)
    denominator = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
    theta -= step_size * (m / denominator)


def cosine_learning_rate(learning_rate: float, epoch: int, epochs: int) -> float:
    r"""The cosine-annealed rate for ``epoch`` (from 1) of ``epochs``: see the module docs."""
    return 0.5 * learning_rate * (1 + math.cos(math.pi * (epoch - 1) / epochs))


# ------------------------------------------------------------------------- the plumbing


class Parameter:
    """A handle on one parameter: ``owner.<name>`` is its value, ``owner.dL_d<name>`` its
    gradient (or ``None`` before the first backward pass).

    The handle reads both attributes when asked, so a backward pass may assign a new
    gradient array (``self.dL_dW = dL_dz.T @ a_prev``) instead of writing into the old one.
    The value is updated in place, never reassigned.
    """

    __slots__ = ("grad_name", "name", "owner")

    def __init__(self, owner: object, name: str) -> None:
        self.owner, self.name, self.grad_name = owner, name, f"dL_d{name}"

    @property
    def data(self) -> Array:
        value: Array = getattr(self.owner, self.name)
        return value

    @property
    def grad(self) -> Array | None:
        grad: Array | None = getattr(self.owner, self.grad_name, None)
        return grad

    def __repr__(self) -> str:
        return f"Parameter({type(self.owner).__name__}.{self.name}, shape={self.data.shape})"


def _check(name: str, value: object, low: float = 0.0, high: float = math.inf) -> None:
    if not (isinstance(value, int | float) and low <= value < high):
        raise ValueError(f"Invalid {name} value: {value!r}; expected a number in [{low}, {high})")


class Optimizer:
    """torch's base: ``param_groups`` (dicts of ``"params"`` and hyper-parameters, whose
    ``"lr"`` a schedule edits between steps), per-parameter ``state``, and ``step()``.

    A subclass names its rule in ``update``. A parameter is anything with ``.data`` (the
    array to update) and ``.grad`` (the gradient array, or ``None`` to skip it): a
    :class:`Parameter` here, a ``Tensor`` in autograd, whose optimizers override
    :meth:`gradient` to unwrap its ``.grad``.
    """

    update = staticmethod(sgd_update)

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Any, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        given = list(params)
        if not given:
            raise ValueError("optimizer got an empty parameter list")
        for group in given if isinstance(given[0], dict) else [{"params": given}]:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        params = group["params"]
        params = list(params) if isinstance(params, list | tuple) else [params]
        self.param_groups.append({**self.defaults, **group, "params": params})

    @staticmethod
    def gradient(p: Any) -> Array | None:
        """The gradient array of ``p``, or ``None`` if it has none."""
        grad: Array | None = p.grad
        return grad

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = self.gradient(p)
                if g is not None:
                    self.update(p.data, g, self.state.setdefault(p, {}), group)


class SGD(Optimizer):
    """``torch.optim.SGD``: momentum, dampening, Nesterov and weight decay."""

    update = staticmethod(sgd_update)

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


class Adam(Optimizer):
    """``torch.optim.Adam``: L2 weight decay added to the gradient, optional AMSGrad."""

    update = staticmethod(adam_update)
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
            "decoupled": self.decoupled,
        }
        super().__init__(params, defaults)


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay, 0.01 by default."""

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


def set_learning_rate(optimizer: Optimizer, lr: float) -> None:
    """Give every parameter group the rate ``lr``, as a torch scheduler does."""
    for group in optimizer.param_groups:
        group["lr"] = float(lr)


def clip_grad_norm(grads: Sequence[Array | None], max_norm: float) -> float:
    r"""torch's ``clip_grad_norm_``, in place: scale every gradient by
    :math:`\min(1, \text{max\_norm} / (\lVert g \rVert + 10^{-6}))`, the norm taken over all
    of them together. Returns that norm."""
    present = [g for g in grads if g is not None]
    total = math.sqrt(math.fsum(float(np.sum(g * g)) for g in present))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in present:
            g *= scale
    return total

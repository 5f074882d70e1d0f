r"""Optimizers, as ``torch.optim``: each turns ``.grad`` into an in-place parameter update.

The update rules (SGD with momentum, dampening and Nesterov; Adam with AMSGrad; AdamW)
are the project's shared ones, written once in :mod:`fromscratch.boundary.optim` with
their derivations, and so is the cosine schedule. What is autograd's own is what a
parameter is here: a :class:`~fromscratch.autograd.Tensor` whose ``.grad`` the engine
filled. Updates write ``p.data`` directly, so no graph is recorded.

An optimizer holds ``param_groups``, a list of dicts with the group's ``"params"`` and
hyper-parameters (``"lr"``, ...): a learning-rate schedule edits
``param_groups[0]["lr"]`` between steps, as with torch. ``state[p]`` keeps what a
parameter's rule remembers across steps (a momentum buffer, Adam's moments).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fromscratch.boundary import optim as shared
from fromscratch.boundary.optim import cosine_learning_rate

from .tensor import Array, Tensor

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "cosine_learning_rate"]


class Optimizer(shared.Optimizer):
    """The shared optimizer, over tensors: it reads ``p.grad.data`` and adds ``zero_grad``."""

    @staticmethod
    def gradient(p: Any) -> Array | None:
        return None if p.grad is None else p.grad.data

    def add_param_group(self, group: dict[str, Any]) -> None:
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"can only optimize tensors that require grad, got {p!r}")
        super().add_param_group({**group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._wrap(np.zeros_like(p.data))


class SGD(Optimizer, shared.SGD):
    """``torch.optim.SGD``: the rule of :func:`fromscratch.boundary.optim.sgd_update`."""


class Adam(Optimizer, shared.Adam):
    """``torch.optim.Adam``: the rule of :func:`fromscratch.boundary.optim.adam_update`."""


class AdamW(Optimizer, shared.AdamW):
    """``torch.optim.AdamW``: Adam with decoupled weight decay (0.01 by default)."""

r"""The modules of a network, in ``nn.Sequential`` order, and the linear layer.

A network is a list of modules. Each has ``forward(a) -> out``, which keeps what its
backward pass will need, and ``backward(dL_dout) -> dL_din``, which stores its parameters'
gradients beside them (``dL_dW`` beside ``W``) and returns the gradient at its input.
The linear layer below is the only module with parameters.

Row convention
--------------
A batch is a matrix whose **rows** are samples: ``X`` has shape (n, in). The layer holds
``W`` with shape (out, in) (one row of weights per output unit, as ``torch.nn.Linear``
stores it) and ``b`` with shape (out,), and computes

.. math::

    z = a_{\text{prev}} W^\top + b \qquad (n, \text{out})

where :math:`b` is added to every row (broadcast). Textbooks and the design notes this
project grew from write the same layer with **columns** as samples: :math:`Z = W X + B`.
The two are transposes of each other: :math:`(W X)^\top = X^\top W^\top`, and our ``X`` is
their :math:`X^\top`. Rows match how NumPy stores a data set (one sample per C-contiguous
row), and ``W`` keeps PyTorch's shape, so state dicts move between the two unchanged.

Backward
--------
Given the upstream gradient :math:`\partial L / \partial z` (n, out), the chain rule
through :math:`z_{ij} = \sum_c a_{ic} W_{jc} + b_j` gives

.. math::

    \frac{\partial L}{\partial W_{jc}} = \sum_i \frac{\partial L}{\partial z_{ij}} a_{ic}
    \;\Longrightarrow\;
    \frac{\partial L}{\partial W} = \Big(\frac{\partial L}{\partial z}\Big)^\top a_{\text{prev}}
    \qquad (\text{out}, \text{in})

.. math::

    \frac{\partial L}{\partial b_j} = \sum_i \frac{\partial L}{\partial z_{ij}}
    \;\Longrightarrow\;
    \frac{\partial L}{\partial b} = \text{column sums of } \frac{\partial L}{\partial z}
    \qquad (\text{out},)

.. math::

    \frac{\partial L}{\partial a_{ic}} = \sum_j \frac{\partial L}{\partial z_{ij}} W_{jc}
    \;\Longrightarrow\;
    \frac{\partial L}{\partial a_{\text{prev}}} = \frac{\partial L}{\partial z} W
    \qquad (n, \text{in})

Each sample contributes its own outer product :math:`(\partial L/\partial z_i)^\top a_i` to
``dL_dW``; the matrix product adds all :math:`n` of them in one BLAS call. The bias is
shared by every row, so its gradient sums over the rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from fromscratch.boundary.types import Array


class Module:
    """One entry of ``nn.Sequential``: ``forward(a) -> out``, ``backward(dL_dout) -> dL_din``.

    ``params`` maps torch's state-dict names to this module's attributes (``{"weight":
    "W", "bias": "b"}``); the gradient of attribute ``W`` is stored in ``dL_dW``.
    ``needs_input_grad`` is False for the first module with parameters: nothing before
    it learns, so its ``backward`` returns ``None`` instead of a gradient nobody reads.
    """

    params: ClassVar[dict[str, str]] = {}
    needs_input_grad = True

    def forward(self, a: Array) -> Array:
        raise NotImplementedError

    def backward(self, dL_dout: Array) -> Array | None:
        raise NotImplementedError


class Linear(Module):
    r"""One linear layer :math:`z = a_{\text{prev}} W^\top + b`.

    Parameters are drawn like ``torch.nn.Linear``'s defaults:
    :math:`W, b \sim \mathcal{U}(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})`,
    ``W`` first and then ``b``, from the generator it is given. The gradients live next to
    the parameters, in ``dL_dW`` and ``dL_db`` (like PyTorch's ``.grad``).
    """

    params: ClassVar[dict[str, str]] = {"weight": "W", "bias": "b"}

    def __init__(
        self, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype[Any]
    ) -> None:
        bound = 1 / np.sqrt(fan_in)
        self.W: Array = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(dtype)
        self.b: Array = rng.uniform(-bound, bound, size=fan_out).astype(dtype)
        self.dL_dW: Array = np.zeros_like(self.W)
        self.dL_db: Array = np.zeros_like(self.b)

    def forward(self, a_prev: Array) -> Array:
        r""":math:`z = a_{\text{prev}} W^\top + b`, shape (n, out)."""
        self.a_prev = a_prev  # dL/dW needs the inputs
        return a_prev @ self.W.T + self.b

    def backward(self, dL_dz: Array) -> Array | None:
        r"""Store :math:`\partial L/\partial W = (\partial L/\partial z)^\top a_{\text{prev}}`
        and :math:`\partial L/\partial b` (the column sums of ``dL_dz``); return
        :math:`\partial L / \partial a_{\text{prev}} = (\partial L/\partial z)\, W`."""
        self.dL_dW = dL_dz.T @ self.a_prev
        self.dL_db = dL_dz.sum(axis=0)
        if not self.needs_input_grad:
            return None  # the first layer: the data X does not learn
        return dL_dz @ self.W

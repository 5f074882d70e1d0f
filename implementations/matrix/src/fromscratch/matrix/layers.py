r"""The fully connected (dense, linear) layer: the only layer with parameters.

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

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]


class Dense:
    r"""One linear layer :math:`z = a_{\text{prev}} W^\top + b`, with gradient buffers.

    Parameters are drawn like ``torch.nn.Linear``'s defaults:
    :math:`W, b \sim \mathcal{U}(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})`,
    ``W`` first and then ``b``, from the generator it is given.

    The gradients live next to the parameters, in ``dL_dW`` and ``dL_db`` (like PyTorch's
    ``.grad``), and are overwritten by each :meth:`backward`. Reusing the same two buffers
    for every batch is not only tidy: writing a large matrix product into memory the
    process already owns is noticeably faster than into a freshly allocated array.
    """

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
        z = a_prev @ self.W.T  # W.T is a view: BLAS reads W transposed, nothing is copied
        z += self.b
        return z

    def backward(self, dL_dz: Array, a_prev: Array) -> None:
        r"""Fill ``dL_dW`` :math:`= (\partial L/\partial z)^\top a_{\text{prev}}` and ``dL_db``.

        ``dL_db`` is the column sum of ``dL_dz``.
        """
        np.matmul(dL_dz.T, a_prev, out=self.dL_dW)
        dL_dz.sum(axis=0, out=self.dL_db)

    def backward_input(self, dL_dz: Array) -> Array:
        r""":math:`\partial L / \partial a_{\text{prev}} = (\partial L/\partial z)\, W`.

        Kept apart from :meth:`backward` because the first layer never needs it: nothing
        upstream of the data ``X`` learns, so that product would be wasted work.
        """
        return dL_dz @ self.W

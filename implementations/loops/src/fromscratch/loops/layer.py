r"""The layer: a list of neurons that all read the same inputs.

A layer of :math:`k` neurons with :math:`m` inputs is nothing more than :math:`k`
independent :class:`~fromscratch.loops.neuron.Neuron` objects. Going forward, each one
computes its own :math:`z_j = w_j^\top A_{\text{prev}} + b_j` and :math:`a_j = \sigma(z_j)`
from the same input matrix :math:`A_{\text{prev}}` (m, n), and the layer stacks their
outputs, **one row per neuron, one column per sample**:

.. math::

    A = \begin{pmatrix} a_1 \\ \vdots \\ a_k \end{pmatrix} \in \mathbb{R}^{k \times n}

That is the next layer's input matrix. (This is the column-per-sample convention of most
textbooks; the ``matrix`` implementation stores the transpose.)

Going backward, the layer hands neuron :math:`j` row :math:`j` of
:math:`\partial L / \partial A`, and each neuron adds :math:`w_j (\partial L/\partial
z_j)^\top` to :math:`\partial L / \partial A_{\text{prev}}`, which starts at zero. When the
last neuron is done it holds, for every input :math:`c` and sample :math:`i`,

.. math::

    \frac{\partial L}{\partial A_{\text{prev}, ci}} = \sum_{j=1}^{k} w_{jc}
        \frac{\partial L}{\partial z_{ji}}

the sum over the paths from that input through each neuron of the layer to the loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fromscratch.boundary.types import Array

from .activations import Activation
from .neuron import Neuron


class Layer:
    """``n_neurons`` neurons with ``n_inputs`` inputs each.

    ``activation`` is :math:`\\sigma` for a hidden layer and ``IDENTITY`` for the linear
    output layer. The neurons draw their parameters from ``rng`` one after the other, so
    neuron ``j`` holds row ``j`` of the equivalent ``torch.nn.Linear``'s weight matrix.
    """

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        activation: Activation,
        rng: np.random.Generator,
        dtype: np.dtype[Any],
    ) -> None:
        self.n_inputs = n_inputs
        self.activation = activation
        self.neurons = [Neuron(n_inputs, activation, rng, dtype) for _ in range(n_neurons)]

    def forward(self, A_prev: Array) -> Array:
        """Every neuron's output row from the inputs ``A_prev`` (m, n), stacked: ``A`` (k, n)."""
        self.A_prev = A_prev
        return np.stack([neuron.forward(A_prev) for neuron in self.neurons])

    def backward(self, dL_dA: Array, dL_dA_prev: Array | None) -> None:
        """From the error at this layer's outputs, ``dL_dA`` (k, n), fill every neuron's
        gradients; each neuron adds its share of the error at the layer's inputs into
        ``dL_dA_prev`` (m, n), which starts at zero (``None`` for the first layer, whose
        inputs are the data)."""
        for neuron, dL_da in zip(self.neurons, dL_dA, strict=True):
            neuron.backward(dL_da, dL_dA_prev)

    def weight_matrix(self) -> Array:
        """The neurons' weight vectors stacked as rows: ``torch.nn.Linear.weight``, (k, m)."""
        return np.stack([neuron.w for neuron in self.neurons])

    def bias_vector(self) -> Array:
        """The neurons' biases: ``torch.nn.Linear.bias``, (k,)."""
        return np.concatenate([neuron.b for neuron in self.neurons])

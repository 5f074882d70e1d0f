r"""The layer: a list of neurons that all read the same inputs.

A layer of :math:`k` neurons with :math:`m` inputs is nothing more than :math:`k`
independent :class:`~fromscratch.loops.neuron.Neuron` objects. Going forward, each one
computes its own :math:`z_j = w_j^\top A_{\text{prev}} + b_j` and :math:`a_j = \sigma(z_j)`
from the same input matrix :math:`A_{\text{prev}}` (m, n); going backward, each one turns
its own error into its gradients and adds its share to the errors of the inputs.

The layer's own job is bookkeeping. It owns four matrices of shape (k, n), **one row per
neuron, one column per sample**,

.. math::

    Z = \begin{pmatrix} z_1 \\ \vdots \\ z_k \end{pmatrix}, \quad
    A = \begin{pmatrix} a_1 \\ \vdots \\ a_k \end{pmatrix}, \quad
    \frac{\partial L}{\partial A}, \quad \frac{\partial L}{\partial Z}

and gives every neuron its own row of each. A neuron writing its output into its row
is therefore all it takes for :math:`A` to be the next layer's input matrix: no stacking,
no copying. (This is the column-per-sample convention of most textbooks; the ``matrix``
implementation stores the transpose.)

Going backward, the layer clears :math:`\partial L / \partial A_{\text{prev}}` and lets
each neuron :math:`j` add :math:`w_j (\partial L/\partial z_j)^\top` to it. When the last
neuron is done it holds, for every input :math:`c` and sample :math:`i`,

.. math::

    \frac{\partial L}{\partial A_{\text{prev}, ci}} = \sum_{j=1}^{k} w_{jc}
        \frac{\partial L}{\partial z_{ji}}

the sum over the paths from that input through each neuron of the layer to the loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .activations import Activation
from .neuron import Neuron

Array = NDArray[np.floating[Any]]


class Layer:
    """``n_neurons`` neurons with ``n_inputs`` inputs each, and their shared matrices.

    ``activation`` is :math:`\\sigma` for a hidden layer and ``None`` for the linear output
    layer. The neurons draw their parameters from ``rng`` one after the other, so neuron
    ``j`` holds row ``j`` of the equivalent ``torch.nn.Linear``'s weight matrix.
    """

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        activation: Activation | None,
        rng: np.random.Generator,
        dtype: np.dtype[Any],
    ) -> None:
        self.n_inputs = n_inputs
        self.activation = activation
        self.dtype = dtype
        self.neurons = [Neuron(n_inputs, activation, rng, dtype) for _ in range(n_neurons)]
        self.A_prev: Array = np.empty((n_inputs, 0), dtype=dtype)  # the last forward's inputs
        self.bind(0)

    def bind(self, n: int) -> None:
        """Allocate the (k, n) matrices for batches of ``n`` samples; hand out their rows.

        Called when the batch size changes (the last batch of an epoch may be smaller),
        so that training reuses the same memory batch after batch.
        """
        shape = (len(self.neurons), n)
        self.n = n
        self.Z: Array = np.zeros(shape, dtype=self.dtype)
        # A linear layer's output is its pre-activation: the same matrix, not a copy.
        self.A: Array = self.Z if self.activation is None else np.zeros(shape, self.dtype)
        self.dL_dA: Array = np.zeros(shape, dtype=self.dtype)
        self.dL_dZ: Array = np.zeros(shape, dtype=self.dtype)
        # Scratch for one neuron's outer product; the first layer never touches it.
        self.outer: Array = np.empty((self.n_inputs, n), dtype=self.dtype)
        for j, neuron in enumerate(self.neurons):
            neuron.bind(self.Z[j], self.A[j], self.dL_dA[j], self.dL_dZ[j])

    def forward(self, A_prev: Array) -> Array:
        """Every neuron computes its row of ``Z`` and ``A`` from ``A_prev`` (m, n); return ``A``."""
        if A_prev.shape[1] != self.n:
            self.bind(A_prev.shape[1])
        self.A_prev = A_prev  # kept for the backward pass: dL/dw needs the inputs
        for neuron in self.neurons:
            neuron.forward(A_prev)
        return self.A

    def backward(self, dL_dA_prev: Array | None) -> None:
        """Every neuron computes its gradients and adds its error into ``dL_dA_prev``.

        The errors at this layer's outputs must already be in place: in ``dL_dA`` (rows
        added by the next layer's neurons) or, for the output layer, in ``dL_dZ`` (written
        by the loss). ``dL_dA_prev`` is the previous layer's ``dL_dA``, or ``None`` for the
        first layer.
        """
        if dL_dA_prev is not None:
            dL_dA_prev.fill(0)  # every neuron adds its share: start from nothing
        for neuron in self.neurons:
            neuron.backward(self.A_prev, dL_dA_prev, self.outer)

    def weight_matrix(self) -> Array:
        """The neurons' weight vectors stacked as rows: ``torch.nn.Linear.weight``, (k, m)."""
        return np.stack([neuron.w for neuron in self.neurons])

    def bias_vector(self) -> Array:
        """The neurons' biases: ``torch.nn.Linear.bias``, (k,)."""
        return np.concatenate([neuron.b for neuron in self.neurons])

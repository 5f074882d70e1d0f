r"""The network: layers of neurons, trained by forward pass, loss, backward pass and a step.

A ``Network([784, 128, 64, 10])`` is three :class:`~fromscratch.loops.layer.Layer` objects
of 128, 64 and 10 neurons. Training repeats four stages on each mini-batch:

1. **Forward.** The batch enters as the matrix :math:`A^{(0)} = X^\top` (one row per input
   feature, one column per sample). Layer by layer, every neuron :math:`j` computes

   .. math::

       z^{(l)}_j = w^{(l)\top}_j A^{(l-1)} + b^{(l)}_j, \qquad
       a^{(l)}_j = \sigma\big(z^{(l)}_j\big)

   and its row :math:`a^{(l)}_j` becomes input :math:`j` of every neuron of layer
   :math:`l + 1`. The last layer is linear: its :math:`Z^{(L)}` goes to the loss.
2. **Loss.** The loss reads the whole output :math:`Z^{(L)}` (the softmax couples the
   output neurons) and hands each output neuron its own row of
   :math:`\partial L / \partial Z^{(L)}`.
3. **Backward.** From the last layer to the first, every neuron turns the error at its
   output into :math:`\partial L / \partial w_j` and :math:`\partial L / \partial b_j`, and
   adds :math:`w_j\, (\partial L / \partial z_j)^\top` into the error of the layer below:

   .. math::

       \frac{\partial L}{\partial z^{(l)}_j} =
           \frac{\partial L}{\partial a^{(l)}_j} \odot \sigma'\big(z^{(l)}_j\big), \qquad
       \frac{\partial L}{\partial A^{(l-1)}} = \sum_j w^{(l)}_j
           \Big(\frac{\partial L}{\partial z^{(l)}_j}\Big)^\top

   Nothing is updated yet, so every neuron sends its error back through the very weights
   the forward pass used.
4. **Step.** Only now does the optimizer move every neuron's parameters, neuron by
   neuron, against the gradients the backward pass left in place.

:meth:`Network.gradients` stops after stage 3 and returns the gradients instead: that is
what makes them checkable against PyTorch and against finite differences.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary import validation as check
from fromscratch.boundary.model import GradientClassifier
from fromscratch.boundary.optim import Parameter
from fromscratch.boundary.spec import dense
from fromscratch.boundary.types import Array, Labels, StateDict

from .activations import ACTIVATIONS, IDENTITY, Activation
from .layer import Layer
from .losses import LOSSES, Loss
from .neuron import Neuron


class Network(GradientClassifier):
    r"""A multilayer perceptron made of :class:`~fromscratch.loops.neuron.Neuron` objects.

    Equivalent to ``torch.nn.Sequential(Linear, Act, Linear, Act, ..., Linear)`` trained
    with the matching torch loss, but computed one neuron at a time.

    The constructor's arguments are those of every implementation, see
    :class:`fromscratch.boundary.model.Classifier`.
    """

    activation: Activation
    criterion: Loss
    activations = ACTIVATIONS
    losses = LOSSES

    # ------------------------------------------------ forward, backward, update

    def forward(self, X: Array) -> Array:
        """Run every layer on the rows of ``X`` (n, d); return the output ``Z`` (k, n)."""
        A = X.T  # one row per input feature, one column per sample
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def backward(self, X: Array, y: Labels) -> float:
        """Forward, loss, backward: fill every neuron's ``dL_dw`` and ``dL_db``; return the loss."""
        Z = self.forward(X)
        L, dL_dA = self.criterion.value_and_gradient(Z, y)  # the output layer's a is its z
        for l in range(len(self.layers) - 1, 0, -1):
            dL_dA_prev = np.zeros_like(self.layers[l].A_prev)  # every neuron adds its share
            self.layers[l].backward(dL_dA, dL_dA_prev)
            dL_dA = dL_dA_prev
        self.layers[0].backward(dL_dA, None)  # the first layer's inputs are the data
        return L

    def parameters(self) -> list[Parameter]:
        """Every neuron's ``w`` and ``b``, with the gradients ``dL_dw`` and ``dL_db`` the
        backward pass leaves beside them: what the optimizer's ``step()`` updates,
        neuron by neuron (``fit(optimizer=...)`` picks the optimizer)."""
        return [Parameter(neuron, name) for neuron in self.neurons() for name in ("w", "b")]

    # ---------------------------------- construction (fit is the shared one), protocol

    def build(self, rng: np.random.Generator) -> None:
        """The layers of neurons, their parameters drawn from ``rng`` neuron by neuron."""
        # The MLP ``specs`` describe: the sizes form's, or a spec of Linear and activations.
        sizes, activation = dense(self.specs, activation=self.activation_name)
        self.activation = self.activations[activation]
        last = len(sizes) - 2
        self.layers = [
            Layer(n_in, n_out, IDENTITY if l == last else self.activation, rng, self.dtype)
            for l, (n_in, n_out) in enumerate(itertools.pairwise(sizes))
        ]

    def neurons(self) -> list[Neuron]:
        """Every neuron, layer by layer: the order in which the optimizer visits them."""
        return [neuron for layer in self.layers for neuron in layer.neurons]

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), each row summing to 1 (k = 2 for ``bce``)."""
        Z = self.forward(self.check_X(X))
        return np.ascontiguousarray(self.criterion.probabilities(Z).T)  # (classes, n) -> (n, k)

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        Z = self.forward(self.check_X(X))
        L, _ = self.criterion.value_and_gradient(Z, self.check_y(y, Z.shape[1]))
        return L

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, StateDict]:
        r"""``(loss, dL/dθ)``, the gradients keyed like :meth:`state_dict`; θ is unchanged.

        Stages 1 to 3 of training without the step: each neuron's gradient vector is
        stacked into its layer's (out, in) weight gradient and (out,) bias gradient.
        """
        X = self.check_X(X)
        L = self.backward(X, self.check_y(y, len(X)))
        grads = {}
        for key, layer in zip(self._keys(), self.layers, strict=True):
            grads[f"{key}.weight"] = np.stack([neuron.dL_dw for neuron in layer.neurons])
            grads[f"{key}.bias"] = np.concatenate([neuron.dL_db for neuron in layer.neurons])
        return L, grads

    # ----------------------------------------------------------------------- state dict

    def _keys(self) -> list[str]:
        # nn.Sequential numbers its modules Linear, Act, Linear, ...: Linears sit at 0, 2, 4.
        return [str(2 * i) for i in range(len(self.layers))]

    def state_dict(self) -> StateDict:
        """The neurons' parameters stacked in torch layout: ``"0.weight"`` (out, in), ``"0.bias"``.

        Row ``j`` of a weight matrix is neuron ``j``'s weight vector. The arrays are new:
        changing them does not change the model.
        """
        state = {}
        for key, layer in zip(self._keys(), self.layers, strict=True):
            state[f"{key}.weight"] = layer.weight_matrix()
            state[f"{key}.bias"] = layer.bias_vector()
        return state

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Give row ``j`` of each weight matrix to neuron ``j``; bad keys, shapes, dtypes or
        non-finite values raise ``ValueError`` before anything changes."""
        expected = {key: value.shape for key, value in self.state_dict().items()}
        arrays = check.check_state_dict(state, expected, self.dtype)
        for key, layer in zip(self._keys(), self.layers, strict=True):
            W, b = arrays[f"{key}.weight"], arrays[f"{key}.bias"]
            for j, neuron in enumerate(layer.neurons):
                neuron.w[...] = W[j]  # in place: the optimizer's handles read these arrays
                neuron.b[...] = b[j]

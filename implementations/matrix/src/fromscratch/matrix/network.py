r"""The network: a list of modules in ``nn.Sequential`` order, trained by backprop.

A ``Network([784, 128, 64, 10])`` is, layer by layer (rows of ``X`` are samples),

.. math::

    a^{(0)} = X, \qquad
    z^{(l)} = a^{(l-1)} W^{(l)\top} + b^{(l)}, \qquad
    a^{(l)} = \sigma\big(z^{(l)}\big) \quad (l < L), \qquad
    \text{output} = z^{(L)}

with a linear last layer whose :math:`z^{(L)}` goes straight into the loss. Backpropagation
runs the chain rule from the loss back to the first layer, one matrix product per step:

.. math::

    \frac{\partial L}{\partial z^{(L)}} &= \text{from the loss (e.g. } (P - Y)/n \text{)} \\
    \frac{\partial L}{\partial W^{(l)}} &= \Big(\frac{\partial L}{\partial z^{(l)}}\Big)^\top
        a^{(l-1)}, \qquad
    \frac{\partial L}{\partial b^{(l)}} = \sum_{\text{rows}} \frac{\partial L}{\partial z^{(l)}} \\
    \frac{\partial L}{\partial a^{(l-1)}} &= \frac{\partial L}{\partial z^{(l)}} W^{(l)}, \qquad
    \frac{\partial L}{\partial z^{(l-1)}} = \frac{\partial L}{\partial a^{(l-1)}}
        \odot \sigma'\big(z^{(l-1)}\big)

The modules are ``Linear, ReLU, Linear, ReLU, ..., Linear``, exactly the entries of the
equivalent ``torch.nn.Sequential``. The forward pass runs them in order; each keeps its
input (:math:`a^{(l-1)}` or :math:`z^{(l)}`), because the backward pass needs it: that
cache is the whole memory cost of backprop. The backward pass runs them in reverse, each
turning the gradient at its output into the gradient at its input, and the update steps
every parameter against the gradient its module stored beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary import validation as check
from fromscratch.boundary.model import GradientClassifier
from fromscratch.boundary.optim import Parameter
from fromscratch.boundary.types import Array, Labels, StateDict

from .activations import ACTIVATIONS, Activation
from .architecture import SUPPORTED_LAYERS, modules
from .layers import Module
from .losses import LOSSES, Loss


class Network(GradientClassifier):
    r"""A multilayer perceptron with hand-derived, vectorized backpropagation.

    Equivalent to ``torch.nn.Sequential(Linear, Act, Linear, Act, ..., Linear)`` trained
    with the matching torch loss; written as a spec, to the ``nn.Sequential`` of the spec's
    layers (``supported_layers``: convolutions and pooling too,
    :mod:`fromscratch.matrix.architecture`).

    The constructor's arguments are those of every implementation, see
    :class:`fromscratch.boundary.model.Classifier`.
    """

    activation: Activation
    criterion: Loss
    activations = ACTIVATIONS
    losses = LOSSES

    # ------------------------------------------------------- forward, backward, update

    def forward(self, X: Array) -> Array:
        """Run the modules in order; return the last one's output ``z`` (logits or scores)."""
        a = X
        for module in self.modules:
            a = module.forward(a)
        return a

    def backward(self, X: Array, y: Labels) -> float:
        """Forward, loss, then the chain rule back through the modules in reverse order:
        every module stores its parameters' gradients. Returns the loss."""
        z = self.forward(X)
        L, dL_dout = self.criterion.value_and_gradient(z, y)
        for module in reversed(self.modules):
            dL_din = module.backward(dL_dout)
            if dL_din is None:  # the first layer: nothing before it learns
                break
            dL_dout = dL_din
        return L

    def parameters(self) -> list[Parameter]:
        """Every parameter, module by module, with the gradient stored beside it: what the
        optimizer's ``step()`` updates (``fit(optimizer=...)`` picks the optimizer)."""
        return [Parameter(m, name) for m in self.modules for name in m.params.values()]

    # ------------------------------------------- construction (fit is the shared one)

    supported_layers: ClassVar[frozenset[str]] = SUPPORTED_LAYERS
    """The ``torch.nn`` names a spec may use (docs/protocol.md); others raise ``ValueError``."""

    def build(self, rng: np.random.Generator) -> None:
        """One module per ``nn.Sequential`` entry of ``specs`` (``Linear, Act, ..., Linear``
        for the sizes form; :mod:`fromscratch.matrix.architecture`), parameters drawn from
        ``rng``."""
        self.modules: list[Module] = modules(self.specs, rng, self.dtype)
        for module in self.modules:  # the first module that learns: nothing before it does
            if module.params:
                module.needs_input_grad = False
                break

    # ------------------------------------------------------------- the Model protocol

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), each row summing to 1 (k = 2 for ``bce``)."""
        return self.criterion.probabilities(self.forward(self.check_X(X)))

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        z = self.forward(self.check_X(X))
        L, _ = self.criterion.value_and_gradient(z, self.check_y(y, len(z)))
        return L

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, StateDict]:
        r"""``(loss, dL/dθ)``, the gradients keyed like :meth:`state_dict`; θ is unchanged."""
        X = self.check_X(X)
        L = self.backward(X, self.check_y(y, len(X)))
        grads = {key: p.grad.copy() for key, p in self._named() if p.grad is not None}
        return L, grads

    def state_dict(self) -> StateDict:
        """Copies of the parameters, keyed like ``nn.Sequential``: ``"0.weight"``, ``"0.bias"``."""
        return {key: p.data.copy() for key, p in self._named()}

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy the arrays in; wrong keys, shapes or dtypes, or NaN/inf, raise ``ValueError``."""
        named = self._named()
        expected = {key: p.data.shape for key, p in named}
        arrays = check.check_state_dict(state, expected, self.dtype)
        for key, p in named:
            p.data[...] = arrays[key]  # in place: the optimizer's handles read these arrays

    def _named(self) -> list[tuple[str, Parameter]]:
        """``("0.weight", handle)``...: module ``i`` of the list is entry ``i`` of
        ``nn.Sequential``, and ``params`` gives torch's name for each attribute."""
        return [
            (f"{i}.{torch_name}", Parameter(module, name))
            for i, module in enumerate(self.modules)
            for torch_name, name in module.params.items()
        ]

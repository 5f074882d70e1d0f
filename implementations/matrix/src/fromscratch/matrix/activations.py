r"""Hidden-layer activations and their derivatives.

Every hidden layer computes a pre-activation :math:`z` and squashes it element by element,
:math:`a = \sigma(z)`. Because :math:`\sigma` acts on each entry on its own, its Jacobian is
diagonal, and the chain rule collapses to an element-wise (Hadamard) product:

.. math::

    \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot \sigma'(z)

So each activation below comes as a pair: ``forward(z) -> a`` and
``backward(dL_da, z, a) -> dL_dz``, and :class:`ActivationLayer` makes the pair a
module of the network (``nn.ReLU()``, ``nn.Sigmoid()``, ``nn.Tanh()``). The backward
function receives both ``z`` and ``a``
because some derivatives are cheapest to write in terms of the output (for the sigmoid,
:math:`\sigma'(z) = a(1 - a)`): they are still the derivative *at z*, just computed from
the value the forward pass already produced.

The output layer never uses these: it is linear, and the loss takes the logits directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fromscratch.boundary.types import Array

from .layers import Module


def relu(z: Array) -> Array:
    r"""Rectified linear unit.

    .. math::

        \operatorname{relu}(z) = \max(z, 0)
    """
    return np.maximum(z, 0)


def relu_backward(dL_da: Array, z: Array, a: Array) -> Array:
    r"""Backward pass of :func:`relu`.

    .. math::

        \operatorname{relu}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}
        \qquad
        \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot [z > 0]

    The derivative does not exist at exactly :math:`z = 0`; like PyTorch we pick 0 there
    (a "dead" unit passes no gradient), hence ``z > 0`` rather than ``z >= 0``.
    """
    return dL_da * (z > 0)


def sigmoid(z: Array) -> Array:
    r"""Logistic sigmoid, computed without overflow.

    .. math::

        \sigma(z) = \frac{1}{1 + e^{-z}} = \frac{e^{z}}{1 + e^{z}}

    The first form overflows for very negative :math:`z` (``exp(1000)``), the second for very
    positive :math:`z`. With :math:`e = e^{-|z|} \in (0, 1]` we use whichever form only ever
    exponentiates a non-positive number: :math:`1/(1+e)` for :math:`z \ge 0`, and
    :math:`e/(1+e)` for :math:`z < 0`. Both are exact, neither can overflow.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(dL_da: Array, z: Array, a: Array) -> Array:
    r"""Backward pass of :func:`sigmoid`.

    .. math::

        \sigma'(z) = \frac{e^{-z}}{(1 + e^{-z})^2} = \sigma(z)\,(1 - \sigma(z))
        \qquad
        \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot a \odot (1 - a)
    """
    return dL_da * a * (1 - a)


def tanh(z: Array) -> Array:
    r"""Hyperbolic tangent.

    .. math::

        \tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}
    """
    return np.tanh(z)


def tanh_backward(dL_da: Array, z: Array, a: Array) -> Array:
    r"""Backward pass of :func:`tanh`.

    .. math::

        \tanh'(z) = 1 - \tanh^2(z)
        \qquad
        \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot (1 - a^2)
    """
    return dL_da * (1 - a * a)


@dataclass(frozen=True)
class Activation:
    """An element-wise function and the backward pass of its derivative."""

    name: str
    forward: Callable[[Array], Array]
    backward: Callable[[Array, Array, Array], Array]


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", relu, relu_backward),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_backward),
    "tanh": Activation("tanh", tanh, tanh_backward),
}
"""The hidden activations a :class:`~fromscratch.matrix.Network` accepts, by name."""


class ActivationLayer(Module):
    r"""The module that applies an activation element-wise: :math:`a = \sigma(z)`.

    It has no parameters; it keeps ``z`` and ``a`` for its backward pass, which returns
    :math:`\partial L / \partial z = \partial L / \partial a \odot \sigma'(z)`.
    """

    def __init__(self, activation: Activation) -> None:
        self.activation = activation

    def forward(self, z: Array) -> Array:
        self.z, self.a = z, self.activation.forward(z)
        return self.a

    def backward(self, dL_da: Array) -> Array:
        return self.activation.backward(dL_da, self.z, self.a)

r"""What a hidden neuron does with its weighted sum: the activation :math:`\sigma` and its slope.

A neuron first adds up its inputs into one number per sample, the pre-activation
:math:`z`, and then passes it through a fixed non-linear function, :math:`a = \sigma(z)`.
Without :math:`\sigma` a stack of layers would collapse into a single linear map, however
deep; with it, the network can bend.

For learning, each activation also needs its **derivative** :math:`\sigma'`, because the
chain rule carries the error back through the neuron as

.. math::

    \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a}\, \sigma'(z)

The derivative is taken **at the pre-activation** :math:`z`, the point the neuron
actually evaluated :math:`\sigma` at. That is why every ``derivative`` below takes ``z``
and nothing else. A classic bug passes the output :math:`a` instead and computes
:math:`\sigma'(a) = \sigma'(\sigma(z))`: the slope of the curve at the wrong point. For the
sigmoid, :math:`\sigma'(a)` lies between 0.19 and 0.25 whatever :math:`z` was, so a
saturated neuron, whose true slope is nearly 0, would keep passing back a quarter of its
error. For relu the bug happens to be harmless (:math:`z > 0` exactly when
:math:`a > 0`), which is how it survives in code that only ever tries relu.

The output layer has no activation: its :math:`z` goes straight into the loss. Its
neurons still run the same code, with :data:`IDENTITY`, :math:`\sigma(z) = z` and
:math:`\sigma'(z) = 1`.

Each function works on one neuron's vector over the batch, shape (n,), and returns a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.types import Array


def relu(z: Array) -> Array:
    r"""Rectified linear unit, :math:`\operatorname{relu}(z) = \max(z, 0)`."""
    return np.maximum(z, 0)


def relu_derivative(z: Array) -> NDArray[Any]:
    r"""The slope of relu at ``z``.

    .. math::

        \operatorname{relu}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}

    The kink at exactly :math:`z = 0` has no derivative; like PyTorch we take 0 there, so
    a neuron sitting at 0 passes no error back. The result is a boolean mask, which
    multiplies like the 0s and 1s it stands for.
    """
    return np.greater(z, 0)


def sigmoid(z: Array) -> Array:
    r"""Logistic sigmoid, without overflow.

    .. math::

        \sigma(z) = \frac{1}{1 + e^{-z}} = \frac{e^{z}}{1 + e^{z}}

    The first form overflows for very negative :math:`z` (``exp(1000)``), the second for
    very positive :math:`z`. With :math:`e = e^{-|z|} \in (0, 1]` we take whichever form
    only exponentiates a non-positive number: :math:`1/(1+e)` for :math:`z \ge 0`,
    :math:`e/(1+e)` for :math:`z < 0`.
    """
    e = np.exp(-np.abs(z))
    s: Array = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return s


def sigmoid_derivative(z: Array) -> Array:
    r"""The slope of the sigmoid at ``z``.

    .. math::

        \sigma'(z) = \frac{e^{-z}}{(1 + e^{-z})^2} = \sigma(z)\,\big(1 - \sigma(z)\big)
    """
    s = sigmoid(z)
    return s * (1 - s)


def tanh(z: Array) -> Array:
    r"""Hyperbolic tangent, :math:`\tanh(z) = (e^{z} - e^{-z}) / (e^{z} + e^{-z})`."""
    return np.tanh(z)


def tanh_derivative(z: Array) -> Array:
    r"""The slope of tanh at ``z``.

    .. math::

        \tanh'(z) = 1 - \tanh^2(z)
    """
    t = np.tanh(z)
    return 1 - t * t


def identity(z: Array) -> Array:
    r"""The output neurons' "activation": none, :math:`a = z`."""
    return z


def identity_derivative(z: Array) -> Array:
    r"""Its slope, 1 everywhere: :math:`\partial L / \partial z = \partial L / \partial a`."""
    return np.ones_like(z)


@dataclass(frozen=True)
class Activation:
    """An activation function and its derivative, both evaluated at the pre-activation z."""

    name: str
    forward: Callable[[Array], Array]
    """``forward(z)`` returns :math:`\\sigma(z)`."""
    derivative: Callable[[Array], NDArray[Any]]
    """``derivative(z)`` returns :math:`\\sigma'(z)`."""


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", relu, relu_derivative),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_derivative),
    "tanh": Activation("tanh", tanh, tanh_derivative),
}
"""The hidden activations a :class:`~fromscratch.loops.Network` accepts, by name."""

IDENTITY = Activation("identity", identity, identity_derivative)
"""The output layer's: its :math:`z` goes to the loss as it is."""

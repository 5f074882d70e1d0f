r"""Hidden-layer activations: the forward functions only.

Evolution never differentiates anything, so unlike a backprop implementation there is no
``backward`` here: a model is judged by its loss alone. Each function acts element by
element, so it works unchanged on one model's activations (n, h) and on a whole
population's (P, n, h). ``out``, if given, receives the result (``out=z`` overwrites ``z``
in place): on MNIST a population's hidden activations are megabytes per chunk, and a
fresh array for every chunk costs more than the activation itself.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from fromscratch.boundary.types import Array


class Activation(Protocol):
    """An element-wise activation: ``a = activation(z)``, or into ``out``."""

    def __call__(self, z: Array, out: Array | None = None) -> Array: ...


def relu(z: Array, out: Array | None = None) -> Array:
    r"""Rectified linear unit, :math:`\operatorname{relu}(z) = \max(z, 0)`."""
    a: Array = np.maximum(z, 0, out=out)
    return a


def sigmoid(z: Array, out: Array | None = None) -> Array:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, without overflow.

    With :math:`e = e^{-|z|} \in (0, 1]`, :math:`\sigma(z) = 1/(1 + e)` for :math:`z \ge 0`
    and :math:`e / (1 + e)` for :math:`z < 0`: only a non-positive number is ever
    exponentiated, so neither branch can overflow.
    """
    e = np.exp(-np.abs(z))
    a: Array = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    if out is None:
        return a
    out[...] = a
    return out


def tanh(z: Array, out: Array | None = None) -> Array:
    r"""Hyperbolic tangent, :math:`\tanh(z) = (e^{z} - e^{-z}) / (e^{z} + e^{-z})`."""
    a: Array = np.tanh(z, out=out)
    return a


ACTIVATIONS: dict[str, Activation] = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
}
"""The hidden activations a :class:`~fromscratch.evolution.Network` accepts, by name."""

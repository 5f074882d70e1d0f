r"""Hidden-layer activations: the forward functions only.

Evolution never differentiates anything, so unlike a backprop implementation there is no
``backward`` here: a model is judged by its loss alone. Each function acts element by
element, so it works unchanged on one model's activations (n, h) and on a whole
population's (P, n, h).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fromscratch.boundary.types import Array


def relu(z: Array) -> Array:
    r"""Rectified linear unit, :math:`\operatorname{relu}(z) = \max(z, 0)`."""
    return np.maximum(z, 0)


def sigmoid(z: Array) -> Array:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, without overflow.

    With :math:`e = e^{-|z|} \in (0, 1]`, :math:`\sigma(z) = 1/(1 + e)` for :math:`z \ge 0`
    and :math:`e / (1 + e)` for :math:`z < 0`: only a non-positive number is ever
    exponentiated, so neither branch can overflow.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def tanh(z: Array) -> Array:
    r"""Hyperbolic tangent, :math:`\tanh(z) = (e^{z} - e^{-z}) / (e^{z} + e^{-z})`."""
    return np.tanh(z)


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
}
"""The hidden activations a :class:`~fromscratch.evolution.Network` accepts, by name."""

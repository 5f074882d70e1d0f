r"""Losses on the output layer's pre-activation ``z``, and their gradients ``dL/dz``.

The output layer is linear: its :math:`z` (shape (n, k)) *is* the network's output, called
logits for the two likelihood losses and scores for ``mse``. Each loss here takes ``z``
and the integer labels ``y`` (shape (n,)) and returns two things at once:

* the mean loss :math:`L` over the batch, exactly as the PyTorch loss of the same name
  defines it (``reduction="mean"``);
* the gradient :math:`\partial L / \partial z`, shape (n, k), which is where
  backpropagation starts.

Computing both in one function is not only faster (they share the softmax or the
sigmoid); it is also where the famous simplifications happen: the output non-linearity
and the loss are differentiated *together*, and most terms cancel.

Because :math:`L` is a mean over the :math:`n` rows, every gradient carries a factor
:math:`1/n`. That is what makes the later sums over the batch (``dL_dW``, ``dL_db``)
averages rather than totals, so the learning rate does not depend on the batch size.

``Y`` below is the one-hot form of ``y``: :math:`Y_{ij} = 1` if :math:`y_i = j`, else 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fromscratch.boundary.types import Array, Labels

from .activations import sigmoid


def softmax(z: Array) -> Array:
    r"""Row-wise softmax, shifted so that ``exp`` never overflows.

    .. math::

        \operatorname{softmax}(z)_{ij} = \frac{e^{z_{ij}}}{\sum_c e^{z_{ic}}}
        = \frac{e^{z_{ij} - m_i}}{\sum_c e^{z_{ic} - m_i}}, \qquad m_i = \max_c z_{ic}

    Subtracting the row maximum :math:`m_i` changes nothing mathematically (it cancels
    between numerator and denominator) but keeps every exponent :math:`\le 0`.
    """
    e = np.exp(z - z.max(axis=1, keepdims=True))
    P: Array = e / e.sum(axis=1, keepdims=True)
    return P


def one_hot(y: Labels, k: int, dtype: np.dtype[Any]) -> Array:
    """The (n, k) matrix ``Y`` with ``Y[i, y[i]] = 1`` and zeros elsewhere."""
    Y = np.zeros((len(y), k), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y


def cross_entropy(z: Array, y: Labels) -> tuple[float, Array]:
    r"""Softmax cross-entropy on logits, like ``torch.nn.CrossEntropyLoss()``.

    **Forward.** With :math:`p_i = \operatorname{softmax}(z_i)`,

    .. math::

        L = -\frac{1}{n} \sum_i \log p_{i, y_i}
          = \frac{1}{n} \sum_i \Big( \log \sum_c e^{z_{ic}} - z_{i, y_i} \Big)

    We evaluate the log of the softmax directly, as
    :math:`(z_{i,y_i} - m_i) - \log \sum_c e^{z_{ic} - m_i}`: never ``log(0)``, never
    ``exp`` of a positive number.

    **Backward.** Differentiate one row's term with respect to :math:`z_{ij}`:

    .. math::

        \frac{\partial}{\partial z_{ij}} \Big( \log \sum_c e^{z_{ic}} - z_{i, y_i} \Big)
        = \frac{e^{z_{ij}}}{\sum_c e^{z_{ic}}} - [j = y_i]
        = p_{ij} - Y_{ij}

    The softmax's whole Jacobian and the logarithm's :math:`1/p` cancel each other, which
    leaves the simplest possible error signal, "predicted minus true":

    .. math::

        \frac{\partial L}{\partial z} = \frac{1}{n} (P - Y)
    """
    n = z.shape[0]
    rows = np.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)
    log_p_true = shifted[rows, y] - np.log(sum_exp[:, 0])
    L = -float(log_p_true.sum()) / n

    dL_dz = exp  # turned into (P - Y) / n in place: exp is ours, nobody else holds it
    dL_dz /= sum_exp  # P, the softmax
    dL_dz[rows, y] -= 1  # P - Y, without building Y
    dL_dz /= n
    return L, dL_dz


def bce(z: Array, y: Labels) -> tuple[float, Array]:
    r"""Binary cross-entropy on one logit per row, like ``torch.nn.BCEWithLogitsLoss()``.

    ``z`` has shape (n, 1) and :math:`y_i \in \{0, 1\}` is the probability that the class is 1.

    **Forward.** With :math:`\sigma` the sigmoid, the textbook form is
    :math:`-[y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))]`. Using
    :math:`\log \sigma(z) = -\operatorname{softplus}(-z)`,
    :math:`\log(1 - \sigma(z)) = -\operatorname{softplus}(z)` and
    :math:`\operatorname{softplus}(-z) = \operatorname{softplus}(z) - z`, it becomes

    .. math::

        L = \frac{1}{n} \sum_i \Big( \operatorname{softplus}(z_i) - z_i y_i \Big),
        \qquad \operatorname{softplus}(z) = \max(z, 0) + \log\big(1 + e^{-|z|}\big)

    which is finite for logits of :math:`\pm 1000`: the exponent is never positive, and
    ``log1p`` keeps the tiny values accurate.

    **Backward.** :math:`\operatorname{softplus}'(z) = \sigma(z)`, so

    .. math::

        \frac{\partial L}{\partial z_i} = \frac{1}{n} \big( \sigma(z_i) - y_i \big)

    "predicted minus true" again, exactly as for the softmax cross-entropy.
    """
    n = z.shape[0]
    t = y.astype(z.dtype).reshape(n, 1)  # targets as a column, like z
    L = float(np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))))
    dL_dz = (sigmoid(z) - t) / n
    return L, dL_dz


def mse(z: Array, y: Labels) -> tuple[float, Array]:
    r"""Mean squared error against the one-hot targets, like ``torch.nn.MSELoss()``.

    **Forward.** The mean runs over all :math:`n k` entries, as in PyTorch:

    .. math::

        L = \frac{1}{n k} \sum_{i, j} (z_{ij} - Y_{ij})^2

    **Backward.**

    .. math::

        \frac{\partial L}{\partial z} = \frac{2}{n k} (z - Y)
    """
    n, k = z.shape
    diff = z - one_hot(y, k, z.dtype)
    L = float(np.mean(diff * diff))
    dL_dz = diff * (2 / (n * k))  # a Python float keeps float32 arrays float32
    return L, dL_dz


def bce_probabilities(z: Array) -> Array:
    r"""Both classes' probabilities from one logit: :math:`[1 - \sigma(z), \sigma(z)]`."""
    p = sigmoid(z[:, 0])
    return np.stack([1 - p, p], axis=1)


@dataclass(frozen=True)
class Loss:
    """A loss: its value and gradient, how it turns ``z`` into probabilities, its classes."""

    name: str
    value_and_gradient: Callable[[Array, Labels], tuple[float, Array]]
    probabilities: Callable[[Array], Array]
    binary: bool
    """True for ``bce``: one output unit, two classes."""


LOSSES: dict[str, Loss] = {
    "cross_entropy": Loss("cross_entropy", cross_entropy, softmax, binary=False),
    "bce": Loss("bce", bce, bce_probabilities, binary=True),
    # An MSE model is trained to output the one-hot vector; softmax of its scores still
    # ranks the classes the same way and gives rows that sum to 1.
    "mse": Loss("mse", mse, softmax, binary=False),
}
"""The losses a :class:`~fromscratch.matrix.Network` accepts, by name."""

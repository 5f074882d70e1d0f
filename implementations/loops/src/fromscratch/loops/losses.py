r"""Losses: how wrong the output neurons are, and the error each of them starts backprop with.

The output layer is linear: each output neuron :math:`j` hands over its pre-activation
:math:`z_j`, one number per sample. Stacked, they form ``Z`` with **one row per output
neuron and one column per sample**, shape (k, n), the layout every layer of this package
uses. Each loss below takes ``Z`` and the integer labels ``y`` (shape (n,)) and returns

* the mean loss :math:`L` over the batch, exactly as the PyTorch loss of the same name
  defines it (``reduction="mean"``);
* :math:`\partial L / \partial Z`, shape (k, n): row :math:`j` is the error
  :math:`\partial L / \partial z_j` that output neuron :math:`j` starts its backward step
  with.

The loss is the one place that looks at **all** output neurons at once, and it has to:
the softmax couples them (raising one logit lowers every other class's probability), so
:math:`\partial L / \partial z_j` depends on every :math:`z_c`. It is computed here, for
the whole output vector, and then each output neuron receives its own row of it (its
column, in the one-sample-per-row layout of torch). From there on every step is a single
neuron's.

``Y`` is the one-hot form of ``y``, laid out like ``Z``: :math:`Y_{ji} = 1` if
:math:`y_i = j`, else 0. Because :math:`L` is a mean over :math:`n` samples, every gradient
carries a factor :math:`1/n`; that makes the sums over the batch in each neuron's backward
step averages, so the learning rate does not depend on the batch size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fromscratch.boundary.types import Array, Labels

from .activations import sigmoid


def softmax(Z: Array) -> Array:
    r"""Softmax down each column (one column per sample), shifted so ``exp`` cannot overflow.

    .. math::

        \operatorname{softmax}(z)_j = \frac{e^{z_j}}{\sum_c e^{z_c}}
        = \frac{e^{z_j - m}}{\sum_c e^{z_c - m}}, \qquad m = \max_c z_c

    Subtracting the column's maximum :math:`m` cancels between numerator and denominator,
    and keeps every exponent :math:`\le 0`.
    """
    e = np.exp(Z - Z.max(axis=0))
    P: Array = e / e.sum(axis=0)
    return P


def one_hot(y: Labels, k: int, dtype: np.dtype[Any]) -> Array:
    """The (k, n) matrix ``Y`` with ``Y[y[i], i] = 1`` and zeros elsewhere."""
    Y = np.zeros((k, len(y)), dtype=dtype)
    Y[y, np.arange(len(y))] = 1
    return Y


def cross_entropy(Z: Array, y: Labels) -> tuple[float, Array]:
    r"""Softmax cross-entropy on logits, like ``torch.nn.CrossEntropyLoss()``.

    **Forward.** With :math:`p_i = \operatorname{softmax}(z_{\cdot i})` for sample :math:`i`,

    .. math::

        L = -\frac{1}{n} \sum_i \log p_{y_i, i}
          = \frac{1}{n} \sum_i \Big( \log \sum_c e^{z_{ci}} - z_{y_i, i} \Big)

    evaluated as :math:`(z_{y_i i} - m_i) - \log \sum_c e^{z_{ci} - m_i}`: never ``log(0)``,
    never ``exp`` of a positive number.

    **Backward.** Differentiating sample :math:`i`'s term by output neuron :math:`j`'s
    :math:`z_{ji}`:

    .. math::

        \frac{\partial}{\partial z_{ji}} \Big( \log \sum_c e^{z_{ci}} - z_{y_i, i} \Big)
        = \frac{e^{z_{ji}}}{\sum_c e^{z_{ci}}} - [j = y_i] = p_{ji} - Y_{ji}

    The sum over *all* classes in the softmax's denominator is why neuron :math:`j`'s error
    depends on every output, and why the loss, not the neuron, computes it. What is left
    is "predicted minus true":

    .. math::

        \frac{\partial L}{\partial Z} = \frac{1}{n} (P - Y)
    """
    n = Z.shape[1]
    samples = np.arange(n)
    shifted = Z - Z.max(axis=0)
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=0)
    log_p_true = shifted[y, samples] - np.log(sum_exp)
    L = -float(log_p_true.sum()) / n

    dL_dZ = exp  # exp is ours alone: turn it into (P - Y) / n in place
    dL_dZ /= sum_exp  # P
    dL_dZ[y, samples] -= 1  # P - Y, without building Y
    dL_dZ /= n
    return L, dL_dZ


def bce(Z: Array, y: Labels) -> tuple[float, Array]:
    r"""Binary cross-entropy on one output neuron's logit, like ``torch.nn.BCEWithLogitsLoss()``.

    ``Z`` has shape (1, n), and :math:`y_i \in \{0, 1\}`.

    **Forward.** The textbook :math:`-[y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))]`,
    rewritten with :math:`\log \sigma(z) = -\operatorname{softplus}(-z)` and
    :math:`\operatorname{softplus}(-z) = \operatorname{softplus}(z) - z`, is

    .. math::

        L = \frac{1}{n} \sum_i \big( \operatorname{softplus}(z_i) - z_i y_i \big),
        \qquad \operatorname{softplus}(z) = \max(z, 0) + \log\big(1 + e^{-|z|}\big)

    which stays finite for logits of :math:`\pm 1000`.

    **Backward.** :math:`\operatorname{softplus}' = \sigma`, so

    .. math::

        \frac{\partial L}{\partial z_i} = \frac{1}{n} \big( \sigma(z_i) - y_i \big)
    """
    n = Z.shape[1]
    t = y.astype(Z.dtype)  # the targets, one per sample like a row of Z
    z = Z[0]
    L = float(np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))))
    dL_dZ = (sigmoid(z) - t)[np.newaxis, :] / n  # (1, n), like Z
    return L, dL_dZ


def mse(Z: Array, y: Labels) -> tuple[float, Array]:
    r"""Mean squared error against the one-hot targets, like ``torch.nn.MSELoss()``.

    **Forward.** The mean runs over all :math:`k n` entries, as in PyTorch:

    .. math::

        L = \frac{1}{k n} \sum_{j, i} (z_{ji} - Y_{ji})^2

    **Backward.** Each entry on its own (no coupling between outputs this time):

    .. math::

        \frac{\partial L}{\partial Z} = \frac{2}{k n} (Z - Y)
    """
    k, n = Z.shape
    diff = Z - one_hot(y, k, Z.dtype)
    L = float(np.mean(diff * diff))
    dL_dZ = diff * (2 / (k * n))  # a Python float keeps a float32 array float32
    return L, dL_dZ


def bce_probabilities(Z: Array) -> Array:
    r"""Both classes' probabilities from one logit, :math:`[1 - \sigma(z);\ \sigma(z)]`, (2, n)."""
    p = sigmoid(Z[0])
    return np.stack([1 - p, p])


@dataclass(frozen=True)
class Loss:
    """A loss: its value and ``dL/dZ``, how it turns ``Z`` into probabilities, its classes."""

    name: str
    value_and_gradient: Callable[[Array, Labels], tuple[float, Array]]
    probabilities: Callable[[Array], Array]
    """``Z`` (k, n) to class probabilities (classes, n), each column summing to 1."""
    binary: bool
    """True for ``bce``: one output neuron, two classes."""


LOSSES: dict[str, Loss] = {
    "cross_entropy": Loss("cross_entropy", cross_entropy, softmax, binary=False),
    "bce": Loss("bce", bce, bce_probabilities, binary=True),
    # An MSE model learns to output the one-hot vector; the softmax of its scores ranks the
    # classes the same way and gives probabilities that sum to 1.
    "mse": Loss("mse", mse, softmax, binary=False),
}
"""The losses a :class:`~fromscratch.loops.Network` accepts, by name."""

r"""Losses of a whole population at once: logits (P, n, k) and labels (n,) give (P,) losses.

Evolution needs the loss of every member of a population on the same mini-batch, so each
loss here reduces over the rows (and classes) of each member and keeps the population
axis. One model is simply a population of one. Every loss is the mean that the PyTorch
loss of the same name defines (``reduction="mean"``); ``Y`` is the one-hot form of ``y``.

* cross-entropy on logits, like ``CrossEntropyLoss``:

  .. math::

      L = \frac{1}{n} \sum_i \Big( \log \sum_c e^{z_{ic}} - z_{i, y_i} \Big)

  evaluated as :math:`\log\sum_c e^{z_{ic} - m_i} - (z_{i,y_i} - m_i)` with
  :math:`m_i = \max_c z_{ic}`, so ``exp`` never sees a positive number;
* binary cross-entropy on one logit, like ``BCEWithLogitsLoss``:

  .. math::

      L = \frac{1}{n} \sum_i \big( \operatorname{softplus}(z_i) - z_i y_i \big), \qquad
      \operatorname{softplus}(z) = \max(z, 0) + \log(1 + e^{-|z|})

* mean squared error against the one-hot targets, like ``MSELoss``, averaged over all
  :math:`n k` entries:

  .. math::

      L = \frac{1}{n k} \sum_{i, j} (z_{ij} - Y_{ij})^2
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fromscratch.boundary.types import Array, Labels

from .activations import sigmoid


def softmax(z: Array) -> Array:
    r"""Softmax over the last axis, :math:`e^{z_j - m} / \sum_c e^{z_c - m}`.

    Subtracting :math:`m = \max_c z_c` cancels in the ratio and keeps ``exp`` from overflowing.
    """
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    P: Array = e / e.sum(axis=-1, keepdims=True)
    return P


def cross_entropy(z: Array, y: Labels) -> Array:
    """Softmax cross-entropy of each member: ``z`` (P, n, k) -> (P,).

    The outputs are first copied class-major, (P, k, n): every reduction over the k = 10
    classes then runs along rows of n numbers instead of over 10 numbers at a time, which
    makes the loss of a population twice as fast.
    """
    shifted = np.ascontiguousarray(z.transpose(0, 2, 1))  # (P, k, n), our own copy
    shifted -= shifted.max(axis=1, keepdims=True)
    true_logit = shifted[:, y, np.arange(len(y))]  # (P, n)
    log_sum_exp = np.log(np.exp(shifted, out=shifted).sum(axis=1))  # (P, n)
    L: Array = (log_sum_exp - true_logit).mean(axis=-1)
    return L


def bce(z: Array, y: Labels) -> Array:
    """Binary cross-entropy on one logit per row: ``z`` (P, n, 1) -> (P,)."""
    z = z[..., 0]
    t = y.astype(z.dtype)
    L: Array = (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean(axis=-1)
    return L


def mse(z: Array, y: Labels) -> Array:
    """Mean squared error against one-hot targets, over all n k entries: (P, n, k) -> (P,)."""
    diff = z.copy()
    rows = np.arange(z.shape[-2])
    diff[..., rows, y] -= 1  # z - Y, without building Y
    L: Array = (diff * diff).mean(axis=(-2, -1))
    return L


def bce_probabilities(z: Array) -> Array:
    r"""Both classes' probabilities from one logit, :math:`[1 - \sigma(z), \sigma(z)]`."""
    p = sigmoid(z[..., 0])
    return np.stack([1 - p, p], axis=-1)


@dataclass(frozen=True)
class Loss:
    """A loss: its value per member, how it turns outputs into probabilities, its classes."""

    name: str
    value: Callable[[Array, Labels], Array]
    probabilities: Callable[[Array], Array]
    binary: bool
    """True for ``bce``: one output unit, two classes."""


LOSSES: dict[str, Loss] = {
    "cross_entropy": Loss("cross_entropy", cross_entropy, softmax, binary=False),
    "bce": Loss("bce", bce, bce_probabilities, binary=True),
    # An MSE model regresses the one-hot vector; softmax of its scores ranks the classes
    # the same way and gives rows that sum to 1.
    "mse": Loss("mse", mse, softmax, binary=False),
}
"""The losses a :class:`~fromscratch.evolution.Network` accepts, by name."""

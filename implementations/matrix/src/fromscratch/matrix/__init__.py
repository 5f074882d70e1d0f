"""Vectorized matrix backpropagation with every gradient derived by hand, in NumPy.

Read it top to bottom, one idea per module:

* :mod:`~fromscratch.matrix.network` -- the :class:`Network`: forward, backward, update;
* :mod:`~fromscratch.matrix.layers` -- the module shape, and the linear layer
  ``z = a W^T + b`` with its backward;
* :mod:`~fromscratch.matrix.activations` -- relu, sigmoid, tanh and their derivatives;
* :mod:`~fromscratch.matrix.losses` -- cross-entropy, BCE, MSE and ``dL/dz`` for each;
* :mod:`~fromscratch.matrix.embedding`, :mod:`~fromscratch.matrix.recurrent` -- the
  embedding, RNN and LSTM, with backprop through time;
* :mod:`~fromscratch.matrix.sequence` -- :class:`SequenceNetwork`, a character model.

The checks, the training loop and the optimizers (``SGD``, ``Adam`` in torch's shape) are
shared by every implementation: :mod:`fromscratch.boundary`.

``RECIPES`` holds the hyper-parameters the conformance suite trains with, per data set
(shared with other implementations: :mod:`fromscratch.boundary.recipes`).
"""

from __future__ import annotations

from fromscratch.boundary import recipes

from .network import Network
from .sequence import SequenceNetwork, layer_vjp

RECIPES = recipes.compose(
    mnist=recipes.MNIST_MLP,
    breast_cancer=recipes.BREAST_CANCER_MLP,
    mnist_cnn=recipes.MNIST_LENET5,
)
"""Constructor and ``fit`` arguments per data set: ``{"model": {...}, "fit": {...}}``."""

__all__ = ["RECIPES", "Network", "SequenceNetwork", "layer_vjp"]

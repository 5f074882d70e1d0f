"""A neural network made of objects: neurons, layers of neurons, a network of layers.

Read it top to bottom, one idea per module:

* :mod:`~fromscratch.loops.activations` -- relu, sigmoid, tanh, each with its derivative;
* :mod:`~fromscratch.loops.neuron` -- the :class:`Neuron`: weights, bias, weighted sum,
  activation, and its own backward step;
* :mod:`~fromscratch.loops.layer` -- the :class:`Layer`: a list of neurons, whose output
  rows it stacks into one matrix;
* :mod:`~fromscratch.loops.losses` -- cross-entropy, BCE, MSE and the error each output
  neuron starts from;
* :mod:`~fromscratch.loops.network` -- the :class:`Network`, which trains it all.

The checks, the training loop and the optimizers (``SGD``, ``Adam`` in torch's shape,
stepping neuron by neuron) are shared by every implementation: :mod:`fromscratch.boundary`.

``RECIPES`` holds the hyper-parameters the conformance suite trains with, per data set:
its own MNIST net, and the breast-cancer recipe it shares (:mod:`fromscratch.boundary.recipes`).
"""

from __future__ import annotations

from fromscratch.boundary import recipes

from .layer import Layer
from .network import Network
from .neuron import Neuron

# Two relu layers, Nesterov momentum, a cosine-annealed learning rate and small batches:
# about 98.4% test accuracy (seeds 0, 1) in under a minute of training on two CPU cores,
# and about 96.0% when trained on the first 10,000 images only. Smaller than the shared
# MNIST_MLP: a neuron at a time is slower than a matrix at a time.
MNIST: recipes.Recipe = {
    "model": {
        "layers": [784, 128, 64, 10],
        "activation": "relu",
        "loss": "cross_entropy",
        "seed": 0,
        "dtype": "float32",
    },
    "fit": {
        "epochs": 15,
        "batch_size": 64,
        "learning_rate": 0.1,
        "optimizer": "sgd",
        "momentum": 0.9,
        "nesterov": True,
        "schedule": "cosine",
    },
}

RECIPES = recipes.compose(mnist=MNIST, breast_cancer=recipes.BREAST_CANCER_MLP)
"""Constructor and ``fit`` arguments per data set: ``{"model": {...}, "fit": {...}}``."""

__all__ = ["RECIPES", "Layer", "Network", "Neuron"]

"""The training recipes that several implementations share, and the LeNet-5 spec, once.

A recipe is the constructor's and ``fit``'s arguments for one data set,
``{"model": {...}, "fit": {...}}``. An implementation's ``RECIPES`` picks the ones it
trains with (:func:`compose`) and writes its own beside them where it needs another
(``loops``' smaller MNIST net, ``evolution``'s search settings). The conformance suite's
bench and checks read :data:`LENET5` from here too, so the network is written once.
"""

from __future__ import annotations

import copy
from typing import Any, Final

Recipe = dict[str, dict[str, Any]]

LENET5: Final = [
    "Unflatten(1, (1, 28, 28))",
    *("Conv2d(1, 6, 5, padding=2)", "ReLU()", "MaxPool2d(2)"),  # 6 x 28 x 28 -> 6 x 14 x 14
    *("Conv2d(6, 16, 5)", "ReLU()", "MaxPool2d(2)"),  # 16 x 10 x 10 -> 16 x 5 x 5
    "Flatten()",
    *("Linear(400, 120)", "ReLU()", "Linear(120, 84)", "ReLU()", "Linear(84, 10)"),
]
"""LeNet-5 (LeCun et al., 1998) with relu and max pooling, for 28 x 28 MNIST rows, as the
architecture spec (``docs/protocol.md``)."""

MNIST_MLP: Final[Recipe] = {
    # Two relu layers, Nesterov momentum and a cosine-annealed learning rate: about 98.3%
    # test accuracy (matrix, seeds 0, 1, 2) in about 10 s of training on two CPU cores.
    "model": {
        "layers": [784, 256, 128, 10],
        "activation": "relu",
        "loss": "cross_entropy",
        "seed": 0,
        "dtype": "float32",
    },
    "fit": {
        "epochs": 20,
        "batch_size": 128,
        "learning_rate": 0.05,
        "optimizer": "sgd",
        "momentum": 0.9,
        "nesterov": True,
        "schedule": "cosine",
    },
}
"""MNIST with a 784-256-128-10 relu MLP (``matrix``, ``autograd``)."""

BREAST_CANCER_MLP: Final[Recipe] = {
    # 455 standardized rows: a small net, with Adam's L2 weight decay against overfitting.
    # 98.2% test accuracy for seed 0; at least 97.4% (mean 98.1-98.2% by implementation)
    # over seeds 0-19.
    "model": {
        "layers": [30, 16, 2],
        "activation": "relu",
        "loss": "cross_entropy",
        "seed": 0,
        "dtype": "float64",
    },
    "fit": {
        "epochs": 100,
        "batch_size": 32,
        "learning_rate": 0.001,
        "optimizer": "adam",
        "weight_decay": 0.01,
    },
}
"""Breast cancer with a 30-16-2 relu MLP (``loops``, ``matrix``, ``autograd``)."""

MNIST_LENET5: Final[Recipe] = {
    # 99.21% test accuracy after 10 epochs (matrix, seed 0), about 195 s of CPU on one BLAS
    # thread. The spec names its activations, so there is no "activation" here.
    "model": {
        "layers": LENET5,
        "loss": "cross_entropy",
        "seed": 0,
        "dtype": "float32",
    },
    "fit": {
        "epochs": 10,
        "batch_size": 64,
        "learning_rate": 0.05,
        "optimizer": "sgd",
        "momentum": 0.9,
        "nesterov": True,
        "schedule": "cosine",
    },
}
"""MNIST as 1 x 28 x 28 images with :data:`LENET5` (``matrix``, ``autograd``): the
``mnist_cnn`` recipe."""


def compose(**recipes: Recipe) -> dict[str, Recipe]:
    """An implementation's ``RECIPES``: the given recipes by data set, each a deep copy, so
    that changing one implementation's recipe never changes another's."""
    return {dataset: copy.deepcopy(recipe) for dataset, recipe in recipes.items()}

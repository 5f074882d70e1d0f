"""A tensor autograd engine over NumPy with a PyTorch-like API, and an MLP built on it.

Read it top to bottom, one idea per module:

* :mod:`~fromscratch.autograd.tensor` -- :class:`Tensor`, graph recording, the iterative
  backward pass, :class:`no_grad`;
* :mod:`~fromscratch.autograd.ops` -- every op's forward and backward, with the math;
* :mod:`~fromscratch.autograd.init` -- ``tensor``, ``zeros``, ``randn``, ``manual_seed``;
* :mod:`~fromscratch.autograd.nn` -- ``Module``, ``Linear``, ``Sequential``, activations
  and ``functional`` (fused softmax and losses);
* :mod:`~fromscratch.autograd.optim` -- SGD, Adam, AdamW, step for step like torch.optim;
* :mod:`~fromscratch.autograd.model` -- :class:`Network`, the project's Model protocol
  (its checks, training loop and update rules are shared: :mod:`fromscratch.boundary`);
* :mod:`~fromscratch.autograd.sequence` -- :class:`SequenceNetwork`, the same for text.

``RECIPES`` holds the hyper-parameters the conformance suite trains with.
"""

from __future__ import annotations

from typing import Any

from . import nn, ops, optim
from .init import (
    arange,
    full,
    full_like,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .model import Network
from .ops import (
    cat,
    chunk,
    clamp,
    cumprod,
    cumsum,
    einsum,
    flatten,
    gather,
    masked_fill,
    split,
    stack,
    std,
    tril,
    triu,
    unbind,
    unflatten,
    var,
    where,
)
from .sequence import SequenceNetwork, layer_vjp
from .tensor import Tensor, bool_, float32, float64, int64, is_grad_enabled, no_grad

clip = clamp

RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "mnist": {
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
    },
    "breast_cancer": {
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
    },
    # LeNet-5 with ReLU and max pooling (issue 13), on MNIST as 1 x 28 x 28 images.
    "mnist_cnn": {
        "model": {
            "layers": [
                "Unflatten(1, (1, 28, 28))",
                "Conv2d(1, 6, 5, padding=2)",
                "ReLU()",
                "MaxPool2d(2)",
                "Conv2d(6, 16, 5)",
                "ReLU()",
                "MaxPool2d(2)",
                "Flatten()",
                "Linear(400, 120)",
                "ReLU()",
                "Linear(120, 84)",
                "ReLU()",
                "Linear(84, 10)",
            ],
            "activation": "relu",
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
    },
}
"""Constructor and ``fit`` arguments per data set: ``{"model": {...}, "fit": {...}}``."""

__all__ = [
    "RECIPES",
    "Network",
    "SequenceNetwork",
    "Tensor",
    "arange",
    "bool_",
    "cat",
    "chunk",
    "clamp",
    "clip",
    "cumprod",
    "cumsum",
    "einsum",
    "flatten",
    "float32",
    "float64",
    "full",
    "full_like",
    "gather",
    "int64",
    "is_grad_enabled",
    "layer_vjp",
    "manual_seed",
    "masked_fill",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "split",
    "stack",
    "std",
    "tensor",
    "tril",
    "triu",
    "unbind",
    "unflatten",
    "var",
    "where",
    "zeros",
    "zeros_like",
]

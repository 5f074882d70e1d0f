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

``RECIPES`` holds the hyper-parameters the conformance suite trains with, per data set
(shared with other implementations: :mod:`fromscratch.boundary.recipes`).
"""

from __future__ import annotations

from fromscratch.boundary import recipes

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

RECIPES = recipes.compose(
    mnist=recipes.MNIST_MLP,
    breast_cancer=recipes.BREAST_CANCER_MLP,
    mnist_cnn=recipes.MNIST_LENET5,
)
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

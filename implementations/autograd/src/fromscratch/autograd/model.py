r"""``Network``: the project's Model protocol, written the way a torch user would write it.

The model is an :class:`~.nn.Sequential` of :class:`~.nn.Linear` layers and activations
(or of the spec's layers, :mod:`fromscratch.autograd.architecture`);
``fit`` is the training loop of every torch tutorial::

    for X_batch, y_batch in batches:
        loss = criterion(model(X_batch), y_batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

No gradient is derived by hand here: the engine differentiates whatever ``forward`` did.
The losses are torch's (``cross_entropy``, ``binary_cross_entropy_with_logits``,
``mse_loss`` against one-hot targets) with ``reduction="mean"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary import validation as check
from fromscratch.boundary.model import GradientClassifier
from fromscratch.boundary.types import Labels

from . import architecture, nn, optim
from .nn import functional as F
from .tensor import Array, Tensor, no_grad

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}


class Network(GradientClassifier):
    r"""A network on the autograd engine, equivalent to torch's ``nn.Sequential`` of the
    same layers, trained with the matching loss: the sizes form ``[784, 128, 10]`` is an
    MLP, a spec may also use the image layers of ``supported_layers``.

    The constructor's arguments are those of every implementation, see
    :class:`fromscratch.boundary.model.Classifier`; ``fit`` is the shared one
    (:class:`fromscratch.boundary.fit.GradientFit`), whose ``optimizer`` may also be
    ``"adamw"`` here.
    """

    activation: type[nn.Module]
    criterion: Loss
    activations = ACTIVATIONS
    optimizers = OPTIMIZERS

    # ------------------------------------------------------- forward, backward, update

    def forward(self, X: Array) -> Tensor:
        """The network's output ``z`` (logits or scores), recorded on the graph."""
        z: Tensor = self.net(Tensor._wrap(X))
        return z

    def backward(self, X: Array, y: Labels) -> float:
        """Forward, loss, ``loss.backward()``: the engine fills every parameter's ``.grad``
        (cleared first: gradients accumulate by summing). Returns the loss."""
        loss = self.criterion.forward(self.forward(X), y)
        self.net.zero_grad()
        loss.backward()
        return float(loss.data)

    # The update is torch's: ``optimizer.step()`` over ``self.net.parameters()``, an
    # optimizer of :mod:`~fromscratch.autograd.optim` that ``fit(optimizer=...)`` picks.

    # ------------------------------------------------------------- construction, fit

    supported_layers = architecture.SUPPORTED_LAYERS

    def build(self, rng: np.random.Generator) -> None:
        """The ``nn.Sequential`` of ``specs``, entry for entry
        (:mod:`fromscratch.autograd.architecture`), parameters drawn from ``rng`` in layer
        order."""
        self.net = architecture.sequential(self.specs, self.dtype, rng)

    def parameters(self) -> list[Tensor]:
        """The tensors the optimizer updates: every layer's weight and bias."""
        return list(self.net.parameters())

    def train_mode(self, training: bool) -> None:
        """``net.train()`` for the batches of the shared ``fit``, ``net.eval()`` after."""
        self.net.train(training)

    # ------------------------------------------------------------- the Model protocol

    def _output(self, X: NDArray[Any]) -> Array:
        with no_grad():
            z: Array = self.forward(self.check_X(X)).data
        return z

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        z = self._output(X)
        y = self.check_y(y, len(z))
        with no_grad():
            return float(self.criterion.forward(Tensor._wrap(z), y).data)

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Array]]:
        """``(loss, dL/dθ)``, keyed like :meth:`state_dict`, by one backward pass.

        The parameters are unchanged, and so are their ``.grad`` (restored afterwards).
        """
        X = self.check_X(X)
        y = self.check_y(y, len(X))
        named = dict(self.net.named_parameters())
        saved = {name: p.grad for name, p in named.items()}
        L = self.backward(X, y)
        grads = {}
        for name, p in named.items():
            grads[name] = np.zeros_like(p.data) if p.grad is None else p.grad.data.copy()
            p.grad = saved[name]
        return L, grads

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters: ``"0.weight"`` (out, in), ``"0.bias"``, ``"2.weight"``..."""
        return {name: t.data.copy() for name, t in self.net.state_dict().items()}

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy the arrays in; wrong keys, shapes or dtypes, or NaN/inf, raise ``ValueError``."""
        expected = {name: p.shape for name, p in self.net.named_parameters()}
        self.net.load_state_dict(check.check_state_dict(state, expected, self.dtype))


# ------------------------------------------------------------------------- the losses


@dataclass(frozen=True)
class Loss:
    """A loss by name: ``forward(z, y)`` is the loss tensor (the engine differentiates it),
    ``probabilities(z)`` turns outputs into class probabilities for ``predict_proba``."""

    name: str
    forward: Callable[[Tensor, Labels], Tensor]
    probabilities: Callable[[Array], Array]


def _cross_entropy(z: Tensor, y: Labels) -> Tensor:
    return F.cross_entropy(z, y)


def _bce(z: Tensor, y: Labels) -> Tensor:
    # One logit per row; the labels 0/1 are the target probabilities of class 1.
    return F.binary_cross_entropy_with_logits(z, y.reshape(-1, 1).astype(z.dtype))


def _mse(z: Tensor, y: Labels) -> Tensor:
    Y = np.zeros(z.shape, dtype=z.dtype)
    Y[np.arange(len(y)), y] = 1
    return F.mse_loss(z, Tensor._wrap(Y))


def _softmax(z: Array) -> Array:
    with no_grad():
        return F.softmax(Tensor._wrap(z), dim=1).data


def _bce_probabilities(z: Array) -> Array:
    with no_grad():
        p = F.sigmoid(Tensor._wrap(z[:, 0])).data
    return np.stack([1 - p, p], axis=1)


LOSSES: dict[str, Loss] = {
    "cross_entropy": Loss("cross_entropy", _cross_entropy, _softmax),
    "bce": Loss("bce", _bce, _bce_probabilities),
    # An MSE model regresses the one-hot vector; the softmax of its scores ranks the
    # classes the same way and gives rows that sum to 1.
    "mse": Loss("mse", _mse, _softmax),
}
Network.losses = LOSSES  # defined below the class, so that the class opens the file

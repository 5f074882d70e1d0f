r"""``Network``: the project's Model protocol, written the way a torch user would write it.

The model is an :class:`~.nn.Sequential` of :class:`~.nn.Linear` layers and activations;
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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary import validation as check
from fromscratch.boundary.loop import shuffle_rng, train
from fromscratch.boundary.model import Classifier
from fromscratch.boundary.optim import set_learning_rate
from fromscratch.boundary.options import check_fit_options, make_optimizer
from fromscratch.boundary.types import DTYPES, BatchCallback, Callback, Labels

from . import nn, optim
from .nn import functional as F
from .tensor import Array, Tensor, no_grad

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}


class Network(Classifier):
    r"""A multilayer perceptron on the autograd engine, equivalent to torch's
    ``nn.Sequential(Linear, Act, ..., Linear)`` trained with the matching loss.

    Parameters
    ----------
    layers
        Sizes, inputs first: ``[784, 128, 64, 10]`` is three ``Linear`` layers.
    activation
        ``"relu"``, ``"sigmoid"`` or ``"tanh"`` after each hidden layer; the last is linear.
    loss
        ``"cross_entropy"`` (``layers[-1] >= 2`` logits), ``"bce"`` (one logit) or ``"mse"``
        (``layers[-1] >= 2`` scores regressed onto one-hot labels).
    seed
        Seeds the initial parameters (``Linear`` after ``Linear``, weight then bias, from
        one generator) and, through a separate child stream, the shuffling in ``fit``.
    dtype
        ``"float32"`` or ``"float64"``, for parameters and every computation.
    """

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

    def __init__(
        self,
        layers: Sequence[int],
        *,
        activation: str = "relu",
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        self.sizes = check.check_layers(layers)
        self.activation_name = check.check_choice("activation", activation, ACTIVATIONS)
        self.activation = ACTIVATIONS[activation]
        self.loss_name = check.check_choice("loss", loss, LOSSES)
        self.criterion = LOSSES[loss]
        self.dtype = np.dtype(check.check_choice("dtype", dtype, DTYPES))
        self.seed = check.check_seed(seed)
        self.n_classes = check.check_outputs(loss, self.sizes[-1])

        rng = np.random.default_rng(self.seed)
        modules: list[nn.Module] = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=False):
            if modules:  # an activation between two linear layers
                modules.append(self.activation())
            modules.append(nn.Linear(fan_in, fan_out, dtype=self.dtype, generator=rng))
        self.net = nn.Sequential(*modules)
        self._shuffle_rng = shuffle_rng(self.seed)

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        callback: Callback | None = None,
        batch_callback: BatchCallback | None = None,
        **options: Any,
    ) -> Network:
        """Mini-batch training, shuffled each epoch by default; returns ``self``.

        ``options`` are those of :mod:`fromscratch.boundary.options`: ``optimizer``
        (``"sgd"``, ``"adam"``, ``"adamw"``), ``momentum`` and ``nesterov`` (SGD),
        ``betas`` and ``eps`` (Adam, AdamW), ``weight_decay`` (0 by default, 0.01 for
        AdamW), ``schedule`` (``"constant"`` or ``"cosine"``) and ``shuffle``.
        ``callback(epoch, {"loss", "learning_rate"})`` runs after each epoch,
        ``batch_callback(epoch, batch, loss)`` after each batch. A non-finite loss raises
        ``FloatingPointError`` naming the epoch and batch.
        """
        epochs, batch_size, learning_rate = check.check_fit_arguments(
            epochs, batch_size, learning_rate, callback, batch_callback
        )
        config = check_fit_options(options, tuple(OPTIMIZERS))
        X = check.check_X(X, self.sizes[0], self.dtype)
        y = check.check_y(y, len(X), self.n_classes)
        optimizer = make_optimizer(self.net.parameters(), learning_rate, config, OPTIMIZERS)
        self.net.train()
        train(
            lambda rows: self.backward(np.take(X, rows, axis=0), y[rows]),
            optimizer.step,
            n_rows=len(X),
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            schedule=config.schedule,
            shuffle=config.shuffle,
            rng=self._shuffle_rng,
            set_learning_rate=lambda lr: set_learning_rate(optimizer, lr),
            parameters=lambda: (p.data for p in self.net.parameters()),
            callback=callback,
            batch_callback=batch_callback,
        )
        self.net.eval()
        return self

    # ------------------------------------------------------------- the Model protocol

    def _output(self, X: NDArray[Any]) -> Array:
        with no_grad():
            z: Array = self.forward(check.check_X(X, self.sizes[0], self.dtype)).data
        return z

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), rows summing to 1 (k = 2 for ``bce``)."""
        return self.criterion.probabilities(self._output(X))

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        z = self._output(X)
        y = check.check_y(y, len(z), self.n_classes)
        with no_grad():
            return float(self.criterion.forward(Tensor._wrap(z), y).data)

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Array]]:
        """``(loss, dL/dθ)``, keyed like :meth:`state_dict`, by one backward pass.

        The parameters are unchanged, and so are their ``.grad`` (restored afterwards).
        """
        X = check.check_X(X, self.sizes[0], self.dtype)
        y = check.check_y(y, len(X), self.n_classes)
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

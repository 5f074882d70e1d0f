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

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.spec import mlp

from . import architecture, nn, optim
from .nn import functional as F
from .tensor import Array, Tensor, no_grad
from .validation import (
    DTYPES,
    FitOptions,
    check_choice,
    check_fit_options,
    check_float,
    check_layers,
    check_positive_int,
    check_seed,
    check_state_dict,
    check_X,
    check_y,
)

Labels = NDArray[np.int64]
Callback = Callable[[int, Mapping[str, float]], None]

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


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


LOSSES: dict[str, tuple[Callable[[Tensor, Labels], Tensor], Callable[[Array], Array]]] = {
    "cross_entropy": (_cross_entropy, _softmax),
    "bce": (_bce, _bce_probabilities),
    # An MSE model regresses the one-hot vector; the softmax of its scores ranks the
    # classes the same way and gives rows that sum to 1.
    "mse": (_mse, _softmax),
}


class Network:
    r"""A network on the autograd engine, equivalent to torch's ``nn.Sequential`` of the
    same layers, trained with the matching loss.

    Parameters
    ----------
    layers
        Sizes, inputs first: ``[784, 128, 64, 10]`` is three ``Linear`` layers. Or the
        architecture spec, one ``torch.nn`` constructor call per ``nn.Sequential`` entry
        (``["Unflatten(1, (1, 28, 28))", "Conv2d(1, 6, 5, padding=2)", "ReLU()", ...]``),
        with the layers of :data:`supported_layers`.
    activation
        ``"relu"``, ``"sigmoid"`` or ``"tanh"`` after each hidden layer of the sizes form
        (a spec names its activations itself); the last layer is linear.
    loss
        ``"cross_entropy"`` (``layers[-1] >= 2`` logits), ``"bce"`` (one logit) or ``"mse"``
        (``layers[-1] >= 2`` scores regressed onto one-hot labels).
    seed
        Seeds the initial parameters (``Linear`` after ``Linear``, weight then bias, from
        one generator) and, through a separate child stream, the shuffling in ``fit``.
    dtype
        ``"float32"`` or ``"float64"``, for parameters and every computation.
    """

    supported_layers = architecture.SUPPORTED_LAYERS

    def __init__(
        self,
        layers: Sequence[int] | Sequence[str],
        *,
        activation: str = "relu",
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        if architecture.is_spec(layers):
            specs, n_in, n_out = architecture.parse(layers)  # type: ignore[arg-type]
            self.sizes: tuple[int, ...] = (n_in, n_out)
        else:
            self.sizes = check_layers(layers)
            specs = mlp(self.sizes, activation)
        self.layers = list(layers) if architecture.is_spec(layers) else list(self.sizes)
        self.loss_name = check_choice("loss", loss, LOSSES)
        self.dtype: np.dtype[Any] = np.dtype(check_choice("dtype", dtype, DTYPES))
        self.seed = check_seed(seed)
        k = self.sizes[-1]
        if loss == "bce" and k != 1:
            raise ValueError(
                f"loss='bce' uses one output logit, so layers[-1] must be 1, got {k}; "
                f"for {k} classes use loss='cross_entropy'"
            )
        if loss != "bce" and k < 2:
            raise ValueError(
                f"loss={loss!r} needs one output per class, so layers[-1] must be >= 2, got {k}; "
                f"for a single output logit use loss='bce'"
            )
        self.n_classes = 2 if loss == "bce" else k
        self.criterion, self.probabilities = LOSSES[loss]

        self.net = architecture.sequential(specs, self.dtype, np.random.default_rng(self.seed))
        # Shuffling has its own stream, a child of the seed: it never shifts the initial
        # parameters, and it carries on across calls to fit(), like torch's global RNG.
        self._shuffle_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(1)[0])

    # ------------------------------------------------------------------------- training

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        callback: Callback | None = None,
        batch_callback: Callable[[int, int, float], object] | None = None,
        **options: Any,
    ) -> Network:
        """Mini-batch training, shuffled each epoch by default; returns ``self``.

        Options: ``optimizer`` (``"sgd"``, ``"adam"``, ``"adamw"``), ``momentum`` and
        ``nesterov`` (SGD), ``betas`` and ``eps`` (Adam, AdamW), ``weight_decay`` (all;
        0 by default, 0.01 for AdamW) and ``schedule`` (``"constant"`` or ``"cosine"``,
        per epoch) and ``shuffle`` (``True``; ``False`` keeps the rows in order, batch after
        batch). ``callback(epoch, {"loss", "learning_rate"})`` runs after each epoch.
        A non-finite loss raises ``FloatingPointError`` naming the epoch and batch.
        ``batch_callback(epoch, batch, loss)``, if given, runs after each mini-batch step
        (``batch`` counts from 1) with that batch's loss: it lets a progress bar move
        inside a long epoch.
        """
        epochs = check_positive_int("epochs", epochs)
        batch_size = check_positive_int("batch_size", batch_size)
        learning_rate = check_float("learning_rate", learning_rate, low=0, low_inclusive=False)
        if callback is not None and not callable(callback):
            raise ValueError(f"callback must be callable(epoch, metrics) or None, got {callback!r}")
        if batch_callback is not None and not callable(batch_callback):
            raise ValueError(f"batch_callback must be callable or None, got {batch_callback!r}")
        config = check_fit_options(options)
        X = check_X(X, self.sizes[0], self.dtype)
        y = check_y(y, len(X), self.n_classes)

        optimizer = self._optimizer(config, learning_rate)
        group = optimizer.param_groups[0]
        n = len(X)
        self.net.train()
        for epoch in range(1, epochs + 1):
            if config.schedule == "cosine":
                group["lr"] = optim.cosine_learning_rate(learning_rate, epoch, epochs)
            order = self._shuffle_rng.permutation(n) if config.shuffle else np.arange(n)
            losses = []
            # A diverging run overflows somewhere; the non-finite loss becomes a clear
            # error below instead of NumPy warnings batch after batch.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for batch, start in enumerate(range(0, n, batch_size), start=1):
                    rows = order[start : start + batch_size]
                    loss = self.criterion(self.net(Tensor._wrap(np.take(X, rows, axis=0))), y[rows])
                    value = float(loss.data)
                    if not math.isfinite(value):
                        self._diverged(epoch, batch, value, group["lr"])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    losses.append(value)
                    if batch_callback is not None:
                        batch_callback(epoch, batch, value)
                # The epoch's last step may itself have overflowed the parameters.
                if not all(np.isfinite(p.data).all() for p in self.net.parameters()):
                    self._diverged(epoch, batch, None, group["lr"])
            if callback is not None:
                callback(
                    epoch, {"loss": math.fsum(losses) / len(losses), "learning_rate": group["lr"]}
                )
        self.net.eval()
        return self

    def _optimizer(self, config: FitOptions, learning_rate: float) -> optim.Optimizer:
        params = list(self.net.parameters())
        if config.optimizer == "sgd":
            return optim.SGD(
                params,
                lr=learning_rate,
                momentum=config.momentum,
                nesterov=config.nesterov,
                weight_decay=config.weight_decay,
            )
        cls = optim.AdamW if config.optimizer == "adamw" else optim.Adam
        return cls(
            params,
            lr=learning_rate,
            betas=config.betas,
            eps=config.eps,
            weight_decay=config.weight_decay,
        )

    @staticmethod
    def _diverged(epoch: int, batch: int, loss: float | None, learning_rate: float) -> NoReturn:
        what = "the parameters are no longer finite" if loss is None else f"the loss is {loss}"
        raise FloatingPointError(
            f"training diverged at epoch {epoch}, batch {batch}: {what}. "
            f"Try a lower learning_rate (it was {learning_rate:g}), or check the input scale."
        )

    # ------------------------------------------------------------------------ inference

    def _output(self, X: NDArray[Any]) -> Array:
        X = check_X(X, self.sizes[0], self.dtype)
        with no_grad():
            z: Array = self.net(Tensor._wrap(X)).data
        return z

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), rows summing to 1 (k = 2 for ``bce``)."""
        return self.probabilities(self._output(X))

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        """The most probable class of each row, int64, shape (n,)."""
        labels: NDArray[np.int64] = np.argmax(self.predict_proba(X), axis=1).astype(np.int64)
        return labels

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        z = self._output(X)
        with no_grad():
            return float(self.criterion(Tensor._wrap(z), check_y(y, len(z), self.n_classes)).data)

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Array]]:
        """``(loss, dL/dθ)``, keyed like :meth:`state_dict`, by one backward pass.

        The parameters are unchanged, and so are their ``.grad`` (restored afterwards).
        """
        X = check_X(X, self.sizes[0], self.dtype)
        y = check_y(y, len(X), self.n_classes)
        named = dict(self.net.named_parameters())
        saved = {name: p.grad for name, p in named.items()}
        self.net.zero_grad()
        loss = self.criterion(self.net(Tensor._wrap(X)), y)
        loss.backward()
        grads = {}
        for name, p in named.items():
            grads[name] = np.zeros_like(p.data) if p.grad is None else p.grad.data.copy()
            p.grad = saved[name]
        return float(loss.data), grads

    # ----------------------------------------------------------------------- state dict

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters: ``"0.weight"`` (out, in), ``"0.bias"``, ``"2.weight"``..."""
        return {name: t.data.copy() for name, t in self.net.state_dict().items()}

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy the arrays in; wrong keys, shapes or dtypes, or NaN/inf, raise ``ValueError``."""
        expected = {name: p.shape for name, p in self.net.named_parameters()}
        self.net.load_state_dict(check_state_dict(state, expected, self.dtype))

    def __repr__(self) -> str:
        return (
            f"Network({self.layers}, activation={self.activation!r}, "
            f"loss={self.loss_name!r}, seed={self.seed}, dtype={self.dtype.name!r})"
        )

r"""The network: a stack of :class:`~fromscratch.matrix.layers.Dense` layers, trained by backprop.

A ``Network([784, 128, 64, 10])`` is, layer by layer (rows of ``X`` are samples),

.. math::

    a^{(0)} = X, \qquad
    z^{(l)} = a^{(l-1)} W^{(l)\top} + b^{(l)}, \qquad
    a^{(l)} = \sigma\big(z^{(l)}\big) \quad (l < L), \qquad
    \text{output} = z^{(L)}

with a linear last layer whose :math:`z^{(L)}` goes straight into the loss. Backpropagation
runs the chain rule from the loss back to the first layer, one matrix product per step:

.. math::

    \frac{\partial L}{\partial z^{(L)}} &= \text{from the loss (e.g. } (P - Y)/n \text{)} \\
    \frac{\partial L}{\partial W^{(l)}} &= \Big(\frac{\partial L}{\partial z^{(l)}}\Big)^\top
        a^{(l-1)}, \qquad
    \frac{\partial L}{\partial b^{(l)}} = \sum_{\text{rows}} \frac{\partial L}{\partial z^{(l)}} \\
    \frac{\partial L}{\partial a^{(l-1)}} &= \frac{\partial L}{\partial z^{(l)}} W^{(l)}, \qquad
    \frac{\partial L}{\partial z^{(l-1)}} = \frac{\partial L}{\partial a^{(l-1)}}
        \odot \sigma'\big(z^{(l-1)}\big)

The forward pass keeps every :math:`z^{(l)}` and :math:`a^{(l)}`, because the backward pass
needs them: that cache is the whole memory cost of backprop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from .activations import ACTIVATIONS
from .layers import Dense
from .losses import LOSSES
from .optim import SGD, Adam, cosine_learning_rate
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

Array = NDArray[np.floating[Any]]
Labels = NDArray[np.integer[Any]]
StateDict = dict[str, Array]
Callback = Callable[[int, Mapping[str, float]], None]


class Network:
    r"""A multilayer perceptron with hand-derived, vectorized backpropagation.

    Equivalent to ``torch.nn.Sequential(Linear, Act, Linear, Act, ..., Linear)`` trained
    with the matching torch loss.

    Parameters
    ----------
    layers
        Layer sizes, inputs first: ``[784, 128, 64, 10]`` is three dense layers.
    activation
        Hidden activation: ``"relu"``, ``"sigmoid"`` or ``"tanh"``. The last layer is
        always linear.
    loss
        ``"cross_entropy"`` (softmax over ``layers[-1] >= 2`` logits), ``"bce"`` (one logit,
        ``layers[-1] == 1``, two classes) or ``"mse"`` (``layers[-1] >= 2`` scores regressed
        onto the one-hot labels).
    seed
        Seeds the initial parameters and the shuffling in :meth:`fit`: the same seed and
        data give bit-identical results.
    dtype
        ``"float32"`` or ``"float64"``: parameters and all arithmetic use it.
    """

    def __init__(
        self,
        layers: Sequence[int],
        *,
        activation: str = "relu",
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        self.sizes = check_layers(layers)
        self.activation = ACTIVATIONS[check_choice("activation", activation, ACTIVATIONS)]
        self.criterion = LOSSES[check_choice("loss", loss, LOSSES)]
        self.dtype: np.dtype[Any] = np.dtype(check_choice("dtype", dtype, DTYPES))
        self.seed = check_seed(seed)

        k = self.sizes[-1]
        if self.criterion.binary and k != 1:
            raise ValueError(
                f"loss='bce' uses one output logit, so layers[-1] must be 1, got {k}; "
                f"for {k} classes use loss='cross_entropy'"
            )
        if not self.criterion.binary and k < 2:
            raise ValueError(
                f"loss={loss!r} needs one output per class, so layers[-1] must be >= 2, "
                f"got {k}; for a single output logit use loss='bce'"
            )
        self.n_classes = 2 if self.criterion.binary else k

        init_rng = np.random.default_rng(self.seed)
        self.layers = [
            Dense(fan_in, fan_out, init_rng, self.dtype)
            for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=False)
        ]
        # Shuffling draws from its own stream, a child of the seed: it never shifts the
        # initial parameters, and it carries on across calls to fit() like torch's RNG.
        self._shuffle_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(1)[0])

    # ------------------------------------------------------------------ forward / backward

    def _forward(self, X: Array) -> tuple[list[Array], list[Array]]:
        """Run the layers; return every ``z`` and every ``a`` (``a[0]`` is ``X``)."""
        zs: list[Array] = []
        activations: list[Array] = [X]
        for i, layer in enumerate(self.layers):
            z = layer.forward(activations[-1])
            zs.append(z)
            if i < len(self.layers) - 1:  # the last layer stays linear
                activations.append(self.activation.forward(z))
        return zs, activations

    def _backprop(self, X: Array, y: Labels) -> float:
        """Forward, loss, backward: fill every layer's ``dL_dW``/``dL_db``; return the loss."""
        zs, activations = self._forward(X)
        L, dL_dz = self.criterion.value_and_gradient(zs[-1], y)
        for l in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[l]
            layer.backward(dL_dz, activations[l])
            if l > 0:  # no gradient for the data X itself
                dL_da = layer.backward_input(dL_dz)
                dL_dz = self.activation.backward(dL_da, zs[l - 1], activations[l])
        return L

    def _parameters(self) -> list[Array]:
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    def _gradient_buffers(self) -> list[Array]:
        return [g for layer in self.layers for g in (layer.dL_dW, layer.dL_db)]

    # -------------------------------------------------------------------------- training

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
        r"""Train by mini-batch gradient descent; return ``self``.

        Each epoch shuffles the rows, then for each batch of ``batch_size`` rows (the last
        one may be smaller) runs forward, backward and one optimizer step.

        Options
        -------
        optimizer
            ``"sgd"`` (default) or ``"adam"``, updating exactly like ``torch.optim``'s.
        momentum, nesterov
            SGD only: momentum in [0, 1) (default 0), Nesterov's variant (default False).
        betas, eps
            Adam only: default ``(0.9, 0.999)`` and ``1e-8``.
        weight_decay
            L2 penalty added to the gradient, both optimizers (default 0).
        schedule
            ``"constant"`` (default) or ``"cosine"`` annealing of the learning rate per
            epoch, see :mod:`fromscratch.matrix.optim`.

        ``callback(epoch, metrics)`` runs after each epoch (counting from 1) with
        ``metrics = {"loss": mean batch loss, "learning_rate": rate used}``.

        ``batch_callback(epoch, batch, loss)``, if given, runs after each mini-batch step
        (``batch`` counts from 1) with that batch's loss: it lets a progress bar move
        inside a long epoch.

        Raises
        ------
        ValueError
            Bad data or hyper-parameters.
        FloatingPointError
            The loss became NaN or infinite (usually a learning rate too high).
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

        optimizer = self._make_optimizer(config, learning_rate)
        params, grads = self._parameters(), self._gradient_buffers()
        n = len(X)
        for epoch in range(1, epochs + 1):
            if config.schedule == "cosine":
                optimizer.lr = cosine_learning_rate(learning_rate, epoch, epochs)
            order = self._shuffle_rng.permutation(n)
            losses = []
            # A diverging run overflows somewhere (exp, a matrix product); that shows up as
            # a non-finite loss, which we turn into a clear error instead of letting NumPy
            # print warnings batch after batch.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for batch, start in enumerate(range(0, n, batch_size), start=1):
                    rows = order[start : start + batch_size]
                    batch_loss = self._backprop(np.take(X, rows, axis=0), y[rows])
                    if not math.isfinite(batch_loss):
                        self._diverged(epoch, batch, batch_loss, optimizer.lr)
                    optimizer.step(grads)
                    losses.append(batch_loss)
                    if batch_callback is not None:
                        batch_callback(epoch, batch, batch_loss)
                # The last step of the epoch may itself have overflowed the parameters.
                if not all(np.isfinite(p).all() for p in params):
                    self._diverged(epoch, batch, None, optimizer.lr)
            if callback is not None:
                callback(
                    epoch, {"loss": math.fsum(losses) / len(losses), "learning_rate": optimizer.lr}
                )
        return self

    def _make_optimizer(self, config: FitOptions, learning_rate: float) -> SGD | Adam:
        params = self._parameters()
        if config.optimizer == "adam":
            return Adam(
                params,
                learning_rate,
                betas=config.betas,
                eps=config.eps,
                weight_decay=config.weight_decay,
            )
        return SGD(
            params,
            learning_rate,
            momentum=config.momentum,
            nesterov=config.nesterov,
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
        zs, _ = self._forward(X)
        return zs[-1]

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), each row summing to 1 (k = 2 for ``bce``)."""
        return self.criterion.probabilities(self._output(X))

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        """The most probable class of each row, int64, shape (n,)."""
        labels: NDArray[np.int64] = np.argmax(self.predict_proba(X), axis=1).astype(np.int64)
        return labels

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        z = self._output(X)
        L, _ = self.criterion.value_and_gradient(z, check_y(y, len(z), self.n_classes))
        return L

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, StateDict]:
        r"""``(loss, dL/dθ)``, the gradients keyed like :meth:`state_dict`; θ is unchanged."""
        X = check_X(X, self.sizes[0], self.dtype)
        y = check_y(y, len(X), self.n_classes)
        L = self._backprop(X, y)
        grads = {}
        for key, layer in zip(self._keys(), self.layers, strict=True):
            grads[f"{key}.weight"] = layer.dL_dW.copy()
            grads[f"{key}.bias"] = layer.dL_db.copy()
        return L, grads

    # ----------------------------------------------------------------------- state dict

    def _keys(self) -> list[str]:
        # nn.Sequential numbers its modules Linear, Act, Linear, ...: Linears sit at 0, 2, 4.
        return [str(2 * i) for i in range(len(self.layers))]

    def state_dict(self) -> StateDict:
        """Copies of the parameters, keyed like ``nn.Sequential``: ``"0.weight"``, ``"0.bias"``."""
        state = {}
        for key, layer in zip(self._keys(), self.layers, strict=True):
            state[f"{key}.weight"] = layer.W.copy()
            state[f"{key}.bias"] = layer.b.copy()
        return state

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy the arrays in; wrong keys, shapes or dtypes, or NaN/inf, raise ``ValueError``."""
        expected = {key: value.shape for key, value in self.state_dict().items()}
        arrays = check_state_dict(state, expected, self.dtype)
        for key, layer in zip(self._keys(), self.layers, strict=True):
            layer.W[...] = arrays[f"{key}.weight"]
            layer.b[...] = arrays[f"{key}.bias"]

    def __repr__(self) -> str:
        return (
            f"Network({list(self.sizes)}, activation={self.activation.name!r}, "
            f"loss={self.criterion.name!r}, seed={self.seed}, dtype={self.dtype.name!r})"
        )

r"""The network: layers of neurons, trained by forward pass, loss, backward pass and a step.

A ``Network([784, 128, 64, 10])`` is three :class:`~fromscratch.loops.layer.Layer` objects
of 128, 64 and 10 neurons. Training repeats four stages on each mini-batch:

1. **Forward.** The batch enters as the matrix :math:`A^{(0)} = X^\top` (one row per input
   feature, one column per sample). Layer by layer, every neuron :math:`j` computes

   .. math::

       z^{(l)}_j = w^{(l)\top}_j A^{(l-1)} + b^{(l)}_j, \qquad
       a^{(l)}_j = \sigma\big(z^{(l)}_j\big)

   and its row :math:`a^{(l)}_j` becomes input :math:`j` of every neuron of layer
   :math:`l + 1`. The last layer is linear: its :math:`Z^{(L)}` goes to the loss.
2. **Loss.** The loss reads the whole output :math:`Z^{(L)}` (the softmax couples the
   output neurons) and hands each output neuron its own row of
   :math:`\partial L / \partial Z^{(L)}`.
3. **Backward.** From the last layer to the first, every neuron turns the error at its
   output into :math:`\partial L / \partial w_j` and :math:`\partial L / \partial b_j`, and
   adds :math:`w_j\, (\partial L / \partial z_j)^\top` into the error of the layer below:

   .. math::

       \frac{\partial L}{\partial z^{(l)}_j} =
           \frac{\partial L}{\partial a^{(l)}_j} \odot \sigma'\big(z^{(l)}_j\big), \qquad
       \frac{\partial L}{\partial A^{(l-1)}} = \sum_j w^{(l)}_j
           \Big(\frac{\partial L}{\partial z^{(l)}_j}\Big)^\top

   Nothing is updated yet, so every neuron sends its error back through the very weights
   the forward pass used.
4. **Step.** Only now does the optimizer move every neuron's parameters, neuron by
   neuron, against the gradients the backward pass left in place.

:meth:`Network.gradients` stops after stage 3 and returns the gradients instead: that is
what makes them checkable against PyTorch and against finite differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from .activations import ACTIVATIONS
from .layer import Layer
from .losses import LOSSES
from .neuron import Neuron
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
    r"""A multilayer perceptron made of :class:`~fromscratch.loops.neuron.Neuron` objects.

    Equivalent to ``torch.nn.Sequential(Linear, Act, Linear, Act, ..., Linear)`` trained
    with the matching torch loss, but computed one neuron at a time.

    Parameters
    ----------
    layers
        Layer sizes, inputs first: ``[784, 128, 64, 10]`` is 784 inputs and layers of 128,
        64 and 10 neurons.
    activation
        The hidden neurons' activation: ``"relu"``, ``"sigmoid"`` or ``"tanh"``. Output
        neurons are linear.
    loss
        ``"cross_entropy"`` (softmax over ``layers[-1] >= 2`` logits), ``"bce"`` (one output
        neuron, two classes) or ``"mse"`` (``layers[-1] >= 2`` scores regressed onto the
        one-hot labels).
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
        last = len(self.sizes) - 2
        self.layers = [
            Layer(n_in, n_out, None if l == last else self.activation, init_rng, self.dtype)
            for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=False))
        ]
        # Shuffling draws from its own stream, a child of the seed: it never shifts the
        # initial parameters, and it carries on across calls to fit() like torch's RNG.
        self._shuffle_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(1)[0])

    def neurons(self) -> list[Neuron]:
        """Every neuron, layer by layer: the order in which the optimizer visits them."""
        return [neuron for layer in self.layers for neuron in layer.neurons]

    # ------------------------------------------------------------------ forward / backward

    def _forward(self, X: Array) -> Array:
        """Run every layer on the rows of ``X`` (n, d); return the output ``Z`` (k, n)."""
        A = X.T  # one row per input feature: a view, the neurons read it as it is
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def _backprop(self, X: Array, y: Labels) -> float:
        """Forward, loss, backward: fill every neuron's ``grad``; return the loss."""
        Z = self._forward(X)
        L, dL_dZ = self.criterion.value_and_gradient(Z, y)
        np.copyto(self.layers[-1].dL_dZ, dL_dZ)  # row j: output neuron j's error
        for l in range(len(self.layers) - 1, -1, -1):
            below = self.layers[l - 1].dL_dA if l > 0 else None  # no error for the data X
            self.layers[l].backward(below)
        return L

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
        one may be smaller) runs the forward pass, the loss, the backward pass and one
        optimizer step.

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
            epoch, see :mod:`fromscratch.loops.optim`.

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

        optimizer = self._optimizer(config, learning_rate)
        n = len(X)
        for epoch in range(1, epochs + 1):
            if config.schedule == "cosine":
                optimizer.lr = cosine_learning_rate(learning_rate, epoch, epochs)
            order = self._shuffle_rng.permutation(n)
            losses = []
            # A diverging run overflows somewhere (an exp, a dot product); that shows up as
            # a non-finite loss, which we turn into one clear error instead of NumPy
            # warnings batch after batch.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for batch, start in enumerate(range(0, n, batch_size), start=1):
                    rows = order[start : start + batch_size]
                    batch_loss = self._backprop(np.take(X, rows, axis=0), y[rows])
                    if not math.isfinite(batch_loss):
                        self._diverged(epoch, batch, batch_loss, optimizer.lr)
                    optimizer.step()
                    losses.append(batch_loss)
                    if batch_callback is not None:
                        batch_callback(epoch, batch, batch_loss)
                # The epoch's last step may itself have overflowed the parameters.
                if not all(np.isfinite(theta).all() for theta in optimizer.params):
                    self._diverged(epoch, batch, None, optimizer.lr)
            if callback is not None:
                mean_loss = math.fsum(losses) / len(losses)
                callback(epoch, {"loss": mean_loss, "learning_rate": optimizer.lr})
        return self

    def _optimizer(self, config: FitOptions, learning_rate: float) -> SGD | Adam:
        """The optimizer of ``config``, over every neuron's parameters and gradient."""
        neurons = self.neurons()
        params = [neuron.theta for neuron in neurons]
        grads = [neuron.grad for neuron in neurons]
        if config.optimizer == "adam":
            return Adam(
                params,
                grads,
                learning_rate,
                betas=config.betas,
                eps=config.eps,
                weight_decay=config.weight_decay,
            )
        return SGD(
            params,
            grads,
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
        return self._forward(check_X(X, self.sizes[0], self.dtype))

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), each row summing to 1 (k = 2 for ``bce``)."""
        P = self.criterion.probabilities(self._output(X))  # (classes, n)
        return np.ascontiguousarray(P.T)

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        """The most probable class of each row, int64, shape (n,)."""
        labels: NDArray[np.int64] = np.argmax(self.predict_proba(X), axis=1).astype(np.int64)
        return labels

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        Z = self._output(X)
        L, _ = self.criterion.value_and_gradient(Z, check_y(y, Z.shape[1], self.n_classes))
        return L

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, StateDict]:
        r"""``(loss, dL/dθ)``, the gradients keyed like :meth:`state_dict`; θ is unchanged.

        Stages 1 to 3 of training without the step: each neuron's gradient vector is
        stacked into its layer's (out, in) weight gradient and (out,) bias gradient.
        """
        X = check_X(X, self.sizes[0], self.dtype)
        y = check_y(y, len(X), self.n_classes)
        L = self._backprop(X, y)
        grads = {}
        for key, layer in zip(self._keys(), self.layers, strict=True):
            grads[f"{key}.weight"] = np.stack([neuron.dL_dw for neuron in layer.neurons])
            grads[f"{key}.bias"] = np.concatenate([neuron.dL_db for neuron in layer.neurons])
        return L, grads

    # ----------------------------------------------------------------------- state dict

    def _keys(self) -> list[str]:
        # nn.Sequential numbers its modules Linear, Act, Linear, ...: Linears sit at 0, 2, 4.
        return [str(2 * i) for i in range(len(self.layers))]

    def state_dict(self) -> StateDict:
        """The neurons' parameters stacked in torch layout: ``"0.weight"`` (out, in), ``"0.bias"``.

        Row ``j`` of a weight matrix is neuron ``j``'s weight vector. The arrays are new:
        changing them does not change the model.
        """
        state = {}
        for key, layer in zip(self._keys(), self.layers, strict=True):
            state[f"{key}.weight"] = layer.weight_matrix()
            state[f"{key}.bias"] = layer.bias_vector()
        return state

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Give row ``j`` of each weight matrix to neuron ``j``; bad keys, shapes, dtypes or
        non-finite values raise ``ValueError`` before anything changes."""
        expected = {key: value.shape for key, value in self.state_dict().items()}
        arrays = check_state_dict(state, expected, self.dtype)
        for key, layer in zip(self._keys(), self.layers, strict=True):
            W, b = arrays[f"{key}.weight"], arrays[f"{key}.bias"]
            for j, neuron in enumerate(layer.neurons):
                neuron.w[...] = W[j]  # in place: the optimizer and views keep pointing here
                neuron.b[...] = b[j]

    def __repr__(self) -> str:
        return (
            f"Network({list(self.sizes)}, activation={self.activation.name!r}, "
            f"loss={self.criterion.name!r}, seed={self.seed}, dtype={self.dtype.name!r})"
        )

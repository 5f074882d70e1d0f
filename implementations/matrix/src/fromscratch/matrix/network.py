r"""The network: a list of modules in ``nn.Sequential`` order, trained by backprop.

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

The modules are ``Linear, ReLU, Linear, ReLU, ..., Linear``, exactly the entries of the
equivalent ``torch.nn.Sequential``. The forward pass runs them in order; each keeps its
input (:math:`a^{(l-1)}` or :math:`z^{(l)}`), because the backward pass needs it: that
cache is the whole memory cost of backprop. The backward pass runs them in reverse, each
turning the gradient at its output into the gradient at its input, and the update steps
every parameter against the gradient its module stored beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary import validation as check
from fromscratch.boundary.loop import shuffle_rng, train
from fromscratch.boundary.model import Classifier
from fromscratch.boundary.optim import Parameter, set_learning_rate
from fromscratch.boundary.options import check_fit_options, make_optimizer
from fromscratch.boundary.types import DTYPES, Array, BatchCallback, Callback, Labels, StateDict

from .activations import ACTIVATIONS, ActivationLayer
from .layers import Linear, Module
from .losses import LOSSES


class Network(Classifier):
    r"""A multilayer perceptron with hand-derived, vectorized backpropagation.

    Equivalent to ``torch.nn.Sequential(Linear, Act, Linear, Act, ..., Linear)`` trained
    with the matching torch loss.

    Parameters
    ----------
    layers
        Layer sizes, inputs first: ``[784, 128, 64, 10]`` is three linear layers.
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

    # ------------------------------------------------------- forward, backward, update

    def forward(self, X: Array) -> Array:
        """Run the modules in order; return the last one's output ``z`` (logits or scores)."""
        a = X
        for module in self.modules:
            a = module.forward(a)
        return a

    def backward(self, X: Array, y: Labels) -> float:
        """Forward, loss, then the chain rule back through the modules in reverse order:
        every module stores its parameters' gradients. Returns the loss."""
        z = self.forward(X)
        L, dL_dout = self.criterion.value_and_gradient(z, y)
        for module in reversed(self.modules):
            dL_din = module.backward(dL_dout)
            if dL_din is None:  # the first layer: nothing before it learns
                break
            dL_dout = dL_din
        return L

    def parameters(self) -> list[Parameter]:
        """Every parameter, module by module, with the gradient stored beside it: what the
        optimizer's ``step()`` updates (``fit(optimizer=...)`` picks the optimizer)."""
        return [Parameter(m, name) for m in self.modules for name in m.params.values()]

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
        self.modules: list[Module] = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=False):
            if self.modules:  # an activation between two linear layers
                self.modules.append(ActivationLayer(self.activation))
            self.modules.append(Linear(fan_in, fan_out, rng, self.dtype))
        self.modules[0].needs_input_grad = False
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
        r"""Train by mini-batch gradient descent; return ``self``.

        Each epoch shuffles the rows (unless ``shuffle=False``), then for each batch of
        ``batch_size`` rows runs :meth:`backward` and one optimizer step. ``options``
        are those of :mod:`fromscratch.boundary.options`: ``optimizer`` (``"sgd"`` or
        ``"adam"``), ``momentum``, ``nesterov``, ``betas``, ``eps``, ``weight_decay``,
        ``schedule`` (``"constant"`` or ``"cosine"``) and ``shuffle``.
        ``callback(epoch, {"loss", "learning_rate"})`` runs after each epoch,
        ``batch_callback(epoch, batch, loss)`` after each batch.

        Raises ``ValueError`` for bad data or hyper-parameters, ``FloatingPointError`` when
        the loss or the parameters stop being finite (usually a learning rate too high).
        """
        epochs, batch_size, learning_rate = check.check_fit_arguments(
            epochs, batch_size, learning_rate, callback, batch_callback
        )
        config = check_fit_options(options)
        X = check.check_X(X, self.sizes[0], self.dtype)
        y = check.check_y(y, len(X), self.n_classes)
        optimizer = make_optimizer(self.parameters(), learning_rate, config)
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
            parameters=lambda: (p.data for p in self.parameters()),
            callback=callback,
            batch_callback=batch_callback,
        )
        return self

    # ------------------------------------------------------------- the Model protocol

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), each row summing to 1 (k = 2 for ``bce``)."""
        return self.criterion.probabilities(
            self.forward(check.check_X(X, self.sizes[0], self.dtype))
        )

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        z = self.forward(check.check_X(X, self.sizes[0], self.dtype))
        L, _ = self.criterion.value_and_gradient(z, check.check_y(y, len(z), self.n_classes))
        return L

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, StateDict]:
        r"""``(loss, dL/dθ)``, the gradients keyed like :meth:`state_dict`; θ is unchanged."""
        X = check.check_X(X, self.sizes[0], self.dtype)
        L = self.backward(X, check.check_y(y, len(X), self.n_classes))
        grads = {key: p.grad.copy() for key, p in self._named() if p.grad is not None}
        return L, grads

    def state_dict(self) -> StateDict:
        """Copies of the parameters, keyed like ``nn.Sequential``: ``"0.weight"``, ``"0.bias"``."""
        return {key: p.data.copy() for key, p in self._named()}

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy the arrays in; wrong keys, shapes or dtypes, or NaN/inf, raise ``ValueError``."""
        named = self._named()
        expected = {key: p.data.shape for key, p in named}
        arrays = check.check_state_dict(state, expected, self.dtype)
        for key, p in named:
            p.data[...] = arrays[key]  # in place: the optimizer's handles read these arrays

    def _named(self) -> list[tuple[str, Parameter]]:
        """``("0.weight", handle)``...: module ``i`` of the list is entry ``i`` of
        ``nn.Sequential``, and ``params`` gives torch's name for each attribute."""
        return [
            (f"{i}.{torch_name}", Parameter(module, name))
            for i, module in enumerate(self.modules)
            for torch_name, name in module.params.items()
        ]

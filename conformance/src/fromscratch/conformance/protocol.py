"""The Model protocol every implementation satisfies.

Implementations never import this module: they match it *structurally*, the way
any object with ``read()`` is a file. The conformance suite uses these classes to
type-check and to ask, at run time, which parts of the protocol a class offers.

A model is an MLP in the shape of ``torch.nn.Sequential(Linear, Act, Linear, Act, ..., Linear)``:
``layers=[784, 128, 64, 10]`` means three ``Linear`` layers, the hidden activation after
each of the first two, and a linear output layer whose outputs are logits (or scores, for
``mse``). The loss decides what the output means:

====================  ==========================  =====================================
``loss``              torch equivalent            ``predict_proba``
====================  ==========================  =====================================
``"cross_entropy"``   ``CrossEntropyLoss()``      ``softmax(logits)``, shape (n, k)
``"bce"``             ``BCEWithLogitsLoss()``     ``[1 - sigmoid(z), sigmoid(z)]``, (n, 2)
``"mse"``             ``MSELoss()`` vs one-hot    ``softmax(outputs)``, shape (n, k)
====================  ==========================  =====================================

Errors, for every implementation:

* bad input (shape, dtype, NaN or inf, labels out of range, unknown names, bad state
  dict, bad hyper-parameters) raises ``ValueError`` whose message says what was wrong,
  where, and what was expected;
* training whose loss becomes non-finite raises ``FloatingPointError`` naming the epoch
  and batch, and what to try instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

import numpy as np
from numpy.typing import NDArray

Activation: TypeAlias = Literal["relu", "sigmoid", "tanh"]
Loss: TypeAlias = Literal["cross_entropy", "bce", "mse"]
DType: TypeAlias = Literal["float32", "float64"]
StateDict: TypeAlias = dict[str, NDArray[np.floating[Any]]]
Metrics: TypeAlias = Mapping[str, float]
Callback: TypeAlias = Callable[[int, Metrics], None]
"""``callback(epoch, metrics)``, called after each epoch (``epoch`` counts from 1).

``metrics`` holds at least ``"loss"``: the mean training loss over the epoch's batches.
"""

Recipe: TypeAlias = Mapping[str, Mapping[str, Any]]
"""``{"model": constructor kwargs, "fit": fit kwargs}`` for one dataset."""

Recipes: TypeAlias = Mapping[str, Recipe]
"""The module-level ``RECIPES`` of an implementation: ``{"mnist": ..., "breast_cancer": ...}``."""


@runtime_checkable
class Model(Protocol):
    """What every implementation offers.

    Construction::

        Impl(layers=[784, 128, 64, 10], *, activation="relu", loss="cross_entropy",
             seed=0, dtype="float32")

    Parameters are initialised as ``torch.nn.Linear`` does, from a generator seeded
    with ``seed``: :math:`W, b \\sim \\mathcal{U}(-1/\\sqrt{n_{in}}, 1/\\sqrt{n_{in}})`.
    """

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        callback: Callback | None = None,
        **options: Any,
    ) -> Model:
        """Train on ``X`` (n, d) and integer labels ``y`` (n,); return ``self``."""
        ...

    def predict_proba(self, X: NDArray[Any]) -> NDArray[np.floating[Any]]:
        """Class probabilities, shape (n, k), each row summing to 1 (k = 2 for ``bce``)."""
        ...

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        """The most probable class of each row, int64, shape (n,)."""
        ...

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, exactly as the torch loss defines it."""
        ...

    def state_dict(self) -> StateDict:
        """Copies of the parameters, keyed and shaped like the equivalent ``nn.Sequential``.

        ``"0.weight"`` has shape (out, in), ``"0.bias"`` shape (out,), the next Linear is
        ``"2.*"`` (index 1 is the activation), and so on.
        """
        ...

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Replace the parameters; wrong keys, shapes or dtypes raise ``ValueError``."""
        ...


@runtime_checkable
class Differentiable(Model, Protocol):
    """A model that can report exact gradients of its loss, and trains by them.

    Its ``fit`` accepts torch's optimizer settings as options, with torch's meaning and
    defaults: ``optimizer`` (``"sgd"`` or ``"adam"``), ``momentum``, ``nesterov``,
    ``weight_decay``, ``schedule`` (``"constant"`` or ``"cosine"``, annealed per epoch), and
    ``shuffle=False`` to take the rows in order, ``batch_size`` at a time, every epoch. With
    them the suite replays its training in torch step for step (``training_vs_torch``).
    """

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, StateDict]:
        """Return ``(loss(X, y), dL/dθ)`` keyed like :meth:`Model.state_dict`.

        The parameters are left unchanged.
        """
        ...


@runtime_checkable
class GradientEstimator(Model, Protocol):
    """A gradient-free model that estimates the gradient it never computes: evolution strategies."""

    def estimate_gradient(
        self, X: NDArray[Any], y: NDArray[Any], *, population: int, sigma: float, seed: int
    ) -> StateDict:
        r"""The direction the trainer steps against: an estimate of :math:`\nabla_\theta L(X, y)`
        up to a positive factor, keyed like :meth:`Model.state_dict`.

        It is drawn from ``population`` perturbations :math:`\theta \pm \sigma\epsilon_i`
        (``population // 2`` antithetic pairs) by the very estimator training uses, fitness
        shaping included, from a generator seeded with ``seed``. The parameters are left
        unchanged; an odd or non-positive ``population`` or a non-positive ``sigma`` raises
        ``ValueError``.
        """
        ...


ModelFactory: TypeAlias = Callable[..., Model]
"""The class an implementation registers: ``factory(layers, **kwargs) -> Model``."""

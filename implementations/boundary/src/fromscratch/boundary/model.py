"""What a model of the protocol offers beyond its math: the constructor's checks,
``fit`` for a model trained by gradients (:mod:`fromscratch.boundary.fit`), ``predict``
from ``predict_proba``, and a ``__repr__`` that reads like the call that built it.

An implementation subclasses :class:`GradientClassifier` (or :class:`Classifier`, for a
model trained without gradients) and writes its subject: ``forward``, ``backward`` (the
forward pass, the loss and the gradients stored beside the parameters; returns the loss)
and ``parameters`` (what the optimizer steps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from . import spec as architecture
from . import validation as check
from .fit import GradientFit
from .loop import shuffle_rng
from .types import DTYPES, Array, Labels


class Classifier:
    """The protocol's plumbing: the constructor, ``predict``, ``__repr__``.

    ``Network(layers, *, activation="relu", loss="cross_entropy", seed=0, dtype="float32")``
    is equivalent to the ``torch.nn.Sequential`` that ``layers`` describes, trained with the
    matching torch loss. A subclass names its ``activations`` and ``losses`` (name -> its
    object for it) and the ``supported_layers`` it builds, and defines ``build(rng)``, which
    turns ``specs`` into its layers and draws their initial parameters from ``rng`` (seeded
    by ``seed``), and ``_output``.

    Parameters
    ----------
    layers
        Layer sizes, inputs first: ``[784, 128, 64, 10]`` is ``Linear(784, 128), Act(),
        Linear(128, 64), Act(), Linear(64, 10)``. Or the architecture spec
        (:mod:`fromscratch.boundary.spec`), one ``torch.nn`` constructor call per
        ``nn.Sequential`` entry: ``["Unflatten(1, (1, 28, 28))", "Conv2d(1, 6, 5,
        padding=2)", "ReLU()", ...]``, with layers of the class's ``supported_layers`` only.
    activation
        Hidden activation of the sizes form: ``"relu"``, ``"sigmoid"`` or ``"tanh"``. The
        last layer is always linear. A spec names its activations itself.
    loss
        ``"cross_entropy"`` (softmax over ``layers[-1] >= 2`` logits), ``"bce"`` (one logit,
        ``layers[-1] == 1``, two classes) or ``"mse"`` (``layers[-1] >= 2`` scores regressed
        onto the one-hot labels).
    seed
        Seeds the initial parameters and every random draw of training (the shuffling,
        and a search's noise): the same seed and data give bit-identical results.
    dtype
        ``"float32"`` or ``"float64"``: parameters and all arithmetic use it.
    """

    activations: ClassVar[Mapping[str, Any]] = {}
    losses: ClassVar[Mapping[str, Any]] = {}
    supported_layers: ClassVar[frozenset[str]] = architecture.MLP_LAYERS
    """The ``torch.nn`` names a spec may use with this class; others raise ``ValueError``."""

    spec: list[str] | None
    specs: list[architecture.LayerSpec]
    sizes: tuple[int, ...]
    activation_name: str
    loss_name: str
    activation: Any
    criterion: Any
    seed: int
    dtype: np.dtype[Any]
    n_classes: int

    def __init__(
        self,
        layers: Sequence[int] | Sequence[str],
        *,
        activation: str = "relu",
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        self.configure(layers, activation, loss, seed, dtype)
        self.build(np.random.default_rng(self.seed))

    def build(self, rng: np.random.Generator) -> None:
        """Make the layers of ``specs`` (``self.specs``), parameters drawn from ``rng``."""
        raise NotImplementedError

    def configure(
        self, layers: object, activation: object, loss: object, seed: object, dtype: object
    ) -> None:
        """Check the constructor's arguments and keep them: ``spec`` (the spec strings as
        given, or None for the sizes form), ``specs`` (one bound
        :class:`~fromscratch.boundary.spec.LayerSpec` per ``nn.Sequential`` entry),
        ``sizes`` (every width of the sizes form; for a spec, the widths of ``X`` and of
        the output), ``activation`` (the implementation's object for it) and
        ``activation_name``, ``criterion`` (its loss object) and ``loss_name``, ``dtype``,
        ``seed``, ``n_classes``, and the shuffling's generator ``shuffle_rng``."""
        self.activation_name = check.check_choice("activation", activation, self.activations)
        self.activation = self.activations[self.activation_name]
        self.spec = None
        if architecture.is_spec(layers):
            self.specs = architecture.parse_layers(layers)  # type: ignore[arg-type]
            self.check_supported(self.specs)
            widths = architecture.shapes(self.specs)
            self.sizes = (widths[0][0], widths[-1][0])
            self.spec = [str(entry) for entry in layers]  # type: ignore[attr-defined]
        else:
            self.sizes = check.check_layers(layers)
            self.specs = architecture.mlp(self.sizes, self.activation_name)
        self.loss_name = check.check_choice("loss", loss, self.losses)
        self.criterion = self.losses[self.loss_name]
        self.dtype = np.dtype(check.check_choice("dtype", dtype, DTYPES))
        self.seed = check.check_seed(seed)
        self.n_classes = check.check_outputs(self.loss_name, self.sizes[-1])
        self.shuffle_rng = shuffle_rng(self.seed)

    def check_supported(self, specs: Sequence[architecture.LayerSpec]) -> None:
        """Refuse a spec with layers this class does not build, naming each as ``layers[i]``."""
        unsupported = [
            (i, spec) for i, spec in enumerate(specs) if spec.name not in self.supported_layers
        ]
        if unsupported:
            where = ", ".join(f"layers[{i}] = {spec}" for i, spec in unsupported)
            names = ", ".join(dict.fromkeys(spec.name for _, spec in unsupported))
            raise ValueError(
                f"{where}: {self._implementation()}'s {type(self).__name__} does not build "
                f"{names} layers; supported: {', '.join(sorted(self.supported_layers))}"
            )

    def _implementation(self) -> str:
        """The implementation's name, from the package: ``fromscratch.matrix`` -> ``matrix``."""
        module = type(self).__module__.split(".")
        return module[1] if len(module) > 1 else module[0]

    def check_X(self, X: object) -> Array:
        """``X`` checked against this model's input width and cast to its dtype."""
        return check.check_X(X, self.sizes[0], self.dtype)

    def check_y(self, y: object, n_samples: int) -> NDArray[np.int64]:
        """``y`` checked: ``n_samples`` labels of this model's classes."""
        return check.check_y(y, n_samples, self.n_classes)

    def _output(self, X: NDArray[Any]) -> Array:
        """The network's output ``z`` (n, k) for ``X``, checked: logits or scores."""
        raise NotImplementedError

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), each row summing to 1 (k = 2 for ``bce``)."""
        P: Array = self.criterion.probabilities(self._output(X))
        return P

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        """The most probable class of each row, int64, shape (n,)."""
        labels: NDArray[np.int64] = np.argmax(self.predict_proba(X), axis=1).astype(np.int64)
        return labels

    def __repr__(self) -> str:
        # A spec names its activations itself; the sizes form needs ``activation``.
        written = (
            repr(self.spec)
            if self.spec is not None
            else f"{list(self.sizes)}, activation={self.activation_name!r}"
        )
        return (
            f"{type(self).__name__}({written}, loss={self.loss_name!r}, seed={self.seed}, "
            f"dtype={self.dtype.name!r})"
        )


class GradientClassifier(Classifier, GradientFit):
    """A classifier trained by mini-batch gradient descent: ``fit`` is the shared one
    (:class:`~fromscratch.boundary.fit.GradientFit`), around the subclass's ``backward``
    and ``parameters``."""

    def backward(self, X: Array, y: Labels) -> float:
        raise NotImplementedError

    def check_data(self, X: object, y: object) -> tuple[Array, Labels]:
        """``X`` checked against the input width, ``y`` against the classes."""
        X = self.check_X(X)
        return X, self.check_y(y, len(X))

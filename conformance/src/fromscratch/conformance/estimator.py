"""A scikit-learn classifier backed by any installed fromscratch implementation.

::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from fromscratch.conformance.estimator import FromScratchClassifier

    clf = make_pipeline(StandardScaler(), FromScratchClassifier(impl="loops", epochs=50))
    clf.fit(X_train, y_train).score(X_test, y_test)

It is a plain scikit-learn estimator (``clone``, ``Pipeline``, ``cross_val_score``,
``GridSearchCV``, pickling) that passes ``check_estimator``. Parameters take
:class:`sklearn.neural_network.MLPClassifier`'s names where one exists
(``hidden_layer_sizes``, ``activation``, ``solver``, ``alpha``, ``batch_size``,
``momentum``, ``verbose``); the rest are the protocol's (``impl``, ``epochs``,
``learning_rate`` the step size, ``seed``, ``loss``, ``dtype``), and ``fit_options``
passes anything an implementation's ``fit`` accepts, e.g. ``{"strategy": "ga"}`` for
``evolution`` or ``{"schedule": "cosine"}``.

Labels may be anything scikit-learn accepts (strings, non-contiguous integers): they
are encoded as ``0 .. k-1`` in the order of ``classes_`` and decoded on the way out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from fromscratch.conformance.progress import TrainingProgress
from fromscratch.conformance.registry import RegistryError, select

ACTIVATION_ALIASES = {"logistic": "sigmoid"}  # MLPClassifier's name for the sigmoid


class FromScratchClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A multi-layer perceptron classifier, trained by a fromscratch implementation.

    Parameters
    ----------
    impl : str, default="matrix"
        An installed implementation (``fromscratch list``).
    hidden_layer_sizes : tuple of int, default=(128, 64)
        The hidden layers' sizes; ``()`` is softmax (or logistic) regression.
    activation : {"relu", "sigmoid", "tanh", "logistic"}, default="relu"
        The hidden activation (``"logistic"`` is ``"sigmoid"``).
    epochs : int, default=200
        Passes over the training data (MLPClassifier's ``max_iter``).
    batch_size : int or "auto", default="auto"
        Rows per step; ``"auto"`` is ``min(200, n_samples)``, as in MLPClassifier.
    learning_rate : float, default=1e-3
        The step size (MLPClassifier's ``learning_rate_init``); for ``evolution``'s
        genetic algorithm and hill climbing, the mutation scale.
    solver : {"adam", "sgd"}, default="adam"
        The optimizer (for ``evolution``, the one that steps along the ES estimate).
    momentum : float, default=0.9
        SGD's momentum; used only with ``solver="sgd"``.
    alpha : float, default=0.0
        L2 penalty, passed as ``weight_decay``.
    loss : {"cross_entropy", "bce", "mse"}, default="cross_entropy"
        ``"bce"`` needs exactly two classes.
    seed : int, default=0
        Seeds initialisation and shuffling: the same seed gives the same model.
    dtype : {"float64", "float32"}, default="float64"
    fit_options : dict, default=None
        More keyword arguments for the implementation's ``fit``.
    verbose : bool, default=False
        Show the live progress display while fitting.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    model_ : the fitted implementation's model (it has ``state_dict()``).
    layers_ : list of int, the network's sizes, input to output.
    loss_curve_ : list of float, the mean training loss of each epoch.
    n_iter_ : int, the epochs run.
    """

    def __init__(
        self,
        impl: str = "matrix",
        hidden_layer_sizes: tuple[int, ...] | int = (128, 64),
        activation: str = "relu",
        *,
        epochs: int = 200,
        batch_size: int | str = "auto",
        learning_rate: float = 1e-3,
        solver: str = "adam",
        momentum: float = 0.9,
        alpha: float = 0.0,
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float64",
        fit_options: Mapping[str, Any] | None = None,
        verbose: bool = False,
    ) -> None:
        self.impl = impl
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.solver = solver
        self.momentum = momentum
        self.alpha = alpha
        self.loss = loss
        self.seed = seed
        self.dtype = dtype
        self.fit_options = fit_options
        self.verbose = verbose

    def fit(self, X: ArrayLike, y: ArrayLike) -> FromScratchClassifier:
        """Encode the labels, build the network and train it; return ``self``."""
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        rows: NDArray[Any]
        labels: NDArray[Any]
        rows, labels = validate_data(self, X, y, dtype=self.dtype)
        check_classification_targets(labels)
        self.classes_, y_encoded = np.unique(labels, return_inverse=True)
        k = len(self.classes_)
        if k < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_[0]!r}): a classifier needs at least 2 classes"
            )
        if self.loss == "bce" and k != 2:
            raise ValueError(f"loss='bce' needs exactly 2 classes, y has {k}")

        impl = self._implementation()
        layers = [rows.shape[1], *self._hidden(), 1 if self.loss == "bce" else k]
        activation = ACTIVATION_ALIASES.get(self.activation, self.activation)
        model = impl.build(
            layers, activation=activation, loss=self.loss, seed=self.seed, dtype=self.dtype
        )
        batch_size = min(200, len(rows)) if self.batch_size == "auto" else int(self.batch_size)
        options: dict[str, Any] = {"optimizer": self.solver}
        if self.solver == "sgd":
            options["momentum"] = self.momentum
        if self.alpha:
            options["weight_decay"] = self.alpha
        options.update(self.fit_options or {})

        curve: list[float] = []
        hooks: dict[str, Any] = {"callback": lambda epoch, m: curve.append(float(m["loss"]))}
        progress = None
        if self.verbose:
            progress = TrainingProgress(
                self.epochs, n_rows=len(rows), batch_size=batch_size, label=impl.name
            )
            hooks = progress.fit_kwargs(model)
        with progress or contextlib.nullcontext():
            model.fit(
                rows,
                y_encoded,
                epochs=self.epochs,
                batch_size=batch_size,
                learning_rate=self.learning_rate,
                **hooks,
                **options,
            )
        if progress is not None:
            curve = [loss for _, loss in progress.history]
        self.model_ = model
        self.layers_ = layers
        self.loss_curve_ = curve
        self.n_iter_ = self.epochs
        return self

    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Probability of each class in ``classes_``, shape (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.dtype)
        proba: NDArray[np.floating[Any]] = self.model_.predict_proba(X)
        return proba

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The most probable class of each row, as one of ``classes_``."""
        proba = self.predict_proba(X)
        labels: NDArray[Any] = self.classes_[np.argmax(proba, axis=1)]
        return labels

    # -------------------------------------------------------------------------- pickling

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the fitted model as its state dict, never as the implementation's objects.

        An implementation's objects may not survive pickling intact (``loops`` keeps each
        neuron's weights as a view into its layer's matrix, which pickle would split), and
        some carry large caches (``evolution``'s noise table); the state dict is the
        portable form the protocol promises, and :meth:`__setstate__` rebuilds from it.
        """
        state: dict[str, Any] = dict(super().__getstate__())  # a copy: never self.__dict__
        if "model_" in state:
            state["model_"] = {"state_dict": self.model_.state_dict(), "layers": self.layers_}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.get("model_")
        super().__setstate__(state)
        if isinstance(saved, dict):
            model = self._implementation().build(
                saved["layers"],
                activation=ACTIVATION_ALIASES.get(self.activation, self.activation),
                loss=self.loss,
                seed=self.seed,
                dtype=self.dtype,
            )
            model.load_state_dict(saved["state_dict"])
            self.model_ = model

    # -------------------------------------------------------------------------- plumbing

    def _implementation(self) -> Any:
        try:
            return select([self.impl])[0]
        except RegistryError as exc:
            raise ValueError(f"impl={self.impl!r}: {exc}") from exc

    def _hidden(self) -> list[int]:
        given = self.hidden_layer_sizes
        sizes: list[Any] = [given] if isinstance(given, int | np.integer) else list(given)
        if not all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in sizes) or (
            sizes and min(sizes) < 1
        ):
            raise ValueError(f"hidden_layer_sizes must be positive ints, got {given!r}")
        return [int(n) for n in sizes]

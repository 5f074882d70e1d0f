"""The checks: each one measures something about an implementation and returns numbers.

The pytest suite (``conformance/tests``) and the report (``python -m fromscratch.conformance
report``) both call these functions, so a test and a report line can never disagree.
A check returns a :class:`Measurement`; it raises only when the implementation itself
raises where it should not, which the caller reports as a failure.
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
import zlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Final

import numpy as np
import torch
from numpy.typing import NDArray

from fromscratch.conformance import reference
from fromscratch.conformance.registry import Implementation
from fromscratch.conformance.tolerances import (
    ACCURACY_THRESHOLDS,
    CENTRAL_DIFFERENCE_STEP,
    SUBSETS,
    TOLERANCES,
    Dataset,
    Tolerance,
    es_cosine_threshold,
    es_expected_cosine,
)

ACTIVATIONS: Final = ("relu", "sigmoid", "tanh")
LOSSES: Final = ("cross_entropy", "bce", "mse")
N_FEATURES: Final = 4
HIGHER_IS_BETTER: Final = frozenset({"accuracy", "es_gradient"})
"""Checks whose value is a score to reach (the rest measure an error ratio to stay under)."""


@dataclass
class Measurement:
    """One thing an implementation was judged by.

    For tolerance checks ``value`` is the worst ratio of error to allowed error and
    ``bound`` is 1 (lower is better); for accuracy ``value`` is the test accuracy and
    ``bound`` the threshold (higher is better); pass/fail checks have no value.
    """

    check: str
    implementation: str
    case: str
    value: float | None
    bound: float | None
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain dict; an infinite value (an error beyond measure) becomes a string."""
        value = self.value
        return {**asdict(self), "value": str(value) if value and math.isinf(value) else value}

    def describe(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.details.items() if not isinstance(v, list))
        verdict = "passed" if self.passed else "FAILED"
        measured = "" if self.value is None else f"value {self.value:.4g} vs bound {self.bound}; "
        return f"{self.check}[{self.case}] {verdict}: {measured}{extra}"


def _within(
    check: str, impl: Implementation, case: str, worst: float, **details: Any
) -> Measurement:
    """A tolerance check: passes when the worst error ratio is at most 1."""
    return Measurement(check, impl.name, case, worst, 1.0, bool(worst <= 1.0), details)


def _verdict(check: str, impl: Implementation, case: str, ok: bool, **details: Any) -> Measurement:
    """A pass/fail check."""
    return Measurement(check, impl.name, case, None, None, ok, details)


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One small network and batch for the gradient and forward checks."""

    activation: str
    loss: str
    layers: tuple[int, ...]
    batch_size: int

    @property
    def id(self) -> str:
        sizes = "x".join(map(str, self.layers))
        return f"{self.activation}-{self.loss}-{sizes}-n{self.batch_size}"

    @property
    def n_classes(self) -> int:
        return 2 if self.loss == "bce" else self.layers[-1]

    def seed(self) -> int:
        """A stable seed per case, so every run draws the same data."""
        return zlib.crc32(self.id.encode())

    def batch(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Random, non-uniform inputs (each feature its own scale and offset) and labels."""
        rng = np.random.default_rng(self.seed())
        scale = rng.uniform(0.5, 2.0, size=self.layers[0])
        offset = rng.normal(size=self.layers[0])
        X = rng.normal(size=(self.batch_size, self.layers[0])) * scale + offset
        y = rng.integers(0, self.n_classes, size=self.batch_size)
        return X, y.astype(np.int64)


def _outputs(loss: str) -> int:
    return 1 if loss == "bce" else 3


def gradient_cases() -> list[Case]:
    """Every activation x loss, at depths 1-3 (depth 1 is logistic / softmax regression),
    with batch sizes 1, 5 and 16."""
    cases = []
    for loss in LOSSES:
        k = _outputs(loss)
        for hidden in [(), (7,), (6, 5)]:
            # With no hidden layer there is no activation: one case per batch size.
            for activation in ACTIVATIONS if hidden else ACTIVATIONS[:1]:
                for n in (1, 5, 16):
                    cases.append(Case(activation, loss, (N_FEATURES, *hidden, k), n))
    return cases


def central_difference_cases() -> list[Case]:
    """One two-hidden-layer case per activation x loss: central differences are slow."""
    return [Case(a, loss, (3, 5, 4, _outputs(loss)), 5) for loss in LOSSES for a in ACTIVATIONS]


def forward_cases() -> list[tuple[Case, str]]:
    """Every activation x loss, in float32 and float64."""
    return [
        (Case(a, loss, (N_FEATURES, 8, 6, _outputs(loss)), 17), dtype)
        for loss in LOSSES
        for a in ACTIVATIONS
        for dtype in ("float64", "float32")
    ]


def _build(impl: Implementation, case: Case, dtype: str = "float64", seed: int = 0) -> Any:
    return impl.build(
        list(case.layers), activation=case.activation, loss=case.loss, seed=seed, dtype=dtype
    )


def _worst_over(tol: Tolerance, actual: Mapping[str, Any], reference: Mapping[str, Any]) -> float:
    if set(actual) != set(reference):
        raise AssertionError(f"keys {sorted(actual)} differ from torch's {sorted(reference)}")
    return max(tol.worst(actual[k], reference[k]) for k in reference)


def _max_abs(actual: Mapping[str, Any], reference: Mapping[str, Any]) -> float:
    return max(float(np.max(np.abs(np.asarray(actual[k]) - reference[k]))) for k in reference)


# --------------------------------------------------------------------------- gradients


def _gradients_against_torch(
    model: Any, torch_model: torch.nn.Sequential, loss: str, X: NDArray[Any], y: NDArray[Any]
) -> tuple[float, dict[str, float]]:
    """The worst error ratio of ``model.gradients`` against torch autograd, and the
    largest absolute errors of the gradients and of the loss."""
    value, grads = model.gradients(X, y)
    ref_value, ref_grads = reference.loss_and_gradients(torch_model, loss, X, y)
    tol = TOLERANCES["gradient_vs_torch"]
    worst = max(tol.worst(value, ref_value), _worst_over(tol, grads, ref_grads))
    errors = {"max_abs_error": _max_abs(grads, ref_grads), "loss_abs_error": abs(value - ref_value)}
    return worst, errors


def gradient_vs_torch(impl: Implementation, case: Case) -> Measurement:
    """Loss and every gradient against torch autograd, float64, from the model's own init.

    The model's state dict is loaded into ``nn.Sequential`` unchanged, which also proves
    the torch layout. ``gradients`` must leave the parameters untouched.
    """
    model = _build(impl, case)
    state = model.state_dict()
    torch_model = reference.load(reference.sequential(list(case.layers), case.activation), state)
    X, y = case.batch()

    worst, errors = _gradients_against_torch(model, torch_model, case.loss, X, y)
    unchanged = all(np.array_equal(v, state[k]) for k, v in model.state_dict().items())
    return _within(
        "gradient_vs_torch",
        impl,
        case.id,
        worst if unchanged else math.inf,
        **errors,
        parameters_unchanged=unchanged,
    )


def central_difference(impl: Implementation, case: Case) -> Measurement:
    r"""``gradients`` against :math:`(L(\theta + h e_i) - L(\theta - h e_i)) / 2h`, no torch.

    Only the implementation's own ``loss`` and ``load_state_dict`` are used.
    """
    model = _build(impl, case)
    X, y = case.batch()
    _, grads = model.gradients(X, y)
    state = model.state_dict()
    h = CENTRAL_DIFFERENCE_STEP
    numeric: dict[str, NDArray[np.float64]] = {}
    for key, value in state.items():
        numeric[key] = np.empty_like(value)
        for index in np.ndindex(value.shape):
            losses = []
            for sign in (1.0, -1.0):
                shifted = {k: v.copy() for k, v in state.items()}
                shifted[key][index] += sign * h
                model.load_state_dict(shifted)
                losses.append(model.loss(X, y))
            numeric[key][index] = (losses[0] - losses[1]) / (2 * h)
    tol = TOLERANCES["central_difference"]
    return _within(
        "central_difference",
        impl,
        case.id,
        _worst_over(tol, grads, numeric),
        max_abs_error=_max_abs(grads, numeric),
        step=h,
    )


def relu_kink(impl: Implementation, loss: str) -> Measurement:
    """Gradients at pre-activations of exactly 0, where torch takes relu'(0) = 0.

    Row 0 of X is zero and three first-layer biases are zero, so those three units of
    row 0 sit at z = 0; a zero row of the second weight matrix and a zero bias put one
    second-layer unit at z = 0 for every row. The check counts the zeros torch really
    saw, so it cannot pass vacuously.
    """
    case = Case("relu", loss, (N_FEATURES, 6, 5, _outputs(loss)), 7)
    model = _build(impl, case)
    state = model.state_dict()
    state["0.bias"][:3] = 0.0
    state["2.weight"][0] = 0.0
    state["2.bias"][0] = 0.0
    model.load_state_dict(state)
    X, y = case.batch()
    X[0] = 0.0

    torch_model = reference.load(reference.sequential(list(case.layers), "relu"), state)
    zs = reference.pre_activations(torch_model, X)
    zeros = int(np.sum(zs[0] == 0.0) + np.sum(zs[1] == 0.0))
    expected_zeros = 3 + case.batch_size
    worst, errors = _gradients_against_torch(model, torch_model, loss, X, y)
    return _within(
        "relu_kink",
        impl,
        f"relu-{loss}",
        worst if zeros >= expected_zeros else math.inf,
        exact_zeros=zeros,
        **errors,
    )


# --------------------------------------------------------------------------- forward


def forward_vs_torch(impl: Implementation, case: Case, dtype: str) -> Measurement:
    """A torch-initialised state dict loaded into the model gives torch's outputs.

    Checks ``predict_proba`` (rows sum to 1), ``loss`` and ``predict`` (int64, argmax).
    """
    torch.manual_seed(case.seed())
    torch_model = reference.sequential(list(case.layers), case.activation, dtype)
    state = {k: v.detach().numpy().copy() for k, v in torch_model.state_dict().items()}
    model = _build(impl, case, dtype=dtype)
    model.load_state_dict(state)
    X64, y = case.batch()
    X = X64.astype(dtype)

    proba = model.predict_proba(X)
    value = model.loss(X, y)
    predicted = model.predict(X)
    ref_proba, ref_loss = reference.forward(torch_model, case.loss, X, y)

    tol = TOLERANCES[f"forward_{dtype}"]
    worst = max(tol.worst(proba, ref_proba), tol.worst(value, ref_loss))
    # A prediction may differ from torch's only where two classes tie within round-off.
    top2 = np.sort(ref_proba, axis=1)[:, -2:]
    decisive = (top2[:, 1] - top2[:, 0]) > 10 * tol.atol
    predict_ok = (
        predicted.dtype == np.int64
        and predicted.shape == y.shape
        and bool(np.all(predicted[decisive] == ref_proba.argmax(axis=1)[decisive]))
    )
    return _within(
        "forward_vs_torch",
        impl,
        f"{case.id}-{dtype}",
        worst if predict_ok else math.inf,
        predict_matches=predict_ok,
        proba_dtype=str(proba.dtype),
    )


def state_dict_layout(impl: Implementation, dtype: str) -> Measurement:
    """Keys, shapes and dtypes are those of ``nn.Sequential``; ``state_dict`` returns copies."""
    layers = [N_FEATURES, 7, 6, 3]
    model = impl.build(layers, activation="tanh", loss="cross_entropy", seed=0, dtype=dtype)
    state = model.state_dict()
    expected = reference.sequential(layers, "tanh", dtype).state_dict()
    layout_ok = {k: v.shape for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in expected.items()
    } and all(v.dtype == np.dtype(dtype) for v in state.values())
    for value in state.values():
        value += 1.0
    copies = all(not np.array_equal(v, state[k]) for k, v in model.state_dict().items())
    ok = layout_ok and copies
    return _verdict(
        "state_dict_layout",
        impl,
        dtype,
        ok,
        keys=sorted(state),
        layout_matches=layout_ok,
        returns_copies=copies,
    )


# --------------------------------------------------------------------------- bad input


@dataclass(frozen=True)
class BadInput:
    """A call that must raise ``error`` whose message names every fragment group.

    Each group is a tuple of alternatives, matched case-insensitively.
    """

    name: str
    call: Callable[[Callable[..., Any]], object]
    fragments: tuple[tuple[str, ...], ...]
    error: type[Exception] = ValueError


def _small(build: Callable[..., Any], **kwargs: Any) -> Any:
    options: dict[str, Any] = {"activation": "relu", "loss": "cross_entropy", "seed": 0}
    options["dtype"] = "float64"
    options.update(kwargs)
    return build([N_FEATURES, 5, 3], **options)


def _data(n: int = 6) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, N_FEATURES)), rng.integers(0, 3, size=n).astype(np.int64)


def _with(x: NDArray[Any], index: tuple[int, ...], value: Any) -> NDArray[Any]:
    out = x.copy()
    out[index] = value
    return out


def _state_edit(edit: Callable[[dict[str, NDArray[Any]]], object]) -> Callable[..., object]:
    def call(build: Callable[..., Any]) -> object:
        model = _small(build)
        state = model.state_dict()
        edit(state)
        return model.load_state_dict(state)

    return call


def _fit(**kwargs: Any) -> Callable[..., object]:
    def call(build: Callable[..., Any]) -> object:
        X, y = _data()
        options: dict[str, Any] = {"epochs": 1, "batch_size": 2, "learning_rate": 0.01}
        options.update(kwargs)
        return _small(build).fit(X, y, **options)

    return call


def bad_inputs() -> list[BadInput]:
    """Every kind of bad input the protocol promises a clear ``ValueError`` for."""
    X, y = _data()
    fit = {"epochs": 1, "batch_size": 2, "learning_rate": 0.1}
    return [
        BadInput(
            "X 1-D", lambda b: _small(b).predict(X[0]), (("X",), ("2-D", "2d", "ndim", "dimension"))
        ),
        BadInput("X wrong width", lambda b: _small(b).predict(X[:, :3]), (("X",), ("4",), ("3",))),
        BadInput("X empty", lambda b: _small(b).predict(X[:0]), (("X",), ("0", "empty"))),
        BadInput(
            "X NaN",
            lambda b: _small(b).predict_proba(_with(X, (2, 1), np.nan)),
            (("X",), ("nan", "finite")),
        ),
        BadInput(
            "X inf in fit",
            lambda b: _small(b).fit(_with(X, (0, 0), np.inf), y, **fit),
            (("X",), ("inf", "finite")),
        ),
        BadInput(
            "X strings",
            lambda b: _small(b).predict(X.astype(str)),
            (("X",), ("dtype", "numeric", "float")),
        ),
        BadInput(
            "label too large",
            lambda b: _small(b).loss(X, _with(y, (2,), 7)),
            (("y", "label"), ("7",)),
        ),
        BadInput(
            "label negative",
            lambda b: _small(b).loss(X, _with(y, (1,), -1)),
            (("y", "label"), ("-1",)),
        ),
        BadInput(
            "bce label 2",
            lambda b: b([N_FEATURES, 1], loss="bce", seed=0, dtype="float64").loss(
                X, np.full(len(X), 2)
            ),
            (("y", "label"), ("2",)),
        ),
        BadInput(
            "y length",
            lambda b: _small(b).loss(X, y[:5]),
            (("y", "label", "length"), ("6",), ("5",)),
        ),
        BadInput(
            "y float",
            lambda b: _small(b).loss(X, y.astype(np.float64)),
            (("y", "label"), ("int", "dtype")),
        ),
        BadInput(
            "y 2-D",
            lambda b: _small(b).loss(X, y[:, None]),
            (("y", "label"), ("1-D", "1d", "ndim", "dimension", "shape")),
        ),
        BadInput("unknown activation", lambda b: _small(b, activation="swish"), (("swish",),)),
        BadInput("unknown loss", lambda b: _small(b, loss="hinge"), (("hinge",),)),
        BadInput("unknown dtype", lambda b: _small(b, dtype="float16"), (("float16",),)),
        BadInput("bce with 3 outputs", lambda b: _small(b, loss="bce"), (("bce",), ("1",))),
        BadInput("one layer size", lambda b: b([N_FEATURES], seed=0), (("layers",),)),
        BadInput(
            "state missing key", _state_edit(lambda s: s.pop("2.bias")), (("2.bias",), ("missing",))
        ),
        BadInput(
            "state unexpected key",
            _state_edit(lambda s: s.update({"4.weight": s["2.weight"]})),
            (("4.weight",), ("unexpected", "unknown")),
        ),
        BadInput(
            "state wrong shape",
            _state_edit(lambda s: s.update({"0.weight": s["0.weight"].T.copy()})),
            (("0.weight",), ("shape",)),
        ),
        BadInput(
            "state wrong dtype",
            _state_edit(lambda s: s.update({"0.bias": s["0.bias"].astype(np.int64)})),
            (("0.bias",), ("dtype", "float")),
        ),
        BadInput(
            "state NaN",
            _state_edit(lambda s: s["2.weight"].__setitem__((0, 0), np.nan)),
            (("2.weight",), ("nan", "finite")),
        ),
        BadInput("epochs 0", _fit(epochs=0), (("epochs",),)),
        BadInput("batch_size 0", _fit(batch_size=0), (("batch_size",),)),
        BadInput("learning_rate negative", _fit(learning_rate=-0.1), (("learning_rate",),)),
        BadInput("learning_rate NaN", _fit(learning_rate=math.nan), (("learning_rate",),)),
        BadInput("unknown fit option", _fit(lr=0.1), (("lr",),)),
    ]


def bad_input(impl: Implementation, case: BadInput) -> Measurement:
    """The call raises ``case.error`` (and nothing else) with a message that names the problem."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            case.call(impl.factory)
    except case.error as exc:
        message = str(exc)
        missing = [g for g in case.fragments if not any(f.lower() in message.lower() for f in g)]
        ok = not missing
        details: dict[str, Any] = {"message": message, "missing_fragments": missing}
    except Exception as exc:
        ok, details = False, {"raised": f"{type(exc).__name__}: {exc}"}
    else:
        ok, details = False, {"raised": "nothing"}
    return _verdict("bad_input", impl, case.name, ok, **details)


def divergence(impl: Implementation) -> Measurement:
    """A learning rate of 1e30 blows up; ``fit`` must stop with ``FloatingPointError``
    that names the epoch, and no numpy warning may leak out."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, N_FEATURES)).astype(np.float32)
    y = rng.integers(0, 3, size=64).astype(np.int64)
    model = impl.build([N_FEATURES, 8, 3], activation="relu", loss="cross_entropy", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        details: dict[str, Any]
        try:
            model.fit(X, y, epochs=20, batch_size=8, learning_rate=1e30)
        except FloatingPointError as exc:
            ok, details = "epoch" in str(exc).lower(), {"message": str(exc)}
        except Exception as exc:
            ok, details = False, {"raised": f"{type(exc).__name__}: {exc}"}
        else:
            ok, details = False, {"raised": "nothing"}
    details["warnings"] = [str(w.message) for w in caught]
    ok = ok and not caught
    return _verdict("divergence", impl, "learning_rate=1e30", ok, **details)


# --------------------------------------------------------------------------- ES gradient

ES_CASE: Final = Case("tanh", "cross_entropy", (8, 6, 3), 64)
"""A smooth case (tanh, so no relu kinks inside the perturbation radius) with d = 75."""
ES_PAIRS: Final = (25, 100, 400)
ES_SIGMA: Final = 1e-3


ES_PROTOCOL_ARGUMENTS: Final = frozenset({"self", "X", "y", "population", "sigma", "seed"})


def _estimator_options(impl: Implementation) -> dict[str, Any]:
    """The MNIST recipe's values of ``estimate_gradient``'s own extra keyword arguments."""
    try:
        parameters = inspect.signature(impl.factory.estimate_gradient).parameters  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return {}
    fit = impl.recipes.get("mnist", {}).get("fit", {})
    extra = set(parameters) - ES_PROTOCOL_ARGUMENTS
    return {name: fit[name] for name in sorted(extra) if name in fit}


def es_gradient(impl: Implementation, n_pairs: int) -> Measurement:
    r"""The evolution-strategies gradient estimate points where torch's exact gradient does.

    ``estimate_gradient(X, y, population=2n, sigma, seed)`` draws :math:`n` antithetic
    pairs :math:`\theta \pm \sigma \epsilon_i`. For a loss that is linear within
    :math:`\sigma`, :math:`L(\theta \pm \sigma\epsilon_i) = L \pm \sigma s_i \lVert g
    \rVert` with :math:`s_i = \epsilon_i \cdot \hat g \sim \mathcal N(0, 1)`, and centered
    ranks weight pair :math:`i` by about :math:`w_i = 2\Phi(s_i) - 1`. The estimate
    :math:`\sum_i w_i \epsilon_i` then has a component along :math:`g` of mean
    :math:`n\,\mathbb E[s\,w(s)] = n / \sqrt\pi` and, in each of the other :math:`d - 1`
    directions, noise of variance :math:`n\,\mathbb E[w^2] = n / 3`, so

    .. math::

        \cos(\hat g_{ES}, g) \approx \Big(1 + \frac{\pi}{3}\,\frac{d - 1}{n}\Big)^{-1/2}.

    The measured cosine must reach half of that (:func:`es_cosine_threshold`), for every
    population size in :data:`ES_PAIRS`. The cosine is scale-free, so the estimate may
    carry any positive factor (``1 / sigma``, the population size, the shaping's scale).

    The estimator checked is the one the implementation trains with: options of
    ``estimate_gradient`` beyond the protocol's that the MNIST recipe sets (such as
    ``rank``, low-rank perturbations of the first layer) are passed on
    (:func:`_estimator_options`). A perturbation distribution with the same covariance
    (the identity) as :math:`\mathcal N(0, I)` has the same first-order expectation, a
    positive multiple of :math:`g`, and the formula holds as far as :math:`s_i` stays close
    to Gaussian; for rank-1 first-layer noise on this case the mean cosine over 20 seeds is
    97-98% of the formula (0.485, 0.732, 0.899 against 0.494, 0.751, 0.915), well inside
    the factor of two the bound leaves.
    """
    model = _build(impl, ES_CASE)
    state = model.state_dict()
    torch_model = reference.load(reference.sequential(list(ES_CASE.layers), "tanh"), state)
    X, y = ES_CASE.batch()
    _, exact = reference.loss_and_gradients(torch_model, ES_CASE.loss, X, y)
    options = _estimator_options(impl)
    estimate = model.estimate_gradient(
        X, y, population=2 * n_pairs, sigma=ES_SIGMA, seed=0, **options
    )
    if set(estimate) != set(exact):
        raise AssertionError(f"keys {sorted(estimate)} differ from torch's {sorted(exact)}")
    keys = sorted(exact)
    g = np.concatenate([exact[k].ravel() for k in keys])
    g_es = np.concatenate([np.asarray(estimate[k], dtype=np.float64).ravel() for k in keys])
    cosine = float(g @ g_es / (np.linalg.norm(g) * np.linalg.norm(g_es) + 1e-300))
    d = g.size
    expected, threshold = es_expected_cosine(n_pairs, d), es_cosine_threshold(n_pairs, d)
    unchanged = all(np.array_equal(v, state[k]) for k, v in model.state_dict().items())
    return Measurement(
        "es_gradient",
        impl.name,
        ", ".join([f"n_pairs={n_pairs}", *(f"{k}={v}" for k, v in options.items())]),
        cosine,
        threshold,
        bool(cosine >= threshold and unchanged),
        {
            "expected_cosine": round(expected, 4),
            "n_parameters": d,
            "sigma": ES_SIGMA,
            "parameters_unchanged": unchanged,
        },
    )


# --------------------------------------------------------------------------- training


def load(dataset: Dataset, split: str) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """One split of a dataset, from ``fromscratch.datasets``."""
    try:
        from fromscratch import datasets
    except ImportError as exc:
        raise ImportError(
            "the accuracy checks and the bench need fromscratch-datasets: "
            "pip install -e ./datasets (from the repository root)"
        ) from exc
    if dataset == "mnist":
        return datasets.load_mnist(split)  # type: ignore[arg-type]
    return datasets.load_breast_cancer(split)  # type: ignore[arg-type]


@dataclass
class Curve:
    """What the ``callback`` saw, epoch by epoch."""

    epochs: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    start: float = field(default_factory=time.perf_counter)

    def __call__(self, epoch: int, metrics: Mapping[str, float]) -> None:
        self.epochs.append(epoch)
        self.loss.append(float(metrics["loss"]))
        self.seconds.append(time.perf_counter() - self.start)


def train(
    impl: Implementation, dataset: Dataset, n_train: int | None = None
) -> tuple[Any, Curve, float]:
    """Build and fit a model with the implementation's own recipe, on the first ``n_train``
    training rows (all of them by default); return it, its curve and the wall time of ``fit``."""
    recipe = impl.recipes[dataset]
    X, y = load(dataset, "train")
    if n_train is not None:
        X, y = X[:n_train], y[:n_train]
    model = impl.factory(**recipe["model"])
    curve = Curve()
    fit_kwargs = dict(recipe["fit"])
    start = time.perf_counter()
    model.fit(X, y, callback=curve, **fit_kwargs)
    return model, curve, time.perf_counter() - start


def accuracy(impl: Implementation, dataset: Dataset, *, subset: bool = False) -> Measurement:
    """Test-split accuracy after training with the recipe.

    The bound comes from :data:`ACCURACY_THRESHOLDS` for the implementation's kind of
    training. With ``subset=True`` the recipe trains on :data:`SUBSETS` ``[dataset]``'s first
    rows only, is judged by that subset's own threshold, and the case is named
    ``"<dataset>[:n_train]"``; the test split is always the whole of it.
    """
    n_train = SUBSETS[dataset].n_train if subset else None
    model, curve, seconds = train(impl, dataset, n_train)
    X_test, y_test = load(dataset, "test")
    predicted = model.predict(X_test)
    acc = float(np.mean(predicted == y_test))
    if subset:
        threshold = SUBSETS[dataset].thresholds[impl.training]
        case = f"{dataset}[:{n_train}]"
    else:
        threshold, case = ACCURACY_THRESHOLDS[impl.training][dataset], dataset
    expected_epochs = list(range(1, int(impl.recipes[dataset]["fit"]["epochs"]) + 1))
    callback_ok = curve.epochs == expected_epochs and all(map(math.isfinite, curve.loss))
    return Measurement(
        "accuracy",
        impl.name,
        case,
        acc,
        threshold,
        bool(acc >= threshold and callback_ok),
        {
            "train_seconds": round(seconds, 2),
            "n_train": n_train if n_train is not None else "all",
            "n_test": len(y_test),
            "callback_epochs_ok": callback_ok,
            "epoch_loss": [round(v, 6) for v in curve.loss],
            "epoch_seconds": [round(v, 3) for v in curve.seconds],
        },
    )


def determinism(impl: Implementation) -> Measurement:
    """Two runs of the breast-cancer recipe with the same seed give identical parameters."""
    states = [train(impl, "breast_cancer")[0].state_dict() for _ in range(2)]
    same = states[0].keys() == states[1].keys() and all(
        np.array_equal(states[0][k], states[1][k]) for k in states[0]
    )
    return _verdict("determinism", impl, "breast_cancer", same)


def plan(
    impl: Implementation, datasets: tuple[Dataset, ...] = ("breast_cancer", "mnist")
) -> list[Callable[[], Measurement]]:
    """Every check that applies to ``impl``, as zero-argument calls, cheapest first.

    Gradient checks apply to implementations that offer ``gradients``, the ES check to
    those that offer ``estimate_gradient``; the rest to all.
    """
    checks: list[Callable[[], Measurement]] = []
    if impl.differentiable:
        checks += [partial(gradient_vs_torch, impl, case) for case in gradient_cases()]
        checks += [partial(central_difference, impl, case) for case in central_difference_cases()]
        checks += [partial(relu_kink, impl, loss) for loss in LOSSES]
    if impl.estimates_gradient:
        checks += [partial(es_gradient, impl, n_pairs) for n_pairs in ES_PAIRS]
    checks.append(partial(divergence, impl))
    checks += [partial(forward_vs_torch, impl, case, dtype) for case, dtype in forward_cases()]
    checks += [partial(state_dict_layout, impl, dtype) for dtype in ("float64", "float32")]
    checks += [partial(bad_input, impl, case) for case in bad_inputs()]
    checks.append(partial(determinism, impl))
    checks += [partial(accuracy, impl, dataset) for dataset in datasets]
    return checks

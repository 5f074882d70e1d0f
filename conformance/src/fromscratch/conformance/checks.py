"""The checks: each one measures something about an implementation and returns numbers.

The pytest suite (``conformance/tests``) and the report (``python -m fromscratch.conformance
report``) both call these functions, so a test and a report line can never disagree.
A check returns a :class:`Measurement`; it raises only when the implementation itself
raises where it should not, which the caller reports as a failure.
"""

from __future__ import annotations

import inspect
import itertools
import math
import re
import time
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Final, TypeAlias

import numpy as np
import torch
from numpy.typing import NDArray

from fromscratch.boundary.recipes import LENET5
from fromscratch.conformance import reference
from fromscratch.conformance.registry import Implementation, shadowing_checkout
from fromscratch.conformance.tolerances import (
    ACCURACY_THRESHOLDS,
    CENTRAL_DIFFERENCE_STEP,
    RECIPE_THRESHOLDS,
    TOLERANCES,
    Dataset,
    Tolerance,
    es_cosine_threshold,
    es_expected_cosine,
    subset_of,
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
        """One line: the verdict, what was wrong in words (``details["problem"]``, set by a
        failing check), the value against its bound, then the other scalar details."""
        verdict = "passed" if self.passed else "FAILED"
        problem = self.details.get("problem", "")
        measured = "" if self.value is None else f"value {self.value:.4g} vs bound {self.bound}"
        extra = ", ".join(
            f"{k}={v}"
            for k, v in self.details.items()
            if k != "problem" and not isinstance(v, list | tuple | dict)
        )
        said = "; ".join(part for part in (problem, measured, extra) if part)
        return f"{self.check}[{self.case}] {verdict}: {said}"


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
    """One small network and batch for the gradient and forward checks.

    ``layers`` is the MLP shorthand (sizes, with ``activation`` between the layers) or an
    architecture spec (one ``torch.nn`` call per ``nn.Sequential`` entry), which then
    carries a short ``name`` for the case id.
    """

    activation: str
    loss: str
    layers: tuple[int | str, ...]
    batch_size: int
    name: str = ""

    @property
    def id(self) -> str:
        if self.name:  # a spec names its own activations
            return f"{self.name}-{self.loss}-n{self.batch_size}"
        sizes = "x".join(map(str, self.layers))
        return f"{self.activation}-{self.loss}-{sizes}-n{self.batch_size}"

    @property
    def n_features(self) -> int:
        return reference.widths(self.layers)[0]

    @property
    def n_classes(self) -> int:
        return 2 if self.loss == "bce" else reference.widths(self.layers)[1]

    def seed(self) -> int:
        """A stable seed per case, so every run draws the same data."""
        return zlib.crc32(self.id.encode())

    def batch(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Random, non-uniform inputs (each feature its own scale and offset) and labels."""
        rng = np.random.default_rng(self.seed())
        d = self.n_features
        scale = rng.uniform(0.5, 2.0, size=d)
        offset = rng.normal(size=d)
        X = rng.normal(size=(self.batch_size, d)) * scale + offset
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


def _worst_entry(
    tol: Tolerance, actual: Mapping[str, Any], reference: Mapping[str, Any]
) -> dict[str, Any]:
    """Where the largest error ratio sits: the parameter key, the entry's index in it, and
    both values there (a non-finite entry counts as the worst)."""
    key = max(reference, key=lambda k: tol.worst(actual[k], reference[k]))
    a = np.asarray(actual[key], dtype=np.float64)
    r = np.asarray(reference[key], dtype=np.float64)
    ratio = np.abs(a - r) / (tol.atol + tol.rtol * np.abs(r))
    ratio[~np.isfinite(a)] = np.inf
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), a.shape))
    return {
        "worst_parameter": key,
        "worst_index": list(index),
        "worst_entry": f"{key}[{', '.join(map(str, index))}]",
        "model_value": float(a[index]),
        "reference_value": float(r[index]),
    }


def _gradient_problem(
    where: dict[str, Any], loss_ratio: float, value: float, ref_value: float, reference: str
) -> str:
    """The failure in words: the loss, or the gradient entry furthest from ``reference``."""
    if loss_ratio > 1.0:
        return f"the loss is {value:.10g} where {reference} {ref_value:.10g}"
    return (
        f"the gradient of {where['worst_entry']} is {where['model_value']:.10g} "
        f"where {reference} {where['reference_value']:.10g}"
    )


# --------------------------------------------------------------------------- gradients


def _gradients_against_torch(
    model: Any, torch_model: torch.nn.Sequential, loss: str, X: NDArray[Any], y: NDArray[Any]
) -> tuple[float, dict[str, Any]]:
    """The worst error ratio of ``model.gradients`` against torch autograd, and details: the
    largest absolute errors of the gradients and of the loss, where the worst entry sits, and
    the problem in words when it fails."""
    value, grads = model.gradients(X, y)
    ref_value, ref_grads = reference.loss_and_gradients(torch_model, loss, X, y)
    tol = TOLERANCES["gradient_vs_torch"]
    loss_ratio = tol.worst(value, ref_value)
    worst = max(loss_ratio, _worst_over(tol, grads, ref_grads))
    where = _worst_entry(tol, grads, ref_grads)
    errors: dict[str, Any] = {
        "max_abs_error": _max_abs(grads, ref_grads),
        "loss_abs_error": abs(value - ref_value),
        "worst_parameter": where["worst_parameter"],
        "worst_index": where["worst_index"],
    }
    if worst > 1.0:
        errors["problem"] = _gradient_problem(where, loss_ratio, value, ref_value, "torch has")
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
    if not unchanged:
        errors["problem"] = "gradients() changed the parameters; it must leave them as they were"
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
    worst = _worst_over(tol, grads, numeric)
    where = _worst_entry(tol, grads, numeric)
    problem = (
        _gradient_problem(where, 0.0, 0.0, 0.0, "central differences give") if worst > 1 else ""
    )
    return _within(
        "central_difference",
        impl,
        case.id,
        worst,
        **({"problem": problem} if problem else {}),
        max_abs_error=_max_abs(grads, numeric),
        worst_parameter=where["worst_parameter"],
        worst_index=where["worst_index"],
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
    if zeros < expected_zeros:
        errors["problem"] = f"torch saw {zeros} pre-activations of exactly 0, not {expected_zeros}"
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

    proba = np.asarray(model.predict_proba(X))
    value = model.loss(X, y)
    predicted = np.asarray(model.predict(X))
    ref_proba, ref_loss = reference.forward(torch_model, case.loss, X, y)

    tol = TOLERANCES[f"forward_{dtype}"]
    proba_ratio = tol.worst(proba, ref_proba) if np.shape(proba) == ref_proba.shape else math.inf
    loss_ratio = tol.worst(value, ref_loss)
    worst = max(proba_ratio, loss_ratio)
    # A prediction may differ from torch's only where two classes tie within round-off.
    top2 = np.sort(ref_proba, axis=1)[:, -2:]
    decisive = (top2[:, 1] - top2[:, 0]) > 10 * tol.atol
    problems = _forward_problems(tol, proba, ref_proba, value, ref_loss)
    predict_problem = ""
    if predicted.dtype != np.int64 or predicted.shape != y.shape:
        predict_problem = (
            f"predict returned {predicted.dtype} of shape {predicted.shape}, "
            f"expected int64 of shape {y.shape}"
        )
    elif (wrong := np.flatnonzero(decisive & (predicted != ref_proba.argmax(axis=1)))).size:
        first = wrong[0]
        predict_problem = (
            f"predict differs from torch's argmax in {wrong.size} of {len(y)} rows "
            f"(row {first}: {predicted[first]} where torch has {ref_proba[first].argmax()})"
        )
    predict_ok = not predict_problem
    problems += [predict_problem] if predict_problem else []
    return _within(
        "forward_vs_torch",
        impl,
        f"{case.id}-{dtype}",
        worst if predict_ok else math.inf,
        **({"problem": "; ".join(problems)} if problems else {}),
        predict_matches=predict_ok,
        proba_dtype=str(proba.dtype),
        proba_error_ratio=float(f"{proba_ratio:.4g}"),
        loss_error_ratio=float(f"{loss_ratio:.4g}"),
    )


def _forward_problems(
    tol: Tolerance, proba: NDArray[Any], ref_proba: NDArray[Any], value: float, ref_loss: float
) -> list[str]:
    """What differed from torch, in words: ``predict_proba`` (its shape, rows that do not sum
    to 1, the entry furthest off) and ``loss``."""
    problems = []
    if np.shape(proba) != ref_proba.shape:
        problems.append(f"predict_proba has shape {np.shape(proba)}, expected {ref_proba.shape}")
    elif tol.worst(proba, ref_proba) > 1.0:
        # torch's rows sum to 1 within round-off: the tolerance of each of their k entries.
        sums: NDArray[np.float64] = np.asarray(np.sum(proba, axis=1, dtype=np.float64))
        off = np.flatnonzero(~(np.abs(sums - 1.0) <= proba.shape[1] * (tol.atol + tol.rtol)))
        if off.size:
            problems.append(
                f"predict_proba rows do not sum to 1 ({off.size} of {len(sums)} rows; "
                f"row {off[0]} sums to {sums[off[0]]:.6g})"
            )
        gap = np.abs(proba.astype(np.float64) - ref_proba)
        gap[~np.isfinite(gap)] = np.inf
        where = np.unravel_index(int(np.argmax(gap)), ref_proba.shape)
        problems.append(
            f"predict_proba[{where[0]}, {where[1]}] is {proba[where]:.6g} "
            f"where torch has {ref_proba[where]:.6g}"
        )
    if tol.worst(value, ref_loss) > 1.0:
        problems.append(f"loss is {value:.10g} where torch has {ref_loss:.10g}")
    return problems


def state_dict_layout(
    impl: Implementation, dtype: str, layers: Sequence[int | str] = (N_FEATURES, 7, 6, 3)
) -> Measurement:
    """Keys, shapes and dtypes are those of ``nn.Sequential``; ``state_dict`` returns copies.

    ``layers`` is an MLP by default; the spec checks pass a LeNet."""
    model = impl.build(list(layers), activation="tanh", loss="cross_entropy", seed=0, dtype=dtype)
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
        dtype if not reference.is_spec(layers) else f"{dtype}-lenet",
        ok,
        keys=sorted(state),
        layout_matches=layout_ok,
        returns_copies=copies,
    )


# --------------------------------------------------------------------------- bad input


@dataclass(frozen=True)
class Mention:
    """Something a bad-input message must mention: ``what`` in words, and the spellings that
    count for it (any one, case-insensitive). A one-letter name such as ``X`` or a number
    counts only as a word of its own: the ``x`` of "expected" is not ``X``, and the 4 of
    "float64" is not the width 4."""

    what: str
    spellings: tuple[str, ...]

    def found_in(self, message: str) -> bool:
        text = message.lower()
        for spelling in (s.lower() for s in self.spellings):
            pattern = rf"(?<![a-z0-9_]){re.escape(spelling)}(?![a-z0-9_])"
            whole = len(spelling) == 1 or spelling.lstrip("-").isdigit()
            if re.search(pattern, text) if whole else spelling in text:
                return True
        return False

    def __str__(self) -> str:
        return f"{self.what} ({' or '.join(map(repr, self.spellings))})"


@dataclass(frozen=True)
class BadInput:
    """A call that must raise ``error`` with a message that mentions everything in ``needs``.

    ``docs/protocol.md`` lists every case with what its message must mention; what a good
    message says beyond that (what to try instead, the accepted values) is up to it.
    """

    name: str
    call: Callable[[Callable[..., Any]], object]
    needs: tuple[Mention, ...]
    error: type[Exception] = ValueError


def _arg(name: str, *also: str) -> Mention:
    return Mention(f"the argument {name}", (name, *also))


def _says(what: str, *spellings: str) -> Mention:
    return Mention(what, spellings)


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
    """Every kind of bad input the protocol promises a clear ``ValueError`` for, each with
    what its message must mention (the table in ``docs/protocol.md``)."""
    X, y = _data()
    fit = {"epochs": 1, "batch_size": 2, "learning_rate": 0.1}
    X_, y_ = _arg("X"), _arg("y", "label")
    key = partial(Mention, "the state-dict key")
    return [
        BadInput(
            "X 1-D",
            lambda b: _small(b).predict(X[0]),
            (X_, _says("its shape", "shape", "2-D", "2d", "ndim", "dimension")),
        ),
        BadInput(
            "X 3-D",
            lambda b: _small(b).predict(X[None]),
            (X_, _says("its shape", "shape", "2-D", "2d", "3-D", "ndim", "dimension")),
        ),
        BadInput(
            "X wrong width",
            lambda b: _small(b).predict(X[:, :3]),
            (X_, _says("the expected width", "4"), _says("the width it got", "3")),
        ),
        BadInput(
            "X empty",
            lambda b: _small(b).predict(X[:0]),
            (X_, _says("that it has no rows", "0", "empty", "no rows", "zero")),
        ),
        BadInput(
            "X NaN",
            lambda b: _small(b).predict_proba(_with(X, (2, 1), np.nan)),
            (X_, _says("the NaN", "nan", "finite"), _says("the row", "2")),
        ),
        BadInput(
            "X inf in fit",
            lambda b: _small(b).fit(_with(X, (3, 0), np.inf), y, **fit),
            (X_, _says("the inf", "inf", "finite"), _says("the row", "3")),
        ),
        BadInput(
            "X strings",
            lambda b: _small(b).predict(X.astype(str)),
            (X_, _says("its dtype", "dtype", "numeric", "number", "float", "real")),
        ),
        BadInput(
            "X booleans",
            lambda b: _small(b).predict(X > 0),
            (X_, _says("its dtype", "dtype", "bool")),
        ),
        BadInput(
            "X overflows float32",
            lambda b: _small(b, dtype="float32").predict(_with(X, (2, 1), 1e300)),
            (X_, _says("the value", "1e+300", "overflow", "float32"), _says("the row", "2")),
        ),
        BadInput(
            "X NaN in loss",
            lambda b: _small(b).loss(_with(X, (4, 3), np.nan), y),
            (X_, _says("the NaN", "nan", "finite"), _says("the row", "4")),
        ),
        BadInput(
            "label too large",
            lambda b: _small(b).loss(X, _with(y, (2,), 7)),
            (y_, _says("the bad label", "7")),
        ),
        BadInput(
            "label negative",
            lambda b: _small(b).loss(X, _with(y, (1,), -1)),
            (y_, _says("the bad label", "-1")),
        ),
        BadInput(
            "bce label 2",
            lambda b: b([N_FEATURES, 1], loss="bce", seed=0, dtype="float64").loss(
                X, np.full(len(X), 2)
            ),
            (y_, _says("the bad label", "2")),
        ),
        BadInput(
            "y length",
            lambda b: _small(b).loss(X, y[:5]),
            (_arg("y", "label", "length"), _says("X's rows", "6"), _says("y's length", "5")),
        ),
        BadInput(
            "y float",
            lambda b: _small(b).loss(X, y.astype(np.float64)),
            (y_, _says("that labels are integers", "int", "dtype")),
        ),
        BadInput(
            "y 2-D",
            lambda b: _small(b).loss(X, y[:, None]),
            (y_, _says("its shape", "shape", "1-D", "1d", "ndim", "dimension")),
        ),
        BadInput(
            "y booleans",
            lambda b: _small(b).loss(X, y > 0),
            (y_, _says("that labels are integers", "int", "dtype", "bool")),
        ),
        BadInput(
            "unknown activation",
            lambda b: _small(b, activation="swish"),
            (_says("the name it got", "swish"),),
        ),
        BadInput(
            "unknown loss", lambda b: _small(b, loss="hinge"), (_says("the name it got", "hinge"),)
        ),
        BadInput(
            "unknown dtype",
            lambda b: _small(b, dtype="float16"),
            (_says("the name it got", "float16"),),
        ),
        BadInput(
            "seed negative",
            lambda b: _small(b, seed=-1),
            (_arg("seed"), _says("the value it got", "-1")),
        ),
        BadInput(
            "bce with 3 outputs",
            lambda b: _small(b, loss="bce"),
            (_says("the loss", "bce"), _says("that it needs 1 output", "1")),
        ),
        BadInput(
            "cross_entropy with 1 output",
            lambda b: b([N_FEATURES, 1], loss="cross_entropy", seed=0),
            (_says("the output size", "1"), _says("that it needs 2", "2")),
        ),
        BadInput("one layer size", lambda b: b([N_FEATURES], seed=0), (_arg("layers"),)),
        BadInput(
            "layer size 0",
            lambda b: b([N_FEATURES, 0, 3], seed=0),
            (_arg("layers"), _says("the size it got", "0")),
        ),
        BadInput(
            "layers a string",
            lambda b: b("4,5,3", seed=0),
            (_arg("layers"),),
        ),
        BadInput(
            "state missing key",
            _state_edit(lambda s: s.pop("2.bias")),
            (key(("2.bias",)), _says("that it is missing", "missing")),
        ),
        BadInput(
            "state unexpected key",
            _state_edit(lambda s: s.update({"4.weight": s["2.weight"]})),
            (key(("4.weight",)), _says("that it is not expected", "unexpected", "unknown")),
        ),
        BadInput(
            "state wrong shape",
            _state_edit(lambda s: s.update({"0.weight": s["0.weight"].T.copy()})),
            (key(("0.weight",)), _says("its shape", "shape")),
        ),
        BadInput(
            "state int64 entry",
            _state_edit(lambda s: s.update({"0.bias": s["0.bias"].astype(np.int64)})),
            (key(("0.bias",)), _says("its dtype", "dtype", "float", "int64")),
        ),
        BadInput(
            "state float32 entry in a float64 model",
            _state_edit(lambda s: s.update({"2.bias": s["2.bias"].astype(np.float32)})),
            (key(("2.bias",)), _says("its dtype", "dtype", "float32", "float64")),
        ),
        BadInput(
            "state NaN",
            _state_edit(lambda s: s["2.weight"].__setitem__((0, 0), np.nan)),
            (key(("2.weight",)), _says("the NaN", "nan", "finite")),
        ),
        BadInput(
            "state inf",
            _state_edit(lambda s: s["0.weight"].__setitem__((1, 2), np.inf)),
            (key(("0.weight",)), _says("the inf", "inf", "finite")),
        ),
        BadInput(
            "state not a mapping",
            lambda b: _small(b).load_state_dict([1, 2]),
            (_says("the argument", "state", "mapping", "dict"),),
        ),
        BadInput("epochs 0", _fit(epochs=0), (_arg("epochs"),)),
        BadInput("epochs 2.0", _fit(epochs=2.0), (_arg("epochs"), _says("the value", "2.0"))),
        BadInput("batch_size 0", _fit(batch_size=0), (_arg("batch_size"),)),
        BadInput("batch_size None", _fit(batch_size=None), (_arg("batch_size"),)),
        BadInput(
            "learning_rate negative",
            _fit(learning_rate=-0.1),
            (_arg("learning_rate"),),
        ),
        BadInput(
            "learning_rate NaN",
            _fit(learning_rate=math.nan),
            (_arg("learning_rate"),),
        ),
        BadInput(
            "learning_rate inf",
            _fit(learning_rate=math.inf),
            (_arg("learning_rate"),),
        ),
        BadInput("callback not callable", _fit(callback=3), (_arg("callback"),)),
        BadInput("unknown fit option", _fit(lr=0.1), (_says("the unknown option", "lr"),)),
    ]


def bad_input(impl: Implementation, case: BadInput) -> Measurement:
    """The call raises ``case.error`` (and nothing else) with a message that mentions
    everything in ``case.needs``; a failure says, in words, what the message lacked."""
    expected = case.error.__name__
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            case.call(impl.factory)
    except case.error as exc:
        message = str(exc)
        missing = [need for need in case.needs if not need.found_in(message)]
        details: dict[str, Any] = {"message": message, "missing": [str(m) for m in missing]}
        if missing:
            details["problem"] = f"the {expected} message {message!r} does not mention " + (
                "; nor ".join(map(str, missing))
            )
    except Exception as exc:
        raised = f"{type(exc).__name__}: {exc}"
        details = {"raised": raised, "problem": f"raised {raised}, expected a {expected}"}
    else:
        details = {"raised": "nothing", "problem": f"raised nothing, expected a {expected}"}
    return _verdict("bad_input", impl, case.name, "problem" not in details, **details)


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


# --------------------------------------------------------------------------- training steps


@dataclass(frozen=True)
class TrainingCase:
    """One run of ``fit`` that torch replays step for step: a network, its rows, the options."""

    name: str
    net: Case
    """The network, and ``net.batch()``: the rows it trains on."""
    learning_rate: float
    options: Mapping[str, Any]
    """``fit``'s optimizer options, the same names for the model and for torch."""

    @property
    def id(self) -> str:
        return f"{self.name}-{self.net.activation}-{self.net.loss}"


TRAINING_ROWS: Final = 23
TRAINING_BATCH_SIZE: Final = 5
"""Five batches an epoch, the last one of three rows: the ragged batch is part of the loop."""
TRAINING_EPOCHS: Final = 10
"""Fifty steps in all; a cosine schedule takes ten different rates along the way."""


def training_cases() -> list[TrainingCase]:
    """Plain SGD, momentum, Nesterov, Adam, weight decay and the cosine schedule, in four runs
    that between them cover every activation and loss and depths 1 and 2."""

    def net(activation: str, loss: str, *hidden: int) -> Case:
        return Case(activation, loss, (N_FEATURES, *hidden, _outputs(loss)), TRAINING_ROWS)

    decay = {"weight_decay": 1e-2}
    return [
        TrainingCase("sgd", net("relu", "cross_entropy", 7), 0.1, {"optimizer": "sgd"}),
        TrainingCase("sgd-momentum", net("sigmoid", "bce", 6), 0.1, {"momentum": 0.9, **decay}),
        TrainingCase(
            "sgd-nesterov-cosine",
            net("tanh", "cross_entropy", 6, 5),
            0.05,
            {"momentum": 0.9, "nesterov": True, **decay, "schedule": "cosine"},
        ),
        TrainingCase(
            "adam-cosine",
            net("relu", "mse", 6, 5),
            0.01,
            {"optimizer": "adam", **decay, "schedule": "cosine"},
        ),
    ]


def training_vs_torch(impl: Implementation, case: TrainingCase) -> Measurement:
    """Fifty steps of ``fit`` end where fifty steps of ``torch.optim`` end, in float64.

    Model and torch start from one torch-initialised state dict and see the same batches in
    the same order: ``fit(X, y, epochs=10, batch_size=5, learning_rate, shuffle=False,
    **case.options)`` on 23 rows against :func:`reference.train`. This proves the whole
    training loop (batching, the optimizer's state and update, weight decay, the schedule),
    not one gradient. ``moved`` in the details is how far torch's parameters travelled, to
    set beside the tolerance.
    """
    torch.manual_seed(case.net.seed())
    torch_model = reference.sequential(list(case.net.layers), case.net.activation)
    start = {k: v.detach().numpy().copy() for k, v in torch_model.state_dict().items()}
    model = _build(impl, case.net)
    model.load_state_dict(start)
    X, y = case.net.batch()
    settings: dict[str, Any] = {
        "epochs": TRAINING_EPOCHS,
        "batch_size": TRAINING_BATCH_SIZE,
        "learning_rate": case.learning_rate,
    }
    model.fit(X, y, shuffle=False, **settings, **case.options)
    expected = reference.train(torch_model, case.net.loss, X, y, **settings, **case.options)
    actual = model.state_dict()
    return _within(
        "training_vs_torch",
        impl,
        case.id,
        _worst_over(TOLERANCES["training_vs_torch"], actual, expected),
        max_abs_error=_max_abs(actual, expected),
        moved=_max_abs(expected, start),
        steps=TRAINING_EPOCHS * -(-TRAINING_ROWS // TRAINING_BATCH_SIZE),
    )


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
            "n_pairs": n_pairs,
            "expected_cosine": round(expected, 4),
            "n_parameters": d,
            "sigma": ES_SIGMA,
            "parameters_unchanged": unchanged,
        },
    )


# --------------------------------------------------------------------------- architecture spec

MLP_LAYERS: Final = frozenset({"Linear", "ReLU", "Sigmoid", "Tanh"})
"""What a model class that declares no ``supported_layers`` is taken to build: the MLP."""


def supported_layers(impl: Implementation) -> frozenset[str]:
    """The ``torch.nn`` names the model class declares in ``supported_layers``."""
    declared = getattr(impl.factory, "supported_layers", None)
    return MLP_LAYERS if declared is None else frozenset(declared)


def _missing(impl: Implementation, layers: Sequence[int | str]) -> set[str]:
    """The ``torch.nn`` names in ``layers`` that ``impl`` does not build."""
    if not reference.is_spec(layers):
        return set()
    return {type(reference.layer(str(text))).__name__ for text in layers} - supported_layers(impl)


def _why(impl: Implementation, missing: set[str]) -> str:
    declared = getattr(impl.factory, "supported_layers", None)
    said = (
        f"its supported_layers are {', '.join(sorted(declared))}"
        if declared is not None
        else "it declares no supported_layers, so it builds the MLP shorthand only"
    )
    return f"{impl.name} does not build {', '.join(sorted(missing))}: {said}"


def unsupported(impl: Implementation, layers: Sequence[int | str]) -> str | None:
    """Why ``impl`` cannot build ``layers``, in words; ``None`` when it can. Such a case is
    "not applicable": never run, never counted as a pass."""
    missing = _missing(impl, layers)
    return _why(impl, missing) if missing else None


def _image_net(
    channels: int, height: int, width: int, body: Sequence[str], outputs: int = 3
) -> tuple[str, ...]:
    """``Unflatten`` to (C, H, W), ``body``, ``Flatten``, and a ``Linear`` to the outputs, its
    input width found by running torch on one zero image."""
    layers = (f"Unflatten(1, ({channels}, {height}, {width}))", *body, "Flatten()")
    with torch.no_grad(), torch.random.fork_rng():  # leaves torch's global generator as it was
        image = torch.zeros(1, channels * height * width, dtype=torch.float64)
        flat = reference.sequential(layers)(image)
    return (*layers, f"Linear({flat.shape[1]}, {outputs})")


CONV_KERNELS: Final = (1, 3, 5)
CONV_STRIDES: Final = (1, 2)
CONV_PADDINGS: Final = (0, 1, 2)
CONV_IMAGES: Final = ((1, 9, 7), (3, 7, 11))
"""Odd heights and widths, one channel and three: every stride leaves a remainder somewhere."""
POOLS: Final = ("MaxPool2d(2)", "AvgPool2d(2)")
CNN_BATCH: Final = 3


def conv_grid_cases() -> list[Case]:
    """Conv2d -> ReLU -> pool -> Flatten -> Linear for every kernel 1/3/5, stride 1/2,
    padding 0/1/2, image of 1 and 3 channels, max and average pooling: 72 cases."""
    cases = []
    for (c, h, w), k, s, p, pool in itertools.product(
        CONV_IMAGES, CONV_KERNELS, CONV_STRIDES, CONV_PADDINGS, POOLS
    ):
        conv = f"Conv2d({c}, 4, {k}, stride={s}, padding={p})"
        name = f"{c}x{h}x{w}-k{k}s{s}p{p}-{pool[:3].lower()}pool"
        cases.append(
            Case(
                "relu",
                "cross_entropy",
                _image_net(c, h, w, [conv, "ReLU()", pool]),
                CNN_BATCH,
                name,
            )
        )
    return cases


def cnn_cases() -> list[Case]:
    """Beyond the grid: overlapping and rectangular pooling windows, pooling straight after
    the convolution (no activation: no relu zeros to hide where max-pool sends its
    gradient), and a two-convolution conv -> pool -> conv -> pool -> flatten -> linear
    stack, with every activation and loss."""
    cases = [
        Case(
            "relu",
            "cross_entropy",
            _image_net(2, 9, 7, ["Conv2d(2, 3, 3, padding=1)", pool]),
            CNN_BATCH,
            f"2x9x7-{name}",
        )
        for name, pool in (
            ("maxpool3s1", "MaxPool2d(3, stride=1)"),
            ("maxpool2x3s1x2", "MaxPool2d((2, 3), stride=(1, 2))"),
            ("avgpool3s2", "AvgPool2d(3, stride=2)"),
            ("maxpool2", "MaxPool2d(2)"),
        )
    ]
    for loss in LOSSES:
        body = [
            *("Conv2d(1, 4, 3, padding=1)", "Tanh()", "MaxPool2d(2)"),
            *("Conv2d(4, 5, 3)", "ReLU()", "AvgPool2d(2)"),
        ]
        stack = _image_net(1, 12, 13, body, _outputs(loss))
        cases.append(Case("relu", loss, (*stack[:-1], "Sigmoid()", stack[-1]), 5, "lenet-like"))
    return cases


def cnn_central_difference_cases() -> list[Case]:
    """The stack, once per loss, against central differences: no torch involved."""
    return [c for c in cnn_cases() if c.name == "lenet-like"]


DIGITS_NET: Final = _image_net(
    1,
    8,
    8,
    ["Conv2d(1, 4, 3, padding=1)", "ReLU()", "MaxPool2d(2)", "Conv2d(4, 6, 3)", "ReLU()"],
    outputs=10,
)
"""A small CNN for scikit-learn's 8x8 digits: an input shape that is not MNIST's."""


@dataclass(frozen=True)
class DigitsCase(Case):
    """A case whose rows are real images: scikit-learn's 8x8 digits, scaled to [0, 1]."""

    def batch(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        from sklearn.datasets import load_digits

        digits = load_digits()
        X = np.asarray(digits.data[: self.batch_size], dtype=np.float64) / 16.0
        return X, np.asarray(digits.target[: self.batch_size], dtype=np.int64)


def digits_case(batch_size: int = 16) -> DigitsCase:
    return DigitsCase("relu", "cross_entropy", DIGITS_NET, batch_size, "digits-1x8x8")


LENET_SPEC: Final = _image_net(1, 28, 28, LENET5[1:5])
"""LeNet-5's first block and second convolution on MNIST's 1 x 28 x 28 images, then a
``Linear`` to 3 outputs: its state-dict keys and shapes, cheaply (no dense tail to train)."""


MAXPOOL_TIE_CASE: Final = Case(
    "relu",
    "cross_entropy",
    _image_net(1, 7, 6, ["Conv2d(1, 2, 3, padding=1)", "MaxPool2d(3, stride=1)"]),
    CNN_BATCH,
    "maxpool-ties",
)


def maxpool_tie(impl: Implementation) -> Measurement:
    """Max pooling at exact ties sends the gradient where torch does: to the first maximum
    of each window, in row-major order.

    The convolution's weights are zero and its biases are not, so every output of it equals
    its bias: every window of the pool is a tie. Which position wins decides ``dL/dW``
    (each position sees a different patch of X), so a model that breaks ties differently
    fails. Overlapping windows (kernel 3, stride 1) make one position the winner of several
    windows, whose gradients must add up. The check counts the ties torch saw.
    """
    case = MAXPOOL_TIE_CASE
    model = _build(impl, case)
    state = model.state_dict()
    state["1.weight"][...] = 0.0
    state["1.bias"][...] = [0.5, -0.25]
    model.load_state_dict(state)
    torch_model = reference.load(reference.sequential(case.layers), state)
    X, y = case.batch()
    with torch.no_grad():
        conv_out = torch_model[:2](torch.from_numpy(X)).numpy()
    ties = int(np.sum(conv_out == conv_out[:, :, :1, :1]))
    worst, errors = _gradients_against_torch(model, torch_model, case.loss, X, y)
    if ties != conv_out.size:
        errors["problem"] = f"torch saw {ties} tied values, not {conv_out.size}"
    return _within(
        "maxpool_tie",
        impl,
        case.id,
        worst if ties == conv_out.size else math.inf,
        ties=ties,
        **errors,
    )


def unsupported_spec(impl: Implementation) -> Measurement:
    """A spec with a layer the model class does not build raises ``ValueError`` at
    construction. A class that declares ``supported_layers`` must name the layer; one that
    declares none (the MLP shorthand only) must at least name ``layers``."""
    name = next(n for n in reference.SPEC_LAYERS if n not in supported_layers(impl))
    # Each keeps one 1x4x4 image as it is, so only the layer's name can be refused.
    layer = {
        "Conv2d": "Conv2d(1, 1, 3, padding=1)",
        "MaxPool2d": "MaxPool2d(1)",
        "AvgPool2d": "AvgPool2d(1)",
        "Dropout": "Dropout(0.5)",
        "BatchNorm2d": "BatchNorm2d(1)",
    }.get(name, f"{name}()")
    layers = ["Unflatten(1, (1, 4, 4))", layer, "Flatten()", "Linear(16, 3)"]
    declared = getattr(impl.factory, "supported_layers", None) is not None
    must_name = name if declared else "layers"
    details: dict[str, Any] = {"layers": layers}
    try:
        impl.factory(layers, loss="cross_entropy", seed=0, dtype="float64")
    except ValueError as exc:
        details["message"] = str(exc)
        if must_name.lower() not in str(exc).lower():
            details["problem"] = f"the ValueError message {str(exc)!r} does not name {must_name}"
    except Exception as exc:
        details["problem"] = f"raised {type(exc).__name__}: {exc}, expected a ValueError"
    else:
        details["problem"] = f"built {layers} without an error, expected a ValueError"
    return _verdict("unsupported_spec", impl, name, "problem" not in details, **details)


def cnn_training_case() -> TrainingCase:
    """Fifty steps of a CNN on real 8x8 digits, Nesterov with weight decay and the cosine."""
    return TrainingCase(
        "cnn-sgd-nesterov-cosine",
        digits_case(TRAINING_ROWS),
        0.05,
        {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-2, "schedule": "cosine"},
    )


SpecCheck: TypeAlias = tuple[str, tuple[int | str, ...], Callable[[], Measurement]]


def spec_checks(impl: Implementation) -> list[SpecCheck]:
    """The checks of networks written as specs: ``(check, layers, call)``, whether ``impl``
    builds those layers or not (:func:`plan` runs the ones it builds; :func:`not_applicable`
    reports the rest)."""
    out: list[SpecCheck] = []
    if impl.differentiable:
        for case in [*conv_grid_cases(), *cnn_cases(), digits_case()]:
            out.append(("gradient_vs_torch", case.layers, partial(gradient_vs_torch, impl, case)))
        for case in cnn_central_difference_cases():
            out.append(("central_difference", case.layers, partial(central_difference, impl, case)))
        tie = partial(maxpool_tie, impl)
        out.append(("maxpool_tie", MAXPOOL_TIE_CASE.layers, tie))
        training = cnn_training_case()
        out.append(
            ("training_vs_torch", training.net.layers, partial(training_vs_torch, impl, training))
        )
    for case in (cnn_cases()[-1], digits_case(17)):
        for dtype in ("float64", "float32"):
            call = partial(forward_vs_torch, impl, case, dtype)
            out.append(("forward_vs_torch", case.layers, call))
    for dtype in ("float64", "float32"):
        call = partial(state_dict_layout, impl, dtype, LENET_SPEC)
        out.append(("state_dict_layout", LENET_SPEC, call))
    return out


def not_applicable(impl: Implementation) -> list[dict[str, Any]]:
    """The spec checks ``impl`` does not build, one row per check: how many cases, and why."""
    missing: dict[str, set[str]] = {}
    cases: dict[str, int] = {}
    for check, layers, _ in spec_checks(impl):
        if names := _missing(impl, layers):
            missing.setdefault(check, set()).update(names)
            cases[check] = cases.get(check, 0) + 1
    rows = [
        {"check": c, "implementation": impl.name, "cases": cases[c], "reason": _why(impl, m)}
        for c, m in missing.items()
    ]
    for recipe in RECIPE_THRESHOLDS:
        if recipe not in impl.recipes:
            reason = f"{impl.name} has no RECIPES[{recipe!r}]"
            rows.append(
                {
                    "check": f"accuracy[{recipe}]",
                    "implementation": impl.name,
                    "cases": 1,
                    "reason": reason,
                }
            )
    return rows


# --------------------------------------------------------------------------- training


def load(dataset: Dataset, split: str) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """One split of a dataset, from ``fromscratch.datasets``."""
    shadowed = shadowing_checkout()
    if shadowed:
        raise ImportError(shadowed)
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
    """What the ``callback`` saw, epoch by epoch.

    ``observe(epoch)``, when given, runs after each epoch and returns extra numbers to keep
    in ``observed`` (the report's test accuracy, only ever looked at, never used to choose
    anything). Its time is left out of ``seconds``, so the curve times training alone.
    """

    epochs: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    observed: list[dict[str, float]] = field(default_factory=list)
    observe: Callable[[int], Mapping[str, float]] | None = None
    start: float = field(default_factory=time.perf_counter)
    paused: float = 0.0

    def __call__(self, epoch: int, metrics: Mapping[str, float]) -> None:
        now = time.perf_counter()
        self.epochs.append(epoch)
        self.loss.append(float(metrics["loss"]))
        self.seconds.append(now - self.start - self.paused)
        if self.observe is not None:
            self.observed.append(dict(self.observe(epoch)))
            self.paused += time.perf_counter() - now


Observer: TypeAlias = Callable[[Any, int], Mapping[str, float]]
"""``observe(model, epoch)``: numbers to record about ``model`` after an epoch."""


def train(
    impl: Implementation,
    dataset: Dataset,
    n_train: int | None = None,
    *,
    observe: Observer | None = None,
    callbacks: Sequence[Callable[[int, Mapping[str, float]], None]] = (),
    fit_options: Callable[[Any], Mapping[str, Any]] | None = None,
    recipe_name: str | None = None,
) -> tuple[Any, Curve, float]:
    """Build and fit a model with the implementation's own recipe, on the first ``n_train``
    training rows (all of them by default); return it, its curve and the wall time of ``fit``
    (without the time ``observe`` took). ``callbacks`` also run after each epoch, and
    ``fit_options(model)`` adds keyword arguments to ``fit`` (a progress display's
    ``batch_callback``). ``recipe_name`` picks a recipe other than ``RECIPES[dataset]``,
    such as ``"mnist_cnn"``."""
    recipe = impl.recipes[recipe_name or dataset]
    X, y = load(dataset, "train")
    if n_train is not None:
        X, y = X[:n_train], y[:n_train]
    model = impl.factory(**recipe["model"])
    curve = Curve(observe=None if observe is None else partial(observe, model))

    def callback(epoch: int, metrics: Mapping[str, float]) -> None:
        curve(epoch, metrics)
        for extra in callbacks:
            extra(epoch, metrics)

    fit_kwargs = {**recipe["fit"], **(fit_options(model) if fit_options else {})}
    start = time.perf_counter()
    model.fit(X, y, callback=callback, **fit_kwargs)
    return model, curve, time.perf_counter() - start - curve.paused


def accuracy(
    impl: Implementation,
    dataset: Dataset,
    *,
    subset: bool = False,
    observe: Observer | None = None,
    callbacks: Sequence[Callable[[int, Mapping[str, float]], None]] = (),
    fit_options: Callable[[Any], Mapping[str, Any]] | None = None,
    trained: Callable[[Any], None] | None = None,
    recipe: str | None = None,
) -> Measurement:
    """Test-split accuracy after training with the recipe (``RECIPES[recipe]`` when
    ``recipe`` names one of :data:`RECIPE_THRESHOLDS`, judged by its threshold and trained
    on its :data:`RECIPE_SUBSETS` entry with ``subset=True``).

    The bound comes from :data:`ACCURACY_THRESHOLDS` for the implementation's kind of
    training. With ``subset=True`` the recipe trains on :data:`SUBSETS` ``[dataset]``'s first
    rows only, is judged by that subset's own threshold, and the case is named
    ``"<dataset>[:n_train]"``; the test split is always the whole of it.

    The report passes ``observe``, ``callbacks`` and ``fit_options`` (see :func:`train`)
    and gets the trained model through ``trained(model)``; none of them changes what is
    measured.
    """
    key: str = recipe or dataset
    chosen = subset_of(key) if subset else None
    n_train = chosen.n_train if chosen else None
    model, curve, seconds = train(
        impl,
        dataset,
        n_train,
        observe=observe,
        callbacks=callbacks,
        fit_options=fit_options,
        recipe_name=recipe,
    )
    if trained is not None:
        trained(model)
    X_test, y_test = load(dataset, "test")
    predicted = model.predict(X_test)
    acc = float(np.mean(predicted == y_test))
    if chosen:
        threshold = chosen.thresholds[impl.training]
        case = f"{key}[:{n_train}]"
    elif recipe:
        threshold, case = RECIPE_THRESHOLDS[recipe][1], recipe
    else:
        threshold, case = ACCURACY_THRESHOLDS[impl.training][dataset], dataset
    expected_epochs = list(range(1, int(impl.recipes[key]["fit"]["epochs"]) + 1))
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
        checks += [partial(training_vs_torch, impl, case) for case in training_cases()]
    if impl.estimates_gradient:
        checks += [partial(es_gradient, impl, n_pairs) for n_pairs in ES_PAIRS]
    checks.append(partial(divergence, impl))
    checks += [partial(forward_vs_torch, impl, case, dtype) for case, dtype in forward_cases()]
    checks += [partial(state_dict_layout, impl, dtype) for dtype in ("float64", "float32")]
    checks += [partial(bad_input, impl, case) for case in bad_inputs()]
    checks += [call for _, layers, call in spec_checks(impl) if not unsupported(impl, layers)]
    if len(supported_layers(impl)) < len(reference.SPEC_LAYERS):
        checks.append(partial(unsupported_spec, impl))
    checks.append(partial(determinism, impl))
    checks += [partial(accuracy, impl, dataset) for dataset in datasets]
    checks += [
        partial(accuracy, impl, dataset, recipe=recipe)
        for recipe, (dataset, _) in RECIPE_THRESHOLDS.items()
        if dataset in datasets and recipe in impl.recipes
    ]
    return checks

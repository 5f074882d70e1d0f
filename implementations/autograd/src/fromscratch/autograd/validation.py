"""Checks at the public boundary of :class:`~fromscratch.autograd.model.Network`.

The engine itself raises what torch raises (``RuntimeError`` for shapes, ...); the Model
protocol promises a ``ValueError`` that says what was wrong, where, and what was
expected. Everything is checked once per call, before any work, never per batch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

DTYPES = ("float32", "float64")
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine")


def _listed(options: Collection[object]) -> str:
    return ", ".join(repr(option) for option in options)


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """``value`` must be one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {_listed(choices)}")
    return value


def _as_int(value: object) -> int | None:
    """An integer (Python or NumPy, but not a bool) as an int, else None."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    return None


def check_layers(layers: object) -> tuple[int, ...]:
    """At least two positive integer sizes: inputs, hidden layers..., outputs."""
    if isinstance(layers, str | bytes) or not isinstance(layers, Sequence | np.ndarray):
        raise ValueError(
            f"layers must be a sequence of sizes such as [784, 128, 10], got {layers!r}"
        )
    sizes = list(layers)
    if len(sizes) < 2:
        raise ValueError(f"layers needs at least 2 sizes (inputs and outputs), got {sizes!r}")
    checked = []
    for i, size in enumerate(sizes):
        as_int = _as_int(size)
        if as_int is None or as_int < 1:
            raise ValueError(f"layers[{i}] must be a positive integer, got {size!r}")
        checked.append(as_int)
    return tuple(checked)


def check_positive_int(name: str, value: object) -> int:
    as_int = _as_int(value)
    if as_int is None or as_int < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return as_int


def check_seed(seed: object) -> int:
    as_int = _as_int(seed)
    if as_int is None or as_int < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return as_int


def check_float(
    name: str, value: object, *, low: float, high: float = math.inf, low_inclusive: bool = True
) -> float:
    """A finite real number in ``[low, high)`` (``(low, high)`` if not ``low_inclusive``)."""
    interval = f"{'[' if low_inclusive else '('}{low:g}, {high:g})"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number in {interval}, got {value!r}")
    x = float(value)
    if not ((x >= low if low_inclusive else x > low) and x < high):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return x


@dataclass(frozen=True)
class FitOptions:
    """``fit``'s optional keyword arguments, checked."""

    optimizer: str = "sgd"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    schedule: str = "constant"
    shuffle: bool = True


_SGD_ONLY = ("momentum", "nesterov")
_ADAM_ONLY = ("betas", "eps")
FIT_OPTIONS = ("optimizer", *_SGD_ONLY, "weight_decay", *_ADAM_ONLY, "schedule", "shuffle")


def check_fit_options(options: Mapping[str, Any]) -> FitOptions:
    """Check ``fit``'s ``**options``; an option of the other optimizer family is refused.

    Ignoring ``momentum=0.9`` under Adam would silently train another model than the
    caller asked for. ``weight_decay`` defaults to 0, except for ``"adamw"`` where it
    defaults to torch's 0.01.
    """
    unknown = sorted(set(options) - set(FIT_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown fit option(s) {_listed(unknown)}; accepted options are {_listed(FIT_OPTIONS)}"
        )
    optimizer = check_choice("optimizer", options.get("optimizer", "sgd"), OPTIMIZERS)
    foreign = _ADAM_ONLY if optimizer == "sgd" else _SGD_ONLY
    misplaced = [name for name in foreign if name in options]
    if misplaced:
        raise ValueError(
            f"option(s) {_listed(misplaced)} do not apply to optimizer={optimizer!r}; "
            f"{_listed(_SGD_ONLY)} are for 'sgd', {_listed(_ADAM_ONLY)} for 'adam' and 'adamw'"
        )
    momentum = check_float("momentum", options.get("momentum", 0.0), low=0, high=1)
    nesterov = options.get("nesterov", False)
    if not isinstance(nesterov, bool | np.bool_):
        raise ValueError(f"nesterov must be True or False, got {nesterov!r}")
    if nesterov and momentum == 0:
        raise ValueError("nesterov=True needs momentum > 0 (e.g. momentum=0.9), got momentum=0")
    default_decay = 0.01 if optimizer == "adamw" else 0.0
    weight_decay = check_float("weight_decay", options.get("weight_decay", default_decay), low=0)
    betas = options.get("betas", (0.9, 0.999))
    if isinstance(betas, str) or not isinstance(betas, Sequence) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
    beta1 = check_float("betas[0]", betas[0], low=0, high=1)
    beta2 = check_float("betas[1]", betas[1], low=0, high=1)
    eps = check_float("eps", options.get("eps", 1e-8), low=0, low_inclusive=False)
    schedule = options.get("schedule", "constant")
    schedule = check_choice("schedule", "constant" if schedule is None else schedule, SCHEDULES)
    shuffle = options.get("shuffle", True)
    if not isinstance(shuffle, bool | np.bool_):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
    return FitOptions(
        optimizer,
        momentum,
        bool(nesterov),
        weight_decay,
        (beta1, beta2),
        eps,
        schedule,
        bool(shuffle),
    )


def _first_non_finite(X: NDArray[Any]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])


def _all_finite(X: NDArray[np.floating[Any]]) -> bool:
    """Whether the 2-D float array ``X`` is finite everywhere.

    A NaN or inf anywhere in a row makes that row's sum non-finite, so one BLAS
    matrix-vector product clears the usual case faster than ``np.isfinite`` over every
    entry; only if a sum overflows (huge but finite values) is the exact test needed.
    """
    with np.errstate(all="ignore"):
        row_sums = X @ np.ones(X.shape[1], dtype=X.dtype)
    return bool(np.isfinite(row_sums).all()) or bool(np.isfinite(X).all())


def check_X(X: object, n_features: int, dtype: np.dtype[Any]) -> NDArray[np.floating[Any]]:
    """A finite, real, 2-D array of shape (n >= 1, ``n_features``), cast to ``dtype``."""
    X = np.asarray(X)
    if X.dtype.kind not in "iuf":
        raise ValueError(
            f"X must hold real numbers (an integer or float dtype), got dtype {X.dtype}"
        )
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D with shape (n_samples, {n_features}), got {X.ndim}-D shape {X.shape}"
        )
    if X.shape[0] < 1:
        raise ValueError(f"X must have at least 1 row, got shape {X.shape} (empty)")
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features (columns) but the first layer expects {n_features}: "
            f"expected shape (n_samples, {n_features}), got {X.shape}"
        )
    # Cast, then check: catches NaN/inf and values that overflow only in the cast.
    with np.errstate(over="ignore"):
        cast = np.ascontiguousarray(X, dtype=dtype)
    if not _all_finite(cast):
        row, col = _first_non_finite(cast)
        original = X[row, col]
        if X.dtype.kind == "f" and not np.isfinite(original):
            raise ValueError(
                f"X must be finite, but X[{row}, {col}] = {original} (row {row}, column {col}); "
                f"remove or impute NaN/inf values first"
            )
        raise ValueError(
            f"X[{row}, {col}] = {original} overflows {dtype}: rescale X or use dtype='float64'"
        )
    return cast


def check_y(y: object, n_samples: int, n_classes: int) -> NDArray[np.int64]:
    """``n_samples`` integer labels, each in ``[0, n_classes)``; returned as int64."""
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise ValueError(
            f"y must hold integer class labels (an integer dtype such as int64), "
            f"got dtype {y.dtype}"
        )
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D with shape ({n_samples},), got shape {y.shape}")
    if len(y) != n_samples:
        raise ValueError(f"y has {len(y)} labels but X has {n_samples} rows; they must match")
    bad = np.flatnonzero((y < 0) | (y >= n_classes))
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f"y[{i}] = {int(y[i])} is not a valid class label: labels must be in "
            f"[0, {n_classes}) for this model ({len(bad)} invalid label(s) in total)"
        )
    return y.astype(np.int64, copy=False)


def check_state_dict(
    state: object, expected: Mapping[str, tuple[int, ...]], dtype: np.dtype[Any]
) -> dict[str, NDArray[np.floating[Any]]]:
    """Exactly the ``expected`` keys and shapes, the model's dtype, finite values.

    Everything is checked before anything is loaded: a bad state dict never leaves a
    model half loaded.
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"state must be a mapping of name -> array, got {type(state).__name__}")
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing key(s) {_listed(missing)}")
        if unexpected:
            parts.append(f"unexpected key(s) {_listed(unexpected)}")
        raise ValueError(
            f"state dict does not match the model: {'; '.join(parts)}; "
            f"expected exactly {_listed(expected)}"
        )
    arrays = {}
    for key, shape in expected.items():
        value = np.asarray(state[key])
        if value.dtype.kind != "f":
            raise ValueError(
                f"state[{key!r}] must be a floating-point array, got dtype {value.dtype}"
            )
        if value.dtype != dtype:
            raise ValueError(
                f"state[{key!r}] has dtype {value.dtype}, expected {dtype}: the model was built "
                f"with dtype={dtype.name!r}; cast with .astype({dtype.name!r})"
            )
        if value.shape != shape:
            raise ValueError(f"state[{key!r}] has shape {value.shape}, expected {shape}")
        if not np.isfinite(value).all():
            index = _first_non_finite(value)
            raise ValueError(f"state[{key!r}] must be finite, but holds {value[index]} at {index}")
        arrays[key] = value
    return arrays

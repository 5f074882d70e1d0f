"""Checks at the public boundary: what a caller hands in is validated here, once.

The math of every implementation trusts its inputs; these functions make that trust
safe. Each raises ``ValueError`` with a message that says what was wrong, where, and what
was expected, so that a mistake stops at the call that made it instead of surfacing later
as a NaN or a broadcasting error deep inside a training run. Every implementation uses
these same helpers, so the same mistake reads the same everywhere.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .types import Array, BatchCallback, Callback


def listing(names: Collection[object]) -> str:
    """``'a', 'b', 'c'``: how a message lists accepted values."""
    return ", ".join(repr(name) for name in names)


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """``value`` must be one of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {listing(choices)}")
    return value


def _as_int(value: object) -> int | None:
    """``value`` as an int if it is an integer (Python or NumPy), else None.

    ``bool`` is an ``int`` subclass, but ``layers=[True, 2]`` or ``epochs=True`` is surely
    a mistake, so booleans are not integers here.
    """
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    return None


def check_int(name: str, value: object, *, low: int = 1) -> int:
    """``value`` must be an integer >= ``low`` (``epochs``, ``batch_size``, ``seed``...)."""
    as_int = _as_int(value)
    if as_int is None or as_int < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return as_int


def check_seed(seed: object) -> int:
    """``seed`` must be an integer >= 0, as ``np.random.default_rng`` wants."""
    as_int = _as_int(seed)
    if as_int is None or as_int < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return as_int


def check_float(
    name: str,
    value: object,
    *,
    low: float,
    high: float = math.inf,
    low_inclusive: bool = True,
    high_inclusive: bool = False,
) -> float:
    """``value`` must be a finite real number in the given interval; returned as a float."""
    left = "[" if low_inclusive else "("
    right = "]" if high_inclusive else ")"
    interval = f"{left}{low:g}, {high:g}{right}"
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
    ):
        raise ValueError(f"{name} must be a finite real number in {interval}, got {value!r}")
    x = float(value)
    above = x >= low if low_inclusive else x > low
    below = x <= high if high_inclusive else x < high
    if not (above and below):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return x


def check_bool(name: str, value: object) -> bool:
    """``value`` must be ``True`` or ``False`` (a NumPy bool too)."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_layers(layers: object) -> tuple[int, ...]:
    """``layers`` must list at least two positive integer sizes: inputs, ..., outputs."""
    if isinstance(layers, str | bytes) or not isinstance(layers, Sequence | np.ndarray):
        raise ValueError(
            f"layers must be a sequence of layer sizes such as [784, 128, 10], got {layers!r}"
        )
    sizes = list(layers)
    if len(sizes) < 2:
        raise ValueError(
            f"layers needs at least 2 sizes (inputs and outputs), got {len(sizes)}: {sizes!r}"
        )
    checked = []
    for i, size in enumerate(sizes):
        as_int = _as_int(size)
        if as_int is None or as_int < 1:
            raise ValueError(f"layers[{i}] must be a positive integer, got {size!r}")
        checked.append(as_int)
    return tuple(checked)


def check_outputs(loss: str, n_outputs: int) -> int:
    """The number of classes a model with ``n_outputs`` output units and this ``loss`` has.

    ``"bce"`` reads one logit (two classes); the others read one output per class.
    """
    if loss == "bce" and n_outputs != 1:
        raise ValueError(
            f"loss='bce' uses one output logit, so layers[-1] must be 1, got {n_outputs}; "
            f"for {n_outputs} classes use loss='cross_entropy'"
        )
    if loss != "bce" and n_outputs < 2:
        raise ValueError(
            f"loss={loss!r} needs one output per class, so layers[-1] must be >= 2, "
            f"got {n_outputs}; for a single output logit use loss='bce'"
        )
    return 2 if loss == "bce" else n_outputs


def check_fit_arguments(
    epochs: object,
    batch_size: object,
    learning_rate: object,
    callback: Callback | None,
    batch_callback: BatchCallback | None,
) -> tuple[int, int, float]:
    """``fit``'s required arguments and its two callbacks; returns the three numbers."""
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable(epoch, metrics) or None, got {callback!r}")
    if batch_callback is not None and not callable(batch_callback):
        raise ValueError(f"batch_callback must be callable or None, got {batch_callback!r}")
    return (
        check_int("epochs", epochs),
        check_int("batch_size", batch_size),
        check_float("learning_rate", learning_rate, low=0, low_inclusive=False),
    )


def _first_non_finite(values: NDArray[Any]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])


def _all_finite(X: Array) -> bool:
    """Whether every entry of the 2-D floating array ``X`` is finite.

    A NaN or an inf anywhere in a row makes that row's sum NaN or inf, so one
    matrix-vector product (a multi-threaded BLAS call, about twice as fast as the
    element-wise ``np.isfinite``) clears the usual all-finite case. A row of huge but
    finite values can overflow its sum too; only then do we pay for the exact test.
    """
    with np.errstate(all="ignore"):
        row_sums = X @ np.ones(X.shape[1], dtype=X.dtype)
    return bool(np.isfinite(row_sums).all()) or bool(np.isfinite(X).all())


def check_X(X: object, n_features: int, dtype: np.dtype[Any]) -> Array:
    """``X`` must be a finite, real, 2-D (n >= 1, ``n_features``) array; cast to ``dtype``.

    Returns a C-contiguous array of the model's dtype (the input itself when it already
    is one: nothing downstream writes into it).
    """
    X = np.asarray(X)
    if X.dtype.kind not in "iuf":
        raise ValueError(
            f"X must hold real numbers (integer or floating dtype), got dtype {X.dtype}"
        )
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D with shape (n_samples, {n_features}), got {X.ndim}-D shape {X.shape}"
        )
    if X.shape[0] < 1:
        raise ValueError(f"X must have at least 1 row, got shape {X.shape} (empty)")
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features (columns) but the model's first layer expects "
            f"{n_features}: expected shape (n_samples, {n_features}), got {X.shape}"
        )
    # Cast first, then check once: this catches NaN and inf in the input and values that
    # only become inf in the cast (1e300 does not fit in float32).
    with np.errstate(over="ignore", invalid="ignore"):
        cast = np.ascontiguousarray(X, dtype=dtype)
    if not _all_finite(cast):
        row, col = _first_non_finite(cast)
        original = X[row, col]
        if X.dtype.kind == "f" and not np.isfinite(original):
            raise ValueError(
                f"X must be finite, but X[{row}, {col}] = {original} "
                f"(row {row}, column {col}); remove or impute NaN/inf values first"
            )
        raise ValueError(
            f"X[{row}, {col}] = {original} (row {row}, column {col}) overflows "
            f"{dtype}: values must fit the model dtype; rescale X or use dtype='float64'"
        )
    return cast


def check_y(y: object, n_samples: int, n_classes: int) -> NDArray[np.int64]:
    """``y`` must be ``n_samples`` integer labels, each in ``[0, n_classes)``; as int64."""
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
    state: object,
    expected: Mapping[str, tuple[int, ...]],
    dtype: np.dtype[Any],
) -> dict[str, Array]:
    """``state`` must hold exactly the ``expected`` keys, shapes, the model's dtype, finite.

    Everything is checked before anything is returned, so a bad state dict never leaves
    a model half loaded.
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"state must be a mapping of name -> array, got {type(state).__name__}")
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing key(s) {listing(missing)}")
        if unexpected:
            parts.append(f"unexpected key(s) {listing(unexpected)}")
        raise ValueError(
            f"state dict does not match the model: {'; '.join(parts)}; "
            f"expected exactly {listing(expected)}"
        )
    arrays: dict[str, Array] = {}
    for key, shape in expected.items():
        value = np.asarray(state[key])
        if value.dtype.kind != "f":
            raise ValueError(
                f"state[{key!r}] must be a floating-point array, got dtype {value.dtype}"
            )
        if value.dtype != dtype:
            raise ValueError(
                f"state[{key!r}] has dtype {value.dtype}, expected {dtype}: the model was "
                f"built with dtype={dtype.name!r}; cast the array with .astype({dtype.name!r})"
            )
        if value.shape != shape:
            raise ValueError(f"state[{key!r}] has shape {value.shape}, expected {shape}")
        if not np.isfinite(value).all():
            index = _first_non_finite(value)
            raise ValueError(
                f"state[{key!r}] must be finite, but it holds {value[index]} at index {index}"
            )
        arrays[key] = value
    return arrays

"""Checks at the boundary: everything a caller hands in is validated here, once.

The strategies and the forward pass trust their inputs; these functions make that trust
safe. Each raises ``ValueError`` whose message says what was wrong, where, and what was
expected.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .optim import OPTIMIZERS

DTYPES = ("float32", "float64")
STRATEGIES = ("es", "ga", "hill_climb")
EXECUTORS = ("local", "ray")
SCHEDULES = ("constant", "cosine")


def _choices(options: Collection[object]) -> str:
    return ", ".join(repr(option) for option in options)


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """``value`` must be one of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {_choices(choices)}")
    return value


def _as_int(value: object) -> int | None:
    """``value`` as an int if it is a (Python or NumPy) integer and not a bool, else None."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    return None


def check_layers(layers: object) -> tuple[int, ...]:
    """``layers`` must list at least two positive integer sizes: inputs, ..., outputs."""
    if isinstance(layers, str | bytes) or not isinstance(layers, Sequence | np.ndarray):
        raise ValueError(
            f"layers must be a sequence of layer sizes such as [784, 32, 10], got {layers!r}"
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


def check_int(name: str, value: object, *, low: int = 1) -> int:
    """``value`` must be an integer >= ``low``."""
    as_int = _as_int(value)
    if as_int is None or as_int < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return as_int


def check_float(
    name: str, value: object, *, low: float, high: float = math.inf, low_inclusive: bool = True
) -> float:
    """``value`` must be a finite real number in ``[low, high)`` (``(low, high)`` if not
    ``low_inclusive``); returned as a Python float."""
    interval = f"{'[' if low_inclusive else '('}{low:g}, {high:g})"
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
    ):
        raise ValueError(f"{name} must be a finite real number in {interval}, got {value!r}")
    x = float(value)
    if not ((x >= low if low_inclusive else x > low) and x < high):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return x


def check_population(value: object, *, even: bool) -> int:
    """A population size: an integer >= 2, and even for antithetic pairs."""
    population = check_int("population", value, low=2)
    if even and population % 2:
        raise ValueError(
            f"population must be even (it is made of population // 2 antithetic pairs "
            f"theta +- sigma * eps), got {population}"
        )
    return population


@dataclass(frozen=True)
class FitOptions:
    """The optional keyword arguments of ``Network.fit``, checked, with their defaults."""

    strategy: str = "es"
    population: int = 100
    sigma: float = 0.05
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    rank: int | None = None
    crossover: bool = True
    offspring: int | None = None
    self_adaptive: bool = False
    schedule: str = "constant"
    executor: str = "local"
    workers: int = 2
    address: str | None = None


# Which options each strategy reads; an option meant for another one is refused rather
# than silently ignored, so a caller never trains a different model than they think.
STRATEGY_OPTIONS: dict[str, tuple[str, ...]] = {
    "es": (
        "population",
        "sigma",
        "optimizer",
        "momentum",
        "weight_decay",
        "rank",
        "executor",
        "workers",
        "address",
    ),
    "ga": ("population", "crossover", "offspring", "self_adaptive"),
    "hill_climb": ("population",),
}
COMMON_OPTIONS = ("strategy", "schedule")
FIT_OPTIONS = (*COMMON_OPTIONS, *dict.fromkeys(o for v in STRATEGY_OPTIONS.values() for o in v))
DEFAULT_POPULATION = {"es": 100, "ga": 50, "hill_climb": 10}


def check_fit_options(options: Mapping[str, Any]) -> FitOptions:
    """Check ``fit``'s ``**options`` for the chosen strategy."""
    unknown = [name for name in options if name not in FIT_OPTIONS]
    if unknown:
        raise ValueError(
            f"unknown fit option(s) {_choices(unknown)}; accepted options are "
            f"{_choices(FIT_OPTIONS)}"
        )
    strategy = check_choice("strategy", options.get("strategy", "es"), STRATEGIES)
    accepted = STRATEGY_OPTIONS[strategy]
    foreign = [name for name in options if name not in (*COMMON_OPTIONS, *accepted)]
    if foreign:
        raise ValueError(
            f"option(s) {_choices(foreign)} do not apply to strategy={strategy!r}, which "
            f"accepts {_choices(accepted)}"
            + ("" if strategy == "es" else "; its mutation scale is learning_rate")
        )
    defaults = FitOptions()
    population = options.get("population", DEFAULT_POPULATION[strategy])
    population = (
        check_int("population", population, low=1)  # one mutation per step is a valid climb
        if strategy == "hill_climb"
        else check_population(population, even=strategy == "es")
    )
    sigma = check_float("sigma", options.get("sigma", defaults.sigma), low=0, low_inclusive=False)
    optimizer = check_choice("optimizer", options.get("optimizer", defaults.optimizer), OPTIMIZERS)
    momentum = check_float("momentum", options.get("momentum", defaults.momentum), low=0, high=1)
    weight_decay = check_float(
        "weight_decay", options.get("weight_decay", defaults.weight_decay), low=0
    )
    rank = options.get("rank")
    if rank is not None:
        rank = check_int("rank", rank)
    crossover = options.get("crossover", defaults.crossover)
    if not isinstance(crossover, bool | np.bool_):
        raise ValueError(f"crossover must be True or False, got {crossover!r}")
    offspring = options.get("offspring")
    if offspring is not None:
        offspring = check_int("offspring", offspring)
    self_adaptive = options.get("self_adaptive", defaults.self_adaptive)
    if not isinstance(self_adaptive, bool | np.bool_):
        raise ValueError(f"self_adaptive must be True or False, got {self_adaptive!r}")
    schedule = check_choice("schedule", options.get("schedule", defaults.schedule), SCHEDULES)
    if self_adaptive and schedule != "constant":
        raise ValueError(
            f"schedule={schedule!r} does not combine with self_adaptive=True: each member "
            "then carries its own mutation strength, and learning_rate is only its start"
        )
    executor = check_choice("executor", options.get("executor", defaults.executor), EXECUTORS)
    if executor == "local" and ("workers" in options or "address" in options):
        raise ValueError(
            "workers and address apply to executor='ray' only; "
            "the local executor evaluates the population in this process"
        )
    workers = check_int("workers", options.get("workers", defaults.workers))
    address = options.get("address")
    if address is not None and not (isinstance(address, str) and address):
        raise ValueError(
            f"address must be a Ray cluster address such as 'ray://host:10001' or "
            f"'auto', or None for a local instance, got {address!r}"
        )
    return FitOptions(
        strategy=strategy,
        population=population,
        sigma=sigma,
        optimizer=optimizer,
        momentum=momentum,
        weight_decay=weight_decay,
        rank=rank,
        crossover=bool(crossover),
        offspring=offspring,
        self_adaptive=bool(self_adaptive),
        schedule=schedule,
        executor=executor,
        workers=workers,
        address=address,
    )


def _first_non_finite(X: NDArray[Any]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])


def check_X(X: object, n_features: int, dtype: np.dtype[Any]) -> NDArray[np.floating[Any]]:
    """``X`` must be a finite, real, 2-D (n >= 1, ``n_features``) array; cast to ``dtype``."""
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
        raise ValueError(f"X must have at least 1 row, got shape {X.shape}")
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features (columns) but the model's first layer expects "
            f"{n_features}: expected shape (n_samples, {n_features}), got {X.shape}"
        )
    # Cast first, then check: this also catches values that only overflow in the cast.
    with np.errstate(over="ignore"):
        cast = np.ascontiguousarray(X, dtype=dtype)
    if not np.isfinite(cast).all():
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


def check_y(y: object, n_samples: int, n_classes: int) -> NDArray[np.integer[Any]]:
    """``y`` must be ``n_samples`` integer labels, each in ``[0, n_classes)``."""
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
    return y


def check_state_dict(
    state: object, expected: Mapping[str, tuple[int, ...]], dtype: np.dtype[Any]
) -> dict[str, NDArray[np.floating[Any]]]:
    """``state`` must hold exactly the ``expected`` keys and shapes, in the model's dtype,
    all finite. Everything is checked before anything is loaded."""
    if not isinstance(state, Mapping):
        raise ValueError(f"state must be a mapping of name -> array, got {type(state).__name__}")
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing key(s) {_choices(missing)}")
        if unexpected:
            parts.append(f"unexpected key(s) {_choices(unexpected)}")
        raise ValueError(
            f"state dict does not match the model: {'; '.join(parts)}; "
            f"expected exactly {_choices(expected)}"
        )
    arrays: dict[str, NDArray[np.floating[Any]]] = {}
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

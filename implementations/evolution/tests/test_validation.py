"""Bad input that only evolution takes: the strategies' options and ``estimate_gradient``.

The checks every implementation shares (constructor, X, y, state dicts, ``fit``'s
required arguments) are proved for every implementation by the conformance ``bad_input``
checks, and message by message by the boundary's own ``tests/test_validation.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fromscratch.evolution import Network

X_OK = np.random.default_rng(0).normal(size=(6, 4))
Y_OK = np.array([0, 1, 2, 0, 1, 2])


def model(**kwargs: Any) -> Network:
    return Network([4, 5, 3], **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0.0}, r"learning_rate must be in \(0, inf\), got 0.0"),
        ({"callback": 3}, r"callback must be callable"),
        ({"lr": 0.1}, r"unknown fit option\(s\) 'lr'; accepted options are 'strategy'"),
        ({"strategy": "pso"}, r"unknown strategy 'pso'; expected one of 'es', 'ga', 'hill_climb'"),
        ({"population": 5}, r"population must be even .*got 5"),
        ({"population": 0}, r"population must be an integer >= 2, got 0"),
        ({"sigma": 0}, r"sigma must be in \(0, inf\), got 0"),
        ({"optimizer": "rmsprop"}, r"unknown optimizer 'rmsprop'; expected one of 'adam', 'sgd'"),
        ({"optimizer": "sgd", "momentum": 1.0}, r"momentum must be in \[0, 1\), got 1.0"),
        ({"weight_decay": -1.0}, r"weight_decay must be in \[0, inf\), got -1.0"),
        ({"schedule": "step"}, r"unknown schedule 'step'; expected one of 'constant', 'cosine'"),
        ({"crossover": True}, r"'crossover' do not apply to strategy='es'"),
        (
            {"strategy": "ga", "sigma": 0.1},
            r"'sigma' do not apply to strategy='ga'.*mutation scale is learning_rate",
        ),
        ({"strategy": "ga", "population": 1}, r"population must be an integer >= 2, got 1"),
        ({"strategy": "ga", "crossover": "yes"}, r"crossover must be True or False, got 'yes'"),
        ({"strategy": "ga", "offspring": 0}, r"offspring must be an integer >= 1, got 0"),
        ({"strategy": "ga", "self_adaptive": 1}, r"self_adaptive must be True or False, got 1"),
        (
            {"strategy": "ga", "self_adaptive": True, "schedule": "cosine"},
            r"schedule='cosine' does not combine with self_adaptive=True",
        ),
        ({"offspring": 10}, r"'offspring' do not apply to strategy='es'"),
        ({"strategy": "hill_climb", "population": 0}, r"population must be an integer >= 1"),
        ({"strategy": "hill_climb", "learning_rate": 0.0}, r"learning_rate must be in \(0, inf\)"),
        ({"strategy": "hill_climb", "optimizer": "sgd"}, r"'optimizer' do not apply"),
    ],
)
def test_bad_fit_arguments(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"epochs": 1, "batch_size": 2, "learning_rate": 0.1, **kwargs}
    m = model()
    before = m.state_dict()
    with pytest.raises(ValueError, match=message):
        m.fit(X_OK, Y_OK, **arguments)
    for key, value in m.state_dict().items():  # refused before anything was trained
        np.testing.assert_array_equal(value, before[key])


def test_hill_climb_accepts_odd_populations() -> None:
    model().fit(
        X_OK, Y_OK, epochs=1, batch_size=3, learning_rate=0.1, strategy="hill_climb", population=1
    )


def call(method: str, X: Any, y: Any) -> object:
    """Call one public method of a fresh model with ``X`` (and ``y`` where it takes one)."""
    m = model()
    if method == "fit":
        return m.fit(X, y, epochs=1, batch_size=2, learning_rate=0.1)
    if method == "estimate":
        return m.estimate_gradient(X, y, population=4, sigma=0.1, seed=0)
    if method == "loss":
        return m.loss(X, y)
    return getattr(m, method)(X)


X_NAN = X_OK.copy()
X_NAN[3, 2] = np.nan


@pytest.mark.parametrize("method", ["estimate"])
@pytest.mark.parametrize(
    ("X", "message"),
    [
        (X_OK[0], r"X must be 2-D with shape \(n_samples, 4\), got 1-D shape \(4,\)"),
        (X_OK[:, :3], r"X has 3 features \(columns\) but the model's first layer expects 4"),
        (X_OK[:0], r"X must have at least 1 row, got shape \(0, 4\)"),
        (X_NAN, r"X must be finite, but X\[3, 2\] = .*nan.* \(row 3, column 2\)"),
        (X_OK.astype(str), r"X must hold real numbers .*got dtype <U"),
    ],
    ids=["1d", "features", "empty", "nan", "str"],
)
def test_bad_X(method: str, X: Any, message: str) -> None:
    y = Y_OK[: len(X)] if np.ndim(X) == 2 else Y_OK
    with pytest.raises(ValueError, match=message):
        call(method, X, y)


@pytest.mark.parametrize("method", ["estimate"])
@pytest.mark.parametrize(
    ("y", "message"),
    [
        (Y_OK.astype(float), r"y must hold integer class labels .*got dtype float64"),
        (Y_OK[:, None], r"y must be 1-D with shape \(6,\), got shape \(6, 1\)"),
        (Y_OK[:5], r"y has 5 labels but X has 6 rows"),
        (np.array([0, 1, 2, 3, 1, 0]), r"y\[3\] = 3 is not a valid class label: .*\[0, 3\)"),
        (np.array([0, 1, -1, 0, 1, 7]), r"y\[2\] = -1 is not a valid class label"),
    ],
    ids=["float", "2d", "length", "too-big", "negative"],
)
def test_bad_y(method: str, y: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(method, X_OK, y)

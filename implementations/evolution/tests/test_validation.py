"""Bad input at every public boundary raises ValueError: what was wrong, where, what was wanted."""

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
        ({"activation": "gelu"}, r"unknown activation 'gelu'; expected one of 'relu'"),
        ({"loss": "hinge"}, r"unknown loss 'hinge'; expected one of 'cross_entropy'"),
        ({"dtype": "float16"}, r"unknown dtype 'float16'; expected one of 'float32', 'float64'"),
        ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
        ({"seed": 1.5}, r"seed must be an integer >= 0, got 1.5"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model(**kwargs)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([4], r"at least 2 sizes .*got 1"),
        ([4, 0, 3], r"layers\[1\] must be a positive integer, got 0"),
        ([4, True, 3], r"layers\[1\] must be a positive integer, got True"),
        ("784,10", r"layers must be a sequence of layer sizes"),
    ],
)
def test_bad_layers(layers: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Network(layers)


def test_output_size_must_fit_the_loss() -> None:
    with pytest.raises(ValueError, match=r"loss='bce' uses one output logit.*must be 1, got 3"):
        Network([4, 3], loss="bce")
    with pytest.raises(ValueError, match=r"layers\[-1\] must be >= 2, got 1"):
        Network([4, 1], loss="mse")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, r"epochs must be an integer >= 1, got 0"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"learning_rate": 0.0}, r"learning_rate must be in \(0, inf\), got 0.0"),
        ({"learning_rate": -0.1}, r"learning_rate must be in \(0, inf\), got -0.1"),
        ({"learning_rate": float("nan")}, r"learning_rate must be a finite real number"),
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


@pytest.mark.parametrize("method", ["fit", "predict", "predict_proba", "loss", "estimate"])
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


@pytest.mark.parametrize("method", ["fit", "loss", "estimate"])
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


def state_with(**changes: Any) -> dict[str, Any]:
    state: dict[str, Any] = model().state_dict()
    for key, value in changes.items():
        key = key.replace("_", ".")
        if value is None:
            del state[key]
        else:
            state[key] = value
    return state


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (state_with(**{"2_bias": None}), r"missing key\(s\) '2.bias'"),
        ({**state_with(), "4.weight": np.zeros((1, 3))}, r"unexpected key\(s\) '4.weight'"),
        (
            state_with(**{"0_weight": np.zeros((4, 5), np.float32)}),
            r"state\['0.weight'\] has shape \(4, 5\), expected \(5, 4\)",
        ),
        (
            state_with(**{"2_bias": np.zeros(3)}),
            r"state\['2.bias'\] has dtype float64, expected float32",
        ),
        (
            state_with(**{"2_bias": np.zeros(3, np.int64)}),
            r"state\['2.bias'\] must be a floating-point array, got dtype int64",
        ),
        (
            state_with(**{"0_bias": np.array([0, np.nan, 0, 0, 0], np.float32)}),
            r"state\['0.bias'\] must be finite, but it holds .*nan.* at index \(1,\)",
        ),
        ([1, 2], r"state must be a mapping of name -> array, got list"),
    ],
    ids=["missing", "unexpected", "shape", "dtype", "int", "nan", "not-a-mapping"],
)
def test_bad_state_dict(state: Any, message: str) -> None:
    m = model()
    before = m.state_dict()
    with pytest.raises(ValueError, match=message):
        m.load_state_dict(state)
    for key, value in m.state_dict().items():  # nothing half loaded
        np.testing.assert_array_equal(value, before[key])

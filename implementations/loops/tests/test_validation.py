"""Bad input at every public boundary raises ValueError: what was wrong, where, what was wanted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fromscratch.loops import Network

X_OK = np.random.default_rng(0).normal(size=(6, 4))
Y_OK = np.array([0, 1, 2, 0, 1, 2])


def model(**kwargs: Any) -> Network:
    return Network([4, 5, 3], **kwargs)


def assert_unchanged(m: Network, before: dict[str, Any]) -> None:
    for key, value in m.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


# ---------------------------------------------------------------------------- constructor


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "gelu"}, r"unknown activation 'gelu'; expected one of 'relu', 'sigmoid'"),
        ({"loss": "hinge"}, r"unknown loss 'hinge'; expected one of 'cross_entropy', 'bce', 'mse'"),
        ({"dtype": "float16"}, r"unknown dtype 'float16'; expected one of 'float32', 'float64'"),
        ({"dtype": np.float32}, r"unknown dtype .*expected one of 'float32', 'float64'"),
        ({"seed": -1}, r"seed must be a non-negative integer, got -1"),
        ({"seed": 1.5}, r"seed must be a non-negative integer, got 1.5"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model(**kwargs)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([4], r"at least 2 sizes .*got 1"),
        ([], r"at least 2 sizes .*got 0"),
        ([4, 0, 3], r"layers\[1\] must be a positive integer, got 0"),
        ([4, -2, 3], r"layers\[1\] must be a positive integer, got -2"),
        ([4, 2.5, 3], r"layers\[1\] must be a positive integer, got 2.5"),
        ([4, True, 3], r"layers\[1\] must be a positive integer, got True"),
        ("784,10", r"layers must be a sequence of layer sizes"),
        (10, r"layers must be a sequence of layer sizes"),
    ],
)
def test_bad_layers(layers: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Network(layers)


def test_layers_accept_numpy_integers() -> None:
    assert Network(np.array([4, 3])).sizes == (4, 3)


def test_output_size_must_fit_the_loss() -> None:
    with pytest.raises(ValueError, match=r"loss='bce' uses one output logit.*must be 1, got 3"):
        Network([4, 3], loss="bce")
    for loss in ("cross_entropy", "mse"):
        with pytest.raises(ValueError, match=r"layers\[-1\] must be >= 2, got 1.*loss='bce'"):
            Network([4, 1], loss=loss)


# ------------------------------------------------------------------------------------ fit


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, r"epochs must be an integer >= 1, got 0"),
        ({"epochs": 2.0}, r"epochs must be an integer >= 1, got 2.0"),
        ({"epochs": True}, r"epochs must be an integer >= 1, got True"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"batch_size": None}, r"batch_size must be an integer >= 1, got None"),
        ({"learning_rate": 0.0}, r"learning_rate must be in \(0, inf\), got 0.0"),
        ({"learning_rate": -0.1}, r"learning_rate must be in \(0, inf\), got -0.1"),
        ({"learning_rate": float("nan")}, r"learning_rate must be a finite real number"),
        ({"learning_rate": float("inf")}, r"learning_rate must be a finite real number"),
        ({"learning_rate": "0.1"}, r"learning_rate must be a finite real number .*got '0.1'"),
        ({"callback": 3}, r"callback must be callable"),
        ({"lr": 0.1}, r"unknown fit option\(s\) 'lr'; accepted options are 'optimizer'"),
        ({"optimizer": "rmsprop"}, r"unknown optimizer 'rmsprop'; expected one of 'sgd', 'adam'"),
        ({"momentum": -0.5}, r"momentum must be in \[0, 1\), got -0.5"),
        ({"momentum": 1.0}, r"momentum must be in \[0, 1\), got 1.0"),
        ({"nesterov": True}, r"nesterov=True needs momentum > 0"),
        ({"nesterov": "yes", "momentum": 0.9}, r"nesterov must be True or False, got 'yes'"),
        ({"weight_decay": -1e-4}, r"weight_decay must be in \[0, inf\), got -0.0001"),
        ({"schedule": "step"}, r"unknown schedule 'step'; expected one of 'constant', 'cosine'"),
        ({"optimizer": "adam", "betas": (0.9,)}, r"betas must be a pair \(beta1, beta2\)"),
        ({"optimizer": "adam", "betas": (0.9, 1.0)}, r"betas\[1\] must be in \[0, 1\), got 1.0"),
        ({"optimizer": "adam", "eps": 0.0}, r"eps must be in \(0, inf\), got 0.0"),
        ({"optimizer": "adam", "momentum": 0.9}, r"'momentum' do not apply to optimizer='adam'"),
        ({"betas": (0.9, 0.99)}, r"'betas' do not apply to optimizer='sgd'"),
    ],
)
def test_bad_fit_arguments(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"epochs": 1, "batch_size": 2, "learning_rate": 0.1, **kwargs}
    m = model()
    before = m.state_dict()
    with pytest.raises(ValueError, match=message):
        m.fit(X_OK, Y_OK, **arguments)
    assert_unchanged(m, before)  # refused before anything was trained


def test_batch_larger_than_the_data_is_one_batch() -> None:
    seen: list[float] = []
    model().fit(
        X_OK,
        Y_OK,
        epochs=1,
        batch_size=1000,
        learning_rate=0.1,
        callback=lambda e, m: seen.append(m["loss"]),
    )
    assert len(seen) == 1


# -------------------------------------------------------------------------- X and y checks


def call(method: str, X: Any, y: Any = Y_OK) -> None:
    m = model()
    if method == "fit":
        m.fit(X, y, epochs=1, batch_size=2, learning_rate=0.1)
    elif method in ("predict", "predict_proba"):
        getattr(m, method)(X)
    else:
        getattr(m, method)(X, y)


METHODS = ["fit", "predict", "predict_proba", "loss", "gradients"]
X_NAN = X_OK.copy()
X_NAN[3, 2] = np.nan
X_INF = X_OK.copy()
X_INF[1, 0] = -np.inf


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("X", "message"),
    [
        (X_OK[0], r"X must be 2-D with shape \(n_samples, 4\), got 1-D shape \(4,\)"),
        (X_OK[None], r"X must be 2-D .*got 3-D"),
        (X_OK[:, :3], r"X has 3 features \(columns\) but the model's first layer expects 4"),
        (X_OK[:0], r"X must have at least 1 row, got shape \(0, 4\)"),
        (X_NAN, r"X must be finite, but X\[3, 2\] = .*nan.* \(row 3, column 2\)"),
        (X_INF, r"X must be finite, but X\[1, 0\] = .*inf.* \(row 1, column 0\)"),
        (X_OK.astype(object), r"X must hold real numbers .*got dtype object"),
        (X_OK.astype(str), r"X must hold real numbers .*got dtype <U"),
        (X_OK.astype(complex), r"X must hold real numbers .*got dtype complex128"),
        (X_OK > 0, r"X must hold real numbers .*got dtype bool"),
    ],
    ids=["1d", "3d", "features", "empty", "nan", "inf", "object", "str", "complex", "bool"],
)
def test_bad_X(method: str, X: Any, message: str) -> None:
    y = Y_OK[: len(X)] if np.ndim(X) == 2 else Y_OK
    with pytest.raises(ValueError, match=message):
        call(method, X, y)


def test_X_that_overflows_the_model_dtype_is_refused() -> None:
    X = X_OK.copy()
    X[2, 1] = 1e300
    with pytest.raises(ValueError, match=r"X\[2, 1\] = .*1e\+300.* overflows float32.*'float64'"):
        model().predict(X)
    model(dtype="float64").predict(X)  # fine in float64


def test_integer_and_list_X_are_cast() -> None:
    m = model(dtype="float64")
    X_int = np.arange(24).reshape(6, 4)
    np.testing.assert_array_equal(m.predict_proba(X_int), m.predict_proba(X_int.astype(float)))
    np.testing.assert_array_equal(m.predict_proba(X_int.tolist()), m.predict_proba(X_int))


@pytest.mark.parametrize("method", ["fit", "loss", "gradients"])
@pytest.mark.parametrize(
    ("y", "message"),
    [
        (Y_OK.astype(float), r"y must hold integer class labels .*got dtype float64"),
        (Y_OK > 0, r"y must hold integer class labels .*got dtype bool"),
        (Y_OK[:, None], r"y must be 1-D with shape \(6,\), got shape \(6, 1\)"),
        (Y_OK[:5], r"y has 5 labels but X has 6 rows"),
        (np.array([0, 1, 2, 3, 1, 0]), r"y\[3\] = 3 is not a valid class label: .*\[0, 3\)"),
        (np.array([0, 1, -1, 0, 1, 7]), r"y\[2\] = -1 is not a valid class label.*2 invalid"),
    ],
    ids=["float", "bool", "2d", "length", "too-big", "negative"],
)
def test_bad_y(method: str, y: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(method, X_OK, y)


def test_bce_labels_are_zero_or_one() -> None:
    m = Network([4, 1], loss="bce")
    with pytest.raises(ValueError, match=r"y\[2\] = 2 .*\[0, 2\)"):
        m.loss(X_OK, Y_OK)
    m.loss(X_OK, Y_OK % 2)


# ----------------------------------------------------------------------------- state dicts


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
        (
            {**state_with(), "4.weight": np.zeros((1, 3), np.float32), "extra": np.zeros(1)},
            r"unexpected key\(s\) '4.weight', 'extra'",
        ),
        (
            state_with(**{"0_weight": None, "junk": np.zeros(2)}),
            r"missing key\(s\) '0.weight'; unexpected key\(s\) 'junk'",
        ),
        (
            state_with(**{"0_weight": np.zeros((4, 5), np.float32)}),
            r"state\['0.weight'\] has shape \(4, 5\), expected \(5, 4\)",
        ),
        (
            state_with(**{"2_bias": np.zeros(3)}),
            r"state\['2.bias'\] has dtype float64, expected float32: .*dtype='float32'",
        ),
        (
            state_with(**{"2_bias": np.zeros(3, np.int64)}),
            r"state\['2.bias'\] must be a floating-point array, got dtype int64",
        ),
        (
            state_with(**{"0_bias": np.array([0, np.nan, 0, 0, 0], np.float32)}),
            r"state\['0.bias'\] must be finite, but it holds .*nan.* at index \(1,\)",
        ),
        (
            state_with(**{"0_weight": np.full((5, 4), np.inf, np.float32)}),
            r"state\['0.weight'\] must be finite, .*inf.* at index \(0, 0\)",
        ),
        ([1, 2], r"state must be a mapping of name -> array, got list"),
    ],
    ids=["missing", "unexpected", "both", "shape", "dtype", "int", "nan", "inf", "not-a-mapping"],
)
def test_bad_state_dict(state: Any, message: str) -> None:
    m = model()
    before = m.state_dict()
    with pytest.raises(ValueError, match=message):
        m.load_state_dict(state)
    assert_unchanged(m, before)  # nothing half loaded

"""The shared checks' messages, exactly: what was wrong, where, what was wanted.

Every implementation checks its arguments with these helpers, so their messages are tested
here, once. That each implementation calls them, at every public method, is the
conformance suite's ``bad_input`` check (its cases mention what a message must say).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

from fromscratch.boundary import validation as check
from fromscratch.boundary.loop import shuffle_rng, train
from fromscratch.boundary.model import Classifier
from fromscratch.boundary.options import check_fit_options

X_OK = np.random.default_rng(0).normal(size=(6, 4))
Y_OK = np.array([0, 1, 2, 0, 1, 2])
FLOAT32 = np.dtype(np.float32)


class Network(Classifier):
    """The constructor's checks, with the names every implementation has."""

    activations: ClassVar[Mapping[str, Any]] = {"relu": 0, "sigmoid": 1, "tanh": 2}
    losses: ClassVar[Mapping[str, Any]] = {"cross_entropy": 0, "bce": 1, "mse": 2}

    def build(self, rng: np.random.Generator) -> None:
        """Nothing to build: these tests stop at the constructor's checks."""


def model(**kwargs: Any) -> Network:
    return Network([4, 5, 3], **kwargs)


# ------------------------------------------------------------------------- constructor


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"activation": "gelu"},
            r"unknown activation 'gelu'; expected one of 'relu', 'sigmoid', 'tanh'",
        ),
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
        ([4, "8", 3], r"layers\[1\] must be a positive integer, got '8'"),
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
    with pytest.raises(
        ValueError, match=r"loss='bce' uses one output logit.*layers\[-1\] must be 1, got 3"
    ):
        Network([4, 3], loss="bce")
    for loss in ("cross_entropy", "mse"):
        with pytest.raises(ValueError, match=r"layers\[-1\] must be >= 2, got 1.*loss='bce'"):
            Network([4, 1], loss=loss)


# -------------------------------------------------------------------------------- fit


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
        (
            {"lr": 0.1},
            r"unknown fit option\(s\) 'lr'; accepted options are 'optimizer', 'momentum'",
        ),
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
    with pytest.raises(ValueError, match=message):
        fit_checks(**kwargs)


def fit_checks(
    epochs: Any = 1,
    batch_size: Any = 2,
    learning_rate: Any = 0.1,
    callback: Any = None,
    **options: Any,
) -> None:
    """What the shared fit checks before it trains, in its order."""
    check.check_fit_arguments(epochs, batch_size, learning_rate, callback, None)
    check_fit_options(options)


def test_batch_larger_than_the_data_is_one_batch() -> None:
    seen: list[float] = []
    train(
        lambda rows: float(len(rows)),
        lambda: None,
        n_rows=6,
        epochs=1,
        batch_size=1000,
        learning_rate=0.1,
        schedule="constant",
        shuffle=True,
        rng=shuffle_rng(0),
        set_learning_rate=lambda lr: None,
        parameters=list,
        callback=lambda e, m: seen.append(m["loss"]),
    )
    assert seen == [6.0]


# ---------------------------------------------------------------------- X and y checks


X_NAN = X_OK.copy()
X_NAN[3, 2] = np.nan
X_INF = X_OK.copy()
X_INF[1, 0] = -np.inf


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
def test_bad_X(X: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check.check_X(X, 4, FLOAT32)


def test_X_that_overflows_the_model_dtype_is_refused() -> None:
    X = X_OK.copy()
    X[2, 1] = 1e300
    with pytest.raises(
        ValueError, match=r"X\[2, 1\] = .*1e\+300.* overflows float32.*dtype='float64'"
    ):
        check.check_X(X, 4, FLOAT32)
    check.check_X(X, 4, np.dtype(np.float64))  # fine in float64


def test_integer_and_list_X_are_cast() -> None:
    X_int = np.arange(24).reshape(6, 4)
    cast = check.check_X(X_int, 4, np.dtype(np.float64))
    assert cast.dtype == np.float64
    np.testing.assert_array_equal(cast, X_int.astype(float))
    np.testing.assert_array_equal(check.check_X(X_int.tolist(), 4, np.dtype(np.float64)), cast)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (Y_OK.astype(float), r"y must hold integer class labels .*got dtype float64"),
        (Y_OK > 0, r"y must hold integer class labels .*got dtype bool"),
        (Y_OK[:, None], r"y must be 1-D with shape \(6,\), got shape \(6, 1\)"),
        (Y_OK[:5], r"y has 5 labels but X has 6 rows"),
        (
            np.array([0, 1, 2, 3, 1, 0]),
            r"y\[3\] = 3 is not a valid class label: labels must be in \[0, 3\)",
        ),
        (
            np.array([0, 1, -1, 0, 1, 7]),
            r"y\[2\] = -1 is not a valid class label.*2 invalid label\(s\)",
        ),
    ],
    ids=["float", "bool", "2d", "length", "too-big", "negative"],
)
def test_bad_y(y: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check.check_y(y, len(X_OK), 3)


def test_bce_labels_are_zero_or_one() -> None:
    with pytest.raises(ValueError, match=r"y\[2\] = 2 .*\[0, 2\)"):
        check.check_y(Y_OK, len(X_OK), 2)
    check.check_y(Y_OK % 2, len(X_OK), 2)


# ------------------------------------------------------------------------- state dicts


SHAPES = {"0.weight": (5, 4), "0.bias": (5,), "2.weight": (3, 5), "2.bias": (3,)}
"""The state dict of a [4, 5, 3] MLP."""


def state_with(**changes: Any) -> dict[str, Any]:
    state: dict[str, Any] = {key: np.zeros(shape, FLOAT32) for key, shape in SHAPES.items()}
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
            r"state\['2.bias'\] has dtype float64, expected float32: "
            r"the model was built with dtype='float32'",
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
    with pytest.raises(ValueError, match=message):
        check.check_state_dict(state, SHAPES, FLOAT32)


def test_adamw_options_are_checked_where_an_implementation_offers_it() -> None:
    with pytest.raises(ValueError, match=r"eps must be in \(0, inf\), got 0.0"):
        check_fit_options({"optimizer": "adamw", "eps": 0.0}, ("sgd", "adam", "adamw"))
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamw'"):
        check_fit_options({"optimizer": "adamw"})


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_diverging_loss_stops_training_naming_epoch_batch_and_learning_rate(bad: float) -> None:
    losses = iter([1.0, 0.5, bad, 0.1])
    steps: list[int] = []
    with pytest.raises(
        FloatingPointError, match=r"diverged at epoch 2, batch 1: the loss is .*learning_rate.*0\.5"
    ):
        train(
            lambda rows: next(losses),
            lambda: steps.append(1),
            n_rows=4,
            epochs=3,
            batch_size=2,
            learning_rate=0.5,
            schedule="constant",
            shuffle=False,
            rng=shuffle_rng(0),
            set_learning_rate=lambda lr: None,
            parameters=list,
        )
    assert len(steps) == 2  # the diverged batch is never stepped


def test_parameters_that_overflow_stop_training_too() -> None:
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch 2: the parameters are no longer"):
        train(
            lambda rows: 1.0,
            lambda: None,
            n_rows=4,
            epochs=1,
            batch_size=2,
            learning_rate=0.1,
            schedule="constant",
            shuffle=False,
            rng=shuffle_rng(0),
            set_learning_rate=lambda lr: None,
            parameters=lambda: [np.array([1.0, np.inf])],
        )

"""FromScratchClassifier: scikit-learn's own estimator checks, for every implementation,
and the estimator at work in a Pipeline, cross_val_score and GridSearchCV on breast cancer.

``check_estimator`` runs with tiny settings (a hidden layer of 8, 10 epochs) so that it
costs seconds; the settings still have to learn scikit-learn's blobs to 83% accuracy.
No check is expected to fail: :data:`EXPECTED_FAILED_CHECKS` is where one would go, each
with its reason, as scikit-learn's own estimators do. A check that scikit-learn itself
skips (no pandas installed, array API off) is reported by pytest as skipped, with
scikit-learn's reason.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.estimator import FromScratchClassifier
from fromscratch.conformance.registry import Implementation, discover

Record = Callable[[Measurement], Measurement]
INSTALLED = list(discover())
FAST = {"hidden_layer_sizes": (8,), "epochs": 10, "batch_size": 32, "learning_rate": 0.05}
# evolution: a smaller population per generation keeps its ~100 fits in the checks cheap
OPTIONS: dict[str, dict[str, Any]] = {"evolution": {"fit_options": {"population": 20}}}
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


def tiny(impl: str) -> FromScratchClassifier:
    return FromScratchClassifier(impl=impl, **FAST, **OPTIONS.get(impl, {}))


@parametrize_with_checks(
    [tiny(impl) for impl in INSTALLED],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(est.impl, {}),
)
def test_scikit_learn_estimator_checks(estimator: FromScratchClassifier, check: Any):
    check(estimator)


# ---------------------------------------------------------------------------- contract


def test_any_labels_scikit_learn_accepts(impl: Implementation):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    codes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    for labels in (np.array(["cat", "dog", "emu"]), np.array([-7, 3, 40])):
        y = labels[codes]
        clf = tiny(impl.name).fit(X, y)
        assert list(clf.classes_) == sorted(labels.tolist())
        assert clf.n_features_in_ == 3
        predicted = clf.predict(X)
        assert predicted.dtype == y.dtype
        assert set(predicted) <= set(labels)
        assert clf.predict_proba(X).shape == (60, 3)
        assert clf.score(X, y) > 0.8  # the classes are separable by two lines


def test_not_fitted_and_bad_parameters():
    X, y = np.eye(4), np.array([0, 1, 0, 1])
    with pytest.raises(NotFittedError):
        FromScratchClassifier().predict(X)
    with pytest.raises(ValueError, match="impl='jax'"):
        FromScratchClassifier(impl="jax").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        FromScratchClassifier(impl=INSTALLED[0], hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="1 class"):
        FromScratchClassifier(impl=INSTALLED[0]).fit(X, np.zeros(4))
    with pytest.raises(ValueError, match="bce"):
        FromScratchClassifier(impl=INSTALLED[0], loss="bce").fit(X[:3], np.arange(3))


def test_pickled_model_predicts_the_same(impl: Implementation):
    """Pickling goes through the state dict, which every implementation rebuilds from."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, size=40)
    clf = tiny(impl.name).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert again.loss_curve_ == clf.loss_curve_
    assert len(clf.loss_curve_) == FAST["epochs"]


# ---------------------------------------------------------------------------- breast cancer


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The raw features (not standardised: the Pipeline's StandardScaler does it)."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    return X_train, X_test, y_train, y_test


def pipeline(impl: str, **params: Any) -> Any:
    options = {"hidden_layer_sizes": (16,), "epochs": 30, "batch_size": 32, "learning_rate": 0.01}
    options.update(OPTIONS.get(impl, {}) | params)
    return make_pipeline(StandardScaler(), FromScratchClassifier(impl=impl, **options))


def test_pipeline_on_breast_cancer(impl: Implementation, cancer: Any, record: Record):
    X_train, X_test, y_train, y_test = cancer
    accuracy = pipeline(impl.name).fit(X_train, y_train).score(X_test, y_test)
    m = record(
        Measurement(
            "sklearn_pipeline", impl.name, "breast_cancer", accuracy, 0.93, accuracy >= 0.93
        )
    )
    assert m.passed, m.describe()


def test_cross_val_score_and_grid_search_on_breast_cancer(cancer: Any, record: Record):
    impl = "matrix" if "matrix" in INSTALLED else INSTALLED[0]
    X_train, X_test, y_train, y_test = cancer
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(pipeline(impl), X_train, y_train, cv=folds)
    m = record(
        Measurement(
            "sklearn_cross_val_score",
            impl,
            "breast_cancer",
            float(scores.mean()),
            0.93,
            bool(scores.mean() >= 0.93),
            {"folds": [round(s, 4) for s in scores]},
        )
    )
    assert m.passed, m.describe()

    grid = {
        "fromscratchclassifier__hidden_layer_sizes": [(8,), (32, 16)],
        "fromscratchclassifier__activation": ["relu", "tanh"],
    }
    search = GridSearchCV(pipeline(impl), grid, cv=3).fit(X_train, y_train)
    accuracy = search.score(X_test, y_test)
    m = record(
        Measurement(
            "sklearn_grid_search",
            impl,
            "breast_cancer",
            accuracy,
            0.93,
            accuracy >= 0.93,
            {"best_params": search.best_params_, "best_cv_score": round(search.best_score_, 4)},
        )
    )
    assert m.passed, m.describe()
    assert clone(search.best_estimator_).get_params()["fromscratchclassifier__impl"] == impl
    print(f"\ncross_val_score {scores.round(4)}; grid search {search.best_params_}: {accuracy:.4f}")

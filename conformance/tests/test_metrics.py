"""Classification metrics agree with scikit-learn's, including the awkward cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as sk

from fromscratch.conformance.metrics import classification_metrics, format_metrics


@pytest.mark.parametrize("seed", range(5))
def test_matches_scikit_learn(seed: int):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 11))
    y_true = rng.integers(0, k, size=200)
    # mostly right, with a class never predicted so a precision is 0 / 0
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, k, size=200))
    y_pred[y_pred == k - 1] = 0
    m = classification_metrics(y_true, y_pred, k)
    labels = list(range(k))
    p, r, f, s = sk.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    assert m["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert m["macro_precision"] == pytest.approx(p.mean())
    assert m["macro_recall"] == pytest.approx(r.mean())
    assert m["macro_f1"] == pytest.approx(
        sk.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    )
    table = m["per_class"]
    assert [row["class"] for row in table] == labels
    np.testing.assert_allclose([row["precision"] for row in table], p)
    np.testing.assert_allclose([row["recall"] for row in table], r)
    np.testing.assert_allclose([row["f1"] for row in table], f)
    assert [row["support"] for row in table] == s.tolist()
    assert m["confusion_matrix"] == sk.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    assert m["per_class"][k - 1]["precision"] == 0.0


def test_is_json_ready_and_readable():
    m = classification_metrics(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2]), 3)
    assert json.loads(json.dumps(m)) == m
    assert all(type(v) is int for row in m["confusion_matrix"] for v in row)
    text = format_metrics(m)
    assert "accuracy         75.00%  (4 test rows)" in text
    assert text.splitlines()[-1].split() == ["2", "0.6667", "1.0000", "0.8000", "2"]


@pytest.mark.parametrize(
    ("y_true", "y_pred", "n_classes", "message"),
    [
        ([0, 1], [0, 3], 3, r"y_pred\[1\] = 3 is not a class label"),
        ([0, -1], [0, 1], 3, r"y_true\[1\] = -1"),
        ([0, 1, 1], [0, 1], 3, "3 labels but y_pred 2"),
        ([0.0, 1.0], [0, 1], 3, "integer class labels"),
        ([], [], 3, "non-empty"),
        ([0, 1], [0, 1], 0, "n_classes"),
    ],
)
def test_bad_labels_raise(y_true, y_pred, n_classes, message):
    with pytest.raises(ValueError, match=message):
        classification_metrics(np.array(y_true), np.array(y_pred), n_classes)

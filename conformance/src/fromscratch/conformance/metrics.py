"""Classification metrics from the confusion matrix, as plain JSON-ready numbers.

Everything follows from one table, the confusion matrix ``C``: ``C[i, j]`` counts the rows
whose true class is ``i`` and predicted class ``j``. For class ``c``:

* precision = ``C[c, c] / sum_i C[i, c]``: of the rows predicted ``c``, the share that are;
* recall = ``C[c, c] / sum_j C[c, j]``: of the rows that are ``c``, the share found;
* F1 = ``2 P R / (P + R)``, their harmonic mean;
* support = ``sum_j C[c, j]``, how many rows are ``c``.

A ratio whose denominator is 0 (no row predicted ``c``, say) is 0, as scikit-learn's
``zero_division=0``. The macro averages are the unweighted means over the classes, and
accuracy is ``trace(C) / n``. The tests hold every number to scikit-learn's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> np.ndarray:
    """``C[i, j]``: how many rows of true class ``i`` were predicted ``j`` (int64)."""
    t, p = _labels(y_true, y_pred, n_classes)
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (t, p), 1)
    return C


def classification_metrics(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, a per-class table and the confusion matrix.

    Labels are the integers ``0 .. n_classes - 1``. Returns::

        {"n": 10000, "accuracy": 0.98, "macro_precision": ..., "macro_recall": ...,
         "macro_f1": ..., "per_class": [{"class": 0, "precision": ..., "recall": ...,
         "f1": ..., "support": 980}, ...], "confusion_matrix": [[int, ...], ...]}

    Every value is a Python ``float``, ``int`` or list, ready for ``json.dump``.
    """
    C = confusion_matrix(y_true, y_pred, n_classes)
    hits = np.diag(C).astype(np.float64)
    predicted, support = C.sum(axis=0), C.sum(axis=1)
    precision = _ratio(hits, predicted)
    recall = _ratio(hits, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    n = int(C.sum())
    return {
        "n": n,
        "accuracy": float(hits.sum() / n),
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": [
            {
                "class": c,
                "precision": float(precision[c]),
                "recall": float(recall[c]),
                "f1": float(f1[c]),
                "support": int(support[c]),
            }
            for c in range(n_classes)
        ],
        "confusion_matrix": C.tolist(),
    }


def format_metrics(metrics: dict[str, Any]) -> str:
    """The metrics as a person reads them: the summary, then one line per class."""
    lines = [
        f"accuracy         {metrics['accuracy']:.2%}  ({metrics['n']} test rows)",
        f"macro precision  {metrics['macro_precision']:.4f}",
        f"macro recall     {metrics['macro_recall']:.4f}",
        f"macro F1         {metrics['macro_f1']:.4f}",
        "",
        f"{'class':>5}  {'precision':>9}  {'recall':>6}  {'f1':>6}  {'support':>7}",
    ]
    for row in metrics["per_class"]:
        lines.append(
            f"{row['class']:>5}  {row['precision']:>9.4f}  {row['recall']:>6.4f}  "
            f"{row['f1']:>6.4f}  {row['support']:>7}"
        )
    return "\n".join(lines)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(len(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _labels(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive int, got {n_classes!r}")
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        a = np.asarray(y)
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must hold integer class labels, got dtype {a.dtype}")
        bad = np.flatnonzero((a < 0) | (a >= n_classes))
        if bad.size:
            raise ValueError(
                f"{name}[{bad[0]}] = {a[bad[0]]} is not a class label: expected [0, {n_classes})"
            )
        arrays.append(a.astype(np.int64))
    if len(arrays[0]) != len(arrays[1]):
        raise ValueError(f"y_true has {len(arrays[0])} labels but y_pred {len(arrays[1])}")
    return arrays[0], arrays[1]

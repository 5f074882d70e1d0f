"""Private stand-ins for the metrics, weights and progress modules of issue 9.

TEMPORARY: the report calls only these three functions, so swapping them for
``fromscratch.conformance.metrics``, ``.weights`` and ``.progress`` is a change in this
one file.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


def classification_metrics(
    y_true: NDArray[Any], y_pred: NDArray[Any], n_classes: int
) -> dict[str, Any]:
    """Accuracy, macro precision / recall / F1, the per-class table and the confusion matrix
    (rows true, columns predicted)."""
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (np.asarray(y_true), np.asarray(y_pred)), 1)
    tp = np.diag(confusion).astype(np.float64)
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(tp), where=denominator > 0
    )
    per_class = [
        {
            "class": k,
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "support": int(support[k]),
        }
        for k in range(n_classes)
    ]
    return {
        "accuracy": float(tp.sum() / max(confusion.sum(), 1)),
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


_DTYPES = {"float32": "F32", "float64": "F64"}


def save_weights(path: Path, state: Mapping[str, NDArray[Any]], metadata: dict[str, str]) -> None:
    """Write ``state`` as a .safetensors file, atomically."""
    header: dict[str, Any] = {"__metadata__": metadata}
    blobs, offset = [], 0
    for key in sorted(state):
        array = np.ascontiguousarray(state[key])
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[key] = {
            "dtype": _DTYPES[str(array.dtype)],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def progress(label: str, epochs: int) -> Callable[[int, Mapping[str, float]], None]:
    """A fit callback that prints one line per epoch."""

    def show(epoch: int, metrics: Mapping[str, float]) -> None:
        extra = "".join(f" {k} {v:.4g}" for k, v in metrics.items())
        print(f"  {label}: epoch {epoch}/{epochs}{extra}", file=sys.stderr, flush=True)

    return show

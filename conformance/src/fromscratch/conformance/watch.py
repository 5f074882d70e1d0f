"""What the report keeps about one training run, beyond its accuracy verdict.

A :class:`Watch` rides along the accuracy check (:func:`~fromscratch.conformance.checks.accuracy`):

* after each epoch it observes the test accuracy, for the learning curves only. The test
  split never feeds back into training: nothing is chosen, stopped or tuned by it;
* once training ends it keeps the model, then :meth:`Watch.record` measures precision,
  recall, F1 and the confusion matrix on the test split, saves the parameters as
  ``weights/<impl>-<dataset>.safetensors``, and, for images, keeps the first layer's
  weights and the most confidently misclassified test images as pictures.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary import spec
from fromscratch.conformance import metrics, weights
from fromscratch.conformance.checks import Measurement

IMAGE_SHAPES: Final[dict[str, tuple[int, int]]] = {"mnist": (28, 28)}
"""Data sets whose rows are images, with the image shape: they get the pictures."""
TILES: Final = 64
"""First-layer units drawn, at most."""
MISTAKES: Final = 12
"""Misclassified test images shown, at most."""


class Watch:
    """Observes one training of ``implementation`` on ``dataset``; see the module docstring."""

    def __init__(
        self,
        implementation: str,
        dataset: str,
        recipe: Mapping[str, Any],
        X_test: NDArray[Any],
        y_test: NDArray[Any],
        name: str | None = None,
    ) -> None:
        self.implementation = implementation
        self.dataset = dataset
        self.name = name or dataset
        """The recipe's name: the data set's, or another such as ``"mnist_cnn"``."""
        self.recipe = recipe
        self.X_test, self.y_test = X_test, y_test
        self.test_accuracy: list[float] = []
        self.model: Any = None

    def observe(self, model: Any, epoch: int) -> Mapping[str, float]:
        accuracy = float(np.mean(model.predict(self.X_test) == self.y_test))
        self.test_accuracy.append(accuracy)
        return {"test_accuracy": accuracy}

    def trained(self, model: Any) -> None:
        self.model = model

    def record(self, measurement: Measurement, out: Path | None) -> dict[str, Any]:
        """Everything about this run for ``results.json``; the weights go under ``out``."""
        details = measurement.details
        losses = list(details.get("epoch_loss", []))
        record: dict[str, Any] = {
            "implementation": self.implementation,
            "dataset": self.dataset,
            "recipe": self.name,
            "case": measurement.case,
            "n_train": details.get("n_train"),
            "train_seconds": details.get("train_seconds"),
            "epochs": list(range(1, len(losses) + 1)),
            "loss": losses,
            "seconds": list(details.get("epoch_seconds", [])),
            "test_accuracy": [round(a, 6) for a in self.test_accuracy],
            "metrics": None,
            "weights": None,
            "first_layer": None,
            "misclassified": None,
        }
        if self.model is None:
            return record
        proba = np.asarray(self.model.predict_proba(self.X_test), dtype=np.float64)
        predicted = np.asarray(self.model.predict(self.X_test))
        record["metrics"] = metrics.classification_metrics(
            self.y_test, predicted, n_classes=proba.shape[1]
        )
        state = self.model.state_dict()
        model_kwargs = self.recipe["model"]
        if out is not None:
            name = f"weights/{self.implementation}-{self.name}.safetensors"
            layers = list(model_kwargs.get("layers", []))
            weights.save(
                self.model,
                out / name,
                activation=model_kwargs.get("activation", "relu"),
                loss=model_kwargs.get("loss", "cross_entropy"),
                implementation=self.implementation,
                dataset=self.dataset,
                recipe=self.recipe,
                layers=layers if layers and all(isinstance(n, str) for n in layers) else None,
            )
            record["weights"] = name
        shape = IMAGE_SHAPES.get(self.dataset)
        if shape is not None:
            record["first_layer"] = first_layer_tiles(state, shape, model_kwargs.get("layers"))
            record["misclassified"] = most_confident_mistakes(
                self.X_test, self.y_test, proba, predicted, shape
            )
        return record


def first_layer_tiles(
    state: Mapping[str, NDArray[Any]], shape: tuple[int, int], layers: Any = None
) -> dict[str, Any] | None:
    """The weights of the first ``Linear`` or ``Conv2d`` of ``layers`` (sizes: ``0.weight``;
    a spec: whichever entry comes first, after an ``Unflatten`` say) as images, each scaled
    so its largest absolute weight is 127, rounded to integers. A ``Linear`` on the pixels
    gives one image of ``shape`` per unit; a one-channel ``Conv2d`` one kernel per filter."""
    W = np.asarray(state.get(f"{_first_weighted(layers)}.weight"), dtype=np.float64)
    if W.ndim == 4 and W.shape[1] == 1:  # (filters, 1, kh, kw): each kernel is an image
        shape = (W.shape[2], W.shape[3])
        W = W.reshape(W.shape[0], -1)
    if W.ndim != 2 or W.shape[1] != shape[0] * shape[1]:
        return None
    rows = W[:TILES]
    scale = np.max(np.abs(rows), axis=1, keepdims=True)
    tiles = np.rint(127 * rows / np.where(scale > 0, scale, 1.0)).astype(np.int64)
    return {"shape": list(shape), "total_units": int(W.shape[0]), "tiles": tiles.tolist()}


def _first_weighted(layers: Any) -> int:
    """The ``nn.Sequential`` index of the first ``Linear`` or ``Conv2d``: 0 for sizes."""
    if layers and all(isinstance(entry, str) for entry in layers):
        for i, entry in enumerate(layers):
            if spec.parse(entry).name in ("Linear", "Conv2d"):
                return i
    return 0


def most_confident_mistakes(
    X: NDArray[Any],
    y: NDArray[Any],
    proba: NDArray[np.float64],
    predicted: NDArray[Any],
    shape: tuple[int, int],
) -> dict[str, Any]:
    """The misclassified test rows with the highest probability on the wrong class."""
    wrong = np.flatnonzero(predicted != y)
    confidence = proba[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:MISTAKES]
    pixels = np.clip(np.rint(np.asarray(X, dtype=np.float64) * 255), 0, 255).astype(np.int64)
    examples = [
        {
            "index": int(i),
            "true": int(y[i]),
            "predicted": int(predicted[i]),
            "confidence": round(float(proba[i, predicted[i]]), 4),
            "pixels": pixels[i].tolist(),
        }
        for i in order
    ]
    return {"shape": list(shape), "n_wrong": len(wrong), "examples": examples}

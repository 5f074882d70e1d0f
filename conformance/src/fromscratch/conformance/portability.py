"""Portability: weights saved by one implementation give the same answers everywhere.

:func:`transfer` saves a model to a ``.safetensors`` file, loads the file into another
implementation (or into a plain ``torch.nn.Sequential``) and compares the probabilities
both give on the same rows, within the forward tolerance of the model's dtype. Where the
two most probable classes are further apart than round-off, the predictions must match.

The suite's tests run every ordered pair on real MNIST test rows
(``conformance/tests/test_portability.py``); ``fromscratch check IMPL`` runs
:func:`round_trips`, which needs no data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from fromscratch.conformance import weights
from fromscratch.conformance.checks import LOSSES, Case, Measurement
from fromscratch.conformance.registry import Implementation, select
from fromscratch.conformance.tolerances import TOLERANCES

TORCH: Final = "torch"


def transfer(
    model: Any,
    source: str,
    target: str,
    X: NDArray[Any],
    path: Path,
    *,
    activation: str,
    loss: str,
    layers: list[str] | None = None,
) -> Measurement:
    """Save ``model`` (trained by ``source``) to ``path``, load it into ``target`` (an
    implementation's name or ``"torch"``) and compare ``predict_proba`` on ``X``. A network
    written as a spec passes its ``layers``."""
    weights.save(
        model, path, activation=activation, loss=loss, implementation=source, layers=layers
    )
    saved = weights.read_weights(path)
    if target == TORCH:
        other: Any = weights.TorchModel(weights.to_torch(path), loss)
    else:
        other = weights.build(saved, select([target])[0])
    dtype = saved.architecture.dtype
    X = np.asarray(X, dtype=dtype)
    expected, actual = model.predict_proba(X), other.predict_proba(X)
    tol = TOLERANCES[f"forward_{dtype}"]
    worst = tol.worst(actual, expected)
    top2 = np.sort(expected, axis=1)[:, -2:]
    decisive = (top2[:, 1] - top2[:, 0]) > 10 * tol.atol
    same = bool(np.all(other.predict(X)[decisive] == model.predict(X)[decisive]))
    return Measurement(
        "portability",
        source,
        f"{source}->{target}",
        worst,
        1.0,
        bool(worst <= 1.0 and same),
        {
            "max_abs_difference": float(np.max(np.abs(actual - expected))),
            "rows": len(X),
            "predictions_match": same,
            "dtype": dtype,
        },
    )


def round_trips(impl: Implementation) -> list[Measurement]:
    """A freshly initialised model of ``impl``, for every loss and dtype, saved and loaded
    back into ``impl`` itself and into torch."""
    results = []
    with tempfile.TemporaryDirectory(prefix="fromscratch-") as tmp:
        for loss in LOSSES:
            k = 1 if loss == "bce" else 3
            case = Case("tanh", loss, (4, 8, 6, k), 17)
            X, _ = case.batch()
            for dtype in ("float64", "float32"):
                model = impl.build(
                    list(case.layers), activation="tanh", loss=loss, seed=1, dtype=dtype
                )
                for target in (impl.name, TORCH):
                    m = transfer(
                        model,
                        impl.name,
                        target,
                        X,
                        Path(tmp) / "m.safetensors",
                        activation="tanh",
                        loss=loss,
                    )
                    m.case = f"{m.case}[{loss},{dtype}]"
                    results.append(m)
    return results

"""Every number the suite judges by, in one place.

Change a bound here and every test, the report and the docs follow. Never loosen a
bound to make an implementation pass: fix the implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

Dataset: TypeAlias = Literal["mnist", "breast_cancer"]
Training: TypeAlias = Literal["gradient", "gradient_free"]


@dataclass(frozen=True)
class Tolerance:
    r"""Elementwise agreement in the sense of :func:`numpy.allclose`.

    An element passes when :math:`|x - x_{ref}| \le \text{atol} + \text{rtol}\,|x_{ref}|`.
    :meth:`worst` returns the largest ratio of the two sides, so a value :math:`\le 1`
    passes and the number says how close to the edge an implementation sits.
    """

    rtol: float
    atol: float

    def worst(self, actual: ArrayLike, reference: ArrayLike) -> float:
        a = np.asarray(actual, dtype=np.float64)
        r = np.asarray(reference, dtype=np.float64)
        if a.shape != r.shape:
            raise ValueError(f"shape {a.shape} cannot be compared with reference shape {r.shape}")
        if a.size == 0:
            return 0.0
        if not np.all(np.isfinite(a)):
            return float("inf")
        return float(np.max(np.abs(a - r) / (self.atol + self.rtol * np.abs(r))))


TOLERANCES: Final[dict[str, Tolerance]] = {
    # Loss and gradients against torch autograd, both in float64: round-off only.
    "gradient_vs_torch": Tolerance(rtol=1e-7, atol=1e-10),
    # Central differences with step 1e-6 in float64: truncation error O(h^2) ~ 1e-12
    # plus cancellation ~ 1e-16 / 1e-6 = 1e-10; the bound leaves a factor of ~100.
    "central_difference": Tolerance(rtol=1e-5, atol=1e-8),
    # Forward pass (predict_proba and loss) against torch from the same state dict.
    "forward_float64": Tolerance(rtol=1e-9, atol=1e-12),
    "forward_float32": Tolerance(rtol=1e-4, atol=1e-6),
}

CENTRAL_DIFFERENCE_STEP: Final = 1e-6

# Minimum accuracy on the held-out test split, with the implementation's own recipe.
ACCURACY_THRESHOLDS: Final[dict[Training, dict[Dataset, float]]] = {
    "gradient": {"mnist": 0.975, "breast_cancer": 0.95},
    "gradient_free": {"mnist": 0.90, "breast_cancer": 0.95},
}

# Epoch time of `nox -s bench` divided by torch eager's, measured in the same process.
SPEED_TARGETS: Final[dict[str, float]] = {"matrix": 0.7}

"""The names every implementation gives the same things: arrays, labels, state dicts, callbacks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]
"""A float32 or float64 array: data, parameters, activations, gradients."""

Labels = NDArray[np.integer[Any]]
"""Integer class labels, shape (n,)."""

Rows = NDArray[np.intp]
"""The indices of one mini-batch's rows in the training set."""

StateDict = dict[str, Array]
"""Parameters keyed like ``torch.nn.Sequential``'s state dict: ``"0.weight"``, ``"0.bias"``..."""

Callback = Callable[[int, Mapping[str, float]], object]
"""``callback(epoch, {"loss": ..., "learning_rate": ...})``, after each epoch."""

BatchCallback = Callable[[int, int, float], object]
"""``batch_callback(epoch, batch, loss)``, after each mini-batch step."""

DTYPES = ("float32", "float64")
"""The dtypes a model may compute in."""

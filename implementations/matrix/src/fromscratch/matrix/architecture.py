"""From an architecture spec to the list of modules, one per ``nn.Sequential`` entry.

A spec such as
``["Unflatten(1, (1, 28, 28))", "Conv2d(1, 6, 5, padding=2)", "ReLU()", ...]`` becomes
one module per entry, in ``nn.Sequential`` order, so that module ``i`` owns the state-dict
keys ``"i.weight"`` and ``"i.bias"``. Parsing and shape checks are the boundary's
(``fromscratch.boundary.spec``); this file only maps names to the modules here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from fromscratch.boundary.spec import LayerSpec

from .activations import ACTIVATIONS, ActivationLayer
from .conv import Conv2d
from .layers import Linear, Module
from .pool import AvgPool2d, MaxPool2d
from .reshape import Flatten, Unflatten

SUPPORTED_LAYERS: Final = frozenset(
    {"Linear", "ReLU", "Sigmoid", "Tanh", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten"}
    | {"Unflatten"}
)
"""The ``torch.nn`` names a spec may use with ``matrix``."""

_ACTIVATION_NAMES: Final = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}


def modules(
    specs: Sequence[LayerSpec], rng: np.random.Generator, dtype: np.dtype[Any]
) -> list[Module]:
    """One module per bound spec (the boundary's constructor parsed them, checked their
    shapes and refused layers outside :data:`SUPPORTED_LAYERS`); parameters are drawn
    from ``rng`` module by module, in order, as torch initialises ``nn.Sequential``."""
    return [_module(spec, rng, dtype, f"layers[{i}] = {spec}") for i, spec in enumerate(specs)]


def _module(spec: LayerSpec, rng: np.random.Generator, dtype: np.dtype[Any], where: str) -> Module:
    p = spec.params
    if spec.name == "Linear":
        if not p["bias"]:
            raise ValueError(f"{where}: matrix's Linear always has a bias (bias=True)")
        return Linear(p["in_features"], p["out_features"], rng, dtype)
    if spec.name in _ACTIVATION_NAMES:
        return ActivationLayer(ACTIVATIONS[_ACTIVATION_NAMES[spec.name]])
    if spec.name == "Conv2d":
        return Conv2d(
            p["in_channels"],
            p["out_channels"],
            p["kernel_size"],
            p["stride"],
            p["padding"],
            p["bias"],
            rng,
            dtype,
        )
    if spec.name == "MaxPool2d":
        return MaxPool2d(p["kernel_size"], p["stride"])
    if spec.name == "AvgPool2d":
        return AvgPool2d(p["kernel_size"], p["stride"])
    if spec.name == "Flatten":
        return Flatten()
    return Unflatten(p["unflattened_size"])

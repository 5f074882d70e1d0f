"""From ``layers`` to modules: each ``torch.nn.Sequential`` entry of the architecture spec
becomes this engine's module of the same name, with the same arguments.

``layers`` is the MLP shorthand (``[784, 128, 10]``) or one ``torch.nn`` constructor call
per entry (``["Unflatten(1, (1, 28, 28))", "Conv2d(1, 6, 5, padding=2)", ...]``);
the boundary's constructor (:class:`fromscratch.boundary.model.Classifier`) parses either
into bound specs, checks that the shapes fit and refuses a layer outside
:data:`SUPPORTED_LAYERS`. Because the modules are torch's, one for one, the state-dict keys are
torch's too (``"1.weight"`` of shape (6, 1, 5, 5)).

``Dropout`` and ``BatchNorm2d`` exist as modules (:mod:`.nn`) but not as spec layers of
:class:`~.model.Network`: their output depends on the training mode, which the Model
protocol's ``gradients`` and ``predict`` do not yet say, and BatchNorm's running
statistics are state that the protocol's state dict does not carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from fromscratch.boundary.spec import LayerSpec

from . import nn

SUPPORTED_LAYERS: Final = frozenset(
    {
        "Linear",
        "ReLU",
        "Sigmoid",
        "Tanh",
        "Conv2d",
        "MaxPool2d",
        "AvgPool2d",
        "Flatten",
        "Unflatten",
    }
)
"""The ``torch.nn`` names a :class:`~.model.Network` spec may use."""


def sequential(
    specs: Sequence[LayerSpec], dtype: np.dtype[Any], rng: np.random.Generator
) -> nn.Sequential:
    """The network, entry for entry; parameters drawn from ``rng`` in layer order."""
    return nn.Sequential(*(module(spec, dtype, rng) for spec in specs))


def module(spec: LayerSpec, dtype: np.dtype[Any], rng: np.random.Generator) -> nn.Module:
    """One spec as its module (``spec.params`` holds every argument by torch's name)."""
    p = spec.params
    if spec.name == "Linear":
        return nn.Linear(
            p["in_features"], p["out_features"], bias=p["bias"], dtype=dtype, generator=rng
        )
    if spec.name == "Conv2d":
        return nn.Conv2d(
            p["in_channels"],
            p["out_channels"],
            p["kernel_size"],
            stride=p["stride"],
            padding=p["padding"],
            bias=p["bias"],
            dtype=dtype,
            generator=rng,
        )
    if spec.name == "MaxPool2d":
        return nn.MaxPool2d(p["kernel_size"], p["stride"])
    if spec.name == "AvgPool2d":
        return nn.AvgPool2d(p["kernel_size"], p["stride"])
    if spec.name == "Flatten":
        return nn.Flatten(p["start_dim"], p["end_dim"])
    if spec.name == "Unflatten":
        return nn.Unflatten(p["dim"], p["unflattened_size"])
    activations: dict[str, type[nn.Module]] = {
        "ReLU": nn.ReLU,
        "Sigmoid": nn.Sigmoid,
        "Tanh": nn.Tanh,
    }
    return activations[spec.name]()

"""The shared constructor reads ``layers`` in either form, once, for every implementation:
sizes or spec strings, the class's ``supported_layers`` enforced by name, the repr."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

from fromscratch.boundary.model import Classifier
from fromscratch.boundary.spec import MLP_LAYERS, dense, is_spec, parse_layers

IMAGE = ["Unflatten(1, (1, 4, 4))", "Conv2d(1, 2, 3)", "ReLU()", "Flatten()", "Linear(8, 3)"]


class Probe(Classifier):
    """The smallest implementation: it records what ``build`` was handed."""

    activations: ClassVar[Mapping[str, Any]] = {"relu": "relu", "tanh": "tanh"}
    losses: ClassVar[Mapping[str, Any]] = {"cross_entropy": object()}

    def build(self, rng: np.random.Generator) -> None:
        self.built: list[str] = [str(spec) for spec in self.specs]


class ImageProbe(Probe):
    supported_layers = MLP_LAYERS | {"Conv2d", "Flatten", "Unflatten"}


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ([4, 3], False),
        ([4, "8", 3], False),  # bad sizes, refused as sizes
        (["Linear(4, 3)"], True),
        (["ReLU"], True),  # all strings: a spec, refused by the parser
        ([16, "Linear(16, 2)"], True),  # a call among sizes: the parser says they mix
        ([], False),
        ("Linear(4, 3)", False),
    ],
)
def test_which_form_layers_is_read_as(layers: Any, expected: bool) -> None:
    assert is_spec(layers) is expected


def test_the_sizes_form_is_the_mlp_spec() -> None:
    model = Probe([4, 5, 3], activation="tanh")
    assert model.spec is None
    assert model.sizes == (4, 5, 3)
    assert model.built == ["Linear(4, 5)", "Tanh()", "Linear(5, 3)"]
    assert repr(model) == (
        "Probe([4, 5, 3], activation='tanh', loss='cross_entropy', seed=0, dtype='float32')"
    )


def test_a_spec_gives_the_widths_of_x_and_of_the_output_and_its_own_repr() -> None:
    model = ImageProbe(IMAGE, seed=2)
    assert model.sizes == (16, 3)
    assert model.n_classes == 3
    assert model.built == IMAGE
    assert repr(model) == f"ImageProbe({IMAGE!r}, loss='cross_entropy', seed=2, dtype='float32')"


def test_every_unsupported_layer_is_named_with_its_index() -> None:
    with pytest.raises(ValueError, match=r"layers\[0\] = Unflatten.*layers\[1\] = Conv2d") as error:
        Probe(IMAGE)
    assert "does not build Unflatten, Conv2d, Flatten layers" in str(error.value)
    assert "supported: Linear, ReLU, Sigmoid, Tanh" in str(error.value)


def test_a_spec_whose_shapes_do_not_fit_is_refused_by_the_constructor() -> None:
    with pytest.raises(ValueError, match=r"layers\[4\]"):
        ImageProbe([*IMAGE[:-1], "Linear(9, 3)"])


def test_dense_reads_an_mlp_spec_as_the_shorthand() -> None:
    specs = parse_layers(["Linear(4, 3)", "Tanh()", "Linear(3, 3)", "Tanh()", "Linear(3, 2)"])
    assert dense(specs) == ((4, 3, 3, 2), "tanh")
    assert dense(parse_layers(["Linear(4, 2)"]), activation="relu") == ((4, 2), "relu")


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (["Linear(4, 3)", "ReLU()", "Linear(3, 2)", "Tanh()", "Linear(2, 2)"], "mixes"),
        (["Linear(4, 3)", "ReLU()"], "ending with Linear"),
        (["Linear(4, 3, bias=False)"], "with a bias"),
        (["Linear(4, 3)", "Linear(3, 2)"], r"layers\[1\]"),
    ],
)
def test_dense_refuses_what_is_not_an_mlp(layers: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dense(parse_layers(layers))

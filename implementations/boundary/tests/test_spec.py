"""The architecture spec: parsing, binding to torch's argument names, shapes, and refusals."""

from __future__ import annotations

import pytest

from fromscratch.boundary.spec import (
    LayerSpec,
    bind,
    input_width,
    output_shape,
    parse,
    parse_layers,
    shapes,
)

LENET = [
    "Unflatten(1, (1, 28, 28))",
    "Conv2d(1, 6, 5, padding=2)",
    "ReLU()",
    "MaxPool2d(2)",
    "Conv2d(6, 16, 5)",
    "ReLU()",
    "MaxPool2d(kernel_size=2, stride=2)",
    "Flatten()",
    "Linear(400, 120)",
    "ReLU()",
    "Linear(120, 10)",
]


def test_parse_keeps_what_was_written():
    spec = parse("Conv2d(1, 6, 5, padding=2)")
    assert (spec.name, spec.args, dict(spec.kwargs)) == ("Conv2d", (1, 6, 5), {"padding": 2})
    assert str(spec) == "Conv2d(1, 6, 5, padding=2)"
    assert parse("Unflatten(1, [1, 8, 8])").args == (1, (1, 8, 8))


def test_bind_names_every_argument_with_torch_defaults():
    conv = bind(parse("Conv2d(3, 8, kernel_size=(3, 5), stride=2)"))
    assert conv.params == {
        "in_channels": 3,
        "out_channels": 8,
        "kernel_size": (3, 5),
        "stride": (2, 2),
        "padding": (0, 0),
        "bias": True,
    }
    # torch's pooling stride defaults to the kernel size
    assert bind(parse("MaxPool2d(3)")).params == {"kernel_size": (3, 3), "stride": (3, 3)}
    assert bind(parse("Flatten()")).params == {"start_dim": 1, "end_dim": -1}


def test_shapes_follow_lenet_through_every_layer():
    specs = parse_layers(LENET)
    assert input_width(specs) == 784
    assert shapes(specs) == [
        (784,),
        (1, 28, 28),
        (6, 28, 28),
        (6, 28, 28),
        (6, 14, 14),
        (16, 10, 10),
        (16, 10, 10),
        (16, 5, 5),
        (400,),
        (120,),
        (120,),
        (10,),
    ]


def test_odd_sizes_floor_like_torch():
    conv = bind(parse("Conv2d(3, 2, 3, stride=2, padding=1)"))
    assert output_shape(conv, (3, 9, 7), "layers[1]") == (2, 5, 4)
    assert output_shape(bind(parse("MaxPool2d(2)")), (2, 5, 4), "x") == (2, 2, 2)


def test_the_shorthand_expands_to_linear_and_the_activation():
    assert [str(s) for s in parse_layers([4, 5, 3], "tanh")] == [
        "Linear(4, 5)",
        "Tanh()",
        "Linear(5, 3)",
    ]


@pytest.mark.parametrize(
    ("layers", "says"),
    [
        (["Conv2d(1, 6)"], ["layers[0]", "kernel_size"]),
        (["Linear(4, n)"], ["layers[0]", "literal"]),
        (["__import__('os')"], ["layers[0]", "unknown layer"]),  # parsed, never run
        (["Linear"], ["layers[0]", "call"]),
        (["Linear(4, 3"], ["layers[0]", "not valid"]),
        (["Swish()"], ["layers[0]", "unknown layer", "Swish"]),
        (["Linear(4, 3, dilation=2)"], ["dilation"]),
        (["Linear(4, 3, 4, 5)"], ["at most 3"]),
        (["Linear(4, 0)"], ["out_features", "positive"]),
        (["Conv2d(1, 2, 3, padding=-1)"], ["padding"]),
        (["Linear(4, 3)", 7], ["mixes"]),
        ([], ["empty"]),
        ("Linear(4, 3)", ["list"]),
        (["Linear(4, 5)", "Linear(6, 3)"], ["layers[1]", "(..., 6)", "(5,)"]),
        (["Unflatten(1, (1, 4, 4))", "Conv2d(1, 2, 5)", "Flatten()"], ["layers[1]", "larger"]),
        (["Unflatten(1, (2, 4, 4))", "Conv2d(1, 2, 3)"], ["layers[1]", "(1, H, W)", "(2, 4, 4)"]),
        (["Conv2d(1, 2, 3)", "Flatten()"], ["layers[0]", "Unflatten"]),
        (["Unflatten(1, (1, 4, 4))", "Conv2d(1, 2, 3)"], ["shape", "Flatten"]),
    ],
)
def test_bad_specs_say_where_and_what(layers: list[object], says: list[str]):
    with pytest.raises(ValueError, match=r".") as error:
        shapes(parse_layers(layers))  # type: ignore[arg-type]
    for words in says:
        assert words in str(error.value), str(error.value)


def test_spec_is_plain_data():
    assert LayerSpec("ReLU") == parse("ReLU()")

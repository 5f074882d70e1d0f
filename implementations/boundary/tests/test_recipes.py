"""The shared recipes: LeNet-5's shapes, and each implementation's copy its own."""

from __future__ import annotations

from fromscratch.boundary import recipes
from fromscratch.boundary.spec import parse_layers, shapes


def test_lenet5_maps_a_mnist_row_to_ten_logits_through_lenets_shapes():
    widths = shapes(parse_layers(recipes.LENET5))
    assert widths[0] == (784,)
    assert widths[4] == (6, 14, 14)
    assert widths[7] == (16, 5, 5)
    assert widths[8] == (400,)
    assert widths[-1] == (10,)
    assert recipes.MNIST_LENET5["model"]["layers"] is recipes.LENET5


def test_compose_gives_each_implementation_a_copy_of_its_own():
    mine = recipes.compose(mnist=recipes.MNIST_MLP, mnist_cnn=recipes.MNIST_LENET5)
    assert mine == {"mnist": recipes.MNIST_MLP, "mnist_cnn": recipes.MNIST_LENET5}
    mine["mnist"]["fit"]["epochs"] = 1
    mine["mnist_cnn"]["model"]["layers"].append("ReLU()")
    assert recipes.MNIST_MLP["fit"]["epochs"] == 20
    assert recipes.LENET5[-1] == "Linear(84, 10)"

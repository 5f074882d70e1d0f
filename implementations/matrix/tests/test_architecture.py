"""Networks written as specs: the module list, its errors, and a whole LeNet against torch.

Every layer on its own is in ``test_conv.py``; the conformance suite runs the CNN grid
through the protocol. Here: the spec becomes the right modules in ``nn.Sequential`` order,
what matrix does not build is refused at construction, and a whole LeNet's gradient
matches torch's.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fromscratch.matrix import RECIPES, Network
from fromscratch.matrix.architecture import SUPPORTED_LAYERS

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES
LENET = RECIPES["mnist_cnn"]["model"]["layers"]


def torch_lenet() -> torch.nn.Sequential:
    """The recipe's spec in torch: each entry is a call of a torch.nn class (test code only)."""
    return torch.nn.Sequential(*(eval(text, {}, vars(torch.nn)) for text in LENET))


def test_the_spec_becomes_one_module_per_entry():
    model = Network(LENET, seed=0, dtype="float64")
    assert [type(m).__name__ for m in model.modules][:5] == [
        "Unflatten",
        "Conv2d",
        "ActivationLayer",
        "MaxPool2d",
        "Conv2d",
    ]
    torch_state = torch_lenet().state_dict()
    state = model.state_dict()
    assert {k: v.shape for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in torch_state.items()
    }
    assert Network.supported_layers == SUPPORTED_LAYERS


@pytest.mark.parametrize(
    ("layers", "says"),
    [
        (
            ["Unflatten(1, (1, 4, 4))", "BatchNorm2d(1)", "Flatten()", "Linear(16, 3)"],
            "BatchNorm2d",
        ),
        (["Linear(4, 3, bias=False)"], "bias"),
        (["Linear(4, 5)", "Dropout(0.5)", "Linear(5, 3)"], "Dropout"),
        (["Unflatten(1, (1, 4, 4))", "Conv2d(1, 2, 3)", "Flatten()", "Linear(9, 3)"], "(..., 9)"),
        (["Unflatten(1, (1, 4, 4))", "Conv2d(1, 2, 3)"], "Flatten"),
    ],
)
def test_what_matrix_does_not_build_is_refused_at_construction(layers: list[str], says: str):
    with pytest.raises(ValueError, match=r"layers") as error:
        Network(layers, seed=0)
    assert says in str(error.value)


def test_lenet_gradients_match_torch(tol: Tolerances):
    model = Network(LENET, seed=0, dtype="float64")
    torch_model = torch_lenet().double()
    torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    X, y = rng.uniform(0, 1, size=(4, 784)), np.array([3, 1, 4, 1])
    L, grads = model.gradients(X, y)
    out = torch.nn.functional.cross_entropy(torch_model(torch.from_numpy(X)), torch.from_numpy(y))
    out.backward()
    assert pytest.approx(out.item(), rel=tol["vs_torch"]["rtol"]) == L
    for key, p in torch_model.named_parameters():
        assert p.grad is not None
        np.testing.assert_allclose(grads[key], p.grad.numpy(), **tol["vs_torch"])


def test_a_spec_repr_reads_like_the_call():
    assert repr(Network(["Linear(4, 3)"], seed=1)).startswith("Network(['Linear(4, 3)'],")

"""``Network`` built from the architecture spec: torch's keys and shapes, torch's
gradients through the protocol, and a clear refusal of layers it does not build."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fromscratch.autograd as ag

Tolerances = dict[str, dict[str, float]]

SPEC = [
    "Unflatten(1, (1, 9, 8))",
    "Conv2d(1, 3, 3, padding=1)",
    "Tanh()",
    "MaxPool2d(2)",
    "Conv2d(3, 4, (2, 2), stride=(1, 2), bias=False)",
    "ReLU()",
    "AvgPool2d(2, stride=1)",
    "Flatten()",
    "Linear(8, 5)",
]


def torch_network() -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 9, 8)),
        torch.nn.Conv2d(1, 3, 3, padding=1),
        torch.nn.Tanh(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(3, 4, (2, 2), stride=(1, 2), bias=False),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2, stride=1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 5),
    ).double()


def test_a_spec_network_has_torchs_state_dict_and_gradients(tol: Tolerances) -> None:
    model = ag.Network(SPEC, dtype="float64", seed=3)
    reference = torch_network()
    state = model.state_dict()
    assert list(state) == list(reference.state_dict())
    assert {k: v.shape for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in reference.state_dict().items()
    }
    reference.load_state_dict({k: torch.tensor(v) for k, v in state.items()})

    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(7, 72)), rng.integers(0, 5, size=7)
    loss, grads = model.gradients(X, y)
    loss_t = torch.nn.functional.cross_entropy(reference(torch.tensor(X)), torch.tensor(y))
    loss_t.backward()
    np.testing.assert_allclose(loss, loss_t.item(), **tol["network_float64"])
    for name, p in reference.named_parameters():
        assert p.grad is not None
        np.testing.assert_allclose(
            grads[name], p.grad.numpy(), **tol["network_float64"], err_msg=name
        )
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (7, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_the_sizes_form_still_builds_the_same_mlp() -> None:
    """The shorthand goes through the same builder: same seed, same parameters as the
    spec spelled out."""
    short = ag.Network([6, 4, 3], activation="tanh", seed=1)
    spelled = ag.Network(["Linear(6, 4)", "Tanh()", "Linear(4, 3)"], seed=1)
    for key, value in short.state_dict().items():
        np.testing.assert_array_equal(value, spelled.state_dict()[key])
    assert repr(short).startswith("Network([6, 4, 3]")


@pytest.mark.parametrize(
    ("layers", "fragment"),
    [
        (
            ["Unflatten(1, (1, 4, 4))", "BatchNorm2d(1)", "Flatten()", "Linear(16, 2)"],
            "BatchNorm2d",
        ),
        (["Linear(16, 8)", "Dropout(0.5)", "Linear(8, 2)"], "does not build Dropout"),
        (
            ["Unflatten(1, (1, 4, 4))", "Conv2d(1, 2, 5)", "Flatten()", "Linear(2, 2)"],
            r"layers\[1\]",
        ),
        (["Linear(16, 8)", "Conv2d(1, 2, 3)"], r"layers\[1\]"),
        ([16, "Linear(16, 2)"], "mixes sizes"),
    ],
)
def test_bad_specs_are_value_errors_naming_the_layer(layers: list[object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        ag.Network(layers)  # type: ignore[arg-type]


def test_the_declared_layers_are_what_it_builds() -> None:
    assert {"Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Unflatten", "Linear"} <= set(
        ag.Network.supported_layers
    )
    assert "BatchNorm2d" not in ag.Network.supported_layers

"""The shared optimizers step exactly like torch.optim, reading the gradient stored beside
each parameter; the shared loop stops a diverging run with a clear error."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.boundary import optim
from fromscratch.boundary.options import FitOptions, check_fit_options, make_optimizer


class Layer:
    """The smallest owner of a parameter and of the gradient stored beside it."""

    def __init__(self, W: np.ndarray[Any, Any]) -> None:
        self.W = W.copy()
        self.dL_dW: np.ndarray[Any, Any] | None = None


CASES = [
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("sgd", {"momentum": 0.5, "dampening": 0.3}),
    ("adam", {"betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("adam", {"amsgrad": True}),
    ("adamw", {"weight_decay": 0.05}),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES)
def test_steps_like_torch(name: str, kwargs: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    W0 = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) * rng.uniform(0.1, 3) for _ in range(7)]
    layer = Layer(W0)
    ours = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}[name](
        [optim.Parameter(layer, "W")], lr=0.05, **kwargs
    )
    w = torch.tensor(W0, requires_grad=True)
    theirs = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name](
        [w], lr=0.05, **kwargs
    )
    for g in grads:
        layer.dL_dW = g.copy()  # a new array each step, as a plain backward pass assigns it
        ours.step()
        w.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(layer.W, w.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_a_parameter_without_gradient_is_left_alone() -> None:
    layer = Layer(np.ones((2, 2)))
    optim.SGD([optim.Parameter(layer, "W")], lr=0.1).step()
    np.testing.assert_array_equal(layer.W, np.ones((2, 2)))


def test_float32_parameters_stay_float32() -> None:
    layer = Layer(np.ones((2, 2), dtype=np.float32))
    layer.dL_dW = np.ones((2, 2), dtype=np.float32)
    optimizer = make_optimizer([optim.Parameter(layer, "W")], 0.1, FitOptions(optimizer="adam"))
    optimizer.step()
    assert layer.W.dtype == np.float32


def test_cosine_schedule_matches_torch() -> None:
    w = torch.zeros(1, requires_grad=True)
    sgd = torch.optim.SGD([w], lr=0.3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=5)
    for epoch in range(1, 6):
        assert math.isclose(optim.cosine_learning_rate(0.3, epoch, 5), sgd.param_groups[0]["lr"])
        sgd.step()
        scheduler.step()


def test_adamw_decays_by_default_and_options_of_another_optimizer_are_refused() -> None:
    assert check_fit_options({"optimizer": "adamw"}, ("sgd", "adamw")).weight_decay == 0.01
    with pytest.raises(ValueError, match="momentum"):
        check_fit_options({"optimizer": "adam", "momentum": 0.9})
    with pytest.raises(ValueError, match="adamw"):
        check_fit_options({"optimizer": "adamw"})  # not accepted by default

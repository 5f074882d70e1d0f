"""Adam and SGD on the flat vector step exactly like torch.optim, from the same estimates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.evolution.optim import SGD, Adam

Tolerances = dict[str, dict[str, float]]


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_five_steps_match_torch(name: str, weight_decay: float, tol: Tolerances) -> None:
    rng = np.random.default_rng(0)
    theta = rng.normal(size=20)
    start = theta.copy()
    estimates = [rng.normal(size=20) * rng.uniform(0.1, 10, size=20) for _ in range(5)]
    reference = torch.tensor(theta.copy(), requires_grad=True)
    ours: Any
    if name == "adam":
        ours = Adam(theta, 0.01, betas=(0.8, 0.99), weight_decay=weight_decay)
        theirs: torch.optim.Optimizer = torch.optim.Adam(
            [reference], lr=0.01, betas=(0.8, 0.99), weight_decay=weight_decay
        )
    else:
        ours = SGD(theta, 0.05, momentum=0.9, weight_decay=weight_decay)
        theirs = torch.optim.SGD([reference], lr=0.05, momentum=0.9, weight_decay=weight_decay)
    for g in estimates:
        ours.step(g)
        reference.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(theta, reference.detach().numpy(), **tol["optim_vs_torch"])
    assert np.all(theta != start)  # every parameter moved, in place


def test_float32_parameters_stay_float32() -> None:
    theta = np.zeros(4, dtype=np.float32)
    Adam(theta, 0.1).step(np.ones(4, dtype=np.float32))
    SGD(theta, 0.1, momentum=0.9, weight_decay=0.1).step(np.ones(4, dtype=np.float32))
    assert theta.dtype == np.float32
    assert np.all(theta < 0)

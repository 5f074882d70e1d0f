"""SGD and Adam against torch.optim, step after step, from the same parameters and gradients.

Each parameter here stands for one neuron's ``w`` or ``b``; the optimizer visits them one
by one, and its state (velocity, moments, step count) must carry over from step
to step exactly as torch's does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.loops.optim import SGD, Adam, cosine_learning_rate

STEPS = 6
SIZES = [5, 5, 5, 4, 3]  # three neurons with 4 inputs, one with 3, one with 2
Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES


def run_both(
    ours_cls: type[SGD] | type[Adam],
    torch_cls: type[torch.optim.Optimizer],
    lr: float,
    kwargs: dict[str, Any],
    dtype: type[np.floating[Any]],
    tol: Tolerances,
) -> None:
    """Feed both optimizers the same gradients for STEPS steps; compare after every step."""
    rng = np.random.default_rng(0)
    params = [rng.normal(size=size).astype(dtype) for size in SIZES]
    grads = [np.zeros(size, dtype) for size in SIZES]
    torch_params = [torch.tensor(p, requires_grad=True) for p in params]
    ours = ours_cls(params, grads, lr, **kwargs)
    reference = torch_cls(torch_params, lr=lr, **kwargs)

    tolerance = tol["training_vs_torch" if dtype == np.float64 else "optim_vs_torch_float32"]
    for step in range(1, STEPS + 1):
        for g in grads:  # a new gradient every step, written in place like backward does
            g[...] = rng.normal(size=g.shape)
        grads_before = [g.copy() for g in grads]
        ours.step()
        for p_t, g in zip(torch_params, grads, strict=True):
            p_t.grad = torch.tensor(g)
        reference.step()

        for p, p_t in zip(params, torch_params, strict=True):
            assert p.dtype == dtype
            np.testing.assert_allclose(p, p_t.detach().numpy(), **tolerance, err_msg=f"step {step}")
        for g, g_before in zip(grads, grads_before, strict=True):
            np.testing.assert_array_equal(g, g_before)  # optimizers never write into grads


SGD_CASES = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.5, "nesterov": True},
    {"weight_decay": 0.1},
    {"momentum": 0.9, "weight_decay": 0.01},
    {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda kw: repr(kw) if kw else "plain")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_matches_torch(
    kwargs: dict[str, Any], dtype: type[np.floating[Any]], tol: Tolerances
) -> None:
    run_both(SGD, torch.optim.SGD, 0.1, kwargs, dtype, tol)


ADAM_CASES = [
    {},
    {"betas": (0.8, 0.99), "eps": 1e-6},
    {"weight_decay": 0.1},
    {"betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.01},
]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=lambda kw: repr(kw) if kw else "default")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_matches_torch(
    kwargs: dict[str, Any], dtype: type[np.floating[Any]], tol: Tolerances
) -> None:
    run_both(Adam, torch.optim.Adam, 0.01, kwargs, dtype, tol)


def test_plain_sgd_step_is_theta_minus_lr_times_grad() -> None:
    theta = np.array([1.0, -2.0, 0.5])
    grad = np.array([0.25, 0.5, -1.0])
    SGD([theta], [grad], 0.5).step()
    np.testing.assert_array_equal(theta, [1.0 - 0.125, -2.0 - 0.25, 0.5 + 0.5])


def test_a_changed_learning_rate_applies_to_the_next_step() -> None:
    theta, grad = np.zeros(2), np.ones(2)
    optimizer = SGD([theta], [grad], 1.0)
    optimizer.lr = 0.25  # what the cosine schedule does between epochs
    optimizer.step()
    np.testing.assert_array_equal(theta, [-0.25, -0.25])


def test_sgd_nesterov_without_momentum_is_refused() -> None:
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD([np.zeros(2)], [np.zeros(2)], 0.1, nesterov=True)


def test_every_parameter_needs_a_gradient_of_its_shape() -> None:
    with pytest.raises(ValueError, match="one gradient of the same shape per parameter"):
        SGD([np.zeros(2), np.zeros(3)], [np.zeros(2)], 0.1)
    with pytest.raises(ValueError, match="one gradient of the same shape per parameter"):
        Adam([np.zeros(2)], [np.zeros(3)], 0.1)


def test_cosine_schedule_matches_torch_cosine_annealing(tol: Tolerances) -> None:
    epochs, lr = 7, 0.3
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    scalar = tol["float64_scalar"]
    for epoch in range(1, epochs + 1):
        expected = pytest.approx(
            optimizer.param_groups[0]["lr"], rel=scalar["rtol"], abs=scalar["atol"]
        )
        assert cosine_learning_rate(lr, epoch, epochs) == expected
        optimizer.step()
        scheduler.step()
    assert cosine_learning_rate(lr, 1, epochs) == lr

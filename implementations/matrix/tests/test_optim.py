"""SGD and Adam against torch.optim, step for step, from the same parameters and gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.matrix.optim import SGD, Adam, cosine_learning_rate

STEPS = 5
SHAPES = [(4, 3), (4,), (2, 4), (2,)]
Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES


def run_both(
    ours_cls: type[SGD] | type[Adam],
    torch_cls: type[torch.optim.Optimizer],
    lr: float,
    ours_kwargs: dict[str, Any],
    torch_kwargs: dict[str, Any],
    dtype: type[np.floating[Any]],
    tol: Tolerances,
) -> None:
    """Feed both optimizers the same gradients for STEPS steps; compare after every step."""
    rng = np.random.default_rng(0)
    params = [rng.normal(size=shape).astype(dtype) for shape in SHAPES]
    torch_params = [torch.tensor(p, requires_grad=True) for p in params]
    ours = ours_cls(params, lr, **ours_kwargs)
    reference = torch_cls(torch_params, lr=lr, **torch_kwargs)

    tolerance = tol["optim_vs_torch_float64" if dtype == np.float64 else "optim_vs_torch_float32"]
    for step in range(1, STEPS + 1):
        grads = [rng.normal(size=shape).astype(dtype) for shape in SHAPES]
        grads_before = [g.copy() for g in grads]
        ours.step(grads)
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
    run_both(SGD, torch.optim.SGD, 0.1, kwargs, kwargs, dtype, tol)


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
    run_both(Adam, torch.optim.Adam, 0.01, kwargs, kwargs, dtype, tol)


def test_sgd_nesterov_without_momentum_is_refused() -> None:
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD([np.zeros(2)], 0.1, nesterov=True)


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

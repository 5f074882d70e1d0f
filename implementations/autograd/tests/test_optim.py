"""SGD, Adam and AdamW against torch.optim: the same gradients for N steps, state kept."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import fromscratch.autograd as ag
from fromscratch.autograd import optim
from fromscratch.boundary.optim import cosine_learning_rate

STEPS = 6
SHAPES = [(4, 3), (4,), (2, 4), (2,)]
Tolerances = dict[str, dict[str, float]]


def run_both(
    ours_cls: type[optim.Optimizer],
    torch_cls: type[torch.optim.Optimizer],
    kwargs: dict[str, Any],
    dtype: type[np.floating[Any]],
    tol: Tolerances,
) -> None:
    """Hand both optimizers the same gradients; compare every parameter after every step."""
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    params = [ag.Tensor(a, requires_grad=True) for a in arrays]
    torch_params = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = ours_cls(params, **kwargs)
    reference = torch_cls(torch_params, **kwargs)
    tolerance = tol["optim_float64" if dtype == np.float64 else "optim_float32"]
    for step in range(1, STEPS + 1):
        for p, p_t in zip(params, torch_params, strict=True):
            g = rng.normal(size=p.shape).astype(dtype)
            p.grad, p_t.grad = ag.Tensor(g), torch.tensor(g)
        ours.step()
        reference.step()
        for p, p_t in zip(params, torch_params, strict=True):
            assert p.dtype == dtype
            np.testing.assert_allclose(
                p.detach().numpy(), p_t.detach().numpy(), **tolerance, err_msg=f"step {step}"
            )


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.5, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
]
ADAM_CASES = [
    {"lr": 0.01},
    {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01},
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=repr)
def test_sgd_matches_torch(kwargs: dict[str, Any], dtype: Any, tol: Tolerances) -> None:
    run_both(optim.SGD, torch.optim.SGD, kwargs, dtype, tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=repr)
def test_adam_matches_torch(kwargs: dict[str, Any], dtype: Any, tol: Tolerances) -> None:
    run_both(optim.Adam, torch.optim.Adam, kwargs, dtype, tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", [*ADAM_CASES, {"lr": 0.01}], ids=repr)
def test_adamw_matches_torch(kwargs: dict[str, Any], dtype: Any, tol: Tolerances) -> None:
    run_both(optim.AdamW, torch.optim.AdamW, kwargs, dtype, tol)


def test_parameters_without_grad_are_skipped_and_zero_grad_clears() -> None:
    p, q = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0], requires_grad=True)
    sgd = optim.SGD([p, q], lr=0.5)
    p.grad = ag.tensor([1.0, 1.0])
    sgd.step()
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, 1.5])
    np.testing.assert_array_equal(q.detach().numpy(), [3.0])
    sgd.zero_grad()
    assert p.grad is None


def test_param_group_learning_rate_can_be_changed_between_steps() -> None:
    p = ag.tensor([1.0], requires_grad=True)
    sgd = optim.SGD([p], lr=1.0)
    sgd.param_groups[0]["lr"] = 0.25
    p.grad = ag.tensor([1.0])
    sgd.step()
    np.testing.assert_array_equal(p.detach().numpy(), [0.75])


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (optim.SGD, {"lr": -0.1}),
        (optim.SGD, {"lr": 0.1, "nesterov": True}),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}),
        (optim.Adam, {"lr": 0.1, "betas": (1.0, 0.9)}),
        (optim.Adam, {"lr": 0.1, "eps": -1.0}),
        (optim.AdamW, {"lr": 0.1, "weight_decay": -1.0}),
    ],
)
def test_bad_hyper_parameters_raise_value_error_like_torch(
    cls: Any, kwargs: dict[str, Any]
) -> None:
    torch_cls = getattr(torch.optim, cls.__name__)
    with pytest.raises(ValueError):  # noqa: PT011 -- torch's message differs
        torch_cls([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=r"nvalid|Nesterov"):
        cls([ag.tensor([0.0], requires_grad=True)], **kwargs)


def test_cosine_schedule_matches_torch(tol: Tolerances) -> None:
    epochs, lr = 7, 0.3
    p = torch.zeros(1, requires_grad=True)
    sgd = torch.optim.SGD([p], lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=epochs)
    for epoch in range(1, epochs + 1):
        np.testing.assert_allclose(
            cosine_learning_rate(lr, epoch, epochs),
            sgd.param_groups[0]["lr"],
            **tol["float64_scalar"],
        )
        sgd.step()
        scheduler.step()

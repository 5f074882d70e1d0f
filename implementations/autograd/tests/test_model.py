"""The Model-protocol ``Network`` beyond the shared conformance suite: its fit options
(optimizers, schedule) against a torch training loop, seeding, and its own errors."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.autograd import RECIPES, Network

Tolerances = dict[str, dict[str, float]]


def data(n: int = 24, d: int = 4, k: int = 3) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    rng = np.random.default_rng(7)
    return rng.normal(size=(n, d)), rng.integers(0, k, size=n)


def torch_fit(
    model: Network, X: Any, y: Any, epochs: int, batch_size: int, lr: float, **options: Any
) -> dict[str, Any]:
    """The same training run in torch: same init, same shuffling order, same updates."""
    layers = model.sizes
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[
        model.activation_name
    ]
    modules: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(layers)):
        if i:
            modules.append(act())
        modules.append(torch.nn.Linear(a, b))
    net = torch.nn.Sequential(*modules).double()
    net.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    name = options.pop("optimizer", "sgd")
    schedule = options.pop("schedule", "constant")
    clip = options.pop("clip_grad_norm", None)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    opt = cls(net.parameters(), lr=lr, **options)
    scheduler = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        if schedule == "cosine"
        else None
    )
    # Replay the shuffles the model's generator will draw.
    rng = np.random.default_rng(np.random.SeedSequence(model.seed).spawn(1)[0])
    X_t, y_t = torch.tensor(X), torch.tensor(y)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            rows = torch.from_numpy(order[start : start + batch_size])
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(X_t[rows]), y_t[rows]).backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
            opt.step()
        if scheduler is not None:
            scheduler.step()
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


OPTIONS = [
    {"optimizer": "sgd"},
    {
        "optimizer": "sgd",
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 0.01,
        "schedule": "cosine",
    },
    {"optimizer": "adam", "betas": (0.8, 0.99), "eps": 1e-7, "weight_decay": 0.01},
    {"optimizer": "adamw", "weight_decay": 0.1, "schedule": "cosine"},
    {"optimizer": "sgd", "momentum": 0.9, "clip_grad_norm": 0.05},  # the shared fit's clip
]


@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items())
)
def test_fit_trains_exactly_like_the_torch_loop(options: dict[str, Any], tol: Tolerances) -> None:
    X, y = data()
    model = Network([4, 6, 3], activation="tanh", seed=3, dtype="float64")
    expected = torch_fit(model, X, y, epochs=3, batch_size=5, lr=0.05, **dict(options))
    model.fit(X, y, epochs=3, batch_size=5, learning_rate=0.05, **options)
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value, expected[key], **tol["network_float64"], err_msg=key)


def test_same_seed_same_parameters_and_callback_sees_each_epoch() -> None:
    X, y = data()
    seen: list[tuple[int, float]] = []
    a = Network([4, 5, 3], seed=1).fit(
        X,
        y,
        epochs=3,
        batch_size=4,
        learning_rate=0.1,
        callback=lambda e, m: seen.append((e, m["loss"])),
    )
    b = Network([4, 5, 3], seed=1).fit(X, y, epochs=3, batch_size=4, learning_rate=0.1)
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key])
    assert [e for e, _ in seen] == [1, 2, 3]
    assert all(np.isfinite(loss) for _, loss in seen)


def test_fit_trains_in_training_mode_and_leaves_the_net_in_eval_mode() -> None:
    """As a torch loop: ``model.train()`` for the batches (dropout, batch norm), then
    ``model.eval()``, even when fit stops with an error."""
    X, y = data()
    model = Network([4, 5, 3], seed=0, dtype="float64")
    model.net.eval()
    seen: list[bool] = []
    model.fit(
        X,
        y,
        epochs=1,
        batch_size=8,
        learning_rate=0.1,
        batch_callback=lambda *_: seen.append(model.net.training),
    )
    assert seen == [True, True, True]
    assert not model.net.training
    with pytest.raises(FloatingPointError):
        model.fit(X * 1e300, y, epochs=1, batch_size=8, learning_rate=1e300)
    assert not model.net.training


def test_float32_stays_float32() -> None:
    X, y = data()
    model = Network([4, 5, 3], seed=0, dtype="float32").fit(
        X, y, epochs=1, batch_size=8, learning_rate=0.1
    )
    assert all(v.dtype == np.float32 for v in model.state_dict().values())
    assert model.predict_proba(X).dtype == np.float32
    loss, grads = model.gradients(X, y)
    assert isinstance(loss, float)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_gradients_leave_parameters_and_their_grads_alone() -> None:
    X, y = data()
    model = Network([4, 5, 3], seed=0, dtype="float64")
    before = model.state_dict()
    first = model.gradients(X, y)[1]
    second = model.gradients(X, y)[1]  # no accumulation from the first call
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
        np.testing.assert_array_equal(first[key], second[key])


def test_recipes_are_complete() -> None:
    for dataset in ("mnist", "breast_cancer"):
        recipe = RECIPES[dataset]
        Network(**recipe["model"])  # constructs
        assert {"epochs", "batch_size", "learning_rate"} <= recipe["fit"].keys()

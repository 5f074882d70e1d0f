"""The Network end to end: gradients vs torch, training vs torch, seeds, state dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.matrix import RECIPES, Network

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES


def make_data(
    n: int = 24, d: int = 5, k: int = 3, seed: int = 0
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    return X, y


def torch_model(model: Network) -> torch.nn.Sequential:
    """The nn.Sequential equivalent of ``model``, with ``model``'s parameters (float64)."""
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}
    modules: list[torch.nn.Module] = []
    for fan_in, fan_out in zip(model.sizes[:-1], model.sizes[1:], strict=False):
        modules += [
            torch.nn.Linear(fan_in, fan_out, dtype=torch.float64),
            act[model.activation.name](),
        ]
    net = torch.nn.Sequential(*modules[:-1])
    state = {
        key: torch.tensor(value, dtype=torch.float64) for key, value in model.state_dict().items()
    }
    net.load_state_dict(state)
    return net


def torch_loss(name: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if name == "cross_entropy":
        return torch.nn.functional.cross_entropy(out, y)
    if name == "bce":
        return torch.nn.functional.binary_cross_entropy_with_logits(out, y.double().reshape(-1, 1))
    Y = torch.nn.functional.one_hot(y, out.shape[1]).double()
    return torch.nn.functional.mse_loss(out, Y)


CONFIGS = [
    (activation, loss)
    for activation in ("relu", "sigmoid", "tanh")
    for loss in ("cross_entropy", "bce", "mse")
]


@pytest.mark.parametrize(("activation", "loss"), CONFIGS)
def test_gradients_match_torch(activation: str, loss: str, tol: Tolerances) -> None:
    k = 1 if loss == "bce" else 3
    model = Network([5, 7, 4, k], activation=activation, loss=loss, seed=3, dtype="float64")
    X, y = make_data(k=max(k, 2))
    net = torch_model(model)
    L_t = torch_loss(loss, net(torch.from_numpy(X)), torch.from_numpy(y))
    L_t.backward()

    L, grads = model.gradients(X, y)

    scalar, twice = tol["float64_scalar"], tol["same_loss_twice"]
    assert pytest.approx(L_t.item(), rel=scalar["rtol"], abs=scalar["atol"]) == L
    assert pytest.approx(L, rel=twice["rtol"], abs=twice["atol"]) == model.loss(X, y)
    assert set(grads) == set(model.state_dict())
    for key, param in net.named_parameters():
        assert param.grad is not None
        assert grads[key].dtype == np.float64
        np.testing.assert_allclose(grads[key], param.grad.numpy(), **tol["network_vs_torch"])


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
        {"optimizer": "adam", "betas": (0.8, 0.99), "weight_decay": 1e-2},
        {"momentum": 0.9, "schedule": "cosine"},
    ],
    ids=["sgd", "nesterov", "adam", "cosine"],
)
def test_full_batch_training_matches_torch(options: dict[str, Any], tol: Tolerances) -> None:
    """With one batch per epoch, shuffling only reorders rows: training must equal torch's."""
    model = Network([5, 8, 3], activation="tanh", seed=1, dtype="float64")
    X, y = make_data()
    net = torch_model(model)
    lr, epochs = 0.1, 6

    model.fit(X, y, epochs=epochs, batch_size=len(X), learning_rate=lr, **options)

    kwargs = {k: v for k, v in options.items() if k not in ("optimizer", "schedule")}
    if options.get("optimizer") == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(net.parameters(), lr=lr, **kwargs)
    else:
        optimizer = torch.optim.SGD(net.parameters(), lr=lr, **kwargs)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for _ in range(epochs):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        optimizer.step()
        if options.get("schedule") == "cosine":
            scheduler.step()

    for key, param in net.named_parameters():
        np.testing.assert_allclose(
            model.state_dict()[key], param.detach().numpy(), **tol["network_vs_torch"]
        )


def test_gradients_leave_the_parameters_unchanged() -> None:
    model = Network([5, 6, 3], seed=0)
    before = model.state_dict()
    X, y = make_data()
    model.gradients(X, y)
    model.loss(X, y)
    model.predict_proba(X)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_everything_comes_back_in_the_model_dtype(dtype: str) -> None:
    model = Network([5, 6, 3], dtype=dtype)
    X, y = make_data()  # float64 data: cast at the boundary
    _, grads = model.gradients(X, y)
    assert all(g.dtype == dtype for g in grads.values())
    assert all(p.dtype == dtype for p in model.state_dict().values())
    assert model.predict_proba(X).dtype == dtype
    assert model.predict(X).dtype == np.int64
    assert isinstance(model.loss(X, y), float)
    model.fit(X, y, epochs=2, batch_size=5, learning_rate=0.1, optimizer="adam")
    assert all(p.dtype == dtype for p in model.state_dict().values())


def test_same_seed_same_init_and_same_training() -> None:
    X, y = make_data(n=50)
    a, b, c = (Network([5, 8, 3], seed=s) for s in (7, 7, 8))
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key])
        assert not np.array_equal(value, c.state_dict()[key])

    for model in (a, b):
        model.fit(X, y, epochs=3, batch_size=8, learning_rate=0.1, momentum=0.9)
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key])  # bit-identical


def test_state_dict_is_keyed_like_sequential_and_holds_copies() -> None:
    model = Network([5, 7, 4, 3], seed=0)
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert state["0.weight"].shape == (7, 5)
    assert state["2.bias"].shape == (4,)
    reference = torch.nn.Sequential(
        torch.nn.Linear(5, 7),
        torch.nn.ReLU(),
        torch.nn.Linear(7, 4),
        torch.nn.ReLU(),
        torch.nn.Linear(4, 3),
    )
    assert list(state) == list(reference.state_dict())

    state["0.weight"][...] = 123.0  # a copy: the model must not change
    assert not np.any(model.state_dict()["0.weight"] == 123.0)
    assert list(Network([4, 2]).state_dict()) == ["0.weight", "0.bias"]


def test_load_state_dict_round_trip_copies_the_arrays_in(tol: Tolerances) -> None:
    X, _ = make_data()
    source, target = Network([5, 6, 3], seed=1), Network([5, 6, 3], seed=2)
    state = source.state_dict()
    target.load_state_dict(state)
    np.testing.assert_array_equal(target.predict_proba(X), source.predict_proba(X))

    state["0.bias"][...] = 0.0  # mutating the dict afterwards must not reach the model
    assert np.any(target.state_dict()["0.bias"] != 0.0)

    # A torch state dict, converted to numpy, loads as is.
    net = torch_model(Network([5, 6, 3], dtype="float64"))
    model = Network([5, 6, 3], dtype="float64", seed=9)
    model.load_state_dict({k: v.detach().numpy() for k, v in net.state_dict().items()})
    expected = torch.softmax(net(torch.from_numpy(X)), dim=1).detach().numpy()
    np.testing.assert_allclose(model.predict_proba(X), expected, **tol["float64_proba"])


def test_init_bounds_follow_fan_in() -> None:
    model = Network([300, 50, 2], seed=0, dtype="float64")
    state = model.state_dict()
    for key, fan_in in (("0", 300), ("2", 50)):
        bound = 1 / np.sqrt(fan_in)
        for suffix in ("weight", "bias"):
            assert np.abs(state[f"{key}.{suffix}"]).max() <= bound
        assert np.abs(state[f"{key}.weight"]).max() > 0.9 * bound  # and fills the interval


@pytest.mark.parametrize("loss", ["cross_entropy", "bce", "mse"])
def test_predict_proba_rows_sum_to_one_and_predict_is_their_argmax(
    loss: str, tol: Tolerances
) -> None:
    k = 1 if loss == "bce" else 4
    model = Network([5, 6, k], loss=loss, seed=0)
    X, _ = make_data()
    P = model.predict_proba(X)
    assert P.shape == (len(X), 2 if loss == "bce" else 4)
    assert np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, **tol["float32_proba_sum"])
    np.testing.assert_array_equal(model.predict(X), P.argmax(axis=1))


def test_bce_probabilities_are_one_minus_sigmoid_and_sigmoid(tol: Tolerances) -> None:
    model = Network([5, 1], loss="bce", seed=0, dtype="float64")
    X, _ = make_data()
    z = X @ model.state_dict()["0.weight"].T + model.state_dict()["0.bias"]
    p = 1 / (1 + np.exp(-z[:, 0]))
    np.testing.assert_allclose(
        model.predict_proba(X), np.stack([1 - p, p], axis=1), **tol["float64_proba"]
    )


def test_fit_learns_a_separable_problem_and_reports_the_epoch_loss() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = Network([2, 8, 2], seed=0)
    seen: list[tuple[int, Mapping[str, float]]] = []

    returned = model.fit(
        X,
        y,
        epochs=30,
        batch_size=16,
        learning_rate=0.1,
        momentum=0.9,
        callback=lambda epoch, metrics: seen.append((epoch, dict(metrics))),
    )

    assert returned is model
    assert [epoch for epoch, _ in seen] == list(range(1, 31))
    losses = [metrics["loss"] for _, metrics in seen]
    assert losses[-1] < 0.2 * losses[0]
    assert (model.predict(X) == y).mean() > 0.95


def test_epoch_loss_is_the_mean_of_the_batch_losses(tol: Tolerances) -> None:
    X, y = make_data(n=10)
    model = Network([5, 3], seed=0, dtype="float64")
    start = model.state_dict()
    seen: list[float] = []
    model.fit(
        X,
        y,
        epochs=1,
        batch_size=10,
        learning_rate=0.1,
        callback=lambda e, m: seen.append(m["loss"]),
    )
    model.load_state_dict(start)
    scalar = tol["float64_scalar"]
    # One batch: the epoch loss is the loss before the step.
    assert seen[0] == pytest.approx(model.loss(X, y), rel=scalar["rtol"], abs=scalar["atol"])


def test_recipes_are_plain_dicts_of_constructor_and_fit_arguments() -> None:
    assert set(RECIPES) == {"mnist", "breast_cancer", "mnist_cnn"}
    for recipe in RECIPES.values():
        model = Network(**recipe["model"])
        fit = dict(recipe["fit"])
        X, y = make_data(n=8, d=model.sizes[0], k=model.n_classes)
        model.fit(X, y, **{**fit, "epochs": 1})  # every recipe option is accepted
    assert RECIPES["mnist"]["model"]["layers"][0] == 784
    assert RECIPES["breast_cancer"]["model"]["layers"][0] == 30


def test_a_refused_fit_or_state_dict_changes_nothing() -> None:
    """The messages are the boundary's (its tests); here: refused before anything moved."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 4)), np.array([0, 1, 2, 0, 1, 2])
    model = Network([4, 5, 3])
    before = model.state_dict()
    with pytest.raises(ValueError, match="betas"):
        model.fit(X, y, epochs=1, batch_size=2, learning_rate=0.1, betas=(0.9, 0.99))
    bad = {**before, "2.bias": np.zeros(3)}  # float64 into a float32 model, loaded last
    with pytest.raises(ValueError, match=r"2\.bias"):
        model.load_state_dict({**bad, "0.weight": before["0.weight"] + 1})
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])

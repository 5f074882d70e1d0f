"""The Network end to end: gradients vs torch and central differences, training vs torch,
seeds, state dicts, divergence, recipes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fromscratch.conformance.tolerances import CENTRAL_DIFFERENCE_STEP
from fromscratch.loops import RECIPES, Network

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES
Twin = Callable[[Network], torch.nn.Sequential]
TorchLoss = Callable[[str, torch.Tensor, torch.Tensor], torch.Tensor]
Batch = Callable[..., tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]

CONFIGS = [
    (activation, loss)
    for activation in ("relu", "sigmoid", "tanh")
    for loss in ("cross_entropy", "bce", "mse")
]


def outputs(loss: str) -> int:
    return 1 if loss == "bce" else 3


@pytest.mark.parametrize(("activation", "loss"), CONFIGS)
def test_gradients_match_torch(
    activation: str,
    loss: str,
    tol: Tolerances,
    torch_twin: Twin,
    torch_loss: TorchLoss,
    random_batch: Batch,
) -> None:
    model = Network(
        [5, 7, 4, outputs(loss)], activation=activation, loss=loss, seed=3, dtype="float64"
    )
    X, y = random_batch(24, 5, 2 if loss == "bce" else 3, seed=1)
    net = torch_twin(model)
    loss_t = torch_loss(loss, net(torch.from_numpy(X)), torch.from_numpy(y))
    loss_t.backward()
    L_t = loss_t.item()

    L, grads = model.gradients(X, y)

    scalar, twice = tol["vs_torch"], tol["same_loss_twice"]
    assert pytest.approx(L_t, rel=scalar["rtol"], abs=scalar["atol"]) == L
    assert pytest.approx(L, rel=twice["rtol"], abs=twice["atol"]) == model.loss(X, y)
    assert list(grads) == list(model.state_dict())
    for key, param in net.named_parameters():
        assert param.grad is not None
        assert grads[key].dtype == np.float64
        assert grads[key].shape == tuple(param.shape)
        np.testing.assert_allclose(grads[key], param.grad.numpy(), **tol["vs_torch"])


@settings(max_examples=25, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), max_size=3),
    n_features=st.integers(1, 5),
    n=st.integers(1, 8),
    activation=st.sampled_from(["relu", "sigmoid", "tanh"]),
    loss=st.sampled_from(["cross_entropy", "bce", "mse"]),
    seed=st.integers(0, 2**16),
)
def test_gradients_match_torch_for_any_shape(
    hidden: list[int],
    n_features: int,
    n: int,
    activation: str,
    loss: str,
    seed: int,
    tol: Tolerances,
    torch_twin: Twin,
    torch_loss: TorchLoss,
    random_batch: Batch,
) -> None:
    k = outputs(loss)
    layers = [n_features, *hidden, k]
    model = Network(layers, activation=activation, loss=loss, seed=seed, dtype="float64")
    X, y = random_batch(n, n_features, 2 if loss == "bce" else k, seed=seed)
    net = torch_twin(model)
    torch_loss(loss, net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    _, grads = model.gradients(X, y)
    for key, param in net.named_parameters():
        assert param.grad is not None
        np.testing.assert_allclose(grads[key], param.grad.numpy(), **tol["vs_torch"])


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("loss", ["cross_entropy", "bce", "mse"])
def test_gradients_match_central_differences(
    activation: str, loss: str, tol: Tolerances, random_batch: Batch
) -> None:
    """No torch: every gradient entry against the model's own loss, nudged both ways."""
    h = CENTRAL_DIFFERENCE_STEP  # the step conftest's "central_difference" bound is for
    model = Network(
        [3, 4, 3, outputs(loss)], activation=activation, loss=loss, seed=5, dtype="float64"
    )
    X, y = random_batch(6, 3, 2 if loss == "bce" else 3, seed=2)
    _, grads = model.gradients(X, y)
    state = model.state_dict()
    for key, value in state.items():
        numeric = np.empty_like(value)
        for index in np.ndindex(value.shape):
            losses = []
            for sign in (1.0, -1.0):
                shifted = {k: v.copy() for k, v in state.items()}
                shifted[key][index] += sign * h
                model.load_state_dict(shifted)
                losses.append(model.loss(X, y))
            numeric[index] = (losses[0] - losses[1]) / (2 * h)
        np.testing.assert_allclose(grads[key], numeric, **tol["central_difference"], err_msg=key)


@pytest.mark.parametrize("loss", ["cross_entropy", "bce", "mse"])
def test_relu_kink_at_exact_zeros_matches_torch(
    loss: str, tol: Tolerances, torch_twin: Twin, torch_loss: TorchLoss, random_batch: Batch
) -> None:
    """Pre-activations of exactly 0, where torch takes relu'(0) = 0."""
    model = Network([4, 6, 5, outputs(loss)], loss=loss, seed=0, dtype="float64")
    state = model.state_dict()
    state["0.bias"][:3] = 0.0  # with X[0] = 0: neurons 0-2 of layer 1 at z = 0 for sample 0
    state["2.weight"][0] = 0.0  # neuron 0 of layer 2 at z = 0 for every sample
    state["2.bias"][0] = 0.0
    model.load_state_dict(state)
    X, y = random_batch(7, 4, 2 if loss == "bce" else 3, seed=3)
    X[0] = 0.0

    layer1, layer2 = model.layers[0], model.layers[1]
    _, grads = model.gradients(X, y)
    assert sum(neuron.z[0] == 0.0 for neuron in layer1.neurons[:3]) == 3
    assert np.all(layer2.neurons[0].z == 0.0)

    net = torch_twin(model)
    torch_loss(loss, net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    for key, param in net.named_parameters():
        assert param.grad is not None
        np.testing.assert_allclose(grads[key], param.grad.numpy(), **tol["vs_torch"])
    np.testing.assert_array_equal(grads["2.weight"][0], 0.0)  # a dead neuron learns nothing


def torch_optimizer(net: torch.nn.Module, lr: float, options: dict[str, Any]) -> Any:
    kwargs = {k: v for k, v in options.items() if k not in ("optimizer", "schedule")}
    if options.get("optimizer") == "adam":
        return torch.optim.Adam(net.parameters(), lr=lr, **kwargs)
    return torch.optim.SGD(net.parameters(), lr=lr, **kwargs)


TRAINING_OPTIONS = [
    {},
    {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
    {"optimizer": "adam", "betas": (0.8, 0.99), "weight_decay": 1e-2},
    {"momentum": 0.9, "schedule": "cosine"},
]
TRAINING_IDS = ["sgd", "nesterov", "adam", "cosine"]


@pytest.mark.parametrize("options", TRAINING_OPTIONS, ids=TRAINING_IDS)
def test_full_batch_training_matches_torch(
    options: dict[str, Any], tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    """With one batch per epoch, shuffling only reorders rows: training must equal torch's."""
    model = Network([5, 8, 6, 3], activation="tanh", seed=1, dtype="float64")
    X, y = random_batch(24, 5, 3, seed=4)
    net = torch_twin(model)
    lr, epochs = 0.1, 6

    model.fit(X, y, epochs=epochs, batch_size=len(X), learning_rate=lr, **options)

    optimizer = torch_optimizer(net, lr, options)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for _ in range(epochs):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        optimizer.step()
        if options.get("schedule") == "cosine":
            scheduler.step()

    for key, param in net.named_parameters():
        np.testing.assert_allclose(
            model.state_dict()[key], param.detach().numpy(), **tol["training_vs_torch"]
        )


def test_mini_batch_training_matches_torch_on_the_same_batches(
    tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    """Several batches per epoch, the last one short: torch gets the same rows in the same
    order. The order is the documented one: a generator spawned from the seed."""
    seed, n, batch_size, epochs, lr = 2, 23, 5, 3, 0.2
    model = Network([4, 6, 3], activation="sigmoid", seed=seed, dtype="float64")
    X, y = random_batch(n, 4, 3, seed=5)
    net = torch_twin(model)
    model.fit(X, y, epochs=epochs, batch_size=batch_size, learning_rate=lr, momentum=0.5)

    shuffle = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.5)
    for _ in range(epochs):
        order = shuffle.permutation(n)
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            out = net(torch.from_numpy(X[rows]))
            torch.nn.functional.cross_entropy(out, torch.from_numpy(y[rows])).backward()
            optimizer.step()
    for key, param in net.named_parameters():
        np.testing.assert_allclose(
            model.state_dict()[key], param.detach().numpy(), **tol["training_vs_torch"]
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_everything_comes_back_in_the_model_dtype(dtype: str, random_batch: Batch) -> None:
    model = Network([5, 6, 3], dtype=dtype)
    X, y = random_batch(12, 5, 3, seed=0)  # float64 data: cast at the boundary
    _, grads = model.gradients(X, y)
    assert all(g.dtype == dtype for g in grads.values())
    assert model.predict_proba(X).dtype == dtype
    assert model.predict(X).dtype == np.int64
    assert isinstance(model.loss(X, y), float)
    model.fit(X, y, epochs=2, batch_size=5, learning_rate=0.1, optimizer="adam")
    assert all(p.dtype == dtype for p in model.state_dict().values())
    assert all(neuron.w.dtype == neuron.b.dtype == dtype for neuron in model.neurons())


def test_same_seed_same_init_and_same_training(random_batch: Batch) -> None:
    X, y = random_batch(50, 5, 3, seed=0)
    a, b, c = (Network([5, 8, 3], seed=s) for s in (7, 7, 8))
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key])
        assert not np.array_equal(value, c.state_dict()[key])
    for model in (a, b):
        model.fit(X, y, epochs=3, batch_size=8, learning_rate=0.1, momentum=0.9)
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key])  # bit-identical


def test_state_dict_stacks_the_neurons_in_torch_layout() -> None:
    model = Network([5, 7, 4, 3], seed=0)
    state = model.state_dict()
    reference = torch.nn.Sequential(
        torch.nn.Linear(5, 7),
        torch.nn.ReLU(),
        torch.nn.Linear(7, 4),
        torch.nn.ReLU(),
        torch.nn.Linear(4, 3),
    ).state_dict()
    assert list(state) == list(reference)
    assert {k: v.shape for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in reference.items()
    }
    for j, neuron in enumerate(model.layers[1].neurons):
        np.testing.assert_array_equal(state["2.weight"][j], neuron.w)
        assert state["2.bias"][j] == neuron.b[0]

    state["0.weight"][...] = 123.0  # a copy: the model must not change
    assert not np.any(model.state_dict()["0.weight"] == 123.0)


def test_load_state_dict_writes_into_the_neurons(
    tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    X, _ = random_batch(9, 5, 3, seed=0)
    source, target = Network([5, 6, 3], seed=1), Network([5, 6, 3], seed=2)
    params = [p for neuron in target.neurons() for p in (neuron.w, neuron.b)]
    state = source.state_dict()
    target.load_state_dict(state)
    np.testing.assert_array_equal(target.predict_proba(X), source.predict_proba(X))
    # In place: the arrays an optimizer holds are the ones that changed.
    now = [p for neuron in target.neurons() for p in (neuron.w, neuron.b)]
    assert all(a is b for a, b in zip(params, now, strict=True))
    state["0.bias"][...] = 0.0  # changing the dict afterwards must not reach the model
    assert np.any(target.state_dict()["0.bias"] != 0.0)

    # A torch state dict, as numpy arrays, loads unchanged.
    net = torch_twin(Network([5, 6, 3], dtype="float64"))
    model = Network([5, 6, 3], dtype="float64", seed=9)
    model.load_state_dict({k: v.detach().numpy() for k, v in net.state_dict().items()})
    expected = torch.softmax(net(torch.from_numpy(X)), dim=1).detach().numpy()
    np.testing.assert_allclose(model.predict_proba(X), expected, **tol["forward_vs_torch"])


def test_init_draws_each_neurons_weights_then_bias_in_order() -> None:
    """The documented order: layer by layer, neuron by neuron, weights then bias."""
    model = Network([3, 2, 2], seed=4, dtype="float64")
    rng = np.random.default_rng(4)
    for fan_in, layer in zip((3, 2), model.layers, strict=True):
        bound = 1 / np.sqrt(fan_in)
        for neuron in layer.neurons:
            np.testing.assert_array_equal(neuron.w, rng.uniform(-bound, bound, size=fan_in))
            assert neuron.b[0] == rng.uniform(-bound, bound)


@pytest.mark.parametrize("loss", ["cross_entropy", "bce", "mse"])
def test_predict_proba_rows_sum_to_one_and_predict_is_their_argmax(
    loss: str, tol: Tolerances, random_batch: Batch
) -> None:
    k = 1 if loss == "bce" else 4
    model = Network([5, 6, k], loss=loss, seed=0)
    X, _ = random_batch(20, 5, 2, seed=0)
    P = model.predict_proba(X)
    assert P.shape == (20, 2 if loss == "bce" else 4)
    assert np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, **tol["float32_proba_sum"])
    np.testing.assert_array_equal(model.predict(X), P.argmax(axis=1))


def test_fit_learns_a_separable_problem_and_reports_every_epoch() -> None:
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


def test_epoch_loss_is_the_mean_of_the_batch_losses(tol: Tolerances, random_batch: Batch) -> None:
    X, y = random_batch(10, 5, 3, seed=0)
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
    assert seen[0] == pytest.approx(model.loss(X, y), rel=scalar["rtol"], abs=scalar["atol"])


def test_recipes_build_and_accept_their_own_options(random_batch: Batch) -> None:
    assert set(RECIPES) == {"mnist", "breast_cancer"}
    for recipe in RECIPES.values():
        model = Network(**recipe["model"])
        X, y = random_batch(8, model.sizes[0], model.n_classes, seed=0)
        model.fit(X, y, **{**recipe["fit"], "epochs": 1})
    assert RECIPES["mnist"]["model"]["layers"][0] == 784
    assert RECIPES["breast_cancer"]["model"]["layers"][0] == 30


def test_an_mlp_spec_builds_the_same_network_as_its_sizes() -> None:
    """``["Linear(4, 3)", "Tanh()", "Linear(3, 2)"]`` is ``[4, 3, 2]`` with tanh: the same
    parameters from the same seed, the same outputs, the same keys; a spec's activation
    wins over the ``activation`` argument, which only the sizes form reads."""
    spec = Network(["Linear(4, 3)", "Tanh()", "Linear(3, 2)"], seed=3, dtype="float64")
    sizes = Network([4, 3, 2], activation="tanh", seed=3, dtype="float64")
    X = np.random.default_rng(0).normal(size=(6, 4))
    np.testing.assert_array_equal(spec.predict_proba(X), sizes.predict_proba(X))
    assert (
        spec.state_dict().keys()
        == sizes.state_dict().keys()
        == {
            "0.weight",
            "0.bias",
            "2.weight",
            "2.bias",
        }
    )
    relu = Network([4, 3, 2], seed=3, dtype="float64")
    assert not np.allclose(spec.predict_proba(X), relu.predict_proba(X))


def test_a_spec_loops_does_not_build_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"layers\[1\] = Dropout\(0.5\).*does not build Dropout"):
        Network(["Linear(4, 3)", "Dropout(0.5)", "Linear(3, 2)"])

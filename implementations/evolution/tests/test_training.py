"""Training: every strategy lowers the loss, seeds reproduce, divergence is reported."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from fromscratch.evolution import RECIPES, Network

Tolerances = dict[str, dict[str, float]]

STRATEGIES: dict[str, dict[str, Any]] = {
    "es": {"strategy": "es", "learning_rate": 0.05, "population": 20, "sigma": 0.1},
    "es-sgd": {
        "strategy": "es",
        "learning_rate": 0.02,
        "population": 20,
        "sigma": 0.1,
        "optimizer": "sgd",
        "weight_decay": 1e-3,
    },
    "ga": {"strategy": "ga", "learning_rate": 0.1, "population": 20, "crossover": False},
    "ga-crossover": {"strategy": "ga", "learning_rate": 0.1, "population": 20},
    "ga-self-adaptive": {
        "strategy": "ga",
        "learning_rate": 0.1,
        "population": 20,
        "offspring": 40,
        "self_adaptive": True,
    },
    "hill_climb": {"strategy": "hill_climb", "learning_rate": 0.1, "population": 10},
}


def blobs(n: int = 240, seed: int = 0) -> tuple[Any, Any]:
    """Three Gaussian clusters in 4-D: learnable, but not at the initial parameters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(3, 4))
    y = rng.integers(0, 3, size=n)
    return centres[y] + rng.normal(size=(n, 4)), y


def train(options: dict[str, Any], seed: int = 0, epochs: int = 5, **kwargs: Any) -> Network:
    X, y = blobs()
    model = Network([4, 8, 3], seed=seed, dtype="float64")
    model.fit(X, y, epochs=epochs, batch_size=32, **options, **kwargs)
    return model


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_every_strategy_lowers_the_loss(name: str) -> None:
    X, y = blobs()
    before = Network([4, 8, 3], seed=0, dtype="float64").loss(X, y)
    after = train(STRATEGIES[name]).loss(X, y)
    assert after < 0.5 * before, (before, after)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_same_seed_same_numbers(name: str) -> None:
    a, b, c = (train(STRATEGIES[name], seed=s, epochs=2) for s in (0, 0, 1))
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key])
    assert any(not np.array_equal(v, c.state_dict()[k]) for k, v in a.state_dict().items())


@pytest.mark.parametrize("name", ["hill_climb", "ga"])
def test_elitist_strategies_never_get_worse_on_a_fixed_batch(name: str, tol: Tolerances) -> None:
    """With one batch holding all the data, the kept parameters can only improve (up to the
    round-off of averaging the same rows in a newly shuffled order)."""
    X, y = blobs(64)
    model = Network([4, 8, 3], seed=0, dtype="float64")
    losses: list[float] = []
    model.fit(
        X,
        y,
        epochs=15,
        batch_size=64,
        callback=lambda epoch, m: losses.append(m["loss"]),
        **STRATEGIES[name],
    )
    assert np.all(np.diff(losses) <= tol["reordered_mean"]["atol"])
    assert losses[-1] < losses[0]


def test_callback_reports_each_epoch_and_the_mean_batch_loss() -> None:
    seen: list[tuple[int, dict[str, float]]] = []
    train(STRATEGIES["es"], epochs=3, callback=lambda e, m: seen.append((e, dict(m))))
    assert [e for e, _ in seen] == [1, 2, 3]
    assert all(np.isfinite(m["loss"]) and m["learning_rate"] == 0.05 for _, m in seen)
    assert seen[-1][1]["loss"] < seen[0][1]["loss"]


def test_cosine_schedule_anneals_the_learning_rate() -> None:
    rates: list[float] = []
    train(
        {**STRATEGIES["ga"], "schedule": "cosine"},
        epochs=4,
        callback=lambda e, m: rates.append(m["learning_rate"]),
    )
    np.testing.assert_allclose(rates, [0.1 * 0.5 * (1 + np.cos(np.pi * e / 4)) for e in range(4)])


def test_fit_continues_from_the_current_parameters() -> None:
    X, y = blobs()
    model = train(STRATEGIES["es"], epochs=3)
    before = model.loss(X, y)
    model.fit(X, y, epochs=3, batch_size=32, **STRATEGIES["es"])
    assert model.loss(X, y) < before


def test_divergence_raises_floating_point_error_naming_epoch_and_batch() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=64)
    model = Network([4, 8, 3], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning may leak out
        with pytest.raises(FloatingPointError, match=r"epoch 1, batch \d+: the loss is"):
            model.fit(X, y, epochs=20, batch_size=8, learning_rate=1e30)


@pytest.mark.parametrize("dataset", ["mnist", "breast_cancer"])
def test_recipes_are_complete_and_accepted(dataset: str) -> None:
    """The recipes construct a model and their fit options pass validation (one tiny epoch)."""
    recipe = RECIPES[dataset]
    model = Network(**recipe["model"])
    n = min(recipe["fit"]["batch_size"], 50)
    X = np.random.default_rng(0).normal(size=(n, model.sizes[0]))
    y = np.arange(n) % model.n_classes
    model.fit(X, y, **{**recipe["fit"], "epochs": 1})


def test_self_adaptive_mutation_strengths_are_selected_not_fixed() -> None:
    """Each member carries its own eta: after training they differ, stay positive, and
    the population keeps its size while lambda children compete each generation."""
    from fromscratch.evolution.genetic import GeneticAlgorithm

    X, y = blobs()
    model = Network([4, 8, 3], seed=0, dtype="float64")
    ga = GeneticAlgorithm(
        model.mlp,
        model.theta.copy(),
        learning_rate=0.1,
        population=10,
        crossover=True,
        noise=model._noise_table(),
        rng=np.random.default_rng(0),
        offspring=30,
        self_adaptive=True,
    )
    for start in range(0, 240, 24):
        ga.step(X[start : start + 24], y[start : start + 24])
    assert ga.Theta.shape == (10, model.theta.size)
    assert ga.eta.shape == (10,)
    assert np.all(ga.eta > 0)
    assert len(np.unique(ga.eta)) > 1
    assert not np.allclose(ga.eta, 0.1)

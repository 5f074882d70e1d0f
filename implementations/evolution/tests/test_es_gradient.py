r"""The evolution-strategies gradient estimate: direction, growth with population, hooks.

For a linear objective :math:`L(\theta) = c \cdot \theta` the true gradient is :math:`c`,
and antithetic ES with centered ranks has an expected cosine with it of about
:math:`1/\sqrt{1 + (\pi/3)(d-1)/n}` for :math:`n` pairs in :math:`d` dimensions. These
tests run that objective through the very estimator the ``es`` strategy steps along,
then check ``Network.estimate_gradient`` against central differences of the model's own
loss (no torch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from fromscratch.evolution import Network
from fromscratch.evolution.es import centered_ranks, es_gradient
from fromscratch.evolution.noise import NoiseTable

Tolerances = dict[str, dict[str, float]]


def predicted_cosine(n_pairs: int, d: int) -> float:
    return 1 / math.sqrt(1 + (math.pi / 3) * (d - 1) / n_pairs)


def cosine(a: Any, b: Any) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_centered_ranks() -> None:
    """Lowest loss -0.5, highest 0.5, evenly spaced; a NaN loss ranks as the worst."""
    ranks = centered_ranks(np.array([3.0, -1.0, 10.0, 0.5, np.nan]))
    np.testing.assert_array_equal(ranks, [0.0, -0.5, 0.25, -0.25, 0.5])
    assert centered_ranks(np.array([2.0, 1.0])).tolist() == [0.5, -0.5]


def test_cosine_on_a_linear_objective_grows_with_population_as_predicted(
    tol: Tolerances,
) -> None:
    d = 200
    rng = np.random.default_rng(0)
    c, theta = rng.normal(size=d), rng.normal(size=d)
    table = NoiseTable(d, np.dtype("float64"), np.random.default_rng(1))
    sigma = 0.1
    means = []
    for n_pairs in (10, 40, 160, 640):
        cosines = []
        for seed in range(30):
            E = table.sample(n_pairs, np.random.default_rng(seed))
            g = es_gradient((theta + sigma * E) @ c, (theta - sigma * E) @ c, E, sigma)
            cosines.append(cosine(g, c))
        means.append(np.mean(cosines))
        np.testing.assert_allclose(
            means[-1], predicted_cosine(n_pairs, d), **tol["es_cosine_vs_prediction"]
        )
    assert means == sorted(means)


def test_estimate_points_uphill_on_a_quadratic(tol: Tolerances) -> None:
    """L = 1/2 |A theta - b|^2 has gradient A^T (A theta - b); curvature cancels in pairs."""
    d = 50
    rng = np.random.default_rng(3)
    A, b, theta = rng.normal(size=(d, d)), rng.normal(size=d), rng.normal(size=d)
    true = A.T @ (A @ theta - b)
    E = NoiseTable(d, np.dtype("float64"), rng).sample(400, rng)
    sigma = 1e-2

    def L(Theta: Any) -> Any:
        r = Theta @ A.T - b
        return 0.5 * (r * r).sum(axis=1)

    g = es_gradient(L(theta + sigma * E), L(theta - sigma * E), E, sigma)
    assert cosine(g, true) >= tol["es_cosine_fraction"]["rtol"] * predicted_cosine(400, d)
    assert cosine(g, true) > 0.8  # predicted 0.94 for 400 pairs in 50 dimensions


def central_difference_gradient(model: Network, X: Any, y: Any, h: float = 1e-6) -> Any:
    """The exact gradient of the model's loss, from its own ``loss``: no torch."""
    state = model.state_dict()
    grads = []
    for key, value in state.items():
        for index in np.ndindex(value.shape):
            losses = []
            for sign in (1.0, -1.0):
                shifted = {k: v.copy() for k, v in state.items()}
                shifted[key][index] += sign * h
                model.load_state_dict(shifted)
                losses.append(model.loss(X, y))
            grads.append((losses[0] - losses[1]) / (2 * h))
    model.load_state_dict(state)
    return np.array(grads)


@pytest.mark.parametrize("n_pairs", [25, 100, 400])
def test_model_estimate_agrees_with_the_true_gradient(n_pairs: int, tol: Tolerances) -> None:
    model = Network([8, 6, 3], activation="tanh", dtype="float64", seed=0)
    rng = np.random.default_rng(7)
    X = rng.normal(size=(64, 8)) * rng.uniform(0.5, 2, size=8)
    y = rng.integers(0, 3, size=64)
    true = central_difference_gradient(model, X, y)
    before = model.state_dict()
    estimate = model.estimate_gradient(X, y, population=2 * n_pairs, sigma=1e-3, seed=0)
    assert {k: v.shape for k, v in estimate.items()} == {k: v.shape for k, v in before.items()}
    flat = np.concatenate([estimate[k].ravel() for k in before])
    d = flat.size
    assert cosine(flat, true) >= tol["es_cosine_fraction"]["rtol"] * predicted_cosine(n_pairs, d)
    for key, value in model.state_dict().items():  # parameters unchanged
        np.testing.assert_array_equal(value, before[key])


def test_model_estimate_cosine_grows_with_population() -> None:
    model = Network([8, 6, 3], activation="tanh", dtype="float64", seed=0)
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(64, 8)), rng.integers(0, 3, size=64)
    true = central_difference_gradient(model, X, y)
    means = []
    for n_pairs in (10, 100, 1000):
        cosines = []
        for seed in range(5):
            est = model.estimate_gradient(X, y, population=2 * n_pairs, sigma=1e-3, seed=seed)
            cosines.append(cosine(np.concatenate([v.ravel() for v in est.values()]), true))
        means.append(np.mean(cosines))
    assert means == sorted(means)
    assert means[-1] > 0.9  # predicted 0.96 for 1000 pairs in 75 dimensions


def test_estimate_is_deterministic_given_the_seed() -> None:
    model = Network([4, 5, 3], dtype="float64")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
    a = model.estimate_gradient(X, y, population=20, sigma=0.01, seed=5)
    b = model.estimate_gradient(X, y, population=20, sigma=0.01, seed=5)
    c = model.estimate_gradient(X, y, population=20, sigma=0.01, seed=6)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[key], c[key]) for key in a)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"population": 7}, r"population must be even .*got 7"),
        ({"population": 0}, r"population must be an integer >= 2, got 0"),
        ({"population": 1}, r"population must be an integer >= 2, got 1"),
        ({"population": 4.0}, r"population must be an integer >= 2, got 4.0"),
        ({"sigma": 0.0}, r"sigma must be in \(0, inf\), got 0.0"),
        ({"sigma": -1e-3}, r"sigma must be in \(0, inf\), got -0.001"),
        ({"sigma": float("nan")}, r"sigma must be a finite real number"),
        ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
    ],
)
def test_estimate_validates_its_arguments(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"population": 4, "sigma": 1e-3, "seed": 0, **kwargs}
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
    with pytest.raises(ValueError, match=message):
        Network([4, 5, 3], dtype="float64").estimate_gradient(X, y, **arguments)


def test_model_has_no_gradients_attribute() -> None:
    """The registry classifies a model as gradient-free by the absence of ``gradients``."""
    assert not hasattr(Network, "gradients")
    assert not hasattr(Network([4, 3]), "gradients")

"""The forward pass: equal to torch's, batched over a population, and the flat vector."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.evolution import Network
from fromscratch.evolution.activations import ACTIVATIONS
from fromscratch.evolution.losses import LOSSES
from fromscratch.evolution.lowrank import Dense, LowRank
from fromscratch.evolution.mlp import MLP
from fromscratch.evolution.parameters import Layout

Tolerances = dict[str, dict[str, float]]
CONFIGS = [
    (a, loss) for a in ("relu", "sigmoid", "tanh") for loss in ("cross_entropy", "bce", "mse")
]


def make_data(n: int, d: int, k: int, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 2.0, size=d)  # non-uniform features: each its own scale
    X = rng.normal(size=(n, d)) * scale + rng.normal(size=d)
    return X, rng.integers(0, k, size=n)


def torch_sequential(sizes: list[int], activation: str, dtype: torch.dtype) -> torch.nn.Sequential:
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[activation]
    modules: list[torch.nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        modules += [torch.nn.Linear(fan_in, fan_out, dtype=dtype), act()]
    return torch.nn.Sequential(*modules[:-1])


def torch_forward(net: torch.nn.Sequential, loss: str, X: Any, y: Any) -> tuple[Any, float]:
    with torch.no_grad():
        z = net(torch.from_numpy(X))
        t = torch.from_numpy(y)
        if loss == "cross_entropy":
            L = torch.nn.functional.cross_entropy(z, t)
            P = torch.softmax(z, dim=1)
        elif loss == "bce":
            L = torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], t.to(z.dtype))
            p = torch.sigmoid(z[:, 0])
            P = torch.stack([1 - p, p], dim=1)
        else:
            Y = torch.nn.functional.one_hot(t, z.shape[1]).to(z.dtype)
            L = torch.nn.functional.mse_loss(z, Y)
            P = torch.softmax(z, dim=1)
    return P.numpy(), float(L)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("activation", "loss"), CONFIGS)
def test_forward_matches_torch(activation: str, loss: str, dtype: str, tol: Tolerances) -> None:
    k = 1 if loss == "bce" else 3
    sizes = [5, 8, 6, k]
    torch.manual_seed(0)
    net = torch_sequential(sizes, activation, getattr(torch, dtype))
    model = Network(sizes, activation=activation, loss=loss, dtype=dtype)
    model.load_state_dict({key: v.numpy().copy() for key, v in net.state_dict().items()})
    X, y = make_data(17, 5, 2 if loss == "bce" else 3)
    X = X.astype(dtype)
    P_ref, L_ref = torch_forward(net, loss, X, y)
    P = model.predict_proba(X)
    assert P.dtype == np.dtype(dtype)
    np.testing.assert_allclose(P, P_ref, **tol[f"forward_{dtype}"])
    np.testing.assert_allclose(model.loss(X, y), L_ref, **tol[f"forward_{dtype}"])
    np.testing.assert_array_equal(model.predict(X), P_ref.argmax(axis=1))


def test_initialisation_is_torch_linear_default() -> None:
    """W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn W then b per layer."""
    model = Network([50, 40, 3], seed=3, dtype="float64")
    rng = np.random.default_rng(3)
    for fan_in, fan_out, key in ((50, 40, "0"), (40, 3, "2")):
        bound = 1 / np.sqrt(fan_in)
        W = rng.uniform(-bound, bound, size=(fan_out, fan_in))
        b = rng.uniform(-bound, bound, size=fan_out)
        np.testing.assert_array_equal(model.state_dict()[f"{key}.weight"], W)
        np.testing.assert_array_equal(model.state_dict()[f"{key}.bias"], b)
        assert np.abs(W).max() <= bound


@pytest.mark.parametrize(("activation", "loss"), CONFIGS)
def test_population_forward_equals_a_loop_over_members(
    activation: str, loss: str, tol: Tolerances
) -> None:
    k = 1 if loss == "bce" else 3
    mlp = MLP((4, 7, 5, k), ACTIVATIONS[activation], LOSSES[loss])
    X, y = make_data(9, 4, 2 if loss == "bce" else 3)
    Theta = np.random.default_rng(1).normal(size=(6, mlp.layout.size))
    z = mlp.outputs(Theta, X)
    L = mlp.losses(Theta, X, y)
    assert z.shape == (6, 9, k)
    for p in range(6):
        # One member, the plain way: layer by layer from its own state dict.
        state = mlp.layout.to_state_dict(Theta[p])
        a = X
        for layer in range(3):
            z_p = a @ state[f"{2 * layer}.weight"].T + state[f"{2 * layer}.bias"]
            a = ACTIVATIONS[activation](z_p)
        np.testing.assert_allclose(z[p], z_p, **tol["population_vs_loop"])
        np.testing.assert_allclose(
            L[p], LOSSES[loss].value(z_p[None], y)[0], **tol["population_vs_loop"]
        )


@pytest.mark.parametrize("sizes", [(4, 3), (4, 7, 3), (4, 7, 5, 3)])
def test_antithetic_forward_equals_explicit_members(
    sizes: tuple[int, ...], tol: Tolerances
) -> None:
    mlp = MLP(sizes, ACTIVATIONS["tanh"], LOSSES["cross_entropy"])
    X, y = make_data(11, 4, 3)
    rng = np.random.default_rng(2)
    theta = rng.normal(size=mlp.layout.size)
    E = rng.normal(size=(5, mlp.layout.size))
    sigma = 0.3
    explicit = np.concatenate([theta + sigma * E, theta - sigma * E])
    np.testing.assert_allclose(
        mlp.antithetic_outputs(theta, E, sigma, X, Dense(sizes)),
        mlp.outputs(explicit, X),
        **tol["antithetic_vs_explicit"],
    )
    L_plus, L_minus = mlp.antithetic_losses(theta, E, sigma, X, y, Dense(sizes))
    L = mlp.losses(explicit, X, y)
    np.testing.assert_allclose(L_plus, L[:5], **tol["antithetic_vs_explicit"])
    np.testing.assert_allclose(L_minus, L[5:], **tol["antithetic_vs_explicit"])


@pytest.mark.parametrize("rank", [1, 2, 5])
@pytest.mark.parametrize("sizes", [(9, 3), (9, 7, 3), (9, 7, 5, 3)])
def test_low_rank_perturbations_equal_their_dense_expansion(
    sizes: tuple[int, ...], rank: int, tol: Tolerances
) -> None:
    """The factored first layer (X B) A^T / sqrt(r) and the weighted sum sum_i w_i A_i B_i^T
    / sqrt(r) equal the same computations on the expanded perturbations, in float64; more
    pairs than one chunk holds, so the chunk boundaries are crossed."""
    mlp = MLP(sizes, ACTIVATIONS["tanh"], LOSSES["cross_entropy"])
    kind = LowRank(sizes, rank)
    X, y = make_data(11, 9, 3)
    rng = np.random.default_rng(4)
    theta = rng.normal(size=mlp.layout.size)
    Q = 3 + mlp_chunk_pairs(11, sizes[1])
    F = rng.normal(size=(Q, kind.width))
    E = kind.expand(F)
    assert E.shape == (Q, mlp.layout.size)
    sigma = 0.3
    explicit = np.concatenate([theta + sigma * E, theta - sigma * E])
    L_plus, L_minus = mlp.antithetic_losses(theta, F, sigma, X, y, kind)
    L = mlp.losses(explicit, X, y)
    np.testing.assert_allclose(L_plus, L[:Q], **tol["antithetic_vs_explicit"])
    np.testing.assert_allclose(L_minus, L[Q:], **tol["antithetic_vs_explicit"])
    w = rng.normal(size=Q)
    np.testing.assert_allclose(kind.combine(w, F), w @ E, **tol["antithetic_vs_explicit"])


def mlp_chunk_pairs(n: int, h: int) -> int:
    from fromscratch.evolution.mlp import CHUNK_FLOATS

    return max(1, CHUNK_FLOATS // (2 * n * h))


def test_low_rank_entries_have_unit_variance_and_no_correlation() -> None:
    """E[vec E_W vec E_W^T] = I: what keeps the low-rank estimate pointed along the gradient."""
    kind = LowRank((6, 4, 2), rank=2)
    F = np.random.default_rng(0).normal(size=(200_000, kind.width))
    E_W = kind.expand(F)[:, :24]
    covariance = E_W.T @ E_W / len(E_W)
    np.testing.assert_allclose(covariance, np.eye(24), atol=0.02)


def test_flat_vector_and_state_dict_round_trip() -> None:
    layout = Layout((4, 7, 5, 3))
    assert layout.size == 4 * 7 + 7 + 7 * 5 + 5 + 5 * 3 + 3
    assert list(layout.shapes) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    theta = np.arange(layout.size, dtype=np.float64)
    state = layout.to_state_dict(theta)
    # Row-major blocks in key order: 0.weight[j, c] is theta[j * 4 + c].
    assert state["0.weight"][2, 3] == 2 * 4 + 3
    assert state["0.bias"][0] == 28
    assert state["2.weight"].shape == (5, 7)
    np.testing.assert_array_equal(layout.from_state_dict(state, np.dtype("float64")), theta)
    state["0.bias"][0] = -1.0  # copies: theta is untouched
    assert theta[28] == 28


def test_state_dict_round_trip_through_the_model() -> None:
    model = Network([4, 7, 3], dtype="float64", seed=1)
    other = Network([4, 7, 3], dtype="float64", seed=2)
    other.load_state_dict(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value)
    X, _ = make_data(5, 4, 3)
    np.testing.assert_array_equal(other.predict_proba(X), model.predict_proba(X))


def test_population_layers_are_views() -> None:
    """The per-layer arrays of a population are views of Theta: no copy per generation."""
    layout = Layout((4, 7, 3))
    Theta = np.zeros((3, layout.size))
    W, _ = layout.layers(Theta)[0]
    assert np.shares_memory(W, Theta)
    W[1, 2, 3] = 5.0
    assert Theta[1, 2 * 4 + 3] == 5.0

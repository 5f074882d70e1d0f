"""Every numeric tolerance of the loops tests, in one table, and the torch twin of a model.

The bounds come from the conformance suite's table
(``conformance/src/fromscratch/conformance/tolerances.py``, which says why each is what it
is) wherever these tests measure the same thing one level down: an op, a neuron or a layer
against torch autograd is judged like the whole network. Only the few bounds that no
conformance check needs are set here, each with its reason.

Tests get the table through the session-scoped ``tol`` fixture: under
``--import-mode=importlib`` a test module cannot import this file, and hypothesis ``@given``
tests refuse function-scoped fixtures. Entries read as in :func:`numpy.testing.assert_allclose`
(``|x - ref| <= atol + rtol * |ref|``, passed as ``**tol[name]``); ``pytest.approx`` gets them
as ``rel=``/``abs=``.

Change a bound there or here, never at a call site, and never loosen one to make a test pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pytest
import torch

from fromscratch.conformance.tolerances import TOLERANCES as SUITE


def _from_suite(check: str) -> dict[str, float]:
    return {"rtol": SUITE[check].rtol, "atol": SUITE[check].atol}


TOLERANCES: Final[dict[str, dict[str, float]]] = {
    # The suite's bounds, for the same measurements.
    # Loss and gradients of an activation, loss, neuron, layer or network vs torch, float64.
    "vs_torch": _from_suite("gradient_vs_torch"),
    # Central differences with the suite's step, CENTRAL_DIFFERENCE_STEP = 1e-6.
    "central_difference": _from_suite("central_difference"),
    # Probabilities and loss vs torch's from the same parameters, float64.
    "forward_vs_torch": _from_suite("forward_float64"),
    # Parameters after optimizer steps or training vs torch.optim, float64.
    "training_vs_torch": _from_suite("training_vs_torch"),
    # Bounds only these tests use.
    # A float64 scalar computed two ways a few roundings apart: the cosine learning rate vs
    # torch's scheduler, an epoch's mean loss vs the loss of the same rows in another order.
    "float64_scalar": {"rtol": 1e-12, "atol": 1e-12},
    # The same float64 loss from gradients() and from loss(): the same forward pass, twice.
    "same_loss_twice": {"rtol": 1e-14, "atol": 1e-12},
    # float32 probabilities summing to 1: float32 eps ~1.2e-7 times a handful of terms.
    "float32_proba_sum": {"rtol": 1e-6, "atol": 0.0},
    # A few optimizer steps vs torch.optim in float32 (the suite checks float64 only):
    # float32 round-off (eps ~1.2e-7), with margin.
    "optim_vs_torch_float32": {"rtol": 1e-5, "atol": 1e-5},
    # Sample variance of 120,000 U(-b, b) weights vs b^2/3: standard error 0.26%, so ~8 sigma.
    "init_variance": {"rtol": 0.02, "atol": 1e-12},
}


@pytest.fixture(scope="session")
def tol() -> dict[str, dict[str, float]]:
    """The tolerance table, ``TOLERANCES``."""
    return TOLERANCES


TORCH_ACTIVATIONS: Final[dict[str, Callable[[torch.Tensor], torch.Tensor]]] = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}


def _torch_loss(name: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if name == "cross_entropy":
        return torch.nn.functional.cross_entropy(out, y)
    if name == "bce":
        return torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], y.to(out.dtype))
    Y = torch.nn.functional.one_hot(y, out.shape[1]).to(out.dtype)
    return torch.nn.functional.mse_loss(out, Y)


@pytest.fixture(scope="session")
def torch_activation() -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """torch's relu, sigmoid and tanh by name."""
    return TORCH_ACTIVATIONS


@pytest.fixture(scope="session")
def torch_loss() -> Callable[[str, torch.Tensor, torch.Tensor], torch.Tensor]:
    """``torch_loss(name, outputs (n, k), y)``: the torch loss each loss name is defined as."""
    return _torch_loss


def _torch_twin(model: Any) -> torch.nn.Sequential:
    """The float64 ``nn.Sequential`` equivalent of a loops ``Network``, with its parameters."""
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}
    modules: list[torch.nn.Module] = []
    for fan_in, fan_out in zip(model.sizes[:-1], model.sizes[1:], strict=False):
        modules += [
            torch.nn.Linear(fan_in, fan_out, dtype=torch.float64),
            act[model.activation.name](),
        ]
    net = torch.nn.Sequential(*modules[:-1])
    net.load_state_dict(
        {k: torch.tensor(v, dtype=torch.float64) for k, v in model.state_dict().items()}
    )
    return net


@pytest.fixture(scope="session")
def torch_twin() -> Callable[[Any], torch.nn.Sequential]:
    """``torch_twin(model)``: the model as a float64 ``nn.Sequential`` with the same parameters."""
    return _torch_twin


def _random_batch(
    n: int, d: int, k: int, seed: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Inputs with a different scale and offset per feature, and random labels in [0, k)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + rng.normal(size=d)
    return X, rng.integers(0, k, size=n).astype(np.int64)


@pytest.fixture(scope="session")
def random_batch() -> Callable[..., tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
    """``random_batch(n, d, k, seed)``: non-uniform float64 inputs (n, d) and labels."""
    return _random_batch

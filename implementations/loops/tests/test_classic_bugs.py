"""Three classic backprop bugs, each with a test that catches it.

The designs this package learned from had all three:

1. a neuron differentiates its activation at its output, sigma'(a), not at z;
2. a neuron updates its weights and *then* sends its error back through them, so the
   previous layer gets the gradient of a network that never ran;
3. the update is fused into the backward step, so the gradient is never seen whole and
   cannot be checked.

Each check below passes on the real code. Next to it, the same check runs on the code with
the bug put back in (by swapping ``Neuron.backward`` or ``SGD.step`` for a broken copy),
and must fail: that is what shows the check can catch the bug at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.boundary.optim import SGD
from fromscratch.loops import Network, Neuron

Tolerances = dict[str, dict[str, float]]  # the `tol` fixture: conftest.TOLERANCES
Twin = Callable[[Network], torch.nn.Sequential]
Batch = Callable[..., tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]
Array = np.ndarray[Any, Any]

correct_backward = Neuron.backward


@contextmanager
def patched(target: Any, name: str, replacement: Any) -> Iterator[None]:
    """``target.name`` is ``replacement`` inside the block (the bug is in), then restored."""
    original = getattr(target, name)
    setattr(target, name, replacement)
    try:
        yield
    finally:
        setattr(target, name, original)


def torch_gradients(net: torch.nn.Sequential, X: Array, y: Array) -> dict[str, Array]:
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    return {k: p.grad.numpy().copy() for k, p in net.named_parameters() if p.grad is not None}


def matches(
    ours: dict[str, Array], reference: dict[str, Array], tolerance: dict[str, float]
) -> bool:
    return all(np.allclose(ours[k], reference[k], **tolerance) for k in reference)


# ------------------------------------------------------------ 1. the derivative at z, not a


def backward_differentiating_at_the_output(
    self: Neuron, dL_da: Array, dL_dA_prev: Array | None
) -> None:
    """Bug 1: evaluate the activation's derivative at the output a instead of at z."""
    z = self.z
    self.z = self.a
    try:
        correct_backward(self, dL_da, dL_dA_prev)
    finally:
        self.z = z


def gradients_match_torch(
    activation: str, tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> bool:
    model = Network([4, 6, 5, 3], activation=activation, seed=0, dtype="float64")
    X, y = random_batch(16, 4, 3, seed=0)
    _, grads = model.gradients(X, y)
    return matches(grads, torch_gradients(torch_twin(model), X, y), tol["vs_torch"])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_bug1_neurons_differentiate_at_z(
    activation: str, tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    assert gradients_match_torch(activation, tol, torch_twin, random_batch)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_bug1_differentiating_at_the_output_is_caught(
    activation: str, tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    with patched(Neuron, "backward", backward_differentiating_at_the_output):
        assert not gradients_match_torch(activation, tol, torch_twin, random_batch)


def test_bug1_is_invisible_with_relu_alone(
    tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    """z > 0 exactly when relu(z) > 0, so relu'(a) = relu'(z): a relu-only test misses bug 1,
    which is why the check above runs sigmoid and tanh."""
    with patched(Neuron, "backward", backward_differentiating_at_the_output):
        assert gradients_match_torch("relu", tol, torch_twin, random_batch)


# --------------------------------------------- 2. the error goes back through the old weights

LR = 0.5  # large, so that updated weights differ visibly from the old ones


def backward_updating_before_sending_back(
    self: Neuron, dL_da: Array, dL_dA_prev: Array | None
) -> None:
    """Bug 2: step this neuron's parameters, then send its error back through the new w."""
    correct_backward(self, dL_da, None)  # the neuron's own gradient is still right
    self.w -= LR * self.dL_dw
    self.b -= LR * self.dL_db
    if dL_dA_prev is not None:
        dL_dA_prev += np.outer(self.w, self.dL_dz)


def one_step_matches_torch(tol: Tolerances, torch_twin: Twin, random_batch: Batch) -> bool:
    """One full-batch SGD step of a three-layer network, against torch's."""
    model = Network([4, 6, 5, 3], activation="tanh", seed=1, dtype="float64")
    X, y = random_batch(16, 4, 3, seed=1)
    net = torch_twin(model)
    torch_gradients(net, X, y)
    torch.optim.SGD(net.parameters(), lr=LR).step()
    model.fit(X, y, epochs=1, batch_size=len(X), learning_rate=LR)
    reference = {k: p.detach().numpy() for k, p in net.named_parameters()}
    return matches(model.state_dict(), reference, tol["training_vs_torch"])


def test_bug2_the_error_goes_back_through_the_weights_of_the_forward_pass(
    tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    assert one_step_matches_torch(tol, torch_twin, random_batch)


def test_bug2_sending_the_error_through_updated_weights_is_caught(
    tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    # In the buggy design the neurons update themselves, so the optimizer step goes.
    with (
        patched(Neuron, "backward", backward_updating_before_sending_back),
        patched(SGD, "step", lambda self: None),
    ):
        assert not one_step_matches_torch(tol, torch_twin, random_batch)


# --------------------------------------------------- 3. the update is a separate, later step


def backward_with_the_update_fused_in(self: Neuron, dL_da: Array, dL_dA_prev: Array | None) -> None:
    """Bug 3: update right inside backward (after sending the error back, so that one
    training step is even still right): the gradient is applied before anyone can see it."""
    correct_backward(self, dL_da, dL_dA_prev)
    self.w -= LR * self.dL_dw
    self.b -= LR * self.dL_db


def gradients_are_observable(model: Network, X: Array, y: Array) -> bool:
    """``gradients`` leaves the parameters alone and gives the same answer twice."""
    before = model.state_dict()
    _, first = model.gradients(X, y)
    unchanged = all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())
    _, second = model.gradients(X, y)
    repeatable = all(np.array_equal(first[k], second[k]) for k in first)
    return unchanged and repeatable


def test_bug3_gradients_are_computed_apart_from_the_update(
    tol: Tolerances, torch_twin: Twin, random_batch: Batch
) -> None:
    model = Network([4, 6, 5, 3], activation="sigmoid", seed=2, dtype="float64")
    X, y = random_batch(16, 4, 3, seed=2)
    assert gradients_are_observable(model, X, y)
    # The gradient is there, whole, and it is torch's: only the optimizer applies it.
    before = model.state_dict()
    _, grads = model.gradients(X, y)
    assert matches(grads, torch_gradients(torch_twin(model), X, y), tol["vs_torch"])
    SGD(model.parameters(), lr=LR).step()
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(
            value, before[key] - LR * grads[key], **tol["training_vs_torch"], err_msg=key
        )


def test_bug3_an_update_fused_into_backward_is_caught(random_batch: Batch) -> None:
    X, y = random_batch(16, 4, 3, seed=2)
    with patched(Neuron, "backward", backward_with_the_update_fused_in):
        model = Network([4, 6, 5, 3], activation="sigmoid", seed=2, dtype="float64")
        assert not gradients_are_observable(model, X, y)

"""The sequence checks: every sequence layer against torch in float64, and fifty training
steps of a character model against torch.optim; then bugs planted in autograd's layers,
each of which the matching check must catch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from fromscratch.conformance import sequence
from fromscratch.conformance.checks import Measurement
from fromscratch.conformance.registry import Implementation, discover

Record = Callable[[Measurement], Measurement]


def judged(m: Measurement) -> Measurement:
    """Skip, with the implementation's own reason, where the check does not apply."""
    if "not_applicable" in m.details:
        pytest.skip(f"not applicable to {m.implementation}: {m.details['not_applicable']}")
    return m


@pytest.mark.parametrize("case", sequence.layer_cases(), ids=lambda c: c.id)
def test_sequence_layer_matches_torch(
    differentiable_impl: Implementation, case: sequence.LayerCase, record: Record
) -> None:
    m = judged(record(sequence.sequence_layer_vs_torch(differentiable_impl, case)))
    assert m.passed, m.describe()


@pytest.mark.parametrize("case", sequence.sequence_training_cases(), ids=lambda c: c.id)
def test_sequence_training_matches_torch_step_for_step(
    differentiable_impl: Implementation, case: sequence.SequenceTrainingCase, record: Record
) -> None:
    m = judged(record(sequence.sequence_training_vs_torch(differentiable_impl, case)))
    assert m.details["moved"] > 1e6 * 1e-12  # the parameters went somewhere
    assert m.passed, m.describe()


def test_layer_cases_cover_every_layer_and_both_depths() -> None:
    cases = sequence.layer_cases()
    names = {sequence.entry(c.spec)[0] for c in cases}
    assert names == set(sequence.SEQUENCE_MODULES) - {"ReLU", "Tanh", "Sigmoid"}
    for kind in ("RNN", "LSTM", "GRU"):
        depths = {
            sequence.entry(c.spec)[2].get("num_layers", 1) for c in cases if c.spec.startswith(kind)
        }
        assert depths == {1, 2}
    assert {c.shape[:2] for c in cases} >= {(1, 1), (2, 5), (3, 8)}


# ------------------------------------------------------------------------ planted bugs


@pytest.fixture(scope="module")
def autograd_impl() -> Implementation:
    installed = discover()
    if "autograd" not in installed:
        pytest.skip("autograd, the implementation these bugs are planted in, is not installed")
    return installed["autograd"]


def swapped_gates(gx: Any, gh: Any, state: Any) -> Any:
    """The LSTM with its input and forget gates read in the wrong order."""
    from fromscratch.autograd import ops

    _, c = state
    f, i, g, o = ops.chunk(gx + gh, 4, -1)
    c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
    return ops.sigmoid(o) * ops.tanh(c), c


def gru_reset_outside(gx: Any, gh: Any, state: Any) -> Any:
    """The GRU's reset gate applied to the hidden state before its product (the 2014
    paper's variant), not to the product as torch does."""
    from fromscratch.autograd import ops

    (h,) = state
    x_r, x_z, x_n = ops.chunk(gx, 3, -1)
    h_r, h_z, h_n = ops.chunk(gh, 3, -1)
    r, z = ops.sigmoid(x_r + h_r), ops.sigmoid(x_z + h_z)
    n = ops.tanh(x_n + h_n) * (r * 0 + 1) + 0 * r  # r dropped from the new gate
    return ((1 - z) * n + z * h,)


def no_mask(self: Any, x: Any) -> Any:
    """Attention that looks ahead: the causal mask forgotten."""
    from fromscratch.autograd import nn

    if isinstance(self.layer, nn.MultiheadAttention):
        return self.layer(x, x, x, need_weights=False)[0]
    return self.layer(x)


def unbiased_layer_norm(
    x: Any, shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    """LayerNorm with the variance divided by m - 1."""
    m = x.shape[-1]
    mu = x.mean(dim=-1, keepdim=True)
    var = ((x - mu) ** 2).sum(dim=-1, keepdim=True) / (m - 1)
    return (x - mu) / (var + eps) ** 0.5 * weight + bias


def embedding_without_repeats(input: Any, weight: Any) -> Any:
    """An embedding whose backward keeps one gradient per repeated id (``dW[x] += g``)."""
    from fromscratch.autograd import Tensor

    x = np.asarray(input)
    out = weight.data[x]

    def backward(g: Any) -> Any:
        dW = np.zeros_like(weight.data)
        dW[x.reshape(-1)] += g.reshape(x.size, -1)
        return (dW,)

    return Tensor._make(out, (weight,), backward, "EmbeddingBackward")


BUGS = [
    (
        "fromscratch.autograd.nn.recurrent",
        "lstm_step",
        swapped_gates,
        "LSTM(3, 4, num_layers=1, batch_first=True)",
    ),
    (
        "fromscratch.autograd.nn.recurrent",
        "gru_step",
        gru_reset_outside,
        "GRU(3, 4, num_layers=2, batch_first=True)",
    ),
    (
        "fromscratch.autograd.sequence.Causal",
        "forward",
        no_mask,
        "MultiheadAttention(8, 2, batch_first=True)",
    ),
    ("fromscratch.autograd.nn.normalization", "layer_norm", unbiased_layer_norm, "LayerNorm(4)"),
    (
        "fromscratch.autograd.nn.embedding",
        "embedding",
        embedding_without_repeats,
        "Embedding(7, 5)",
    ),
]


@pytest.mark.parametrize(("where", "name", "bug", "spec"), BUGS, ids=[b[2].__name__ for b in BUGS])
def test_layer_check_catches_a_planted_bug(
    autograd_impl: Implementation,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    name: str,
    bug: Any,
    spec: str,
) -> None:
    case = next(c for c in sequence.layer_cases() if c.spec == spec and c.shape[1] > 1)
    assert sequence.sequence_layer_vs_torch(autograd_impl, case).passed
    monkeypatch.setattr(f"{where}.{name}", bug)
    m = sequence.sequence_layer_vs_torch(autograd_impl, case)
    assert not m.passed, f"the check missed {bug.__name__}: {m.describe()}"
    assert "differs from torch's" in m.details["problem"]


def test_training_check_catches_a_loss_summed_over_time(
    autograd_impl: Implementation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loss summed over the T positions of a window instead of averaged: every gradient
    T times too large (right direction, wrong steps)."""
    from fromscratch.autograd import SequenceNetwork
    from fromscratch.autograd.nn import functional as F

    def summed(self: Any, X: Any, y: Any) -> Any:
        z = self.net(X)
        return F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1)) * y.shape[1]

    case = sequence.sequence_training_cases()[0]
    monkeypatch.setattr(SequenceNetwork, "criterion", summed)
    m = sequence.sequence_training_vs_torch(autograd_impl, case)
    assert not m.passed, m.describe()
    assert "not where torch's is" in m.details["problem"]

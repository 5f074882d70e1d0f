"""The classic mistakes of backprop through time, planted in matrix's hand-written
layers, each caught by the sequence layer check (``sequence_layer_vs_torch``).

Each bug wraps the real code instead of copying it, so the test keeps following it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from fromscratch.conformance import sequence
from fromscratch.conformance.registry import Implementation, discover


@pytest.fixture(scope="module")
def matrix_impl() -> Implementation:
    installed = discover()
    if "matrix" not in installed:
        pytest.skip("matrix, the implementation these bugs are planted in, is not installed")
    return installed["matrix"]


def truncated_after_one_step(real: Callable[..., Any]) -> Callable[..., Any]:
    """The gradient along h from step t+1 dropped: backprop through one step only."""

    def backward(self: Any, dh_out: Any, cache: Any, W_hh: Any, *final: Any) -> Any:
        return real(self, dh_out, cache, np.zeros_like(W_hh), *final)

    return backward


def weights_from_the_last_step(real: Callable[..., Any]) -> Callable[..., Any]:
    """The shared weights' gradient taken at the last step only, not summed over t."""

    def gradients(self: Any, l: int, dZ: Any, cache: Any) -> Any:
        last_only = np.zeros_like(dZ)
        last_only[-1] = dZ[-1]
        real(self, l, last_only, cache)
        return dZ @ self.param(f"weight_ih_l{l}")  # the input's gradient stays right

    return gradients


def one_bias_only(real: Callable[..., Any]) -> Callable[..., Any]:
    """Only bias_ih gets the gradient; bias_hh, which enters z the same way, gets none."""

    def gradients(self: Any, l: int, dZ: Any, cache: Any) -> Any:
        dL_dx = real(self, l, dZ, cache)
        setattr(self, f"dL_dbias_hh_l{l}", np.zeros_like(self.param(f"bias_hh_l{l}")))
        return dL_dx

    return gradients


def embedding_without_repeats(real: Callable[..., Any]) -> Callable[..., Any]:
    """``dW[X] = g``: a token read twice keeps one of its two gradients."""

    def backward(self: Any, dL_da: Any) -> None:
        self.dL_dW = np.zeros_like(self.W)
        self.dL_dW[self.X.reshape(-1)] = dL_da.reshape(self.X.size, -1)

    return backward


BUGS = [
    ("recurrent.LSTM", "_layer_backward", truncated_after_one_step, "LSTM"),
    ("recurrent.RNN", "_layer_backward", truncated_after_one_step, "RNN"),
    ("recurrent.LSTM", "_weight_gradients", weights_from_the_last_step, "LSTM"),
    ("recurrent.RNN", "_weight_gradients", one_bias_only, "RNN"),
    ("embedding.Embedding", "backward", embedding_without_repeats, "Embedding"),
]


@pytest.mark.parametrize(
    ("where", "name", "bug", "layer"), BUGS, ids=[f"{b[2].__name__}-{b[3]}" for b in BUGS]
)
def test_layer_check_catches_a_planted_bptt_bug(
    matrix_impl: Implementation,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    name: str,
    bug: Any,
    layer: str,
) -> None:
    import importlib

    module_name, cls_name = where.split(".")
    cls = getattr(importlib.import_module(f"fromscratch.matrix.{module_name}"), cls_name)
    case = next(
        c for c in sequence.layer_cases() if c.spec.startswith(f"{layer}(") and c.shape[1] > 1
    )
    assert sequence.sequence_layer_vs_torch(matrix_impl, case).passed
    monkeypatch.setattr(cls, name, bug(getattr(cls, name)))
    m = sequence.sequence_layer_vs_torch(matrix_impl, case)
    assert not m.passed, f"the check missed {bug.__name__}: {m.describe()}"
    assert "differs from torch's" in m.details["problem"]

"""SequenceModel: the plumbing matrix's and autograd's SequenceNetwork share, driven here by
the smallest subject there is (a bigram model: logits z = W[X], one Embedding(V, V)), so
that it is tested without either implementation. Both implementations' own tests and the
conformance suite hold the real models to torch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fromscratch.boundary.optim import Parameter, clip_grad_norm
from fromscratch.boundary.sequence import SequenceModel
from fromscratch.boundary.tokens import Tokens
from fromscratch.boundary.types import Array


class Bigram(SequenceModel):
    """z = W[X]: the logits of the next token are the row of the current one."""

    supported_layers = frozenset({"Embedding", "LSTM"})

    def build(self, rng: np.random.Generator) -> None:
        V, d = self.specs[0].args
        self.W = rng.normal(size=(V, d)).astype(self.dtype)
        self.dL_dW: Array | None = None

    def forward(self, X: Tokens) -> Array:
        z: Array = self.W[X]
        return z

    def _loss_and_grad(self, X: Tokens, y: Tokens) -> tuple[float, Array]:
        z = self.forward(X).reshape(y.size, -1)
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(y.size)
        dL_dz = np.exp(log_p)
        dL_dz[rows, y.reshape(-1)] -= 1
        return float(-log_p[rows, y.reshape(-1)].mean()), dL_dz / y.size

    def backward(self, X: Tokens, y: Tokens) -> float:
        L, dL_dz = self._loss_and_grad(X, y)
        self.dL_dW = np.zeros_like(self.W)
        np.add.at(self.dL_dW, X.reshape(-1), dL_dz)
        return L

    def mean_loss(self, X: Tokens, y: Tokens) -> float:
        return self._loss_and_grad(X, y)[0]

    def named_parameters(self) -> list[tuple[str, Any]]:
        return [("0.weight", Parameter(self, "W"))]


CYCLE = np.tile(np.arange(4), 20)
X = np.stack([CYCLE[s : s + 5] for s in range(0, 60, 3)])
Y = np.stack([CYCLE[s + 1 : s + 6] for s in range(0, 60, 3)])


def test_fit_trains_with_the_shared_loop_and_predicts_the_next_token() -> None:
    model = Bigram(["Embedding(4, 4)"], seed=1, dtype="float64")
    before = model.loss(X, Y)
    epochs: list[int] = []
    model.fit(
        X, Y, epochs=30, batch_size=4, learning_rate=0.1, optimizer="adam",
        callback=lambda epoch, _: epochs.append(epoch),
    )  # fmt: skip
    assert epochs == list(range(1, 31))
    held_out = np.array([[2, 3, 0, 1]])
    assert model.loss(held_out, (held_out + 1) % 4) < 0.05 * before
    np.testing.assert_array_equal(model.predict(held_out), (held_out + 1) % 4)
    np.testing.assert_allclose(model.predict_proba(held_out).sum(axis=-1), 1.0)


def test_loss_in_batches_equals_the_loss_at_once() -> None:
    model = Bigram(["Embedding(4, 4)"], seed=0, dtype="float64")
    whole = model.mean_loss(X, Y)
    assert model.loss(X, Y, batch_size=3) == pytest.approx(whole, rel=1e-12)


def test_gradients_are_the_central_differences_of_the_loss() -> None:
    model = Bigram(["Embedding(4, 4)"], seed=0, dtype="float64")
    L, grads = model.gradients(X, Y)
    assert pytest.approx(model.loss(X, Y), rel=1e-12) == L
    numeric = np.zeros_like(model.W)
    for index in np.ndindex(model.W.shape):
        saved = model.W[index]
        model.W[index] = saved + 1e-6
        up = model.loss(X, Y)
        model.W[index] = saved - 1e-6
        down = model.loss(X, Y)
        model.W[index] = saved
        numeric[index] = (up - down) / 2e-6
    np.testing.assert_allclose(grads["0.weight"], numeric, atol=1e-8)


def test_clip_grad_norm_scales_all_gradients_by_one_global_factor() -> None:
    a, b = np.array([3.0, 0.0]), np.array([0.0, 4.0])  # global norm 5
    total = clip_grad_norm([a, None, b], 1.0)
    assert total == 5.0
    factor = 1.0 / (5.0 + 1e-6)
    np.testing.assert_array_equal(a, [3.0 * factor, 0.0])  # not each clipped to norm 1 alone
    np.testing.assert_array_equal(b, [0.0, 4.0 * factor])
    small = np.array([0.1, 0.1])
    clip_grad_norm([small], 1.0)
    np.testing.assert_array_equal(small, [0.1, 0.1])


def test_fit_clips_before_each_step() -> None:
    clipped = Bigram(["Embedding(4, 4)"], seed=0, dtype="float64")
    free = Bigram(["Embedding(4, 4)"], seed=0, dtype="float64")
    start = clipped.W.copy()
    clipped.fit(X, Y, epochs=1, batch_size=len(X), learning_rate=1.0, clip_grad_norm=1e-3)
    free.fit(X, Y, epochs=1, batch_size=len(X), learning_rate=1.0)
    assert np.linalg.norm(clipped.W - start) == pytest.approx(1e-3, rel=1e-3)
    assert np.linalg.norm(free.W - start) > 0.1
    with pytest.raises(ValueError, match="clip_grad_norm"):
        clipped.fit(X, Y, epochs=1, batch_size=4, learning_rate=1.0, clip_grad_norm=0)


def test_sample_is_reproducible_and_checks_its_prompt() -> None:
    model = Bigram(["Embedding(4, 4)"], seed=0)
    a = model.sample([0, 1], 12, temperature=0.8, seed=5)
    np.testing.assert_array_equal(a, model.sample([0, 1], 12, temperature=0.8, seed=5))
    assert a.shape == (12,)
    assert a.min() >= 0
    assert a.max() < 4
    with pytest.raises(ValueError, match=r"prompt\[0, 1\] = 9 is not a token id"):
        model.sample([0, 9], 3)


def test_state_dict_round_trip_and_repr() -> None:
    model = Bigram(["Embedding(4, 4)"], seed=0, dtype="float64")
    other = Bigram(["Embedding(4, 4)"], seed=1, dtype="float64")
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other.W, model.W)
    with pytest.raises(ValueError, match=r"0\.weight"):
        other.load_state_dict({"0.weight": np.zeros((3, 4))})
    assert repr(model) == "Bigram(['Embedding(4, 4)'], seed=0, dtype='float64')"


@pytest.mark.parametrize(
    ("layers", "match"),
    [
        ([], "non-empty list of spec strings"),
        ("Embedding(4, 4)", "non-empty list of spec strings"),
        (["Embedding(4, 4)", "GRU(4, 4, batch_first=True)"], r"layers\[1\] = GRU\(4, 4, batch_"),
        (["Embedding(4, 4)", "GRU(4, 4)"], "GRU is not supported by .*; supported: Embedding"),
        (["Embedding(4, 4)", "LSTM(4, 4)"], r"layers\[1\] = LSTM\(4, 4\): .*batch_first=True"),
        (["LSTM(4, 4, batch_first=True)"], "opens with Embedding"),
        (["Embedding(4, x)"], r"layers\[0\] = 'Embedding\(4, x\)'.* not a literal"),
    ],
)
def test_bad_specs_are_refused_naming_the_entry(layers: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Bigram(layers)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="loss='mse'"):
        Bigram(["Embedding(4, 4)"], loss="mse")
    with pytest.raises(ValueError, match="dtype"):
        Bigram(["Embedding(4, 4)"], dtype="float16")
    model = Bigram(["Embedding(4, 4)"])
    with pytest.raises(ValueError, match=r"y has shape \(20, 4\): expected X's shape"):
        model.fit(X, Y[:, :4], epochs=1, batch_size=4, learning_rate=0.1)
    with pytest.raises(ValueError, match="momentum"):
        model.fit(X, Y, epochs=1, batch_size=4, learning_rate=0.1, optimizer="adam", momentum=0.9)

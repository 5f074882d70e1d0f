"""``SequenceNetwork``: the protocol for text. Its gradients and 50 training steps are
held to torch by the conformance suite (``fromscratch.conformance.sequence``); here, what
the suite does not cover: the spec's errors, the input checks, sampling and learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fromscratch.autograd import SequenceNetwork

# The torch reference of a spec lives with the suite (nox installs it beside autograd).
torch_sequential = pytest.importorskip("fromscratch.conformance.sequence").torch_sequential

LSTM = ["Embedding(5, 4)", "LSTM(4, 6, num_layers=2, batch_first=True)", "Linear(6, 5)"]
GPT = [
    "Embedding(5, 8)",
    "PositionalEmbedding(6, 8)",
    "TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)",
    "LayerNorm(8)",
    "Linear(8, 5)",
]


@pytest.mark.parametrize("layers", [LSTM, GPT], ids=["lstm", "gpt"])
def test_keys_and_shapes_are_those_of_the_torch_sequential(layers: list[str]) -> None:
    ours = SequenceNetwork(layers, dtype="float64").state_dict()
    theirs = torch_sequential(layers).state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


@pytest.mark.parametrize("layers", [LSTM, GPT], ids=["lstm", "gpt"])
def test_it_learns_a_repeating_text(layers: list[str]) -> None:
    """A period-5 sequence: after training, every next token is predicted (on held-out
    windows starting at offsets the training windows did not)."""
    text = np.tile(np.arange(5), 40)
    starts = np.arange(0, 150, 7)
    X = np.stack([text[s : s + 6] for s in starts])
    y = np.stack([text[s + 1 : s + 7] for s in starts])
    model = SequenceNetwork(layers, seed=0, dtype="float64")
    before = model.loss(X, y)
    model.fit(X, y, epochs=60, batch_size=8, learning_rate=0.02, optimizer="adam")
    X_new = np.stack([text[s : s + 6] for s in (3, 11, 101)])
    y_new = np.stack([text[s + 1 : s + 7] for s in (3, 11, 101)])
    assert model.loss(X_new, y_new) < 0.1 * before
    np.testing.assert_array_equal(model.predict(X_new)[:, 1:], y_new[:, 1:])
    proba = model.predict_proba(X_new)
    assert proba.shape == (3, 6, 5)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)


def test_sampling_is_reproducible_and_respects_the_vocabulary() -> None:
    model = SequenceNetwork(GPT, seed=0)
    a = model.sample(np.array([0, 1]), 20, temperature=0.8, seed=3)
    b = model.sample(np.array([0, 1]), 20, temperature=0.8, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20,)
    assert a.min() >= 0
    assert a.max() < 5


def test_the_same_seed_gives_the_same_numbers() -> None:
    a, b = SequenceNetwork(LSTM, seed=4), SequenceNetwork(LSTM, seed=4)
    for (k, v), (k2, v2) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert k == k2
        np.testing.assert_array_equal(v, v2)


@pytest.mark.parametrize(
    ("layers", "match"),
    [
        (["Embedding(5, 4)", "LSTM(4, 6)", "Linear(6, 5)"], "batch_first=True"),
        (["Embedding(5, 4)", "Conv1d(4, 6, 3)"], "Conv1d is not supported"),
        (["Embedding(5, 4)", "Linear(4, 5"], r"layers\[1\] = 'Linear\(4, 5' is not valid Python"),
        (["Embedding(5, x)"], "the argument 'x' is not a literal"),
        (["Linear(4, 5)"], "opens with Embedding"),
        (["Embedding(5, 4)", "LSTM(4, 6, batch_first=True, bidirectional=True)"], "bidirectional"),
        ([], "non-empty list"),
    ],
)
def test_bad_specs_are_refused_naming_the_entry(layers: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SequenceNetwork(layers)


def test_bad_tokens_are_refused_naming_the_place() -> None:
    model = SequenceNetwork(LSTM)
    X = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(ValueError, match=r"X\[1, 2\] = 5 is not a token id"):
        model.predict(np.array([[0, 1, 2], [3, 4, 5]]))
    with pytest.raises(ValueError, match="integer token ids"):
        model.loss(X.astype(float), X)
    with pytest.raises(ValueError, match=r"expected X's shape \(2, 3\)"):
        model.loss(X, X[:, :2])
    with pytest.raises(ValueError, match=r"expected \(n, T\)"):
        model.predict(X[0])
    with pytest.raises(ValueError, match="loss"):
        SequenceNetwork(LSTM, loss="mse")


def test_clip_grad_norm_is_torchs() -> None:
    """fit's clip_grad_norm: one step with a tiny clip equals torch's clip_grad_norm_."""
    torch.manual_seed(0)
    twin = torch_sequential(LSTM)
    model = SequenceNetwork(LSTM, dtype="float64")
    model.load_state_dict({k: v.detach().numpy() for k, v in twin.state_dict().items()})
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 5, (4, 7)), rng.integers(0, 5, (4, 7))
    model.fit(X, y, epochs=1, batch_size=4, learning_rate=0.5, clip_grad_norm=0.01)
    z = twin(torch.from_numpy(X))
    loss = torch.nn.functional.cross_entropy(z.reshape(-1, 5), torch.from_numpy(y).reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(twin.parameters(), 0.01)
    torch.optim.SGD(twin.parameters(), lr=0.5).step()
    for k, v in twin.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[k], v.numpy(), rtol=1e-12, atol=1e-14)

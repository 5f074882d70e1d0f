"""SequenceNetwork against the nn.Sequential its spec describes, in float64.

The loss, every gradient and 20 Adam steps from one state dict on the same batches.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fromscratch.matrix.sequence import SequenceNetwork


class OutputSequence(torch.nn.LSTM):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)[0]


class RNNOutput(torch.nn.RNN):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)[0]


SPECS = {
    "lstm2": (
        ["Embedding(7, 4)", "LSTM(4, 5, num_layers=2, batch_first=True)", "Linear(5, 7)"],
        lambda: torch.nn.Sequential(
            torch.nn.Embedding(7, 4),
            OutputSequence(4, 5, 2, batch_first=True),
            torch.nn.Linear(5, 7),
        ),
    ),
    "rnn": (
        ["Embedding(7, 3)", "RNN(3, 6, batch_first=True)", "Linear(6, 7)"],
        lambda: torch.nn.Sequential(
            torch.nn.Embedding(7, 3), RNNOutput(3, 6, batch_first=True), torch.nn.Linear(6, 7)
        ),
    ),
}


def twin(model: SequenceNetwork, factory) -> torch.nn.Module:  # type: ignore[no-untyped-def]
    reference = factory().double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return reference


def data(rng: np.random.Generator, n: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    text = rng.integers(0, 7, size=n * (T + 1)).reshape(n, T + 1)
    return text[:, :-1], text[:, 1:]


@pytest.mark.parametrize("name", SPECS)
def test_loss_and_gradients_match_torch(name: str, tol) -> None:  # type: ignore[no-untyped-def]
    layers, factory = SPECS[name]
    model = SequenceNetwork(layers, dtype="float64", seed=1)
    reference = twin(model, factory)
    assert list(model.state_dict()) == list(reference.state_dict())
    X, y = data(np.random.default_rng(0), 3, 6)
    L, grads = model.gradients(X, y)
    z = reference(torch.from_numpy(X))
    L_t = torch.nn.functional.cross_entropy(z.reshape(-1, 7), torch.from_numpy(y).reshape(-1))
    L_t.backward()
    np.testing.assert_allclose(L, L_t.item(), **tol["float64_scalar"])
    for key, p in reference.named_parameters():
        assert p.grad is not None
        np.testing.assert_allclose(grads[key], p.grad.numpy(), **tol["vs_torch"], err_msg=key)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, torch.softmax(z, -1).detach().numpy(), **tol["vs_torch"])


def test_twenty_adam_steps_match_torch(tol) -> None:  # type: ignore[no-untyped-def]
    layers, factory = SPECS["lstm2"]
    model = SequenceNetwork(layers, dtype="float64", seed=2)
    reference = twin(model, factory)
    X, y = data(np.random.default_rng(1), 20, 5)
    model.fit(X, y, epochs=5, batch_size=5, learning_rate=0.01, optimizer="adam", shuffle=False)
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.01)
    for _ in range(5):
        for start in range(0, 20, 5):
            optimizer.zero_grad()
            z = reference(torch.from_numpy(X[start : start + 5]))
            loss = torch.nn.functional.cross_entropy(
                z.reshape(-1, 7), torch.from_numpy(y[start : start + 5]).reshape(-1)
            )
            loss.backward()
            optimizer.step()
    for key, value in reference.state_dict().items():
        np.testing.assert_allclose(
            model.state_dict()[key], value.numpy(), **tol["vs_torch"], err_msg=key
        )


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (["LSTM(4, 5, batch_first=True)", "Linear(5, 7)"], "opens with Embedding"),
        (["Embedding(7, 4)", "LSTM(4, 5)", "Linear(5, 7)"], "need batch_first=True"),
        (["Embedding(7, 4)", "GRU(4, 5, batch_first=True)"], "GRU is not supported"),
        (["Embedding(7, 4)", "LSTM(4, 5, batch_first=True, dropout=0.5)"], "dropout=0.5"),
        (["Embedding(7, 0)"], "embedding_dim must be a positive int"),
        (["Embedding(7, 4)", "LSTM(4, 5, batch_first=True, proj_size=2)"], "no argument"),
    ],
)
def test_bad_specs_are_refused_by_name(layers: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SequenceNetwork(layers)


def test_bad_tokens_are_refused() -> None:
    model = SequenceNetwork(SPECS["rnn"][0])
    with pytest.raises(ValueError, match=r"X\[0, 1\] = 7 is not a token id"):
        model.predict(np.array([[0, 7]]))
    with pytest.raises(ValueError, match="expected integer token ids"):
        model.predict(np.zeros((1, 2)))

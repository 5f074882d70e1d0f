"""Embedding, RNN and LSTM against torch's modules in float64, and against central differences.

Each case draws its sizes, runs forward in both, then backward under one random,
non-uniform cotangent on every output (the sequence, h_n and, for the LSTM, c_n) and
compares every parameter's gradient and the input's.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.matrix.embedding import Embedding
from fromscratch.matrix.recurrent import LSTM, RNN

F64 = np.dtype(np.float64)
CASES = [  # (T, n, input, hidden, num_layers, batch_first)
    (1, 1, 3, 4, 1, True),
    (5, 3, 4, 6, 1, False),
    (7, 2, 5, 3, 2, True),
    (12, 4, 3, 5, 2, False),
]


KINDS = {"rnn": RNN, "rnn-relu": partial(RNN, nonlinearity="relu"), "lstm": LSTM}


def torch_twin(ours: RNN | LSTM) -> torch.nn.RNNBase:
    sizes = (ours.input_size, ours.hidden_size, ours.num_layers)
    twin: torch.nn.RNNBase
    if isinstance(ours, LSTM):
        twin = torch.nn.LSTM(*sizes, batch_first=ours.batch_first, dtype=torch.float64)
    else:
        nonlinearity = "relu" if ours.relu else "tanh"
        twin = torch.nn.RNN(
            *sizes, nonlinearity=nonlinearity, batch_first=ours.batch_first, dtype=torch.float64
        )
    twin.load_state_dict({k: torch.from_numpy(ours.param(k).copy()) for k in ours.names})
    return twin


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize(("T", "n", "d_in", "H", "layers", "batch_first"), CASES)
def test_matches_torch(
    name: str,
    T: int,
    n: int,
    d_in: int,
    H: int,
    layers: int,
    batch_first: bool,
    tol: dict[str, dict[str, float]],
) -> None:
    rng = np.random.default_rng(T * 100 + n)
    ours = KINDS[name](d_in, H, layers, batch_first=batch_first, rng=rng, dtype=F64)
    twin = torch_twin(ours)
    assert ours.names == list(twin.state_dict())
    for k, v in twin.state_dict().items():
        assert ours.param(k).shape == tuple(v.shape), k

    shape = (n, T, d_in) if batch_first else (T, n, d_in)
    x = rng.standard_normal(shape)
    out = ours.forward(x)
    x_t = torch.tensor(x, requires_grad=True)
    out_t, state_t = twin(x_t)
    h_n_t, c_n_t = state_t if isinstance(ours, LSTM) else (state_t, None)
    np.testing.assert_allclose(out, out_t.detach().numpy(), **tol["vs_torch"])
    np.testing.assert_allclose(ours.h_n, h_n_t.detach().numpy(), **tol["vs_torch"])

    dL_dout = rng.standard_normal(out.shape)
    dL_dh_n = rng.standard_normal(ours.h_n.shape)
    terms = [(out_t, dL_dout), (h_n_t, dL_dh_n)]
    dL_dc_n = None
    if c_n_t is not None:
        np.testing.assert_allclose(ours.c_n, c_n_t.detach().numpy(), **tol["vs_torch"])
        dL_dc_n = rng.standard_normal(ours.c_n.shape)
        terms.append((c_n_t, dL_dc_n))
    torch.autograd.backward([t for t, _ in terms], [torch.from_numpy(g) for _, g in terms])

    dL_dx = ours.backward(dL_dout, dL_dh_n, dL_dc_n)
    assert x_t.grad is not None
    np.testing.assert_allclose(dL_dx, x_t.grad.numpy(), **tol["vs_torch"])
    for name, p in twin.named_parameters():
        assert p.grad is not None
        np.testing.assert_allclose(ours.grad(name), p.grad.numpy(), **tol["vs_torch"], err_msg=name)


@pytest.mark.parametrize("kind", [RNN, LSTM])
def test_central_differences(kind: Any, tol: dict[str, dict[str, float]]) -> None:
    """The backward pass against (L(θ+h) - L(θ-h)) / 2h, with no torch involved."""
    rng = np.random.default_rng(1)
    ours = kind(3, 4, 2, batch_first=True, rng=rng, dtype=F64)
    x = rng.standard_normal((2, 6, 3))
    dL_dout = rng.standard_normal((2, 6, 4))

    def L() -> float:
        return float(np.sum(ours.forward(x) * dL_dout))  # dL/dout is the cotangent

    L()
    dL_dx = ours.backward(dL_dout)
    h = 1e-6
    for name in ours.names:
        p = ours.param(name)
        for index in [(0,) * p.ndim, tuple(s - 1 for s in p.shape)]:
            saved = p[index]
            p[index] = saved + h
            up = L()
            p[index] = saved - h
            down = L()
            p[index] = saved
            numeric = (up - down) / (2 * h)
            np.testing.assert_allclose(
                ours.grad(name)[index], numeric, **tol["central_difference"], err_msg=name
            )
    saved = x[1, 2, 0]
    x[1, 2, 0] = saved + h
    up = L()
    x[1, 2, 0] = saved - h
    down = L()
    np.testing.assert_allclose(dL_dx[1, 2, 0], (up - down) / (2 * h), **tol["central_difference"])


def test_lstm_carries_gradient_along_c_where_rnn_does_not() -> None:
    """What the LSTM is for: the gradient of h_T with respect to x_1 survives 60 steps."""
    rng = np.random.default_rng(2)
    T = 60
    x = rng.standard_normal((T, 1, 2))
    cot = np.zeros((T, 1, 8))
    cot[-1] = 1.0
    lstm = LSTM(2, 8, rng=rng, dtype=F64)
    lstm.param("bias_ih_l0")[8:16] = 5.0  # forget gate open: keep the cell
    lstm.forward(x)
    rnn = RNN(2, 8, rng=rng, dtype=F64)
    rnn.forward(x)
    assert np.abs(lstm.backward(cot)[0]).max() > 1e3 * np.abs(rnn.backward(cot)[0]).max()


def test_embedding_matches_torch_with_repeated_tokens(tol: dict[str, dict[str, float]]) -> None:
    rng = np.random.default_rng(3)
    ours = Embedding(7, 4, rng=rng, dtype=F64)
    X = np.array([[1, 3, 3, 0], [6, 1, 1, 1]])  # 1 four times, 3 twice; 2, 4, 5 never
    twin = torch.nn.Embedding(7, 4, dtype=torch.float64)
    twin.load_state_dict({"weight": torch.from_numpy(ours.W.copy())})
    a = ours.forward(X)
    a_t = twin(torch.from_numpy(X))
    np.testing.assert_array_equal(a, a_t.detach().numpy())
    dL_da = rng.standard_normal(a.shape)
    a_t.backward(torch.from_numpy(dL_da))
    ours.backward(dL_da)
    assert twin.weight.grad is not None
    np.testing.assert_allclose(ours.dL_dW, twin.weight.grad.numpy(), **tol["vs_torch"])
    assert not ours.dL_dW[[2, 4, 5]].any()

"""The sequence modules against torch.nn in float64: the same state dict in both, then
forward outputs and final states, and the gradient of every parameter and of the input
under random cotangents on *all* outputs (so ``h_n`` and ``c_n`` are checked too).

Several sequence lengths, batch sizes, one and two layers, batch_first or not, and the
masks attention takes (causal, boolean, float, key padding).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import fromscratch.autograd as ag
from fromscratch.autograd import nn

Tolerances = dict[str, dict[str, float]]


def cotangent(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:  # type: ignore[type-arg]
    """Every entry its own magnitude in [0.5, 2] and sign."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def flat(out: Any) -> list[Any]:
    """The tensors of a module's output, nested tuples flattened, ``None`` dropped."""
    if isinstance(out, tuple | list):
        return [t for part in out for t in flat(part)]
    return [] if out is None else [out]


def compare(
    ours: nn.Module,
    theirs: torch.nn.Module,
    inputs: list[np.ndarray],  # type: ignore[type-arg]
    tol: Tolerances,
    call: Callable[[Any, list[Any]], Any] = lambda m, xs: m(*xs),
    seed: int = 0,
) -> None:
    """Load torch's state into ours, run both on ``inputs`` and compare everything."""
    theirs = theirs.double()
    ours.zero_grad()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    xs = [ag.Tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    xs_t = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    outs, outs_t = flat(call(ours, xs)), flat(call(theirs, xs_t))
    assert len(outs) == len(outs_t)
    rng = np.random.default_rng(seed)
    gs = [cotangent(rng, tuple(o.shape)) for o in outs_t]
    for o, o_t in zip(outs, outs_t, strict=True):
        assert o.shape == tuple(o_t.shape)
        np.testing.assert_allclose(
            o.detach().numpy(), o_t.detach().numpy(), **tol["network_float64"]
        )
    total = sum(
        ((o * ag.Tensor(g)).sum() for o, g in zip(outs, gs, strict=True)),
        ag.tensor(0.0, dtype=np.float64),
    )
    total.backward()
    params_t = dict(theirs.named_parameters())
    wanted = [*(x for x in xs_t if x.requires_grad), *params_t.values()]
    grads_t = torch.autograd.grad(
        outs_t, wanted, grad_outputs=[torch.tensor(g) for g in gs], allow_unused=True
    )
    ours_grads = [x.grad for x in xs if x.requires_grad] + [
        p.grad for p in dict(ours.named_parameters()).values()
    ]
    names = [f"input {i}" for i, x in enumerate(xs) if x.requires_grad] + list(params_t)
    for name, g, g_t in zip(names, ours_grads, grads_t, strict=True):
        expected = np.zeros(g.shape) if g_t is None else g_t.numpy()
        got = np.zeros(expected.shape) if g is None else g.numpy()
        np.testing.assert_allclose(got, expected, **tol["network_float64"], err_msg=name)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    ("n", "T", "layers", "batch_first"),
    [(1, 1, 1, True), (3, 5, 1, False), (2, 7, 2, True), (4, 3, 2, False)],
)
def test_recurrent_layers_match_torch(
    kind: str, n: int, T: int, layers: int, batch_first: bool, tol: Tolerances
) -> None:
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=layers, batch_first=batch_first)
    ours = getattr(nn, kind)(3, 4, num_layers=layers, batch_first=batch_first, dtype=np.float64)
    shape = (n, T, 3) if batch_first else (T, n, 3)
    compare(ours, theirs, [np.random.default_rng(1).normal(size=shape)], tol)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_from_a_given_state_and_unbatched(kind: str, tol: Tolerances) -> None:
    torch.manual_seed(1)
    rng = np.random.default_rng(2)
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2)
    ours = getattr(nn, kind)(3, 4, num_layers=2, dtype=np.float64)
    x, h0, c0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 2, 4)), rng.normal(size=(2, 2, 4))
    state = [h0, c0] if kind == "LSTM" else [h0]

    def call(m: Any, xs: list[Any]) -> Any:
        return m(xs[0], tuple(xs[1:]) if kind == "LSTM" else xs[1])

    compare(ours, theirs, [x, *state], tol, call)
    compare(ours, theirs, [x[:, 0]], tol)  # one sequence, no batch dimension


def test_rnn_relu_matches_torch(tol: Tolerances) -> None:
    torch.manual_seed(2)
    compare(
        nn.RNN(3, 4, nonlinearity="relu", dtype=np.float64),
        torch.nn.RNN(3, 4, nonlinearity="relu"),
        [np.random.default_rng(3).normal(size=(6, 2, 3))],
        tol,
    )


def test_embedding_sums_the_gradients_of_repeated_ids(tol: Tolerances) -> None:
    torch.manual_seed(3)
    ids = np.array([[0, 3, 3, 1], [4, 0, 3, 3]])
    compare(nn.Embedding(5, 6, dtype=np.float64), torch.nn.Embedding(5, 6), [ids], tol)
    with pytest.raises(IndexError, match="index out of range"):
        nn.Embedding(5, 6)(np.array([5]))


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4), (5, 4)])
def test_layer_norm_matches_torch(shape: tuple[int, ...], tol: Tolerances) -> None:
    theirs = torch.nn.LayerNorm(4)
    with torch.no_grad():  # not the ones and zeros it starts at: the affine part must count
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-0.5, 0.5)
    compare(
        nn.LayerNorm(4, dtype=np.float64),
        theirs,
        [np.random.default_rng(4).normal(size=shape)],
        tol,
    )


def causal(T: int) -> np.ndarray:  # type: ignore[type-arg]
    return torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64).numpy()


MASKS = ["none", "causal", "bool", "key_padding"]


def library(masks: dict[str, Any], xs: list[Any]) -> dict[str, Any]:
    """The masks as tensors of the library that ``xs`` come from."""
    if isinstance(xs[0], torch.Tensor):
        return {
            k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in masks.items()
        }
    return masks


def attention_masks(kind: str, n: int, T: int) -> dict[str, Any]:
    rng = np.random.default_rng(5)
    if kind == "causal":
        return {"attn_mask": causal(T), "is_causal": True}
    if kind == "bool":  # True: may not attend; the diagonal stays open, so no row is empty
        return {"attn_mask": (rng.random((T, T)) < 0.4) & ~np.eye(T, dtype=bool)}
    if kind == "key_padding":
        padding = np.zeros((n, T), dtype=bool)
        padding[:, -1] = True  # the last position of every sequence is padding
        return {"key_padding_mask": padding}
    return {}


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize(("n", "T", "batch_first"), [(1, 1, True), (2, 5, True), (3, 4, False)])
def test_multihead_attention_matches_torch(
    mask: str, n: int, T: int, batch_first: bool, tol: Tolerances
) -> None:
    if mask == "key_padding" and T == 1:
        pytest.skip("padding the only key leaves a row with nothing to attend to (NaN)")
    torch.manual_seed(6)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    with torch.no_grad():  # torch starts the biases at zero: make them count
        theirs.in_proj_bias.uniform_(-0.5, 0.5)
        theirs.out_proj.bias.uniform_(-0.5, 0.5)
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=np.float64)
    x = np.random.default_rng(7).normal(size=(n, T, 8) if batch_first else (T, n, 8))
    masks = attention_masks(mask, n, T)

    def self_attention(m: Any, xs: list[Any]) -> Any:
        return m(xs[0], xs[0], xs[0], **library(masks, xs))  # (output, head-averaged weights)

    compare(ours, theirs, [x], tol, self_attention)

    def cross_attention(m: Any, xs: list[Any]) -> Any:
        return m(xs[0], xs[1], xs[2], need_weights=False, **library(masks, xs))

    kv = np.random.default_rng(8).normal(size=x.shape)
    compare(ours, theirs, [x, kv, kv + 1], tol, cross_attention)


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize(("n", "T"), [(1, 1), (2, 6), (3, 4)])
def test_transformer_encoder_layer_matches_torch(
    norm_first: bool, n: int, T: int, tol: Tolerances
) -> None:
    torch.manual_seed(9)
    theirs = torch.nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first
    )
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "norm" in name or "bias" in name:
                p.uniform_(0.5, 1.5) if name.endswith("weight") else p.uniform_(-0.5, 0.5)
    ours = nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first, dtype=np.float64
    )
    x = np.random.default_rng(10).normal(size=(n, T, 8))
    mask = causal(T)

    def run(m: Any, xs: list[Any]) -> Any:
        return m(xs[0], **library({"src_mask": mask}, xs), is_causal=True)

    theirs.train()  # the training path: torch's inference fast path is another kernel
    compare(ours, theirs, [x], tol, run)


def test_causal_attention_never_looks_ahead() -> None:
    """Changing the last token must not change any earlier output."""
    layer = nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, batch_first=True, norm_first=True, dtype=np.float64
    )
    x = np.random.default_rng(11).normal(size=(1, 5, 8))
    y = x.copy()
    y[0, -1] += 1.0
    mask = causal(5)
    with ag.no_grad():
        a = layer(ag.Tensor(x), src_mask=mask, is_causal=True).numpy()
        b = layer(ag.Tensor(y), src_mask=mask, is_causal=True).numpy()
    np.testing.assert_array_equal(a[0, :-1], b[0, :-1])
    assert not np.allclose(a[0, -1], b[0, -1])


def test_initialisation_follows_torch() -> None:
    """Same names, shapes and distributions as torch (the values come from our generator)."""
    rng = np.random.default_rng(0)
    lstm = nn.LSTM(16, 400, generator=rng)
    k = 1 / np.sqrt(400)
    w = lstm.weight_hh_l0.detach().numpy()
    assert np.abs(w).max() <= k
    assert np.abs(w).max() > 0.99 * k
    mha = nn.MultiheadAttention(64, 4, generator=rng)
    bound = np.sqrt(6 / (64 + 3 * 64))
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    assert not mha.in_proj_bias.detach().numpy().any()
    assert not mha.out_proj.bias.detach().numpy().any()
    emb = nn.Embedding(100, 100, generator=rng).weight.detach().numpy()
    assert abs(emb.std() - 1) < 0.05
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    ours = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    assert {k: tuple(v.shape) for k, v in theirs.state_dict().items()} == {
        k: v.shape for k, v in ours.state_dict().items()
    }


def test_unsupported_options_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="dropout"):
        nn.TransformerEncoderLayer(8, 2)  # torch's default dropout 0.1
    with pytest.raises(ValueError, match="bidirectional"):
        nn.LSTM(3, 4, bidirectional=True)
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="longer"):
        nn.PositionalEmbedding(4, 2)(ag.zeros(1, 5, 2))

r"""``SequenceNetwork``: a model of text on the autograd engine, written as torch code.

``layers`` lists ``torch.nn`` constructor calls, one per ``nn.Sequential`` entry
(see ``docs/protocol.md``, *Sequence models*)::

    SequenceNetwork(["Embedding(65, 128)", "LSTM(128, 256, batch_first=True)", "Linear(256, 65)"])

``X`` is (n, T) token ids, ``y`` (n, T) the next token at every position; the network is
the ``nn.Sequential`` of the entries and the loss torch's ``cross_entropy`` over all n·T
positions:

.. math::

    z = \text{net}(X) \;(n, T, V), \qquad
    L = \frac{1}{nT} \sum_{i, t} \Big( \log \sum_v e^{z_{itv}} - z_{i t y_{it}} \Big)

The gradient is ``L.backward()``: the engine walks back the graph the forward pass
recorded. The only sequence-specific lines are the two wrappers below: a recurrent entry
passes on its output sequence (``output[0]``), and an attention entry is applied causally,
so that position t never sees the token it has to predict. The constructor's checks,
``fit`` (the boundary's loop and optimizers), ``loss``, ``predict``, ``sample`` and the
state dict are the boundary's :class:`~fromscratch.boundary.sequence.SequenceModel`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.sequence import SequenceModel
from fromscratch.boundary.spec import LayerSpec
from fromscratch.boundary.tokens import Tokens

from . import nn, optim
from .nn import functional as F
from .tensor import Array, Tensor, no_grad

RECURRENT = frozenset({"RNN", "LSTM", "GRU"})
ATTENTION = frozenset({"MultiheadAttention", "TransformerEncoderLayer"})
PLAIN = frozenset(
    {"Embedding", "PositionalEmbedding", "Linear", "LayerNorm", "ReLU", "Tanh", "Sigmoid"}
)


class OutputSequence(nn.Module):
    """A recurrent layer whose forward returns only its output sequence, ``output[0]``."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.layer(x)[0]
        return out


class Causal(nn.Module):
    """Self-attention (or a Transformer layer) where position t sees positions 0..t only."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: Tensor) -> Tensor:
        T = x.shape[1]
        mask = np.triu(np.full((T, T), -np.inf, dtype=x.dtype), 1)  # -inf above the diagonal
        if isinstance(self.layer, nn.MultiheadAttention):
            out: Tensor = self.layer(x, x, x, attn_mask=mask, need_weights=False, is_causal=True)[0]
            return out
        return self.layer(x, src_mask=mask, is_causal=True)  # type: ignore[no-any-return]


def module(spec: LayerSpec, where: str, dtype: Any, rng: np.random.Generator | None) -> nn.Module:
    """The autograd module of one spec entry: torch's constructor with the spec's arguments
    (and ``generator=rng`` where it draws parameters), wrapped as the entry says."""
    kwargs = dict(spec.kwargs)
    if spec.name not in ("ReLU", "Tanh", "Sigmoid"):
        kwargs["dtype"] = dtype
        if rng is not None and spec.name != "LayerNorm":
            kwargs["generator"] = rng
    try:
        layer: nn.Module = getattr(nn, spec.name)(*spec.args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"{where} = {spec}: {exc}") from None
    if spec.name in RECURRENT:
        return OutputSequence(layer)
    if spec.name in ATTENTION:
        return Causal(layer)
    return layer


def _torch_key(name: str) -> str:
    """``"1.layer.weight_ih_l0"`` -> ``"1.weight_ih_l0"``: the wrappers are not in torch's
    ``nn.Sequential`` (its reference subclasses the modules instead)."""
    return re.sub(r"(^|\.)layer\.", r"\1", name, count=1)


class SequenceNetwork(SequenceModel):
    """A next-token model on the autograd engine: ``nn.Sequential`` of the spec's entries.

    The constructor, ``fit``, ``loss``, ``predict``, ``sample`` and the state dict are the
    boundary's (:class:`~fromscratch.boundary.sequence.SequenceModel`); here is the math,
    written as torch code.
    """

    supported_layers = RECURRENT | ATTENTION | PLAIN
    optimizers: ClassVar[Mapping[str, type[optim.Optimizer]]] = {
        "sgd": optim.SGD,
        "adam": optim.Adam,
        "adamw": optim.AdamW,
    }

    # ------------------------------------------------------------------ the math, as torch

    def criterion(self, X: Tokens, y: Tokens) -> Tensor:
        """Mean cross-entropy over every position: logits (n·T, V) against y (n·T,)."""
        z = self.net(X)
        return F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))

    def backward(self, X: Tokens, y: Tokens) -> float:
        """``zero_grad``, the loss, ``loss.backward()``: every ``.grad`` is this batch's."""
        self.net.zero_grad()
        loss = self.criterion(X, y)
        loss.backward()
        return float(loss.data)

    def forward(self, X: Tokens) -> Array:
        """The logits, (n, T, V), with no graph recorded."""
        with no_grad():
            z: Array = self.net(X).data
        return z

    def mean_loss(self, X: Tokens, y: Tokens) -> float:
        """The loss alone, with no graph recorded."""
        with no_grad():
            return float(self.criterion(X, y).data)

    def named_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """``("1.weight_ih_l0", p)``...: torch's keys (the wrappers' ``layer.`` dropped)."""
        return [(_torch_key(k), p) for k, p in self.net.named_parameters()]

    # ------------------------------------------------------------------------ construction

    def build(self, rng: np.random.Generator) -> None:
        """The ``nn.Sequential`` the spec describes, its entries drawn from ``rng`` in turn."""
        self.net = nn.Sequential(
            *(module(spec, f"layers[{i}]", self.dtype, rng) for i, spec in enumerate(self.specs))
        )
        for entry in self.net:
            self.context_size = getattr(entry, "num_positions", self.context_size)


def layer_vjp(
    spec: str,
    state: Mapping[str, NDArray[Any]],
    x: NDArray[Any],
    cotangents: Sequence[NDArray[Any]],
) -> tuple[list[Array], Array | None, dict[str, Array]]:
    """One spec entry alone, for the conformance suite's layer checks (float64).

    Builds the entry, loads ``state`` (torch's keys), runs it on ``x`` (token ids for an
    ``Embedding``) and sends ``cotangents`` back from *every* output: the output sequence,
    and for a recurrent entry its final states too (``h_n``; ``c_n`` for the LSTM).
    Returns ``(outputs, dL/dx or None for ids, dL/dθ keyed like state)``. An entry this
    implementation does not build raises ``ValueError``.
    """
    entry = SequenceNetwork.parse_spec(spec, "spec")
    built = module(entry, "spec", np.float64, None)
    layer = built.layer if isinstance(built, OutputSequence) else built  # all its outputs
    named = {_torch_key(k): k for k, _ in layer.named_parameters()}
    layer.load_state_dict({named[k]: np.asarray(v) for k, v in state.items()})
    floating = np.asarray(x).dtype.kind == "f"
    inputs = Tensor(x, requires_grad=True) if floating else np.asarray(x)
    out = layer(inputs)
    parts = list(out) if isinstance(out, tuple) else [out]
    if entry.name in RECURRENT:  # (output, h_n) or (output, (h_n, c_n))
        parts = [parts[0], *(parts[1] if isinstance(parts[1], tuple) else [parts[1]])]
    total = sum(
        ((p * Tensor(g)).sum() for p, g in zip(parts, cotangents, strict=True)), Tensor(0.0)
    )
    total.backward()
    params = dict(layer.named_parameters())
    grads = {}
    for k, n in named.items():
        g = params[n].grad
        grads[k] = np.zeros_like(params[n].data) if g is None else g.data
    dL_dx = None
    if floating:
        assert isinstance(inputs, Tensor)
        dL_dx = np.zeros_like(inputs.data) if inputs.grad is None else inputs.grad.data
    return [p.detach().data for p in parts], dL_dx, grads

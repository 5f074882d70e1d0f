r"""``SequenceNetwork``: a model of text, described by the protocol's spec strings.

``layers`` lists ``torch.nn`` constructor calls, one per ``nn.Sequential`` entry
(see ``docs/protocol.md``, *Sequence models*)::

    SequenceNetwork(["Embedding(65, 128)", "LSTM(128, 256, batch_first=True)", "Linear(256, 65)"])

``X`` is (n, T) token ids, ``y`` (n, T) the next token at every position, and the loss is
torch's ``cross_entropy`` over all n·T positions. Training is the loop every torch
tutorial writes; the only sequence-specific lines are the two wrappers below: a recurrent
entry passes on its output sequence (``output[0]``), and an attention entry is applied
causally, so that position t never sees the token it has to predict.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.optim import cosine_learning_rate
from fromscratch.boundary.options import check_fit_options
from fromscratch.boundary.types import DTYPES
from fromscratch.boundary.validation import (
    check_choice,
    check_float,
    check_int,
    check_seed,
    check_state_dict,
)

from . import nn, optim
from .nn import functional as F
from .tensor import Array, Tensor, no_grad

Tokens = NDArray[np.int64]
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


def parse_entry(text: str, where: str) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """``"LSTM(128, 256, batch_first=True)"`` -> ``("LSTM", (128, 256), {"batch_first": True})``
    with :mod:`ast` (literals only, nothing evaluated)."""
    example = "a torch.nn constructor call with literal arguments, e.g. 'Embedding(65, 128)'"
    try:
        node = ast.parse(str(text).strip(), mode="eval").body
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError
        args = tuple(ast.literal_eval(a) for a in node.args)
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg is not None}
    except (SyntaxError, ValueError):
        raise ValueError(f"{where} = {text!r} is not {example}") from None
    return node.func.id, args, kwargs


def build(layers: Sequence[str], dtype: np.dtype[Any], rng: np.random.Generator) -> nn.Sequential:
    """The ``nn.Sequential`` the spec describes, its entries drawn from ``rng`` in turn."""
    if isinstance(layers, str) or not layers:
        raise ValueError(
            f"layers must be a non-empty list of spec strings, got {layers!r}: "
            "e.g. ['Embedding(65, 128)', 'LSTM(128, 256, batch_first=True)', 'Linear(256, 65)']"
        )
    modules: list[nn.Module] = []
    for i, text in enumerate(layers):
        where = f"layers[{i}]"
        name, args, kwargs = parse_entry(text, where)
        if name not in RECURRENT | ATTENTION | PLAIN:
            raise ValueError(
                f"{where} = {text!r}: {name} is not supported by autograd's SequenceNetwork; "
                f"supported: {', '.join(sorted(SequenceNetwork.supported_layers))}"
            )
        if (name in RECURRENT | ATTENTION) and not kwargs.get("batch_first", False):
            raise ValueError(f"{where} = {text!r}: sequence models need batch_first=True")
        if name in ("Embedding", "PositionalEmbedding") or name in RECURRENT | ATTENTION:
            kwargs["generator"] = rng
        if name == "Linear":
            kwargs["generator"] = rng
        if name not in ("ReLU", "Tanh", "Sigmoid"):
            kwargs["dtype"] = dtype
        try:
            module = getattr(nn, name)(*args, **kwargs)
        except TypeError as exc:
            raise ValueError(f"{where} = {text!r}: {exc}") from None
        if name in RECURRENT:
            module = OutputSequence(module)
        elif name in ATTENTION:
            module = Causal(module)
        modules.append(module)
    if not isinstance(modules[0], nn.Embedding):
        raise ValueError(f"layers[0] = {layers[0]!r}: a sequence model opens with Embedding(V, d)")
    return nn.Sequential(*modules)


def _torch_key(name: str) -> str:
    """``"1.layer.weight_ih_l0"`` -> ``"1.weight_ih_l0"``: the wrappers are not in torch's
    ``nn.Sequential`` (its reference subclasses the modules instead)."""
    return re.sub(r"(^|\.)layer\.", r"\1", name, count=1)


class SequenceNetwork:
    """A next-token model on the autograd engine: ``nn.Sequential`` of the spec's entries.

    Parameters
    ----------
    layers
        Spec strings, the first an ``Embedding(V, d)``, the last producing V logits.
    loss
        ``"cross_entropy"`` (the only loss of a sequence model).
    seed
        Seeds the initial parameters (entry after entry) and, on its own child stream,
        the shuffling of windows in ``fit``.
    dtype
        ``"float32"`` or ``"float64"``.
    """

    supported_layers = RECURRENT | ATTENTION | PLAIN

    def __init__(
        self,
        layers: Sequence[str],
        *,
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        if loss != "cross_entropy":
            raise ValueError(f"loss={loss!r}: a sequence model's loss is 'cross_entropy'")
        self.dtype: np.dtype[Any] = np.dtype(check_choice("dtype", dtype, DTYPES))
        self.seed = check_seed(seed)
        self.layers = list(layers)
        self.net = build(self.layers, self.dtype, np.random.default_rng(self.seed))
        self.vocabulary: int = self.net[0].num_embeddings  # type: ignore[attr-defined]
        self._shuffle_rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(1)[0])

    # ------------------------------------------------------------------ the math, as torch

    def criterion(self, X: Tokens, y: Tokens) -> Tensor:
        """Mean cross-entropy over every position: logits (n·T, V) against y (n·T,)."""
        z = self.net(X)
        return F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        callback: Callable[[int, Mapping[str, float]], None] | None = None,
        batch_callback: Callable[[int, int, float], object] | None = None,
        **options: Any,
    ) -> SequenceNetwork:
        """Mini-batch training over the windows (rows of ``X``), as ``Network.fit``; also
        ``clip_grad_norm`` (a float, torch's ``clip_grad_norm_`` before each step)."""
        epochs = check_int("epochs", epochs)
        batch_size = check_int("batch_size", batch_size)
        learning_rate = check_float("learning_rate", learning_rate, low=0, low_inclusive=False)
        clip = options.pop("clip_grad_norm", None)
        if clip is not None:
            clip = check_float("clip_grad_norm", clip, low=0, low_inclusive=False)
        config = check_fit_options(options, ("sgd", "adam", "adamw"))
        X, y = self._check(X), self._check(y, X.shape, "y")
        params = list(self.net.parameters())
        optimizer: optim.Optimizer
        if config.optimizer == "sgd":
            optimizer = optim.SGD(
                params,
                lr=learning_rate,
                momentum=config.momentum,
                nesterov=config.nesterov,
                weight_decay=config.weight_decay,
            )
        else:
            cls = optim.AdamW if config.optimizer == "adamw" else optim.Adam
            optimizer = cls(
                params,
                lr=learning_rate,
                betas=config.betas,
                eps=config.eps,
                weight_decay=config.weight_decay,
            )
        group = optimizer.param_groups[0]
        n = len(X)
        for epoch in range(1, epochs + 1):
            if config.schedule == "cosine":
                group["lr"] = cosine_learning_rate(learning_rate, epoch, epochs)
            order = self._shuffle_rng.permutation(n) if config.shuffle else np.arange(n)
            losses = []
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for batch, start in enumerate(range(0, n, batch_size), start=1):
                    rows = order[start : start + batch_size]
                    loss = self.criterion(X[rows], y[rows])
                    value = float(loss.data)
                    if not math.isfinite(value):
                        self._diverged(epoch, batch, value)
                    optimizer.zero_grad()
                    loss.backward()
                    if clip is not None:
                        clip_grad_norm(params, clip)
                    optimizer.step()
                    losses.append(value)
                    if batch_callback is not None:
                        batch_callback(epoch, batch, value)
            if callback is not None:
                callback(
                    epoch, {"loss": math.fsum(losses) / len(losses), "learning_rate": group["lr"]}
                )
        return self

    # ------------------------------------------------------------------------ inference

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Next-token probabilities at every position, (n, T, V)."""
        with no_grad():
            return F.softmax(self.net(self._check(X)), dim=-1).data

    def predict(self, X: NDArray[Any]) -> Tokens:
        """The most probable next token at every position, (n, T)."""
        tokens: Tokens = np.argmax(self.predict_proba(X), axis=-1).astype(np.int64)
        return tokens

    def loss(self, X: NDArray[Any], y: NDArray[Any], batch_size: int = 256) -> float:
        """The mean cross-entropy in nats per position (computed in batches of windows)."""
        X = self._check(X)
        y = self._check(y, X.shape, "y")
        total = 0.0
        with no_grad():
            for start in range(0, len(X), batch_size):
                rows = slice(start, start + batch_size)
                total += float(self.criterion(X[rows], y[rows]).data) * y[rows].size
        return total / y.size

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Array]]:
        """``(loss, dL/dθ)`` keyed like :meth:`state_dict`; parameters and ``.grad`` unchanged."""
        X = self._check(X)
        y = self._check(y, X.shape, "y")
        named = dict(self.net.named_parameters())
        saved = {name: p.grad for name, p in named.items()}
        self.net.zero_grad()
        loss = self.criterion(X, y)
        loss.backward()
        grads = {}
        for name, p in named.items():
            grads[_torch_key(name)] = (
                np.zeros_like(p.data) if p.grad is None else p.grad.data.copy()
            )
            p.grad = saved[name]
        return float(loss.data), grads

    def sample(
        self, prompt: Tokens, length: int, temperature: float = 0.8, seed: int = 0
    ) -> Tokens:
        """``length`` tokens drawn one at a time from softmax(logits / temperature), each
        fed back in (the whole context again: simple, and fine for a few hundred)."""
        rng = np.random.default_rng(seed)
        tokens = list(np.asarray(prompt, dtype=np.int64))
        limit = getattr(self.net[1], "num_positions", None)
        for _ in range(length):
            context = np.array([tokens[-limit:] if limit else tokens], dtype=np.int64)
            with no_grad():
                z = self.net(context).data[0, -1].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            tokens.append(int(rng.choice(len(p), p=p / p.sum())))
        return np.array(tokens[len(prompt) :], dtype=np.int64)

    # ----------------------------------------------------------------------- state dict

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters under torch's keys: ``"1.weight_ih_l0"``, ..."""
        return {_torch_key(k): t.data.copy() for k, t in self.net.state_dict().items()}

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy torch-keyed arrays in; wrong keys, shapes, dtypes or values raise ValueError."""
        names = {_torch_key(k): k for k, _ in self.net.named_parameters()}
        expected = {_torch_key(k): p.shape for k, p in self.net.named_parameters()}
        checked = check_state_dict(state, expected, self.dtype)
        self.net.load_state_dict({names[k]: v for k, v in checked.items()})

    # --------------------------------------------------------------------------- checks

    def _check(self, X: object, shape: tuple[int, ...] | None = None, name: str = "X") -> Tokens:
        array = np.asarray(X)
        if array.dtype.kind not in "iu":
            raise ValueError(f"{name} has dtype {array.dtype}: expected integer token ids")
        if array.ndim != 2 or 0 in array.shape:
            raise ValueError(
                f"{name} has shape {array.shape}: expected (n, T) token ids, n, T >= 1"
            )
        if shape is not None and array.shape != shape:
            raise ValueError(f"{name} has shape {array.shape}: expected X's shape {shape}")
        bad = np.argwhere((array < 0) | (array >= self.vocabulary))
        if len(bad):
            i, t = bad[0]
            raise ValueError(
                f"{name}[{i}, {t}] = {array[i, t]} is not a token id: expected ids in "
                f"[0, {self.vocabulary})"
            )
        return array.astype(np.int64, copy=False)

    @staticmethod
    def _diverged(epoch: int, batch: int, loss: float) -> NoReturn:
        raise FloatingPointError(
            f"training diverged at epoch {epoch}, batch {batch}: the loss is {loss}. "
            "Try a lower learning_rate or clip_grad_norm."
        )

    def __repr__(self) -> str:
        return f"SequenceNetwork({self.layers!r}, seed={self.seed}, dtype={self.dtype.name!r})"


def clip_grad_norm(params: Sequence[nn.Parameter], max_norm: float) -> float:
    r"""torch's ``clip_grad_norm_``: scale every gradient by
    :math:`\min(1, \text{max\_norm} / (\lVert g \rVert + 10^{-6}))`, the norm over all of them."""
    grads = [p.grad.data for p in params if p.grad is not None]
    total = math.sqrt(math.fsum(float(np.sum(g * g)) for g in grads))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g *= scale
    return total


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
    name, args, kwargs = parse_entry(spec, "spec")
    if name not in SequenceNetwork.supported_layers:
        raise ValueError(f"spec = {spec!r}: autograd does not build {name}")
    if name not in ("ReLU", "Tanh", "Sigmoid"):
        kwargs["dtype"] = np.float64
    module = getattr(nn, name)(*args, **kwargs)
    if name in ATTENTION:
        module = Causal(module)
    named = {_torch_key(k): k for k, _ in module.named_parameters()}
    module.load_state_dict({named[k]: np.asarray(v) for k, v in state.items()})
    floating = np.asarray(x).dtype.kind == "f"
    inputs = Tensor(x, requires_grad=True) if floating else np.asarray(x)
    out = module(inputs)
    parts = list(out) if isinstance(out, tuple) else [out]
    if name in RECURRENT:  # (output, h_n) or (output, (h_n, c_n))
        parts = [parts[0], *(parts[1] if isinstance(parts[1], tuple) else [parts[1]])]
    total = sum(
        ((p * Tensor(g)).sum() for p, g in zip(parts, cotangents, strict=True)), Tensor(0.0)
    )
    total.backward()
    params = dict(module.named_parameters())
    grads = {
        k: np.zeros_like(params[n].data) if params[n].grad is None else params[n].grad.data
        for k, n in named.items()
    }
    dL_dx = None
    if floating:
        assert isinstance(inputs, Tensor)
        dL_dx = np.zeros_like(inputs.data) if inputs.grad is None else inputs.grad.data
    return [p.detach().data for p in parts], dL_dx, grads

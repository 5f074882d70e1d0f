"""The torch side of the sequence checks: a sequence spec as ``nn.Sequential``.

A spec entry is a ``torch.nn`` constructor call (``docs/protocol.md``, *Sequence models*);
three kinds are rebuilt with a small subclass so that ``nn.Sequential`` can chain them
while the state-dict keys stay torch's own:

* a recurrent entry returns only its output sequence (``output[0]``);
* an attention or Transformer entry is applied with the causal mask;
* ``PositionalEmbedding(T_max, d)`` is an ``nn.Embedding`` whose forward adds its first T
  rows to the input.
"""

from __future__ import annotations

import ast
import importlib
import math
import zlib
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from .checks import Measurement, _within
from .registry import Implementation
from .tolerances import TOLERANCES

TORCH_DTYPES: Final = {"float32": torch.float32, "float64": torch.float64}


class RNN(nn.RNN):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)[0]  # the output sequence only


class LSTM(nn.LSTM):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)[0]


class GRU(nn.GRU):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)[0]


def causal_mask(T: int, dtype: torch.dtype) -> torch.Tensor:
    """-inf above the diagonal: position t attends to 0..t."""
    return nn.Transformer.generate_square_subsequent_mask(T, dtype=dtype)


class MultiheadAttention(nn.MultiheadAttention):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        mask = causal_mask(x.shape[1], x.dtype)
        out: torch.Tensor = super().forward(
            x, x, x, attn_mask=mask, need_weights=False, is_causal=True
        )[0]
        return out


class TransformerEncoderLayer(nn.TransformerEncoderLayer):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out: torch.Tensor = super().forward(
            x, src_mask=causal_mask(x.shape[1], x.dtype), is_causal=True
        )
        return out


class PositionalEmbedding(nn.Embedding):
    """A learned row per position, added: ``x + weight[:T]``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight[: x.shape[1]]


SEQUENCE_MODULES: Final[dict[str, type[nn.Module]]] = {
    "Embedding": nn.Embedding,
    "PositionalEmbedding": PositionalEmbedding,
    "Linear": nn.Linear,
    "LayerNorm": nn.LayerNorm,
    "ReLU": nn.ReLU,
    "Tanh": nn.Tanh,
    "Sigmoid": nn.Sigmoid,
    "RNN": RNN,
    "LSTM": LSTM,
    "GRU": GRU,
    "MultiheadAttention": MultiheadAttention,
    "TransformerEncoderLayer": TransformerEncoderLayer,
}


def entry(text: str) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """``"LSTM(4, 8, batch_first=True)"`` -> name, positional and keyword literals."""
    node = ast.parse(text.strip(), mode="eval").body
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ValueError(f"{text!r} is not a constructor call such as 'LSTM(4, 8)'")
    args = tuple(ast.literal_eval(a) for a in node.args)
    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg is not None}
    return node.func.id, args, kwargs


def torch_module(text: str, dtype: str = "float64") -> nn.Module:
    """One spec entry as its torch reference module."""
    name, args, kwargs = entry(text)
    if name not in SEQUENCE_MODULES:
        raise ValueError(f"{text!r}: no torch reference for {name!r}")
    return SEQUENCE_MODULES[name](*args, **kwargs).to(TORCH_DTYPES[dtype])


def torch_sequential(layers: list[str], dtype: str = "float64") -> nn.Sequential:
    """The ``nn.Sequential`` a sequence spec describes, in ``dtype``."""
    return nn.Sequential(*(torch_module(text, dtype) for text in layers))


# --------------------------------------------------------------------------- the checks
#
# An implementation that models sequences exports, from the package its entry point names
# (``fromscratch.autograd``), beside ``RECIPES``:
#
# * ``layer_vjp(spec, state, x, cotangents) -> (outputs, dL_dx, grads)``: one spec entry
#   alone in float64, every output (the sequence, and a recurrent entry's final states)
#   sent back with its own cotangent;
# * ``SequenceNetwork(layers, seed=, dtype=)``: the Model protocol for (n, T) token windows.
#
# Where either is missing, or refuses an entry with ValueError, the check is "not
# applicable", with that reason: never a pass.


@dataclass(frozen=True)
class LayerCase:
    """One spec entry and the shape of its input: (n, T) ids or (n, T, features)."""

    spec: str
    shape: tuple[int, ...]

    @property
    def id(self) -> str:
        return f"{self.spec} on {'x'.join(map(str, self.shape))}"


def layer_cases() -> list[LayerCase]:
    """Every sequence layer, at several lengths and batch sizes, one and two layers, and
    the causal mask of attention (a batch of one, a sequence of one step included)."""
    cases = [
        LayerCase("Embedding(7, 5)", (3, 4)),
        LayerCase("PositionalEmbedding(9, 4)", (2, 6, 4)),
        LayerCase("LayerNorm(4)", (2, 5, 4)),
        LayerCase("Linear(4, 3)", (2, 5, 4)),
    ]
    for kind in ("RNN", "LSTM", "GRU"):
        for layers, (n, T) in ((1, (1, 1)), (1, (3, 6)), (2, (2, 5)), (2, (4, 9))):
            cases.append(
                LayerCase(f"{kind}(3, 4, num_layers={layers}, batch_first=True)", (n, T, 3))
            )
    cases.append(LayerCase("RNN(3, 4, nonlinearity='relu', batch_first=True)", (2, 5, 3)))
    for n, T in ((1, 1), (2, 5), (3, 8)):
        cases.append(LayerCase("MultiheadAttention(8, 2, batch_first=True)", (n, T, 8)))
        for norm_first in (True, False):
            cases.append(
                LayerCase(
                    f"TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, "
                    f"norm_first={norm_first})",
                    (n, T, 8),
                )
            )
    return cases


def _package(impl: Implementation) -> Any:
    return importlib.import_module(".".join(impl.factory.__module__.split(".")[:2]))


def _inputs(case: LayerCase, rng: np.random.Generator) -> NDArray[Any]:
    if case.spec.startswith("Embedding"):
        V = int(entry(case.spec)[1][0])
        return rng.integers(0, V, size=case.shape)
    return rng.normal(size=case.shape)


def _torch_layer(spec: str) -> nn.Module:
    """The entry's torch module in float64; a recurrent one plain, with its final states."""
    name, args, kwargs = entry(spec)
    if name in ("RNN", "LSTM", "GRU"):
        return getattr(nn, name)(*args, **kwargs).double()  # type: ignore[no-any-return]
    return torch_module(spec, "float64")


def _torch_outputs(module: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    out = module(x)
    if isinstance(out, tuple):  # (output, h_n) or (output, (h_n, c_n))
        output, state = out
        return [output, *(state if isinstance(state, tuple) else (state,))]
    return [out]


def sequence_layer_vs_torch(impl: Implementation, case: LayerCase) -> Measurement:
    """One entry's outputs (and final states), the gradient of its input and of every
    parameter under random cotangents on all outputs, against torch in float64."""
    tol = TOLERANCES["gradient_vs_torch"]
    vjp = getattr(_package(impl), "layer_vjp", None)
    if vjp is None:
        return _not_applicable("sequence_layer_vs_torch", impl, case.id, "it offers no layer_vjp")
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    torch.manual_seed(0)
    module = _torch_layer(case.spec)
    with torch.no_grad():  # biases and norms away from torch's zeros and ones: they must count
        for p in module.parameters():
            if p.ndim == 1:
                p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape) + (p == 1).numpy()))
    state = {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}
    x = _inputs(case, rng)
    x_t = torch.tensor(x, requires_grad=x.dtype.kind == "f")
    outputs_t = _torch_outputs(module, x_t)
    cotangents = [
        rng.uniform(0.5, 2, o.shape) * rng.choice([-1.0, 1.0], o.shape) for o in outputs_t
    ]
    try:
        outputs, dL_dx, grads = vjp(case.spec, state, x, cotangents)
    except ValueError as exc:
        return _not_applicable("sequence_layer_vs_torch", impl, case.id, str(exc))
    wanted = [*([x_t] if x_t.requires_grad else []), *module.parameters()]
    expected = torch.autograd.grad(
        outputs_t, wanted, [torch.from_numpy(g) for g in cotangents], allow_unused=True
    )
    reference: dict[str, NDArray[Any]] = {}
    actual: dict[str, NDArray[Any]] = {}
    for k, (o, o_t) in enumerate(zip(outputs, outputs_t, strict=True)):
        reference[f"output {k}"], actual[f"output {k}"] = o_t.detach().numpy(), np.asarray(o)
    names = [*(["input"] if x_t.requires_grad else []), *(n for n, _ in module.named_parameters())]
    for name, g in zip(names, expected, strict=True):
        reference[f"dL/d {name}"] = np.zeros(1) if g is None else g.numpy()
        actual[f"dL/d {name}"] = np.asarray(dL_dx if name == "input" else grads[name])
    worst, where = 0.0, ""
    for key, ref in reference.items():
        got = actual[key]
        if got.shape != ref.shape:
            return _within(
                "sequence_layer_vs_torch",
                impl,
                case.id,
                math.inf,
                problem=f"{key} has shape {got.shape} where torch has {ref.shape}",
            )
        ratio = float(np.max(np.abs(got - ref) / (tol.atol + tol.rtol * np.abs(ref)), initial=0.0))
        if not ratio <= worst:
            worst, where = (math.inf if math.isnan(ratio) else ratio), key
    details: dict[str, Any] = {"worst_entry": where, "outputs": len(outputs_t)}
    if worst > 1:
        details["problem"] = f"{where} differs from torch's (worst error ratio {worst:.3g})"
    return _within("sequence_layer_vs_torch", impl, case.id, worst, **details)


def _not_applicable(check: str, impl: Implementation, case: str, reason: str) -> Measurement:
    """Neither pass nor fail: the implementation does not build this layer."""
    return Measurement(check, impl.name, case, None, None, False, {"not_applicable": reason})


def sequence_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The protocol's loss: cross-entropy over all n·T positions."""
    z = model(X)
    return nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))


@dataclass(frozen=True)
class SequenceTrainingCase:
    """A small character model that ``fit`` trains for 50 steps, replayed in torch."""

    name: str
    layers: tuple[str, ...]
    learning_rate: float
    options: dict[str, Any]

    @property
    def id(self) -> str:
        return self.name


SEQUENCE_ROWS: Final = 23
SEQUENCE_T: Final = 6
SEQUENCE_BATCH: Final = 5
SEQUENCE_EPOCHS: Final = 10
"""Five batches of windows an epoch, the last of three: fifty steps."""


def sequence_training_cases() -> list[SequenceTrainingCase]:
    """A character LSTM (two layers) under Adam, a GRU and RNN stack under Nesterov with
    weight decay, and a causal Transformer under SGD with momentum, all but one cosine.

    Not Adam for the Transformer: the gradient of attention's key bias is exactly zero
    (adding q . b_k to every score of a row leaves its softmax unchanged), so
    both sides compute round-off there, different round-off, and Adam divides each by its
    own root mean square: noise of 1e-18 becomes steps of the learning rate's size, in
    random directions (measured: 1.5e-4 apart after 50 steps). Under SGD it stays noise.
    """
    V = 11
    return [
        SequenceTrainingCase(
            "lstm-adam-cosine",
            (f"Embedding({V}, 4)", "LSTM(4, 6, num_layers=2, batch_first=True)", f"Linear(6, {V})"),
            0.01,
            {"optimizer": "adam", "schedule": "cosine"},
        ),
        SequenceTrainingCase(
            "gru-rnn-nesterov-decay",
            (
                f"Embedding({V}, 4)",
                "GRU(4, 5, batch_first=True)",
                "RNN(5, 6, batch_first=True)",
                f"Linear(6, {V})",
            ),
            0.1,
            {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
        ),
        SequenceTrainingCase(
            "transformer-sgd-momentum-cosine",
            (
                f"Embedding({V}, 8)",
                f"PositionalEmbedding({SEQUENCE_T}, 8)",
                "TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)",
                "TransformerEncoderLayer(8, 2, 12, dropout=0.0, batch_first=True)",
                "LayerNorm(8)",
                f"Linear(8, {V})",
            ),
            0.1,
            {"momentum": 0.9, "weight_decay": 1e-2, "schedule": "cosine"},
        ),
    ]


def sequence_training_vs_torch(impl: Implementation, case: SequenceTrainingCase) -> Measurement:
    """Fifty float64 steps of the implementation's ``SequenceNetwork.fit`` from one
    torch-initialised state dict, against ``torch.optim`` on the same windows in order."""
    factory = getattr(_package(impl), "SequenceNetwork", None)
    if factory is None:
        return _not_applicable("sequence_training_vs_torch", impl, case.id, "no SequenceNetwork")
    torch.manual_seed(0)
    twin = torch_sequential(list(case.layers), "float64")
    start = {k: v.detach().numpy().copy() for k, v in twin.state_dict().items()}
    try:
        model = factory(list(case.layers), seed=0, dtype="float64")
    except ValueError as exc:
        return _not_applicable("sequence_training_vs_torch", impl, case.id, str(exc))
    model.load_state_dict(start)
    rng = np.random.default_rng(0)
    V = int(entry(case.layers[0])[1][0])
    text = rng.integers(0, V, size=SEQUENCE_ROWS * (SEQUENCE_T + 1))
    windows = text.reshape(SEQUENCE_ROWS, SEQUENCE_T + 1)
    X, y = windows[:, :-1], windows[:, 1:]
    model.fit(
        X,
        y,
        epochs=SEQUENCE_EPOCHS,
        batch_size=SEQUENCE_BATCH,
        learning_rate=case.learning_rate,
        shuffle=False,
        **case.options,
    )
    options = dict(case.options)
    schedule = options.pop("schedule", "constant")
    params = list(twin.parameters())
    step: torch.optim.Optimizer
    if options.pop("optimizer", "sgd") == "adam":
        step = torch.optim.Adam(params, lr=case.learning_rate, **options)
    else:
        step = torch.optim.SGD(params, lr=case.learning_rate, **options)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(step, T_max=SEQUENCE_EPOCHS)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(SEQUENCE_EPOCHS):
        for first in range(0, SEQUENCE_ROWS, SEQUENCE_BATCH):
            rows = slice(first, first + SEQUENCE_BATCH)
            step.zero_grad()
            torch.autograd.backward(sequence_loss(twin, X_t[rows], y_t[rows]))
            step.step()
        if schedule == "cosine":
            cosine.step()
    expected = {k: v.detach().numpy() for k, v in twin.state_dict().items()}
    actual = model.state_dict()
    tol = TOLERANCES["training_vs_torch"]
    worst, where = 0.0, ""
    for key, ref in expected.items():
        ratio = float(np.max(np.abs(actual[key] - ref) / (tol.atol + tol.rtol * np.abs(ref))))
        if not ratio <= worst:
            worst, where = (math.inf if math.isnan(ratio) else ratio), key
    moved = max(float(np.max(np.abs(expected[k] - start[k]))) for k in expected)
    details: dict[str, Any] = {"worst_parameter": where, "moved": moved, "steps": 50}
    if worst > 1:
        details["problem"] = f"after 50 steps {where} is not where torch's is (ratio {worst:.3g})"
    return _within("sequence_training_vs_torch", impl, case.id, worst, **details)


def sequence_plan(impl: Implementation) -> list[partial[Measurement]]:
    """Every sequence check, as zero-argument calls: each layer case, then each training case."""
    calls = [partial(sequence_layer_vs_torch, impl, case) for case in layer_cases()]
    calls += [partial(sequence_training_vs_torch, impl, case) for case in sequence_training_cases()]
    return calls


def split_not_applicable(
    impl: Implementation, measured: list[Measurement]
) -> tuple[list[Measurement], list[dict[str, Any]]]:
    """The measurements that ran, and one row per check for the cases ``impl`` does not
    build (``{check, implementation, cases, reason}``, as the report lists them)."""
    ran = [m for m in measured if "not_applicable" not in m.details]
    reasons: dict[str, list[str]] = {}
    for m in measured:
        if "not_applicable" in m.details:
            reasons.setdefault(m.check, []).append(str(m.details["not_applicable"]))
    builds = getattr(getattr(_package(impl), "SequenceNetwork", None), "supported_layers", None)
    rows = []
    for check, why in reasons.items():
        reason = why[0]
        if builds and len(set(why)) > 1:
            reason = f"{impl.name}'s SequenceNetwork builds {', '.join(sorted(builds))} only"
        rows.append(
            {"check": check, "implementation": impl.name, "cases": len(why), "reason": reason}
        )
    return ran, rows

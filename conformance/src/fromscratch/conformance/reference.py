"""The torch side of every comparison: the same network as ``nn.Sequential``.

Everything the suite knows about "correct" comes from here, so it stays short and
uses torch exactly as a torch user would. A network is the MLP shorthand (sizes) or the
architecture spec, one ``torch.nn`` constructor call per ``nn.Sequential`` entry
(docs/protocol.md): the reference builds it from the spec text alone, with its own small
parser, so it does not trust the parser the implementations share.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any, Final

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

ACTIVATIONS: Final[dict[str, type[nn.Module]]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
}
TORCH_DTYPES: Final = {"float32": torch.float32, "float64": torch.float64}
SPEC_LAYERS: Final[dict[str, type[nn.Module]]] = {
    name: getattr(nn, name)
    for name in (
        *("Linear", "ReLU", "Sigmoid", "Tanh"),
        *("Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Unflatten", "Dropout", "BatchNorm2d"),
    )
}
"""The ``torch.nn`` classes a spec may name."""


def is_spec(layers: Sequence[Any]) -> bool:
    """Whether ``layers`` is a list of spec strings rather than the MLP shorthand."""
    return bool(layers) and all(isinstance(entry, str) for entry in layers)


def layer(text: str) -> nn.Module:
    """``"Conv2d(1, 6, 5, padding=2)"`` as the torch module: the text is parsed (never
    evaluated), the name must be in :data:`SPEC_LAYERS`, the arguments must be literals."""
    call = ast.parse(text.strip(), mode="eval").body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        raise ValueError(f"{text!r} is not a call such as 'Conv2d(1, 6, 5)'")
    if call.func.id not in SPEC_LAYERS:
        raise ValueError(f"{text!r}: {call.func.id} is not one of {', '.join(SPEC_LAYERS)}")
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {str(k.arg): ast.literal_eval(k.value) for k in call.keywords}
    return SPEC_LAYERS[call.func.id](*args, **kwargs)


def widths(layers: Sequence[int | str]) -> tuple[int, int]:
    """``(columns of X, outputs per row)``: the first and last sizes of the shorthand; for a
    spec, the first ``Linear``'s inputs or an opening ``Unflatten``'s C*H*W, and the width
    torch's output has."""
    if not is_spec(layers):
        return int(layers[0]), int(layers[-1])
    first = layer(str(layers[0]))
    if isinstance(first, nn.Unflatten):
        n_in = math.prod(first.unflattened_size)
    elif isinstance(first, nn.Linear):
        n_in = first.in_features
    else:
        raise ValueError(f"layers[0] = {layers[0]!r}: a spec opens with Linear or Unflatten")
    with torch.no_grad(), torch.random.fork_rng():  # leaves torch's global generator as it was
        out = sequential(layers, "relu").eval()(torch.zeros(1, n_in, dtype=torch.float64))
    return n_in, int(out.shape[1])


def sequential(
    layers: Sequence[int | str], activation: str = "relu", dtype: str = "float64"
) -> nn.Sequential:
    """The ``nn.Sequential`` of a spec, entry for entry; for the shorthand,
    ``Linear, Act, Linear, Act, ..., Linear`` for the given sizes (``activation`` is used
    by the shorthand only: a spec names its activations itself)."""
    if is_spec(layers):
        return nn.Sequential(*(layer(str(text)) for text in layers)).to(TORCH_DTYPES[dtype])
    modules: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(int(size) for size in layers)):
        if i > 0:
            modules.append(ACTIVATIONS[activation]())
        modules.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*modules).to(TORCH_DTYPES[dtype])


def load(model: nn.Sequential, state: Mapping[str, NDArray[Any]]) -> nn.Sequential:
    """Load a numpy state dict unchanged, the way the protocol promises it loads."""
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return model


def loss_fn(loss: str, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The torch loss that defines each protocol loss name."""
    if loss == "cross_entropy":
        return nn.functional.cross_entropy(logits, y)
    if loss == "bce":
        return nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y.to(logits.dtype))
    if loss == "mse":
        target = nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype)
        return nn.functional.mse_loss(logits, target)
    raise ValueError(f"unknown loss {loss!r}")


def probabilities(loss: str, logits: torch.Tensor) -> torch.Tensor:
    """``predict_proba`` as the protocol defines it for each loss."""
    if loss == "bce":
        p = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - p, p], dim=1)
    return torch.softmax(logits, dim=1)


def loss_and_gradients(
    model: nn.Sequential, loss: str, X: NDArray[Any], y: NDArray[Any]
) -> tuple[float, dict[str, NDArray[np.float64]]]:
    """The mean loss and its gradient for every parameter, by torch autograd."""
    names, params = zip(*model.named_parameters(), strict=True)
    out = loss_fn(loss, model(torch.from_numpy(X)), torch.from_numpy(y))
    grads = torch.autograd.grad(out, params)
    return float(out.item()), {n: g.numpy().copy() for n, g in zip(names, grads, strict=True)}


def forward(
    model: nn.Sequential, loss: str, X: NDArray[Any], y: NDArray[Any]
) -> tuple[NDArray[Any], float]:
    """``(predict_proba(X), loss(X, y))`` from torch."""
    with torch.no_grad():
        logits = model(torch.from_numpy(X))
        proba = probabilities(loss, logits).numpy()
        value = float(loss_fn(loss, logits, torch.from_numpy(y)).item())
    return proba, value


def train(
    model: nn.Sequential,
    loss: str,
    X: NDArray[Any],
    y: NDArray[Any],
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    schedule: str = "constant",
) -> dict[str, NDArray[Any]]:
    """Train as ``fit(..., shuffle=False, **options)`` promises; return the final state dict.

    The rows go in order, ``batch_size`` at a time (the last batch may be smaller), one
    ``torch.optim`` step per batch; ``schedule="cosine"`` is ``CosineAnnealingLR(T_max=epochs)``
    stepped after each epoch. Adam keeps torch's ``betas=(0.9, 0.999)`` and ``eps=1e-8``.
    """
    params = list(model.parameters())
    step: torch.optim.Optimizer
    if optimizer == "adam":
        step = torch.optim.Adam(params, lr=learning_rate, weight_decay=weight_decay)
    else:
        step = torch.optim.SGD(
            params,
            lr=learning_rate,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
        )
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(step, T_max=epochs)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            rows = slice(start, start + batch_size)
            step.zero_grad()
            torch.autograd.backward(loss_fn(loss, model(X_t[rows]), y_t[rows]))
            step.step()
        if schedule == "cosine":
            cosine.step()
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def pre_activations(model: nn.Sequential, X: NDArray[Any]) -> list[NDArray[Any]]:
    """The output of every ``Linear``: lets a check prove it really hit a kink."""
    zs: list[NDArray[Any]] = []
    h = torch.from_numpy(X)
    with torch.no_grad():
        for module in model:
            h = module(h)
            if isinstance(module, nn.Linear):
                zs.append(h.numpy().copy())
    return zs

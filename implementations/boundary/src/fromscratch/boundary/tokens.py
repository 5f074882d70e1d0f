"""What every sequence model shares around its math: checking token windows, sampling.

``check_tokens`` is the boundary's check of ``X`` and ``y`` for a model of text: int
(n, T) token ids, each in ``[0, vocabulary)``. ``sample`` draws text one token at a time
from any model's next-token logits at temperature τ: token k with probability
:math:`\\mathrm{softmax}(z / τ)_k`, the drawn token appended and the model run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Tokens = NDArray[np.int64]


def check_tokens(
    X: object, vocabulary: int, *, name: str = "X", shape: tuple[int, ...] | None = None
) -> Tokens:
    """``X`` as int64 (n, T) token ids in ``[0, vocabulary)``, else ValueError naming the
    first offending entry; with ``shape``, ``X`` must have it (``y`` must match ``X``)."""
    array = np.asarray(X)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} has dtype {array.dtype}: expected integer token ids")
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"{name} has shape {array.shape}: expected (n, T) token ids, n, T >= 1")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}: expected X's shape {shape}")
    bad = np.argwhere((array < 0) | (array >= vocabulary))
    if len(bad):
        i, t = bad[0]
        raise ValueError(
            f"{name}[{i}, {t}] = {array[i, t]} is not a token id: expected ids in [0, {vocabulary})"
        )
    return array.astype(np.int64, copy=False)


def sample(
    last_logits: Callable[[Tokens], NDArray[Any]],
    prompt: Sequence[int] | NDArray[np.integer[Any]],
    length: int,
    *,
    temperature: float = 0.8,
    seed: int = 0,
    context: int = 0,
) -> Tokens:
    """``length`` tokens after ``prompt``. ``last_logits(window)`` is the model's logits
    for the token after a (1, t) window; it reads the last ``context`` tokens (0: all)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    rng = np.random.default_rng(seed)
    tokens = [int(t) for t in prompt]
    for _ in range(length):
        window = tokens[-context:] if context else tokens
        z = np.asarray(last_logits(np.array([window], dtype=np.int64)), dtype=np.float64)
        z = z / temperature
        p = np.exp(z - z.max())
        tokens.append(int(rng.choice(len(p), p=p / p.sum())))
    drawn: Tokens = np.array(tokens[len(prompt) :], dtype=np.int64)
    return drawn

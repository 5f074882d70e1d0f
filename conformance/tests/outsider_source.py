"""An MLP as someone outside this project would write it, from docs/protocol.md alone.

NumPy only, it imports nothing of fromscratch. ``test_outsider.py`` copies it into a package
of its own outside the repository, registers it by entry point, holds it to torch with the
suite and the report, and plants bugs in copies of it. It is not one of the project's
implementations and is never installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "breast_cancer": {
        "model": {"layers": [30, 16, 2], "activation": "relu", "seed": 0, "dtype": "float64"},
        "fit": {"epochs": 40, "batch_size": 32, "learning_rate": 0.05},
    },
    "mnist": {  # the test leaves MNIST out (--dataset breast_cancer)
        "model": {"layers": [784, 128, 10], "activation": "relu", "seed": 0, "dtype": "float32"},
        "fit": {"epochs": 10, "batch_size": 64, "learning_rate": 0.1},
    },
}

Array = NDArray[Any]
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    # name: (f(z), f'(z)); relu'(0) = 0 as in torch
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
}
LOSSES = ("cross_entropy", "bce", "mse")
FIT_OPTIONS: dict[str, Any] = {  # docs/protocol.md's options, with torch's defaults
    "shuffle": True,
    "optimizer": "sgd",
    "momentum": 0.0,
    "nesterov": False,
    "weight_decay": 0.0,
    "schedule": "constant",
}


class Optimizer:
    """torch.optim.SGD (momentum, Nesterov, weight decay) or Adam, on a state dict."""

    def __init__(self, state: Mapping[str, Array], **settings: Any) -> None:
        self.settings, self.t = settings, 0
        self.m = {k: np.zeros_like(v) for k, v in state.items()}  # momentum buffer or Adam's m
        self.v = {k: np.zeros_like(v) for k, v in state.items()}  # Adam's v

    def __call__(
        self, state: dict[str, Array], grads: Mapping[str, Array], lr: float
    ) -> dict[str, Array]:
        s, self.t = self.settings, self.t + 1
        for k, theta in state.items():
            g = grads[k] + s["weight_decay"] * theta
            if s["optimizer"] == "adam":
                self.m[k] = 0.9 * self.m[k] + 0.1 * g
                self.v[k] = 0.999 * self.v[k] + 0.001 * g * g
                m_hat, v_hat = self.m[k] / (1 - 0.9**self.t), self.v[k] / (1 - 0.999**self.t)
                state[k] = theta - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
                continue
            if s["momentum"]:
                self.m[k] = g if self.t == 1 else s["momentum"] * self.m[k] + g
                g = g + s["momentum"] * self.m[k] if s["nesterov"] else self.m[k]
            state[k] = theta - lr * g
        return state


def softmax(z: Array) -> Array:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class MLP:
    """``Linear, act, ..., Linear``, trained by mini-batch SGD."""

    def __init__(
        self,
        layers: list[int],
        *,
        activation: str = "relu",
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        if len(layers) < 2 or not all(isinstance(n, int) and n > 0 for n in layers):
            raise ValueError(f"layers must hold at least 2 positive sizes, got {layers}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; use one of {list(ACTIVATIONS)}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; use one of {list(LOSSES)}")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"unknown dtype {dtype!r}; use 'float32' or 'float64'")
        if loss == "bce" and layers[-1] != 1:
            raise ValueError(f"loss 'bce' needs layers[-1] == 1 output, got {layers[-1]}")
        if loss != "bce" and layers[-1] < 2:
            raise ValueError(f"loss {loss!r} needs layers[-1] >= 2 outputs, got {layers[-1]}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {seed!r}")
        self.layers, self.activation, self.loss_name = list(layers), activation, loss
        self.seed, self.dtype = seed, np.dtype(dtype)
        self.k = 2 if loss == "bce" else layers[-1]
        rng = np.random.default_rng(seed)
        self.W: list[Array] = []
        self.b: list[Array] = []
        for n_in, n_out in pairwise(layers):
            bound = 1 / np.sqrt(n_in)
            self.W.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(self.dtype))
            self.b.append(rng.uniform(-bound, bound, n_out).astype(self.dtype))

    # ------------------------------------------------------------------ the math

    def _forward(self, X: Array) -> tuple[list[Array], list[Array]]:
        """Every pre-activation z and activation a (a[0] is X)."""
        f = ACTIVATIONS[self.activation][0]
        a, zs = [X], []
        for i, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            z = a[-1] @ W.T + b
            zs.append(z)
            if i < len(self.W) - 1:
                a.append(f(z))
        return zs, a

    def _loss_and_dL_dz(self, z: Array, y: Array) -> tuple[float, Array]:
        n = len(y)
        if self.loss_name == "bce":
            t = y.astype(z.dtype)[:, None]
            loss = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
            return float(loss), (1 / (1 + np.exp(-z)) - t) / n
        onehot = np.eye(z.shape[1], dtype=z.dtype)[y]
        if self.loss_name == "mse":
            return float(np.mean((z - onehot) ** 2)), 2 * (z - onehot) / z.size
        m = z.max(axis=1, keepdims=True)
        log_p = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        return float(-np.mean(log_p[np.arange(n), y])), (softmax(z) - onehot) / n

    def gradients(self, X: Array, y: Array) -> tuple[float, dict[str, Array]]:
        X, y = self._X(X), self._y(y, len(X))
        zs, a = self._forward(X)
        loss, dL_dz = self._loss_and_dL_dz(zs[-1], y)
        df = ACTIVATIONS[self.activation][1]
        grads: dict[str, Array] = {}
        for i in reversed(range(len(self.W))):
            grads[f"{2 * i}.weight"] = dL_dz.T @ a[i]
            grads[f"{2 * i}.bias"] = dL_dz.sum(axis=0)
            if i > 0:
                dL_dz = (dL_dz @ self.W[i]) * df(zs[i - 1])
        return loss, {k: grads[k] for k in self.state_dict()}

    # ------------------------------------------------------------------ the protocol

    def predict_proba(self, X: Array) -> Array:
        z = self._forward(self._X(X))[0][-1]
        if self.loss_name == "bce":
            p = 1 / (1 + np.exp(-z[:, 0]))
            return np.stack([1 - p, p], axis=1)
        return softmax(z)

    def predict(self, X: Array) -> NDArray[np.int64]:
        return self.predict_proba(X).argmax(axis=1).astype(np.int64)

    def loss(self, X: Array, y: Array) -> float:
        X, y = self._X(X), self._y(y, len(X))
        return self._loss_and_dL_dz(self._forward(X)[0][-1], y)[0]

    def fit(
        self,
        X: Array,
        y: Array,
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        callback: Callable[[int, Mapping[str, float]], None] | None = None,
        **options: Any,
    ) -> MLP:
        settings = {**FIT_OPTIONS, **options}
        if unknown := sorted(set(options) - set(FIT_OPTIONS)):
            raise ValueError(
                f"unknown fit option(s) {unknown}; this MLP takes {sorted(FIT_OPTIONS)}"
            )
        if settings["optimizer"] not in ("sgd", "adam"):
            got = settings["optimizer"]
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {got!r}")
        if settings["schedule"] not in ("constant", "cosine"):
            raise ValueError(
                f"schedule must be 'constant' or 'cosine', got {settings['schedule']!r}"
            )
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not np.isfinite(learning_rate) or learning_rate <= 0:
            raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate}")
        if callback is not None and not callable(callback):
            raise ValueError(f"callback must be callable(epoch, metrics), got {callback!r}")
        X, y = self._X(X), self._y(y, len(X))
        rng = np.random.default_rng(self.seed)
        step = Optimizer(self.state_dict(), **settings)
        with np.errstate(all="ignore"):  # a diverging run is reported below, not warned about
            for epoch in range(1, epochs + 1):
                # torch's CosineAnnealingLR(T_max=epochs), stepped after each epoch
                lr = learning_rate
                if settings["schedule"] == "cosine":
                    lr = learning_rate * (1 + math.cos(math.pi * (epoch - 1) / epochs)) / 2
                losses = []
                order = rng.permutation(len(X)) if settings["shuffle"] else np.arange(len(X))
                for start in range(0, len(X), batch_size):
                    rows = order[start : start + batch_size]
                    loss, grads = self.gradients(X[rows], y[rows])
                    if not np.isfinite(loss):
                        raise FloatingPointError(
                            f"the loss became {loss} in epoch {epoch}: lower the learning_rate"
                        )
                    self._set(step(self.state_dict(), grads, lr))
                    losses.append(loss)
                if callback is not None:
                    callback(epoch, {"loss": float(np.mean(losses))})
        return self

    def state_dict(self) -> dict[str, Array]:
        state = {}
        for i, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = W.copy(), b.copy()
        return state

    def load_state_dict(self, state: Mapping[str, Array]) -> None:
        expected = self.state_dict()
        missing, unexpected = set(expected) - set(state), set(state) - set(expected)
        if missing or unexpected:
            raise ValueError(
                f"state dict: missing keys {sorted(missing)}, unexpected keys {sorted(unexpected)}"
            )
        for key, like in expected.items():
            value = np.asarray(state[key])
            if value.shape != like.shape:
                raise ValueError(f"state[{key!r}] has shape {value.shape}, expected {like.shape}")
            if value.dtype != self.dtype:
                raise ValueError(f"state[{key!r}] has dtype {value.dtype}, expected {self.dtype}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"state[{key!r}] holds NaN or inf: every entry must be finite")
        self._set(state)

    def _set(self, state: Mapping[str, Array]) -> None:
        self.W = [np.array(state[f"{2 * i}.weight"]) for i in range(len(self.W))]
        self.b = [np.array(state[f"{2 * i}.bias"]) for i in range(len(self.b))]

    # ------------------------------------------------------------------ input checks

    def _X(self, X: Array) -> Array:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n, {self.layers[0]}), got shape {X.shape}")
        if X.dtype.kind not in "iuf":
            raise ValueError(f"X must hold real numbers, got dtype {X.dtype}")
        if len(X) == 0:
            raise ValueError("X is empty: it has no rows")
        if X.shape[1] != self.layers[0]:
            raise ValueError(f"X has {X.shape[1]} columns, expected {self.layers[0]}")
        bad = np.argwhere(~np.isfinite(X))
        if len(bad):
            row, col = bad[0]
            raise ValueError(f"X[{row}, {col}] = {X[row, col]}: every entry must be finite")
        with np.errstate(over="ignore"):
            cast = X.astype(self.dtype)
        if len(bad := np.argwhere(~np.isfinite(cast))):
            row, col = bad[0]
            raise ValueError(f"X[{row}, {col}] = {X[row, col]} overflows {self.dtype}")
        return cast

    def _y(self, y: Array, n: int) -> NDArray[np.int64]:
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {y.shape}")
        if y.dtype.kind not in "iu":
            raise ValueError(f"y must hold integer labels, got dtype {y.dtype}")
        if len(y) != n:
            raise ValueError(f"y has {len(y)} labels for {n} rows of X")
        bad = np.flatnonzero((y < 0) | (y >= self.k))
        if len(bad):
            raise ValueError(f"y[{bad[0]}] = {y[bad[0]]}: expected labels in [0, {self.k})")
        return y.astype(np.int64)

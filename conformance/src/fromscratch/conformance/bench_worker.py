"""One contender's epochs, timed in a process of its own: the worker side of the bench.

:mod:`fromscratch.conformance.bench` starts this module once per contender and process::

    python -m fromscratch.conformance.bench_worker '{"contender": "matrix", ...}'

and reads one JSON object from its last line of output. A process holds one contender
only, so no other library's thread pool is alive beside it: after a NumPy epoch,
OpenBLAS's threads still spin for a while, and torch's OpenMP threads would compete with
them for the cores (on two cores that cost torch about a quarter of its speed).

The workload is fixed: a 784-128-64-10 relu MLP, cross-entropy, float32, plain SGD with
learning rate 0.1, batch 128, one shuffled pass over the training rows per epoch; or,
with ``"workload": "lenet"``, the LeNet-5 of :data:`LENET` (two 5x5 convolutions, max
pooling, three dense layers: the ``mnist_cnn`` recipes' network), batch 64, learning
rate 0.05; or, with ``"lstm"`` or ``"transformer"``, a character model of
:mod:`~fromscratch.conformance.text` trained with Adam on 640 windows of 64 Tiny
Shakespeare characters (20 steps of 32) per epoch. Each contender runs it the way its
users would:

* an implementation of this project: ``model.fit(X, y, epochs=1, ...)``;
* ``torch``: the loop of every torch tutorial (``randperm``, ``zero_grad``, forward,
  loss, ``backward``, ``step``), eager;
* ``torch.compile``: the same loop, on ``torch.compile(model)``;
* ``sklearn``: ``MLPClassifier(solver="sgd", ...).partial_fit``, which is one epoch.

Only the modules a contender needs are imported: a NumPy contender's process never loads
torch.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.recipes import LENET5
from fromscratch.conformance.text import LSTM_LAYERS, TRANSFORMER_LAYERS

LAYERS: Final = [784, 128, 64, 10]
BATCH_SIZE: Final = 128
LEARNING_RATE: Final = 0.1
SEED: Final = 0

LENET: Final = LENET5
"""The LeNet-5 of the CNN bench and of the ``mnist_cnn`` recipes, as the architecture spec
(``docs/protocol.md``)."""


@dataclass(frozen=True)
class Workload:
    """What one epoch trains: the network (sizes or spec), the batch and the rate; a text
    workload (``text``) trains a sequence model with Adam on Tiny Shakespeare windows."""

    layers: list[Any]
    batch_size: int
    learning_rate: float
    described: str
    text: bool = False


TEXT_WINDOWS: Final = 20 * 32
"""A text workload's epoch: 640 windows of 64 characters, 20 steps of 32 (``n_train``
overrides the count)."""
T: Final = 64

WORKLOADS: Final = {
    "mlp": Workload(LAYERS, BATCH_SIZE, LEARNING_RATE, "784-128-64-10 relu MLP"),
    "lenet": Workload(LENET, 64, 0.05, "LeNet-5 (conv 6@5x5, pool, conv 16@5x5, pool, 120, 84)"),
    "lstm": Workload(
        list(LSTM_LAYERS), 32, 4e-3, "character LSTM (Embedding 65x64, LSTM 64-256, Linear)", True
    ),
    "transformer": Workload(
        list(TRANSFORMER_LAYERS),
        32,
        2e-3,
        "causal Transformer (Embedding 65x128, positions, 3 pre-norm layers of 4 heads, d 128, "
        "feed-forward 512)",
        True,
    ),
}
"""The bench's workloads by name; ``"mlp"`` is the default. The text ones are the models of
:data:`fromscratch.conformance.text.MODELS`."""

Epoch = Callable[[], None]
Data = tuple[NDArray[np.float32], NDArray[np.int64]]


def torch_text_epoch(X: NDArray[np.int64], y: NDArray[np.int64], workload: Workload) -> Epoch:
    """One pass of torch's training loop over the windows, with Adam, as ``fit`` does it."""
    import torch

    from fromscratch.conformance.sequence import sequence_loss, torch_sequential

    torch.manual_seed(SEED)
    model = torch_sequential(workload.layers, "float32")
    optimizer = torch.optim.Adam(model.parameters(), lr=workload.learning_rate)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

    def epoch() -> None:
        order = torch.randperm(len(X_t))
        for start in range(0, len(X_t), workload.batch_size):
            idx = order[start : start + workload.batch_size]
            optimizer.zero_grad()
            torch.autograd.backward(sequence_loss(model, X_t[idx], y_t[idx]))
            optimizer.step()

    return epoch


def torch_epoch(
    X: NDArray[np.float32],
    y: NDArray[np.int64],
    *,
    compile: bool = False,
    workload: Workload = WORKLOADS["mlp"],
) -> Epoch:
    """One epoch of the standard torch training loop; ``compile`` wraps the model first."""
    import torch

    from fromscratch.conformance.reference import sequential

    torch.manual_seed(SEED)
    if workload.text:
        return torch_text_epoch(X, y, workload)  # type: ignore[arg-type]
    if workload.layers == LAYERS:
        model = torch.nn.Sequential(
            torch.nn.Linear(LAYERS[0], LAYERS[1]),
            torch.nn.ReLU(),
            torch.nn.Linear(LAYERS[1], LAYERS[2]),
            torch.nn.ReLU(),
            torch.nn.Linear(LAYERS[2], LAYERS[3]),
        )
    else:  # a spec, built as the conformance suite builds its reference
        model = sequential(workload.layers, "relu", dtype="float32")
    optimizer = torch.optim.SGD(model.parameters(), lr=workload.learning_rate)
    batch_size = workload.batch_size
    loss_fn = torch.nn.CrossEntropyLoss()
    forward = torch.compile(model) if compile else model
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

    def epoch() -> None:
        order = torch.randperm(len(X_t))
        for start in range(0, len(X_t), batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(forward(X_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()

    return epoch


def sklearn_epoch(
    X: NDArray[np.float32], y: NDArray[np.int64], workload: Workload = WORKLOADS["mlp"]
) -> Epoch:
    """One epoch of scikit-learn's ``MLPClassifier``: ``partial_fit`` makes one pass.

    Plain SGD like the others: no momentum, no L2 penalty (``alpha=0``), a constant rate.
    scikit-learn keeps float32 input in float32. It has no convolutional network.
    """
    from sklearn.neural_network import MLPClassifier

    if workload.layers != LAYERS:
        raise ValueError("scikit-learn has no convolutional network: it runs the MLP only")

    model = MLPClassifier(
        hidden_layer_sizes=tuple(LAYERS[1:-1]),
        activation="relu",
        solver="sgd",
        alpha=0.0,
        batch_size=BATCH_SIZE,
        learning_rate="constant",
        learning_rate_init=LEARNING_RATE,
        momentum=0.0,
        nesterovs_momentum=False,
        shuffle=True,
        random_state=SEED,
    )
    classes = np.arange(LAYERS[-1])

    def epoch() -> None:
        model.partial_fit(X, y, classes=classes)

    return epoch


def implementation_epoch(
    name: str, X: NDArray[np.float32], y: NDArray[np.int64], workload: Workload = WORKLOADS["mlp"]
) -> Epoch:
    """One epoch of ``fit`` of the installed implementation ``name``."""
    from fromscratch.conformance.registry import discover

    installed = discover()
    if name not in installed:
        known = ", ".join([*BUILT_IN, *installed])
        raise ValueError(f"no contender named {name!r}; known: {known}")
    impl = installed[name]
    if workload.text:
        return text_epoch(impl, X, y, workload)  # type: ignore[arg-type]
    model = impl.build(
        workload.layers, activation="relu", loss="cross_entropy", seed=SEED, dtype="float32"
    )

    def epoch() -> None:
        model.fit(
            X, y, epochs=1, batch_size=workload.batch_size, learning_rate=workload.learning_rate
        )

    return epoch


def sequence_network(impl: Any) -> Any:
    """The ``SequenceNetwork`` class of an implementation's package, or None."""
    package = importlib.import_module(".".join(impl.factory.__module__.split(".")[:2]))
    return getattr(package, "SequenceNetwork", None)


def text_epoch(impl: Any, X: NDArray[np.int64], y: NDArray[np.int64], workload: Workload) -> Epoch:
    """One epoch of ``SequenceNetwork.fit`` with Adam, as a user of the implementation trains."""
    network = sequence_network(impl)
    if network is None:
        raise ValueError(f"{impl.name} has no SequenceNetwork: it trains no text workload")
    model = network(workload.layers, seed=SEED, dtype="float32")

    def epoch() -> None:
        model.fit(
            X,
            y,
            epochs=1,
            batch_size=workload.batch_size,
            learning_rate=workload.learning_rate,
            optimizer="adam",
        )

    return epoch


BUILT_IN: Final[dict[str, Callable[[NDArray[np.float32], NDArray[np.int64], Workload], Epoch]]] = {
    "torch": lambda X, y, w: torch_epoch(X, y, workload=w),
    "torch.compile": lambda X, y, w: torch_epoch(X, y, compile=True, workload=w),
    "sklearn": sklearn_epoch,
}
"""Contenders that are not implementations of this project, by name."""


def build(
    contender: str,
    X: NDArray[np.float32],
    y: NDArray[np.int64],
    workload: Workload = WORKLOADS["mlp"],
) -> Epoch:
    if contender in BUILT_IN:
        return BUILT_IN[contender](X, y, workload)
    return implementation_epoch(contender, X, y, workload)


def load_text(n_windows: int | None) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The first ``n_windows`` (default :data:`TEXT_WINDOWS`) non-overlapping windows of the
    Tiny Shakespeare training text: X the first 64 characters of each, y the next."""
    from fromscratch.datasets import encode_chars, load_tiny_shakespeare

    n = TEXT_WINDOWS if n_windows is None else n_windows
    ids = encode_chars(load_tiny_shakespeare("train"))[: n * (T + 1)].reshape(n, T + 1)
    return np.ascontiguousarray(ids[:, :-1]), np.ascontiguousarray(ids[:, 1:])


def load_data(n_train: int | None) -> Data:
    """The MNIST training rows (the first ``n_train`` of them), float32 in [0, 1]."""
    from fromscratch import datasets

    X, y = datasets.load_mnist("train")
    if n_train is not None:
        X, y = X[:n_train], y[:n_train]
    return np.ascontiguousarray(X, dtype=np.float32), np.ascontiguousarray(y, dtype=np.int64)


# ------------------------------------------------------------------------ what ran


def blas_facts() -> list[dict[str, Any]]:
    """Every native thread pool loaded in this process, as ``threadpoolctl`` sees it.

    For OpenBLAS, ``architecture`` is the kernel it chose for this CPU (or the one
    ``OPENBLAS_CORETYPE`` forced). torch links its MKL statically, which threadpoolctl
    cannot see: :func:`torch_facts` covers it.
    """
    from threadpoolctl import threadpool_info

    facts = []
    for pool in threadpool_info():
        fact = {key: value for key, value in pool.items() if key != "filepath"}
        fact["library"] = os.path.basename(str(pool.get("filepath", "")))
        facts.append(fact)
    return facts


def torch_facts() -> dict[str, Any]:
    """torch's thread count and BLAS, when this process loaded torch; else ``None`` values."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {"torch_threads": None, "torch_blas": None}
    config = torch.__config__.show()
    blas = next((f for f in config.replace(",", " ").split() if f.startswith("BLAS_INFO=")), "")
    return {
        "torch_threads": torch.get_num_threads(),
        "torch_blas": {
            "library": blas.removeprefix("BLAS_INFO=") or None,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        },
    }


# ------------------------------------------------------------------------ the run


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Build the contender, run ``warmup`` epochs, then time ``epochs`` epochs.

    ``sleep_s`` adds a sleep of that many seconds inside each epoch: the bench's own test
    slows a contender by a known amount with it.
    """
    workload = WORKLOADS[spec.get("workload", "mlp")]
    load = load_text if workload.text else load_data
    X, y = load(spec.get("n_train"))
    started = time.perf_counter()
    epoch = build(spec["contender"], X, y, workload)  # type: ignore[arg-type]
    sleep_s = float(spec.get("sleep_s", 0.0))
    warmup_s = []
    for _ in range(int(spec["warmup"])):
        start = time.perf_counter()
        epoch()
        warmup_s.append(time.perf_counter() - start)
    epoch_s, cpu_s = [], []
    for _ in range(int(spec["epochs"])):
        start, cpu = time.perf_counter(), time.process_time()
        epoch()
        if sleep_s:
            time.sleep(sleep_s)
        epoch_s.append(time.perf_counter() - start)
        cpu_s.append(time.process_time() - cpu)
    return {
        "contender": spec["contender"],
        "pid": os.getpid(),
        "build_and_warmup_s": time.perf_counter() - started,
        "warmup_s": warmup_s,
        "epoch_s": epoch_s,
        "cpu_s": cpu_s,
        "blas": blas_facts(),
        **torch_facts(),
    }


def main(argv: list[str]) -> int:
    """Run the spec given as one JSON argument; print the result as one JSON line."""
    spec = json.loads(argv[0])
    try:
        result = run(spec)
    except Exception as exc:  # reported to the parent, which says which contender failed
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        error = f"{type(exc).__name__}: {first_line}"
        print(json.dumps({"contender": spec.get("contender"), "error": error}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

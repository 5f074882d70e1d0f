"""Where one epoch of ``matrix`` goes: CPU time per part of the bench workload.

The bench workload: one MNIST epoch of a 784-128-64-10 relu MLP, batch 128, float32,
plain SGD with learning rate 0.1, one ``fit(epochs=1)`` call. Each part of the library is
wrapped with a CPU-time clock (``time.process_time``, which a busy machine inflates far
less than wall time), the epoch is run ``--epochs`` times, and the fastest epoch's parts
are printed. The wrappers cost about a microsecond per call; "the rest" is the training
loop itself (``fromscratch.boundary.loop``: slicing the shuffled order, ``y[rows]``, the
loss list, the module loops of forward and backward) plus that overhead.

Run it with one BLAS thread (``OPENBLAS_NUM_THREADS=1``) to see the work itself; with
more, CPU time also counts the time BLAS threads spin while they wait for work.

    OPENBLAS_NUM_THREADS=1 python implementations/matrix/scripts/epoch_breakdown.py
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from fromscratch import datasets
from fromscratch.boundary import optim, validation
from fromscratch.matrix import network
from fromscratch.matrix.activations import ActivationLayer
from fromscratch.matrix.layers import Linear

spent: Counter[str] = Counter()


def timed(label: Callable[..., str], function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, adding the CPU time of each call to ``spent[label(*args)]``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        result = function(*args, **kwargs)
        spent[label(*args)] += time.process_time() - start
        return result

    return wrapper


def shape(layer: Linear) -> str:
    return f"{layer.W.shape[1]}->{layer.W.shape[0]}"


def backward_label(layer: Linear, *_: Any) -> str:
    also = ", dL_da_prev" if layer.needs_input_grad else ""
    return f"backward {shape(layer)}: dL_dW, dL_db{also}"


def instrument() -> None:
    """Wrap every part of a training step, in the library's own modules."""
    Linear.forward = timed(
        lambda layer, *_: f"forward {shape(layer)}: z = a W.T + b", Linear.forward
    )
    Linear.backward = timed(backward_label, Linear.backward)
    optim.Optimizer.step = timed(lambda *_: "SGD step (all parameters)", optim.Optimizer.step)
    network.np.take = timed(lambda *_: "gather the batch rows (np.take)", np.take)
    validation.check_X = timed(lambda *_: "validate X (once per fit call)", validation.check_X)
    validation.check_y = timed(lambda *_: "validate y (once per fit call)", validation.check_y)
    ActivationLayer.forward = timed(lambda *_: "relu", ActivationLayer.forward)
    ActivationLayer.backward = timed(lambda *_: "relu backward", ActivationLayer.backward)
    ce = network.LOSSES["cross_entropy"]
    network.LOSSES["cross_entropy"] = dataclasses.replace(
        ce,
        value_and_gradient=timed(lambda *_: "softmax cross-entropy, dL_dz", ce.value_and_gradient),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs to time (the fastest counts)")
    args = parser.parse_args()

    instrument()
    X, y = datasets.load_mnist("train")
    model = network.Network([784, 128, 64, 10], seed=0)

    def epoch() -> None:
        model.fit(X, y, epochs=1, batch_size=128, learning_rate=0.1)

    epoch()  # warm-up
    best: tuple[float, Counter[str]] | None = None
    for _ in range(args.epochs):
        spent.clear()
        start = time.process_time()
        epoch()
        total = time.process_time() - start
        if best is None or total < best[0]:
            best = (total, spent.copy())
    assert best is not None
    total, parts = best
    print(f"one epoch: {1000 * total:.0f} ms CPU (the fastest of {args.epochs})")
    for label, seconds in parts.most_common():
        print(f"  {label:<44}{1000 * seconds:7.1f} ms {100 * seconds / total:5.1f}%")
    rest = total - sum(parts.values())
    label = "the rest (the fit loop, timer overhead)"
    print(f"  {label:<44}{1000 * rest:7.1f} ms {100 * rest / total:5.1f}%")


if __name__ == "__main__":
    main()

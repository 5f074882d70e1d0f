"""Time the ways of evaluating one ES generation's population on an MNIST-sized batch.

Usage (from the repository root)::

    python implementations/evolution/scripts/population_speed.py

One generation of the MNIST recipe: a [784, 32, 10] relu MLP in float32, a batch of 100
rows, 100 antithetic pairs (200 members). Compares, in one process and interleaved:

* ``loop``: one member at a time, a Python loop of ordinary forward passes;
* ``batched``: the population stacked, first layer as per-member ``np.matmul`` calls;
* ``one-gemm``: the population stacked, first layer as one large product (the code's path
  for a general population: GA, hill climbing);
* ``antithetic``: the pairs' shared first layer (the code's path for ES);
* ``noise``: drawing the 100 perturbations with ``standard_normal`` vs from the table.

Prints the median milliseconds of each over ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fromscratch.evolution.activations import relu
from fromscratch.evolution.losses import LOSSES
from fromscratch.evolution.mlp import MLP
from fromscratch.evolution.noise import NoiseTable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=32)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    mlp = MLP((784, args.hidden, 10), relu, LOSSES["cross_entropy"])
    d = mlp.layout.size
    X = rng.random((100, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=100)
    theta = (0.03 * rng.standard_normal(d)).astype(np.float32)
    table = NoiseTable(d, np.dtype("float32"), rng)
    E = table.sample(args.pairs, rng)
    sigma = 0.05
    Theta = np.concatenate([theta + sigma * E, theta - sigma * E])

    def loop() -> Any:
        return [mlp.losses(Theta[p : p + 1], X, y) for p in range(len(Theta))]

    def batched() -> Any:
        (W, b), (W2, b2) = mlp.layout.layers(Theta)
        z = np.matmul(X, W.transpose(0, 2, 1)) + b[:, None, :]
        out = np.matmul(relu(z), W2.transpose(0, 2, 1)) + b2[:, None, :]
        return mlp.criterion.value(out, y)

    contenders: dict[str, Callable[[], Any]] = {
        "loop": loop,
        "batched": batched,
        "one-gemm": lambda: mlp.losses(Theta, X, y),
        "antithetic": lambda: mlp.antithetic_losses(theta, E, sigma, X, y),
        "noise: standard_normal": lambda: rng.standard_normal((args.pairs, d), dtype=np.float32),
        "noise: table": lambda: table.sample(args.pairs, rng),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, f in contenders.items():
            start = time.perf_counter()
            f()
            times[name].append(1e3 * (time.perf_counter() - start))
    print(f"d = {d}, {2 * args.pairs} members, batch 100, float32, median of {args.rounds}")
    for name, t in times.items():
        print(f"{name:>24}: {np.median(t):8.2f} ms")


if __name__ == "__main__":
    main()

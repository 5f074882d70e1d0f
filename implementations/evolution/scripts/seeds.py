"""Train the MNIST recipe once per seed; print test accuracy per epoch, wall and CPU time.

Usage (from the repository root, with FROMSCRATCH_DATA set)::

    python implementations/evolution/scripts/seeds.py --seed 0 --seed 1 --seed 2
    python implementations/evolution/scripts/seeds.py --set population=1000 --set epochs=20

The recipe is ``RECIPES["mnist"]`` with only the model's seed changed, and any ``fit``
argument given with ``--set NAME=VALUE`` (the value read as JSON: ``rank=null``) for
trying other settings. The test accuracy
is evaluated after every epoch inside the callback, and its time is excluded from the
clocks: ``wall`` is training wall time, ``cpu`` this process's CPU time for training
(on a machine shared with other work, the wall time grows with the others' load, the
CPU time much less). The last line per seed is the one to report.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from fromscratch.datasets import load_mnist
from fromscratch.evolution import RECIPES, Network


def train(seed: int, X: Any, y: Any, X_test: Any, y_test: Any, changes: Mapping[str, Any]) -> None:
    """One run of the recipe with the model's seed set to ``seed``, ``fit`` changed."""
    recipe = RECIPES["mnist"]
    model = Network(**{**recipe["model"], "seed": seed})
    excluded_wall = excluded_cpu = 0.0
    wall0, cpu0 = time.perf_counter(), time.process_time()

    def callback(epoch: int, metrics: Mapping[str, float]) -> None:
        nonlocal excluded_wall, excluded_cpu
        w, c = time.perf_counter(), time.process_time()
        accuracy = float(np.mean(model.predict(X_test) == y_test))
        wall = w - wall0 - excluded_wall
        cpu = c - cpu0 - excluded_cpu
        print(
            f"seed {seed} epoch {epoch}: wall {wall:7.1f} s, cpu {cpu:7.1f} s, "
            f"loss {metrics['loss']:.4f}, test accuracy {100 * accuracy:.2f}%",
            flush=True,
        )
        excluded_wall += time.perf_counter() - w
        excluded_cpu += time.process_time() - c

    fit = {**recipe["fit"], **changes}
    print(f"seed {seed}: fit {fit}", flush=True)
    model.fit(X, y, callback=callback, **fit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, action="append", help="model seeds (default 0)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a fit argument"
    )
    args = parser.parse_args()
    changes = {}
    for item in args.set:
        name, _, value = item.partition("=")
        changes[name] = json.loads(value)
    X, y = load_mnist("train")
    X_test, y_test = load_mnist("test")
    for seed in args.seed or [0]:
        train(seed, X, y, X_test, y_test, changes)


if __name__ == "__main__":
    main()

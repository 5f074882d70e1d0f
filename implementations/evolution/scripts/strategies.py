"""Test accuracy against training wall time for each strategy, on both data sets.

Usage (from the repository root, with FROMSCRATCH_DATA set)::

    python implementations/evolution/scripts/strategies.py --budget 120
    python implementations/evolution/scripts/strategies.py --dataset breast_cancer

Each run trains one strategy with the settings below (ES with the recipe's own) and
evaluates the held-out test accuracy after every epoch inside the callback; evaluation
time is excluded from the clocks. A run stops after its epochs or once its training
time passes ``--budget`` seconds, whichever comes first; ``--clock cpu`` counts the
process's CPU time instead of wall time, the fairer budget on a machine shared with
other work. Prints a Markdown table per data
set: the accuracy reached at each epoch end, and the best and final accuracy.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from fromscratch.datasets import load_breast_cancer, load_mnist
from fromscratch.evolution import RECIPES, Network


def settings(dataset: str) -> dict[str, dict[str, Any]]:
    """Fit arguments per strategy: ES is the recipe; the others keep its model, epochs and
    batch size, with their own mutation scale (``learning_rate``) and population."""
    recipe = dict(RECIPES[dataset]["fit"])
    base = {"epochs": recipe["epochs"], "batch_size": recipe["batch_size"]}
    mnist = dataset == "mnist"
    ga = {**base, "strategy": "ga", "population": 50, "learning_rate": 0.02 if mnist else 0.05}
    return {
        "es": recipe,
        "ga": {**ga, "crossover": True},
        "ga, no crossover": {**ga, "crossover": False},
        # Prellberg & Kramer 2018: each member its own mutation strength; many children.
        "ga, self-adaptive": {**ga, "crossover": True, "self_adaptive": True},
        "ga, lambda = 4M": {**ga, "crossover": True, "offspring": 200},
        "hill_climb": {
            **base,
            "strategy": "hill_climb",
            "population": 50,
            "learning_rate": 0.01 if mnist else 0.05,
        },
    }


class OutOfTime(Exception):
    """Raised by the callback to end a run whose training time passed the budget."""


def run(
    dataset: str, fit: Mapping[str, Any], budget: float, clock: str = "wall", rows: int = 0
) -> list[tuple[int, float, float, float]]:
    """Train once; return ``(epoch, training seconds, test accuracy, CPU seconds)`` per
    epoch. On a shared machine the wall clock grows with others' load; CPU time less so."""
    load = load_mnist if dataset == "mnist" else load_breast_cancer
    X, y = load("train")
    if rows:  # the first rows only, as CI's subset: more epochs in the same time
        X, y = X[:rows], y[:rows]
    X_test, y_test = load("test")
    model = Network(**RECIPES[dataset]["model"])
    curve: list[tuple[int, float, float, float]] = []
    evaluating = evaluating_cpu = 0.0
    start, start_cpu = time.perf_counter(), time.process_time()

    def callback(epoch: int, metrics: Mapping[str, float]) -> None:
        nonlocal evaluating, evaluating_cpu
        t0, c0 = time.perf_counter(), time.process_time()
        seconds = t0 - start - evaluating  # training time so far, earlier evaluations excluded
        cpu = c0 - start_cpu - evaluating_cpu
        accuracy = float(np.mean(model.predict(X_test) == y_test))
        evaluating += time.perf_counter() - t0
        evaluating_cpu += time.process_time() - c0
        curve.append((epoch, seconds, accuracy, cpu))
        print(f"  {dataset} epoch {epoch}: {seconds:7.1f} s ({cpu:.1f} s CPU), acc {accuracy:.4f}")
        if (cpu if clock == "cpu" else seconds) > budget:
            raise OutOfTime

    with contextlib.suppress(OutOfTime):
        model.fit(X, y, callback=callback, **fit)
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["mnist", "breast_cancer"], action="append")
    parser.add_argument("--strategy", action="append", help="only these (es, ga, ...)")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="for --budget")
    parser.add_argument("--rows", type=int, default=0, help="train on the first rows only")
    args = parser.parse_args()
    for dataset in args.dataset or ["breast_cancer", "mnist"]:
        rows = []
        for name, fit in settings(dataset).items():
            if args.strategy and name not in args.strategy:
                continue
            print(f"{dataset} / {name}: {fit}")
            curve = run(dataset, fit, args.budget, args.clock, args.rows)
            best = max(curve, key=lambda point: point[2])
            every = max(1, len(curve) // 6)
            points = ", ".join(
                f"{s:.3g} s ({c:.3g} s CPU): {100 * a:.1f}" for _, s, a, c in curve[::every]
            )
            rows.append(
                f"| {name} | {len(curve)} | {curve[-1][1]:.1f} | {curve[-1][3]:.1f} "
                f"| {100 * curve[-1][2]:.2f} | {100 * best[2]:.2f} | {points} |"
            )
        print(f"\n{dataset}\n")
        print(
            "| strategy | epochs | train s | CPU s | final acc % | best acc % | acc % over time |"
        )
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()

"""Time one MNIST training epoch of each implementation against torch eager.

The workload is fixed: a 784-128-64-10 relu MLP, cross-entropy, float32, plain SGD
with learning rate 0.1, batch 128, one pass over the 60,000 training images. Torch runs
the loop every torch tutorial writes (``randperm``, ``zero_grad``, forward, loss,
``backward``, ``step``). All contenders run in one process, one epoch each in turn, for
several rounds after a warm-up round; the ratio of medians is what we report, because
absolute times on a shared machine are noisy and ratios measured side by side are not.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch
from numpy.typing import NDArray

from fromscratch.conformance.checks import load
from fromscratch.conformance.registry import Implementation
from fromscratch.conformance.report import environment, write_json
from fromscratch.conformance.tolerances import SPEED_TARGETS

LAYERS: Final = [784, 128, 64, 10]
BATCH_SIZE: Final = 128
LEARNING_RATE: Final = 0.1
TORCH: Final = "torch"


def torch_epoch(X: NDArray[np.float32], y: NDArray[np.int64], seed: int = 0) -> Callable[[], None]:
    """One epoch of the standard torch eager training loop, as a reusable callable."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(LAYERS[0], LAYERS[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(LAYERS[1], LAYERS[2]),
        torch.nn.ReLU(),
        torch.nn.Linear(LAYERS[2], LAYERS[3]),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

    def epoch() -> None:
        order = torch.randperm(len(X_t))
        for start in range(0, len(X_t), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(model(X_t[idx]), y_t[idx])
            loss.backward()
            optimizer.step()

    return epoch


def model_epoch(
    impl: Implementation, X: NDArray[np.float32], y: NDArray[np.int64]
) -> Callable[[], None]:
    """One epoch of ``impl.fit`` on the same workload."""
    model = impl.build(LAYERS, activation="relu", loss="cross_entropy", seed=0, dtype="float32")

    def epoch() -> None:
        model.fit(X, y, epochs=1, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE)

    return epoch


def measure(contenders: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[float]]:
    """Seconds per epoch of each contender, interleaved round by round after a warm-up."""
    for epoch in contenders.values():
        epoch()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, epoch in contenders.items():
            start = time.perf_counter()
            epoch()
            times[name].append(time.perf_counter() - start)
    return times


def bench(impls: Sequence[Implementation], rounds: int, out: Path | None) -> dict[str, Any]:
    """Run the benchmark, print a table of ratios, and save it to ``out``.

    Only gradient-trained implementations are timed: the workload is an SGD epoch, which a
    gradient-free trainer does not have. Each ratio to torch is printed, the ratio to
    ``matrix`` too when it runs beside others, and each :data:`SPEED_TARGETS` entry is
    judged against its own baseline.
    """
    skipped = [impl.name for impl in impls if not impl.differentiable]
    X, y = load("mnist", "train")
    contenders = {TORCH: torch_epoch(X, y)}
    contenders.update({impl.name: model_epoch(impl, X, y) for impl in impls if impl.differentiable})
    times = measure(contenders, rounds)
    median = {name: statistics.median(ts) for name, ts in times.items()}

    print(
        f"one MNIST epoch, {'-'.join(map(str, LAYERS))} relu MLP, batch {BATCH_SIZE}, float32, "
        f"SGD lr {LEARNING_RATE}; median of {rounds} interleaved rounds after a warm-up"
    )
    print(
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, numpy {np.__version__}"
    )
    if skipped:
        print(f"not timed (gradient-free, no SGD epoch): {', '.join(skipped)}")
    print()
    names = list(contenders)
    baselines = [TORCH, *(["matrix"] if "matrix" in median and len(names) > 2 else [])]
    header = f"{'contender':<12}{'median s':>10}{'min s':>9}"
    header += "".join(f"{'x ' + b:>10}" for b in baselines)
    print(header + "  target")
    rows = []
    for name in names:
        ratios = {b: median[name] / median[b] for b in baselines}
        line = f"{name:<12}{median[name]:>10.3f}{min(times[name]):>9.3f}"
        line += "".join(f"{r:>10.2f}" for r in ratios.values())
        target = SPEED_TARGETS.get(name)
        verdict, met = "", None
        if target is not None and target.baseline in median:
            met = median[name] / median[target.baseline] <= target.ratio
            verdict = f"<= {target.ratio:g} x {target.baseline}: {'met' if met else 'MISSED'}"
        print(f"{line}  {verdict}")
        rows.append(
            {
                "contender": name,
                "seconds": times[name],
                "median_seconds": median[name],
                "ratio_to_torch": ratios[TORCH],
                "ratios": ratios,
                "target": None if target is None else asdict(target),
                "target_met": met,
            }
        )
    result = {"environment": environment(), "rounds": rounds, "results": rows, "skipped": skipped}
    if out is not None:
        write_json(out, result)
        print(f"\nwrote {out}")
    return result

"""Every figure of the report, drawn with matplotlib from numbers in ``results.json``.

Each function takes plain data from the results and returns PNG bytes; none reads a file
or trains anything, so ``fromscratch report --from results.json`` redraws them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: the figures only go to files

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

FLOOR = 1e-10
"""Error ratios below this (exact agreement included) are drawn at this height on log axes."""


LINES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"))
"""Line style and marker per implementation, so identical curves (matrix and autograd run
the same math from the same seed) stay visible on top of each other."""


def run_label(run: Mapping[str, Any]) -> str:
    """The implementation, and the recipe where it is not the data set's (``mnist_cnn``)."""
    recipe = run.get("recipe")
    if recipe and recipe != run.get("dataset"):
        return f"{run['implementation']} ({recipe})"
    return str(run["implementation"])


def _style(i: int) -> dict[str, Any]:
    linestyle, marker = LINES[i % len(LINES)]
    return {"linestyle": linestyle, "marker": marker, "markersize": 3}


def _png(fig: Figure) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=96, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _title(fig: Figure, text: str, label: str) -> None:
    fig.suptitle(f"{text}\n{label}" if label else text, fontsize=11)


def confusion(matrix: Sequence[Sequence[int]], title: str, label: str = "") -> bytes:
    """Rows are true classes, columns predicted ones; each cell counts test examples."""
    counts = np.asarray(matrix, dtype=np.int64)
    k = len(counts)
    size = 2.2 + 0.42 * k
    fig, ax = plt.subplots(layout="constrained", figsize=(max(size, 4.6), size))
    ax.imshow(counts, cmap="Blues")
    top = counts.max() if counts.size else 0
    for i in range(k):
        for j in range(k):
            colour = "white" if counts[i, j] > top / 2 else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    _title(fig, title, label)
    return _png(fig)


def learning_curves(runs: Sequence[Mapping[str, Any]], title: str, label: str = "") -> bytes:
    """Training loss and test accuracy per epoch, one line per implementation."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for i, run in enumerate(runs):
        epochs = run["epochs"]
        left.plot(epochs, run["loss"], label=run_label(run), **_style(i))
        right.plot(epochs, [100 * a for a in run["test_accuracy"]], **_style(i))
    left.set_yscale("log")
    left.set_xlabel("epoch (evolution: one pass of generations over the data)")
    left.set_ylabel("mean training loss")
    right.set_xlabel("epoch")
    right.set_ylabel("test accuracy (%), observed only")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend()
    _title(fig, title, label)
    return _png(fig)


def accuracy_vs_time(runs: Sequence[Mapping[str, Any]], title: str, label: str = "") -> bytes:
    """Test accuracy after each epoch against the training wall time spent so far."""
    fig, ax = plt.subplots(layout="constrained", figsize=(7, 4.2))
    for i, run in enumerate(runs):
        accuracy = [100 * a for a in run["test_accuracy"]]
        ax.plot(run["seconds"], accuracy, label=run_label(run), **_style(i))
    ax.set_xscale("log")
    ax.set_xlabel("training wall time (s, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    _title(fig, title, label)
    return _png(fig)


def agreement(
    ratios: Mapping[str, Mapping[str, Sequence[float]]], title: str, label: str = ""
) -> bytes:
    """``ratios[implementation][check]``: error / allowed error of every case, on a log axis.

    Each point is one case; the bound (a ratio of 1) is the red line. Exact agreement
    (ratio 0) is drawn at :data:`FLOOR`.
    """
    impls = list(ratios)
    checks = sorted({c for by_check in ratios.values() for c in by_check})
    fig, ax = plt.subplots(layout="constrained", figsize=(8, 1.2 + 0.9 * max(len(impls), 1)))
    rng = np.random.default_rng(0)  # vertical jitter only, so points do not hide each other
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, check in enumerate(checks):
        xs: list[float] = []
        ys: list[float] = []
        for i, impl in enumerate(impls):
            values = np.asarray(ratios[impl].get(check, []), dtype=np.float64)
            values = np.where(np.isfinite(values), values, 1e6)
            row = i + 0.25 * (j - (len(checks) - 1) / 2) / max(len(checks), 1)
            xs += list(np.maximum(values, FLOOR))
            ys += list(row + rng.uniform(-0.04, 0.04, size=len(values)))
        ax.scatter(xs, ys, s=12, alpha=0.7, color=colours[j % len(colours)], label=check)
    ax.axvline(1.0, color="red", linewidth=1.5, label="bound (error = allowed)")
    ax.set_xscale("log")
    ax.set_yticks(range(len(impls)))
    ax.set_yticklabels(impls)
    ax.set_ylim(-0.6, len(impls) - 0.4)
    ax.invert_yaxis()
    ax.set_xlabel(f"error / allowed error (log scale; exact agreement drawn at {FLOOR:g})")
    ax.grid(alpha=0.3, axis="x", which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    _title(fig, title, label)
    return _png(fig)


def es_cosine(
    measured: Mapping[str, Sequence[tuple[int, float]]],
    predicted: Sequence[Mapping[str, Any]],
    title: str,
    label: str = "",
) -> bytes:
    """Measured ES cosines against pairs, beside the predicted curve and the bound."""
    fig, ax = plt.subplots(layout="constrained", figsize=(7, 4.2))
    for curve in predicted:
        d = curve["n_parameters"]
        ax.plot(curve["n_pairs"], curve["expected"], color="grey", label=f"predicted, d = {d}")
        ax.plot(
            curve["n_pairs"],
            curve["threshold"],
            color="red",
            linestyle="--",
            label=f"bound ({curve['fraction']:g} x predicted)",
        )
    for impl, points in measured.items():
        pairs, cosines = zip(*points, strict=True) if points else ((), ())
        ax.plot(pairs, cosines, marker="o", linestyle="none", markersize=7, label=impl)
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("antithetic pairs (log scale)")
    ax.set_ylabel("cosine with torch's exact gradient")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8)
    _title(fig, title, label)
    return _png(fig)


def weight_tiles(
    tiles: Sequence[Sequence[int]], shape: Sequence[int], title: str, label: str = ""
) -> bytes:
    """First-layer weight rows as images: red positive, blue negative, each tile scaled to
    its own largest weight."""
    images = np.asarray(tiles, dtype=np.float64).reshape(-1, *shape)
    columns = min(8, max(len(images), 1))
    rows = max(-(-len(images) // columns), 1)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(0.8 * columns, 0.8 * rows + 0.6),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, image in zip(axes.flat, images, strict=False):
        ax.imshow(image, cmap="RdBu_r", vmin=-127, vmax=127, interpolation="nearest")
    _title(fig, title, label)
    return _png(fig)


def misclassified(
    examples: Sequence[Mapping[str, Any]], shape: Sequence[int], title: str, label: str = ""
) -> bytes:
    """Test images the model got wrong while most sure of itself, with both labels."""
    columns = min(6, max(len(examples), 1))
    rows = max(-(-len(examples) // columns), 1)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(1.5 * columns, 1.8 * rows + 0.5),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, example in zip(axes.flat, examples, strict=False):
        image = np.asarray(example["pixels"], dtype=np.float64).reshape(shape)
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(
            f"predicted {example['predicted']} ({example['confidence']:.0%})\n"
            f"true {example['true']}",
            fontsize=8,
        )
    _title(fig, title, label)
    return _png(fig)

"""The report's *Sequences* section: the sequence layers against torch, fifty training
steps against ``torch.optim``, and the character models trained on Tiny Shakespeare.

Built from ``results.json`` alone, like every section
(:mod:`~fromscratch.conformance.sections`): the layer and training checks are ordinary
measurements (``sequence_layer_vs_torch``, ``sequence_training_vs_torch``), the trained
models are ``results["sequences"]["text"]``, what ``fromscratch text`` wrote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fromscratch.conformance.document import Block, Cell, Heading, Pre, Table, Text, cell, slug

LAYER_CHECK = "sequence_layer_vs_torch"
TRAINING_CHECK = "sequence_training_vs_torch"
FOUR_GRAM = 1.78
"""The add-0.1-smoothed 4-gram's validation loss, nats/char: a model must beat it."""
TARGET = 1.70
TWIN_GAP = 0.02
TIME_LIMIT_S = 15 * 60


def layer_name(case: str) -> str:
    """``"LSTM(3, 4, num_layers=2, batch_first=True) on 2x5x3"`` -> ``"LSTM"``."""
    match = re.match(r"\w+", case)
    return match.group(0) if match else case


def _ratio_cell(ms: Sequence[Mapping[str, Any]], href: str) -> Cell:
    """The worst error ratio of ``ms`` (at most 1 passes), with the case count."""
    failed = sum(not m["passed"] for m in ms)
    values = [float(m["value"]) for m in ms if m["value"] is not None]
    worst = f"{max(values):.3g}" if values else "-"
    cases = f"{len(ms)} case{'s' if len(ms) > 1 else ''}"
    text = f"{'pass' if not failed else f'FAIL {failed}/{len(ms)}'} {worst} ({cases})"
    return cell(text, "fail" if failed else "pass", href)


def _by(
    results: Mapping[str, Any], check: str, key: Any
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in results["measurements"]:
        if m["check"] == check:
            groups.setdefault((key(m["case"]), m["implementation"]), []).append(m)
    return groups


def _check_table(
    results: Mapping[str, Any], check: str, key: Any, first: str
) -> tuple[Table | None, list[str]]:
    """Rows by ``key(case)``, a column per implementation that ran ``check``."""
    groups = _by(results, check, key)
    impls = list(dict.fromkeys(impl for _, impl in groups))
    if not groups:
        return None, []
    na = {r["implementation"]: r for r in results.get("not_applicable", []) if r["check"] == check}
    rows = []
    for row in dict.fromkeys(k for k, _ in groups):
        cells = [cell(row)]
        for impl in impls:
            ms = groups.get((row, impl))
            if ms:
                cells.append(_ratio_cell(ms, "#" + slug("d", impl, check)))
            else:
                why = na[impl]["reason"] if impl in na else "not measured"
                cells.append(cell("n/a", "na", title=why))
        rows.append(cells)
    return Table([first, *impls], rows), impls


def checks(results: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    layers, _ = _check_table(results, LAYER_CHECK, layer_name, "layer")
    if layers is None:
        blocks.append(Text("No sequence layer check ran."))
    else:
        blocks += [
            Text(
                "Every sequence layer against its torch module in float64: the outputs and "
                "final states, and the gradient of the input and of every parameter under a "
                "random, non-uniform cotangent on every output, over several sequence lengths "
                "and batch sizes, one and two layers, and the causal mask. Each cell is the "
                "worst error ratio over the layer's cases (error / allowed error, at most 1 "
                "passes); n/a: the implementation does not build that layer (hover for why)."
            ),
            layers,
        ]
    training, _ = _check_table(results, TRAINING_CHECK, lambda case: case, "model, optimizer")
    if training is not None:
        blocks += [
            Text(
                "Fifty float64 steps of SequenceNetwork.fit from one state dict against "
                "torch.optim on the same windows in the same order: the worst parameter's "
                "error ratio at the end."
            ),
            training,
        ]
    return blocks


def _seconds(value: float) -> str:
    return f"{value:.0f} s ({value / 60:.1f} min)" if value >= 60 else f"{value:.1f} s"


def _target(run: Mapping[str, Any], full: bool) -> Cell:
    """The issue's targets, judged on a full run only."""
    if not full:
        return cell("not judged: short run", "na")
    ours = run["ours"]
    met = (
        ours["validation_nats_per_char"] <= TARGET
        and abs(run["relative_gap"]) <= TWIN_GAP
        and ours["train_cpu_s"] <= TIME_LIMIT_S
    )
    return cell("met" if met else "MISSED", "pass" if met else "fail")


def trained(results: Mapping[str, Any]) -> list[Block]:
    source = results.get("sequences", {}).get("text")
    if source is None or source["data"] is None:
        note = "results.json has no record of it" if source is None else source["note"]
        return [Text(f"The character models' figures are MISSING: {note}")]
    data = source["data"]
    full = bool(data["full"])
    blocks: list[Block] = [Text(f"From {source['source']}: {source['note']}.")]
    if not full:
        blocks.append(
            Text(
                "SHORT RUN: these models trained only a few steps (or were validated or "
                "sampled short), to show the pipeline works. These are NOT the full results; "
                "`nox -s report` trains every model in full."
            )
        )
    rows = []
    for run in data["runs"]:
        ours, twin = run["ours"], run["torch"]
        steps = f"{run['steps']}" + (
            "" if run["steps"] >= run["full_steps"] else f" of {run['full_steps']}"
        )
        rows.append(
            [
                cell(run["model"], href="#" + slug("sample", run["model"])),
                cell(steps, "" if run["steps"] >= run["full_steps"] else "fail"),
                cell(f"{ours['validation_nats_per_char']:.4f}"),
                cell(f"{twin['validation_nats_per_char']:.4f}"),
                cell(f"{run['relative_gap']:+.3%}"),
                cell(f"{_seconds(ours['train_cpu_s'])} / {_seconds(twin['train_cpu_s'])}"),
                cell(f"{_seconds(ours['train_wall_s'])} / {_seconds(twin['train_wall_s'])}"),
                cell(f"{ours['tokens_per_cpu_s']:,.0f} / {twin['tokens_per_cpu_s']:,.0f}"),
                _target(run, full),
            ]
        )
    header = [
        "model",
        "steps",
        "validation nats/char",
        "torch twin",
        "gap",
        "training CPU (ours / torch)",
        "training wall (ours / torch)",
        "tokens per CPU second (ours / torch)",
        "target",
    ]
    blocks.append(Table(header, rows))
    threads = data["environment"]["threads"]
    load = data["environment"].get("load_before") or [math.nan]
    blocks.append(
        Text(
            "Each model and its torch twin start from one state dict and train on the same "
            "windows of 64 characters, 32 a step, in the same order, with the same optimizer, "
            "schedule and clipping, in float32; validation is the cross-entropy over every "
            "non-overlapping window of the last 10% of the text. Baselines on this split: "
            f"bigram 2.48, trigram 2.05, 4-gram {FOUR_GRAM} nats/char. Target: at most "
            f"{TARGET} nats/char, within {TWIN_GAP:.0%} of the twin, at most 15 minutes of "
            f"training. Timed at {threads} thread(s), one model after the other, the "
            f"1-minute load average {load[0]:.1f} when the run began; CPU "
            "time is what other load disturbs least."
        )
    )
    for run in data["runs"]:
        sample = run["sample"]
        blocks.append(
            Heading(
                f"{run['model']}: sampled at temperature {sample['temperature']:g}",
                slug("sample", run["model"]),
            )
        )
        blocks.append(Pre(sample["text"]))
    for kind in ("skipped", "failed"):
        for name, why in data[kind].items():
            blocks.append(Text(f"{name} {kind.upper()}: {why}"))
    return blocks


def section(results: Mapping[str, Any]) -> list[Block]:
    """The whole section: the checks, then the trained models."""
    return [
        *checks(results),
        Heading("Character models on Tiny Shakespeare", "char"),
        *trained(results),
    ]

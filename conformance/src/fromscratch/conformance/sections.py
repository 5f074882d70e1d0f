"""What the report says, section by section, built from ``results.json`` alone.

Nothing here knows the list of implementations or checks: rows, columns, figures and
detail tables come from whatever the results hold, so a new implementation or a new
check shows up without an edit here. A new field in a measurement's ``details`` shows up
in that check's detail table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fromscratch.conformance import figures, sequence_section
from fromscratch.conformance.document import (
    Block,
    Cell,
    Document,
    Figure,
    Heading,
    Pre,
    Row,
    Section,
    Table,
    Text,
    cell,
    slug,
)

SECTIONS = (
    ("verdict", "Verdict"),
    ("run", "Run facts"),
    ("accuracy", "Accuracy"),
    ("curves", "Learning curves"),
    ("gradients", "Gradient agreement"),
    ("sequences", "Sequences"),
    ("speed", "Speed"),
    ("learned", "What the networks learned"),
    ("failures", "Failures"),
    ("details", "Every measurement"),
)
"""Every section's id and title, in page order; each is always present."""

QUICK_BANNER = (
    "QUICK REPORT (--quick): every accuracy check with a CI subset trained on that subset "
    "of the training data and is judged by the subset's own, lower threshold. Run "
    "`nox -s report` for the full report."
)
WORST_CASES = 5


def fmt(value: Any) -> str:
    """A number as a person reads it: four significant figures, '-' for none."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}"
    return str(value)


def _number(value: Any) -> float | None:
    """A measured value as a float ('inf' is stored as a string in JSON)."""
    if value is None:
        return None
    return float(value)


def _short(value: Any, limit: int = 160) -> str:
    """A details value in one line: long lists and strings are cut, with their size said."""
    if isinstance(value, list):
        shown = ", ".join(_short(v, 30) for v in value[:6])
        return f"[{shown}{f', ... ({len(value)} items)' if len(value) > 6 else ''}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v, 40)}" for k, v in value.items()) + "}"
    text = fmt(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def details_text(details: Mapping[str, Any]) -> str:
    """Every field of a measurement's details, generically (the traceback goes to Failures)."""
    return "; ".join(f"{k} = {_short(v)}" for k, v in details.items() if k != "traceback")


def column(check_key: str) -> str:
    """A verdict-matrix column: ``accuracy[mnist[:10000]]`` and ``accuracy[mnist]`` share one."""
    return re.sub(r"\[:\d+\]", "", check_key)


def anchor(impl: str, check: str) -> str:
    return slug("d", impl, check)


# --------------------------------------------------------------------------- sections


def verdict(results: Mapping[str, Any]) -> list[Block]:
    """The scoreboard: a row per check, a column per implementation."""
    rows = results["summary"]
    impls = [i["name"] for i in results["implementations"]]
    checks = list(dict.fromkeys(column(r["check"]) for r in rows))
    by_cell = {(r["implementation"], column(r["check"])): r for r in rows}
    not_applicable = results.get("not_applicable", [])
    na = {(r["implementation"], r["check"]): r for r in not_applicable}
    checks += [r["check"] for r in not_applicable if r["check"] not in checks]
    table_rows = []
    for check in checks:
        cells = [cell(check)]
        for impl in impls:
            row, skipped = by_cell.get((impl, check)), na.get((impl, check))
            if row is None:
                why = skipped["reason"] if skipped else "this check does not apply"
                cells.append(cell("n/a", "na", title=why))
            else:
                cells.append(_verdict_cell(row, skipped))
        table_rows.append(cells)
    failed = sum(r["failed"] for r in rows)
    total = sum(r["cases"] for r in rows)
    overall = "every check passed" if failed == 0 else f"{failed} of {total} cases FAILED"
    return [
        Text(
            f"{len(impls)} implementations, {total} measured cases: {overall}. Each cell gives "
            "the worst case as a ratio to its bound: an error passes at most 1x its allowed "
            "error, a score (accuracy, ES cosine) passes at least 1x its threshold. A cell "
            "links to its check's every case below."
        ),
        Table(["check", *impls], table_rows),
        *_not_applicable(not_applicable),
    ]


def _not_applicable(rows: Sequence[Mapping[str, Any]]) -> list[Block]:
    """The cases an implementation does not build the layers of, with the reason: they were
    not run and are not counted above."""
    if not rows:
        return []
    return [
        Text(
            "Not applicable (not run, not counted as passes): cases whose layers an "
            "implementation does not build, by its supported_layers."
        ),
        Table(
            ["implementation", "check", "cases", "reason"],
            [
                [
                    cell(r["implementation"]),
                    cell(r["check"]),
                    cell(str(r["cases"])),
                    cell(r["reason"]),
                ]
                for r in rows
            ],
        ),
    ]


def _verdict_cell(row: Mapping[str, Any], skipped: Mapping[str, Any] | None = None) -> Cell:
    worst, bound = _number(row["worst"]), row["bound"]
    ok = row["failed"] == 0
    text = "pass" if ok else f"FAIL {row['failed']}/{row['cases']}"
    title = f"{row['cases']} cases"
    if worst is not None and bound:
        text += f" {worst / bound:.3g}x"
        title += f"; worst {fmt(worst)}, bound {fmt(bound)}"
    elif worst is None and not ok:
        title += "; raised or failed without a measured value"
    if skipped:
        text += f" ({skipped['cases']} n/a)"
        title += f"; {skipped['cases']} more not applicable: {skipped['reason']}"
    if row["check"] != column(row["check"]):
        text += " (subset)"
    return cell(
        text, "pass" if ok else "fail", "#" + anchor(row["implementation"], row["check"]), title
    )


def run_facts(results: Mapping[str, Any]) -> list[Block]:
    run = results["run"]
    git = run["git"]
    commit = "not a git checkout" if git["commit"] is None else git["commit"]
    dirty = {True: " (working tree had uncommitted changes)", False: " (clean)", None: ""}
    rows = [
        ["date", run["date"]],
        ["command", results["command"]],
        ["mode", "quick: CI subsets" if results["quick"] else "full"],
        ["git commit", commit + dirty[git["dirty"]]],
        ["python", f"{run['python']} on {run['platform']}"],
        *[[name, fmt(v)] for name, v in run["versions"].items()],
        ["torch threads", fmt(run["torch_threads"])],
        *[
            [
                f"thread pool: {p.get('internal_api')}",
                f"{p.get('num_threads')} threads, "
                f"{p.get('user_api')} {p.get('version')} ({Path(str(p.get('filepath'))).name})",
            ]
            for p in run["blas"]
        ],
        ["CPU", f"{run['cpu']['model']}, {run['cpu']['cores']} logical cores"],
        *[[f"seeds: {k}", _seeds(v)] for k, v in run["seeds"].items()],
        ["total wall time", f"{run['wall_seconds']:.1f} s"],
    ]
    return [Table(["fact", "value"], [[cell(k), cell(v)] for k, v in rows])]


def _seeds(value: Any) -> str:
    """``{impl: {dataset: seed}}`` as 'impl: dataset 0, ...; ...', anything else as is."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_seeds(v)}" for k, v in value.items())
    return fmt(value)


def _trainings(results: Mapping[str, Any], dataset: str | None = None) -> list[dict[str, Any]]:
    runs = results["trainings"]
    return [t for t in runs if dataset is None or t["dataset"] == dataset]


def _recipe(training: Mapping[str, Any]) -> str:
    """The recipe a training ran: its data set's, or its own name (``mnist_cnn``); figures
    are named by it, so two recipes on one data set keep their own."""
    return str(training.get("recipe") or training["dataset"])


def _curves_named(runs: Sequence[Mapping[str, Any]]) -> str:
    """Each curve once: ``"matrix, loops"``, or by recipe where a data set has several,
    ``"the mnist recipe (matrix, loops) and the mnist_cnn recipe (matrix)"``."""
    by_recipe: dict[str, list[str]] = {}
    for run in runs:
        by_recipe.setdefault(_recipe(run), []).append(str(run["implementation"]))
    if len(by_recipe) == 1:
        return ", ".join(next(iter(by_recipe.values())))
    named = [f"the {recipe} recipe ({', '.join(impls)})" for recipe, impls in by_recipe.items()]
    return ", ".join(named[:-1]) + f" and {named[-1]}"


def _label(results: Mapping[str, Any]) -> str:
    return "QUICK: CI subsets" if results["quick"] else ""


def accuracy(results: Mapping[str, Any], draw: dict[str, bytes]) -> list[Block]:
    blocks: list[Block] = []
    accuracy_rows = [m for m in results["measurements"] if m["check"] == "accuracy"]
    if not accuracy_rows:
        return [Text("No accuracy check ran.")]
    trained = {(t["implementation"], t["case"]): t for t in results["trainings"]}
    header = [
        "implementation",
        "case",
        "test accuracy",
        "threshold",
        "result",
        "macro precision",
        "macro recall",
        "macro F1",
        "training rows",
        "epochs",
        "training wall time",
    ]
    rows = []
    for m in accuracy_rows:
        t = trained.get((m["implementation"], m["case"]), {})
        metrics = t.get("metrics", {})
        ok = m["passed"]
        rows.append(
            [
                cell(m["implementation"]),
                cell(m["case"]),
                cell(_percent(m["value"]), "pass" if ok else "fail"),
                cell(_percent(m["bound"])),
                cell(
                    "pass" if ok else "FAIL",
                    "pass" if ok else "fail",
                    "#" + anchor(m["implementation"], f"accuracy[{m['case']}]"),
                ),
                *[
                    cell(fmt(metrics.get(k)))
                    for k in ("macro_precision", "macro_recall", "macro_f1")
                ],
                cell(fmt(t.get("n_train"))),
                cell(fmt(len(t["epochs"]) if t else None)),
                cell(f"{t['train_seconds']:.1f} s" if t else "-"),
            ]
        )
    blocks.append(Table(header, rows))
    blocks.append(
        Text(
            "Accuracy is measured on the held-out test split, which no training "
            "step or choice ever sees. Training wall time leaves out the time spent "
            "observing the test split for the curves."
        )
    )
    for t in results["trainings"]:
        name = f"confusion-{t['implementation']}-{_recipe(t)}"
        title = f"{t['implementation']} on {t['case']}"
        blocks.append(Heading(f"{title}: per class", slug("acc", t["implementation"], t["case"])))
        metrics = t.get("metrics")
        if not metrics:
            blocks.append(Text("No metrics were recorded for this training."))
            continue
        per_class = Table(
            ["class", "precision", "recall", "F1", "support"],
            [
                [
                    cell(c["class"]),
                    *[cell(fmt(c[k])) for k in ("precision", "recall", "f1")],
                    cell(c["support"]),
                ]
                for c in metrics["per_class"]
            ],
        )
        draw[name] = figures.confusion(
            metrics["confusion_matrix"], f"Confusion matrix: {title}", _label(results)
        )
        caption = (
            f"Confusion matrix of {title}: rows are true classes, columns predicted ones, "
            "counts of test examples."
        )
        blocks.append(Row([per_class, Figure(name, caption)]))
    return blocks


def _percent(value: Any) -> str:
    number = _number(value)
    return "-" if number is None else f"{number:.2%}"


def curves(results: Mapping[str, Any], draw: dict[str, bytes]) -> list[Block]:
    blocks: list[Block] = []
    for dataset in results["datasets"]:
        runs = [t for t in _trainings(results, dataset) if t["epochs"]]
        if not runs:
            blocks.append(Text(f"No training on {dataset} was recorded."))
            continue
        name = f"curves-{dataset}"
        draw[name] = figures.learning_curves(runs, f"Learning curves on {dataset}", _label(results))
        impls = _curves_named(runs)
        blocks.append(
            Figure(
                name,
                f"{dataset}: training loss (left, log scale) and test "
                f"accuracy (right) after each epoch, for {impls}. The test "
                "split is only observed for this plot; it chooses nothing.",
            )
        )
        if dataset == "mnist":
            draw["accuracy-time-mnist"] = figures.accuracy_vs_time(
                runs, "MNIST: test accuracy against training wall time", _label(results)
            )
            blocks.append(
                Figure(
                    "accuracy-time-mnist",
                    "MNIST test accuracy after each epoch "
                    "against the training wall time spent so far, in the style of "
                    "ann-benchmarks: up and to the left is better. Timed under "
                    "whatever else the machine was doing.",
                )
            )
    return blocks


def _tolerance_measurements(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Measurements of an error against an allowed error: a value and a bound of 1."""
    higher = set(results["higher_is_better"])
    return [
        m
        for m in results["measurements"]
        if m["check"] not in higher and m["value"] is not None and m["bound"] == 1.0
    ]


def gradients(results: Mapping[str, Any], draw: dict[str, bytes]) -> list[Block]:
    blocks: list[Block] = []
    measured = _tolerance_measurements(results)
    ratios: dict[str, dict[str, list[float]]] = {}
    for m in measured:
        ratios.setdefault(m["implementation"], {}).setdefault(m["check"], []).append(
            float(m["value"])
        )
    if ratios:
        draw["agreement"] = figures.agreement(
            ratios, "Agreement with torch and with central differences", _label(results)
        )
        counts = ", ".join(f"{impl}: {sum(map(len, by.values()))}" for impl, by in ratios.items())
        blocks.append(
            Figure(
                "agreement",
                "Every case of every tolerance check (gradients "
                "against torch autograd and against central differences, the relu "
                "kink, the forward pass), as error / allowed error on a log axis. "
                f"The red line is the bound; cases per implementation: {counts}.",
            )
        )
    else:
        blocks.append(Text("No tolerance check ran."))
    for impl, _ in ratios.items():
        worst = sorted(
            (m for m in measured if m["implementation"] == impl), key=lambda m: -float(m["value"])
        )[:WORST_CASES]
        blocks.append(Heading(f"{impl}: the {len(worst)} worst cases", slug("worst", impl)))
        blocks.append(
            Table(
                ["check", "configuration", "error / allowed", "result", "details"],
                [
                    [
                        cell(m["check"], href="#" + anchor(impl, m["check"])),
                        cell(m["case"]),
                        cell(fmt(_number(m["value"]))),
                        _pass_cell(m["passed"]),
                        cell(details_text(m["details"])),
                    ]
                    for m in worst
                ],
            )
        )
    blocks += _es(results, draw)
    return blocks


def _pass_cell(ok: bool) -> Cell:
    return cell("pass" if ok else "FAIL", "pass" if ok else "fail")


def _es(results: Mapping[str, Any], draw: dict[str, bytes]) -> list[Block]:
    es = [m for m in results["measurements"] if m["check"] == "es_gradient"]
    if not es:
        return [Text("No implementation offers an evolution-strategies gradient estimate.")]
    points: dict[str, list[tuple[int, float]]] = {}
    for m in es:
        if m["value"] is not None:
            point = (int(m["details"]["n_pairs"]), float(m["value"]))
            points.setdefault(m["implementation"], []).append(point)
    draw["es-cosine"] = figures.es_cosine(
        points,
        results["es_prediction"],
        "Evolution strategies: cosine with the exact gradient",
        _label(results),
    )
    return [
        Heading("Evolution strategies against the exact gradient", "es"),
        Figure(
            "es-cosine",
            "The cosine between the ES gradient estimate and torch's exact "
            "gradient, against the number of antithetic pairs, beside the predicted "
            "1/sqrt(1 + (pi/3)(d-1)/n) and the bound, a stated fraction of it.",
        ),
        Table(
            ["implementation", "pairs", "cosine", "bound", "predicted", "result"],
            [
                [
                    cell(m["implementation"]),
                    cell(m["case"]),  # n_pairs, and the estimator's options
                    cell(fmt(_number(m["value"]))),
                    cell(fmt(m["bound"])),
                    cell(fmt(m["details"].get("expected_cosine"))),
                    _pass_cell(m["passed"]),
                ]
                for m in es
            ],
        ),
    ]


def speed(results: Mapping[str, Any]) -> list[Block]:
    """The MLP bench, then each other workload the bench wrote (LeNet-5, the text models)."""
    blocks = _mlp_speed(results)
    for workload, source in results.get("benches", {}).items():
        blocks += _workload(workload, source)
    return blocks


def _mlp_speed(results: Mapping[str, Any]) -> list[Block]:
    bench = results["bench"]
    if bench["data"] is None:
        return [Text(f"Speed ratios are missing: {bench['note']}")]
    data = bench["data"]
    blocks: list[Block] = [Text(f"From {bench['source']}. {bench['note']}".strip())]
    contenders = data.get("contenders", {})
    ratios = data.get("ratios", {})
    rows = []
    for name, c in contenders.items():
        spread = c.get("spread_s") or [None, None]
        rows.append(
            [
                cell(name),
                cell(str(c.get("threads", "-"))),
                cell(fmt(c.get("median_s"))),
                cell(f"{fmt(spread[0])} to {fmt(spread[1])}"),
                cell(fmt(ratios.get("to_torch", {}).get(name))),
                cell(fmt(ratios.get("to_matrix", {}).get(name))),
            ]
        )
    blocks.append(
        Table(
            ["contender", "threads", "median epoch (s)", "spread (s)", "x torch", "x matrix"],
            rows,
        )
    )
    targets = data.get("targets", [])
    if targets:
        blocks.append(
            Table(
                ["implementation", "baseline", "ratio", "target", "result"],
                [
                    [
                        cell(t.get("implementation")),
                        cell(t.get("baseline")),
                        cell(fmt(t.get("ratio"))),
                        cell(f"<= {fmt(t.get('target'))}"),
                        cell(
                            "met" if t.get("met") else "MISSED", "pass" if t.get("met") else "fail"
                        ),
                    ]
                    for t in targets
                ],
            )
        )
    for warning in data.get("warnings", []):
        blocks.append(Text(f"Warning from the bench: {warning}"))
    return blocks


def _workload(workload: str, source: Mapping[str, Any]) -> list[Block]:
    """One of the bench's other workloads (``bench-<workload>.json``): each contender's
    median per timed epoch, tokens per second where the workload is text, and its ratio."""
    heading = Heading(f"Speed: the {workload} workload", slug("speed", workload))
    data = source["data"]
    if data is None:
        return [heading, Text(f"Missing: {source['note']}")]
    setup = data.get("setup", {})
    tokens = setup.get("tokens_per_epoch")
    blocks: list[Block] = [heading, Text(f"{setup.get('model', workload)}. {source['note']}")]
    rows = []
    ratios = data.get("ratios", {})
    one_thread = ratios.get("to_torch_same_threads", {}).get("1", {})
    for name, c in data.get("contenders", {}).items():
        median = c.get("median_s")
        rows.append(
            [
                cell(name),
                cell(str(c.get("threads", "-"))),
                cell(fmt(median)),
                cell(f"{tokens / median:,.0f}" if tokens and median else "-"),
                cell(fmt(ratios.get("to_torch", {}).get(name))),
                cell(fmt(one_thread.get(name))),
            ]
        )
    per = "epoch" if tokens is None else f"{setup.get('steps_per_epoch')} steps"
    header = [
        "contender",
        "fastest at threads",
        f"median s per {per}",
        "tokens/s" if tokens else "-",
        "time x torch",
        "time x torch, both at 1 thread",
    ]
    blocks.append(Table(header, rows))
    for warning in data.get("warnings", []):
        blocks.append(Text(f"Warning from the bench: {warning}"))
    return blocks


def learned(results: Mapping[str, Any], draw: dict[str, bytes]) -> list[Block]:
    blocks: list[Block] = []
    for t in results["trainings"]:
        impl, case = t["implementation"], t["case"]
        layer = t.get("first_layer")
        if layer:
            name = f"weights-{impl}-{_recipe(t)}"
            draw[name] = figures.weight_tiles(
                layer["tiles"],
                layer["shape"],
                f"{impl}: first-layer weights ({case})",
                _label(results),
            )
            blocks.append(Heading(f"{impl} on {case}", slug("learned", impl, case)))
            blocks.append(
                Figure(
                    name,
                    f"The weights into the first {len(layer['tiles'])} of "
                    f"{layer['total_units']} first-layer units of {impl}, each drawn "
                    "as an image (red positive, blue negative, each tile scaled to "
                    "its own largest weight).",
                )
            )
        wrong = t.get("misclassified")
        if wrong and wrong["examples"]:
            name = f"misclassified-{impl}-{_recipe(t)}"
            draw[name] = figures.misclassified(
                wrong["examples"],
                wrong["shape"],
                f"{impl}: most confident mistakes ({case})",
                _label(results),
            )
            blocks.append(
                Figure(
                    name,
                    f"The {len(wrong['examples'])} test images {impl} "
                    "misclassified with the highest probability on its wrong answer "
                    f"(of {wrong['n_wrong']} it got wrong).",
                )
            )
    if not blocks:
        blocks.append(Text("No image data set was trained on, so there are no pictures here."))
    if t_weights := [t["weights"] for t in results["trainings"] if t.get("weights")]:
        blocks.append(
            Text(
                "Every trained model's parameters are saved beside this report, "
                f"reloadable with fromscratch.conformance.weights: {', '.join(t_weights)}."
            )
        )
    return blocks


def failures(results: Mapping[str, Any]) -> list[Block]:
    failed = [m for m in results["measurements"] if not m["passed"]]
    if not failed:
        return [Text("Nothing failed.")]
    blocks: list[Block] = [Text(f"{len(failed)} cases failed or raised.")]
    for m in failed:
        d = m["details"]
        blocks.append(Heading(f"FAILED {m['implementation']}: {m['check']}[{m['case']}]"))
        value = _number(m["value"])
        if value is not None:
            blocks.append(Text(f"measured {fmt(value)} against bound {fmt(m['bound'])}"))
        message = d.get("error") or d.get("raised") or d.get("message") or details_text(d)
        blocks.append(Pre(str(message)))
        if d.get("traceback"):
            blocks.append(Pre(str(d["traceback"])))
    return blocks


def every_measurement(results: Mapping[str, Any]) -> list[Block]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    higher = set(results["higher_is_better"])
    for m in results["measurements"]:
        key = f"{m['check']}[{m['case']}]" if m["check"] in higher else m["check"]
        groups.setdefault((m["implementation"], key), []).append(m)
    blocks: list[Block] = []
    for (impl, key), ms in groups.items():
        blocks.append(Heading(f"{impl}: {key}", anchor(impl, key)))
        blocks.append(
            Table(
                ["case", "result", "value", "bound", "details"],
                [
                    [
                        cell(m["case"]),
                        _pass_cell(m["passed"]),
                        cell(fmt(_number(m["value"]))),
                        cell(fmt(m["bound"])),
                        cell(details_text(m["details"])),
                    ]
                    for m in ms
                ],
            )
        )
    return blocks


def build(results: Mapping[str, Any]) -> Document:
    """The whole report from the results; its figures are drawn here."""
    draw: dict[str, bytes] = {}
    makers: dict[str, Callable[[], list[Block]]] = {
        "verdict": lambda: verdict(results),
        "run": lambda: run_facts(results),
        "accuracy": lambda: accuracy(results, draw),
        "curves": lambda: curves(results, draw),
        "gradients": lambda: gradients(results, draw),
        "sequences": lambda: sequence_section.section(results),
        "speed": lambda: speed(results),
        "learned": lambda: learned(results, draw),
        "failures": lambda: failures(results),
        "details": lambda: every_measurement(results),
    }
    sections = [Section(id, title, makers[id]()) for id, title in SECTIONS]
    verdict_word = "all passed" if results["passed"] else "FAILURES"
    mode = " (QUICK: CI subsets)" if results["quick"] else ""
    title = f"fromscratch conformance report{mode}: {verdict_word}"
    return Document(title, QUICK_BANNER if results["quick"] else "", sections, draw)


def figure_names(document: Document) -> Sequence[str]:
    """Every figure the document shows, in order."""
    names = []
    for section in document.sections:
        for block in section.blocks:
            items = block.items if isinstance(block, Row) else [block]
            names += [item.name for item in items if isinstance(item, Figure)]
    return names

"""Run every check on every selected implementation, print a table, save JSON.

``python -m fromscratch.conformance report`` (and ``nox -s report``) is the project's
main job: it trains each implementation with its own recipes and puts every number the
suite judges by into ``reports/results.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, get_args

import numpy as np
import torch

from fromscratch.conformance import checks, sequence, text
from fromscratch.conformance.atomic import write_bytes
from fromscratch.conformance.checks import HIGHER_IS_BETTER, Measurement, plan
from fromscratch.conformance.cli import UsageError
from fromscratch.conformance.progress import TrainingProgress
from fromscratch.conformance.registry import Implementation, RegistryError, select
from fromscratch.conformance.runfacts import run_facts
from fromscratch.conformance.sequence import sequence_plan
from fromscratch.conformance.tolerances import (
    ACCURACY_THRESHOLDS,
    ES_COSINE_FRACTION,
    SLOW_ACCURACY,
    SUBSETS,
    TOLERANCES,
    Dataset,
    es_cosine_threshold,
    es_expected_cosine,
    subset_of,
)
from fromscratch.conformance.watch import Watch


def _label(check: Callable[[], Measurement]) -> tuple[str, str]:
    """The check's name and case, for a check that raised before it could say."""
    if isinstance(check, partial):
        case = check.args[1] if len(check.args) > 1 else ""
        return check.func.__name__, str(getattr(case, "id", getattr(case, "name", case)))
    return getattr(check, "__name__", "check"), ""


def run_checks(
    impl: Implementation,
    datasets: tuple[Dataset, ...],
    prepare: Callable[[Callable[[], Measurement]], Callable[[], Measurement]] | None = None,
) -> list[Measurement]:
    """Every check of :func:`plan`; a check that raises is recorded as failed, with the error.

    ``prepare(check)``, when given, returns the call to make in its place (the report uses
    it to watch training and, with ``--quick``, to train on the CI subsets).
    """
    return measure(impl, plan(impl, datasets), prepare)


def measure(
    impl: Implementation,
    calls: Sequence[Callable[[], Measurement]],
    prepare: Callable[[Callable[[], Measurement]], Callable[[], Measurement]] | None = None,
) -> list[Measurement]:
    """Make each call; one that raises is recorded as failed, with the error."""
    results = []
    for check in calls:
        try:
            results.append((prepare or _same)(check)())
        except Exception as exc:
            name, case = _label(check)
            details = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
            results.append(Measurement(name, impl.name, case, None, None, False, details))
    return results


def _same(check: Callable[[], Measurement]) -> Callable[[], Measurement]:
    return check


def summarize(results: Sequence[Measurement]) -> list[dict[str, Any]]:
    """One row per implementation and check, with the worst case.

    A score to reach (accuracy, the ES cosine) gets one row per case, since each case has
    its own bound.
    """
    groups: dict[tuple[str, str], list[Measurement]] = {}
    for m in results:
        key = f"{m.check}[{m.case}]" if m.check in HIGHER_IS_BETTER else m.check
        groups.setdefault((m.implementation, key), []).append(m)
    rows = []
    for (impl, check), ms in groups.items():
        values = [m.value for m in ms if m.value is not None]
        higher_is_better = ms[0].check in HIGHER_IS_BETTER
        row: dict[str, Any] = {
            "implementation": impl,
            "check": check,
            "cases": len(ms),
            "failed": sum(not m.passed for m in ms),
            "worst": (min if higher_is_better else max)(values) if values else None,
            "bound": ms[0].bound,
            "higher_is_better": higher_is_better,
        }
        abs_errors = [m.details["max_abs_error"] for m in ms if "max_abs_error" in m.details]
        if abs_errors:
            row["max_abs_error"] = max(abs_errors)
        if ms[0].check == "accuracy":
            row["train_seconds"] = ms[0].details.get("train_seconds")
            row["epochs"] = len(ms[0].details.get("epoch_loss", []))
        if "expected_cosine" in ms[0].details:
            row["expected"] = ms[0].details["expected_cosine"]
        rows.append(row)
    return rows


def _cells(row: dict[str, Any]) -> tuple[str, str, str]:
    """``worst``, ``bound`` and ``notes`` as the table shows them."""
    worst, bound = _float_or_none(row["worst"]), row["bound"]
    if worst is None or bound is None:
        return "-", "-", ""
    if "train_seconds" in row:
        notes = f"fit {row['train_seconds']} s, {row['epochs']} epochs"
        return f"{worst:.2%}", f">= {bound:.2%}", notes
    if row["higher_is_better"]:
        notes = f"expected about {row['expected']:.3f}" if "expected" in row else ""
        return f"{worst:.3f}", f">= {bound:.3f}", notes
    notes = f"max |error| {row['max_abs_error']:.2e}" if "max_abs_error" in row else ""
    return f"{worst:.3g}", f"<= {bound:g}", notes


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    header = ("implementation", "check", "cases", "result", "worst", "bound", "notes")
    lines = [header]
    for r in rows:
        result = "pass" if r["failed"] == 0 else f"FAIL {r['failed']}"
        lines.append((r["implementation"], r["check"], str(r["cases"]), result, *_cells(r)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in text)


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
    }


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    write_bytes(path, (json.dumps(payload, indent=2, default=_jsonable) + "\n").encode())


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)


def _json_number(value: float | None) -> float | str | None:
    return str(value) if value is not None and math.isinf(value) else value


# --------------------------------------------------------------------------- the run

SCHEMA_VERSION = 1
"""Bumped whenever ``results.json`` changes shape; ``results.schema.json`` says which."""
OUT = Path("reports")


def _quick_or_watched(
    impl: Implementation, quick: bool, trainings: list[dict[str, Any]], out: Path | None
) -> Callable[[Callable[[], Measurement]], Callable[[], Measurement]]:
    """The ``prepare`` hook of :func:`run_checks`: the accuracy check trains with a
    :class:`~fromscratch.conformance.watch.Watch` and a progress display, on the CI subset
    where ``quick`` and the data set has one; every other check runs unchanged."""

    def prepare(check: Callable[[], Measurement]) -> Callable[[], Measurement]:
        if not (isinstance(check, partial) and check.func is checks.accuracy):
            return check
        dataset: Dataset = check.args[1]
        name: str = check.keywords.get("recipe") or dataset
        # --quick: every accuracy check that has a CI subset (SUBSETS) trains on it, the
        # full-data ones that CI runs in full too, so the whole report takes minutes.
        chosen = subset_of(name)
        subset = quick and chosen is not None
        recipe = impl.recipes[name]
        X_test, y_test = checks.load(dataset, "test")
        watch = Watch(impl.name, dataset, recipe, X_test, y_test, name=name)
        n_rows = len(checks.load(dataset, "train")[1])
        if subset and chosen is not None:
            n_rows = min(n_rows, chosen.n_train)
        progress = TrainingProgress(
            int(recipe["fit"]["epochs"]),
            n_rows=n_rows,
            batch_size=int(recipe["fit"]["batch_size"]),
            label=f"{impl.name} {name}{' (CI subset)' if subset else ''}",
        )

        def batch_callback(model: Any) -> dict[str, Any]:
            """The progress display's per-batch hook, where ``fit`` takes one."""
            return {k: v for k, v in progress.fit_kwargs(model).items() if k != "callback"}

        def run() -> Measurement:
            with progress:
                measured: Measurement = check(
                    subset=subset,
                    observe=watch.observe,
                    callbacks=[progress],
                    fit_options=batch_callback,
                    trained=watch.trained,
                )
            trainings.append(watch.record(measured, out))
            return measured

        return run

    return prepare


def es_prediction(measurements: Sequence[Measurement]) -> list[dict[str, Any]]:
    """The predicted ES cosine and its bound against pairs, for each parameter count checked."""
    sizes = sorted(
        {int(m.details["n_parameters"]) for m in measurements if "n_parameters" in m.details}
    )
    pairs = np.unique(np.geomspace(5, 5000, 40).astype(int)).tolist()
    return [
        {
            "n_parameters": d,
            "fraction": ES_COSINE_FRACTION,
            "n_pairs": pairs,
            "expected": [round(es_expected_cosine(n, d), 6) for n in pairs],
            "threshold": [round(es_cosine_threshold(n, d), 6) for n in pairs],
        }
        for d in sizes
    ]


BENCH_WORKLOADS = ("lenet", "lstm", "transformer")
"""The bench's other workloads, each written to ``bench-<workload>.json`` by ``nox -s bench``."""


def read_bench(path: Path, workload: str = "mlp") -> dict[str, Any]:
    """The speed section's source: ``bench.json`` if the bench has run, else why not."""
    hint = "run `fromscratch bench` (nox -s bench), or `fromscratch report --bench`"
    if workload != "mlp":
        hint = f"run `fromscratch bench --workload {workload} --out {path}` (nox -s bench does)"
    if not path.exists():
        return {"source": str(path), "data": None, "note": f"{path} was not found: {hint}."}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return {"source": str(path), "data": None, "note": f"{path} is unreadable ({exc}): {hint}."}
    if not isinstance(data, dict):
        return {"source": str(path), "data": None, "note": f"{path} is not a JSON object: {hint}."}
    when = (
        data.get("environment", {}).get("date")
        if isinstance(data.get("environment"), dict)
        else None
    )
    note = f"The bench ran on {when}." if when else "The bench did not record its date."
    return {"source": str(path), "data": data, "note": note}


def collect(
    impls: Sequence[Implementation],
    datasets: tuple[Dataset, ...],
    *,
    quick: bool = False,
    out: Path | None = OUT,
    command: str = "fromscratch report",
) -> dict[str, Any]:
    """Run every check on every implementation and return ``results.json``'s content.

    Trained weights are saved under ``out`` as they come; nothing else is written here.
    """
    start = time.perf_counter()
    results: list[Measurement] = []
    trainings: list[dict[str, Any]] = []
    not_applicable = [row for impl in impls for row in checks.not_applicable(impl)]
    for impl in impls:
        begun = time.perf_counter()
        print(f"{impl.name}: running the checks ...", flush=True)
        measured = run_checks(impl, datasets, _quick_or_watched(impl, quick, trainings, out))
        ran, skipped = sequence.split_not_applicable(impl, measure(impl, sequence_plan(impl)))
        measured += ran
        not_applicable += skipped
        results += measured
        failed = sum(not m.passed for m in measured)
        print(
            f"{impl.name}: {len(measured) - failed} passed, {failed} failed "
            f"in {time.perf_counter() - begun:.1f} s",
            flush=True,
        )
    rows = summarize(results)
    run = run_facts()
    run["seeds"] = {
        "recipes": {
            i.name: {d: i.recipes[d]["model"].get("seed") for d in datasets} for i in impls
        },
        "checks": "each case draws its data from a generator seeded by the CRC-32 of its id; "
        "torch reference models by the same seed; ES estimates with seed 0",
    }
    run["wall_seconds"] = round(time.perf_counter() - start, 2)
    return {
        "schema_version": SCHEMA_VERSION,
        "quick": quick,
        "command": command,
        "passed": all(m.passed for m in results),
        "run": run,
        "implementations": [
            {
                "name": i.name,
                "training": i.training,
                "estimates_gradient": i.estimates_gradient,
                "module": i.factory.__module__,
            }
            for i in impls
        ],
        "datasets": list(datasets),
        "higher_is_better": sorted(HIGHER_IS_BETTER),
        "tolerances": {k: asdict(v) for k, v in TOLERANCES.items()},
        "accuracy_thresholds": ACCURACY_THRESHOLDS,
        "ci_subsets": {
            "slow_accuracy": SLOW_ACCURACY,
            "subsets": {k: asdict(v) for k, v in SUBSETS.items()},
        },
        "summary": [{**r, "worst": _json_number(r["worst"])} for r in rows],
        "measurements": [m.to_json() for m in results],
        "not_applicable": not_applicable,
        "trainings": trainings,
        "es_prediction": es_prediction(results),
        "bench": read_bench((out or OUT) / "bench.json"),
        "benches": {w: read_bench((out or OUT) / f"bench-{w}.json", w) for w in BENCH_WORKLOADS},
        "sequences": {"text": text.read((out or OUT) / "text.json")},
    }


def render(results: dict[str, Any], out: Path) -> list[Path]:
    """Write ``index.html``, ``report.md`` and its ``figures/`` under ``out`` from ``results``
    alone; return the paths written."""
    from fromscratch.conformance import render_html, render_markdown, sections

    document = sections.build(results)
    written = []
    for name, png in document.figures.items():
        path = out / render_markdown.FIGURES / f"{name}.png"
        write_bytes(path, png)
        written.append(path)
    for name, page in (
        ("index.html", render_html.render(document)),
        ("report.md", render_markdown.render(document)),
    ):
        write_bytes(out / name, page.encode())
        written.append(out / name)
    return written


def report(
    impls: Sequence[Implementation],
    datasets: tuple[Dataset, ...],
    out: Path | None = OUT,
    *,
    quick: bool = False,
    command: str | None = None,
) -> bool:
    """Run everything, print the table and failures, write the report under ``out``;
    True when all passed."""
    command = command or "fromscratch report" + (" --quick" if quick else "")
    results = collect(impls, datasets, quick=quick, out=out, command=command)
    print()
    print(format_table(results["summary"]))
    for m in results["measurements"]:
        if not m["passed"]:
            described = Measurement(**{**m, "value": _float_or_none(m["value"])}).describe()
            print(f"FAILED {m['implementation']}: {described}", file=sys.stderr)
    if out is not None:
        write_json(out / "results.json", results)
        for path in [out / "results.json", *render(results, out)]:
            if path.suffix != ".png":
                print(f"wrote {path}")
    return bool(results["passed"])


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- command line


def load_results(path: Path) -> dict[str, Any]:
    """A results.json, checked against ``results.schema.json``; UsageError names what is wrong."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"--from {path}: cannot read it ({exc.strerror or exc})") from exc
    try:
        results = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--from {path}: not valid JSON, damaged or truncated? ({exc})") from exc
    problem = schema_problem(results)
    if problem:
        raise UsageError(f"--from {path}: does not match results.schema.json: {problem}")
    return dict(results)


def schema() -> dict[str, Any]:
    """The JSON Schema of ``results.json``, shipped with the package."""
    text = resources.files("fromscratch.conformance").joinpath("results.schema.json").read_text()
    return dict(json.loads(text))


def schema_problem(results: Any) -> str:
    """'' when ``results`` matches the schema, else the first problem and where it is."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema()).iter_errors(results))
    if error is None:
        return ""
    where = "".join(f"[{p!r}]" for p in error.absolute_path) or "the top level"
    return f"at {where}: {error.message}"


def _select(args: argparse.Namespace) -> list[Implementation]:
    try:
        impls = select(args.impl)
    except RegistryError as exc:
        raise UsageError(str(exc)) from exc
    if not impls:
        raise UsageError("no implementation is installed (see docs/protocol.md)")
    return impls


def _run_bench(impls: list[Implementation], out: Path) -> None:
    """``fromscratch bench`` with its own defaults, writing ``bench.json`` beside the report.
    A failed bench is said and the report goes on; a bench.json it left behind from an
    earlier run is moved aside, so the speed section never shows stale ratios as new."""
    from fromscratch.conformance import cli

    path = out / "bench.json"
    argv = ["bench", "--out", str(path), *[a for i in impls for a in ("--impl", i.name)]]
    print("running the bench (--bench) ...", flush=True)
    if cli.main(argv) != 0 and path.exists():
        path.replace(path.with_name("bench.failed.json"))
        print(f"the bench failed; its old {path.name} is now bench.failed.json", file=sys.stderr)


QUICK_TEXT = ("--steps", "30", "--validation-windows", "64", "--sample-length", "200")
"""``--quick --text``: each character model trains 30 steps (the report says it is short)."""


def _run_text(impls: list[Implementation], out: Path, quick: bool) -> None:
    """``fromscratch text`` on the selected implementations' models, writing ``text.json``
    beside the report (short with ``quick``). A failed run is said and the report goes on;
    its Sequences section says what is missing."""
    from fromscratch.conformance import cli

    chosen = {i.name for i in impls}
    models = [m.name for m in text.MODELS.values() if m.implementation in chosen]
    if not models:
        print("no character model: none of the selected implementations trains one")
        return
    argv = ["text", "--out", str(out / "text.json"), *(QUICK_TEXT if quick else ())]
    argv += [a for name in models for a in ("--model", name)]
    print(f"training the character models ({'short, --quick' if quick else 'in full'}) ...")
    if cli.main(argv) != 0:
        print("the character models' training failed: see the Sequences section", file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    """``fromscratch report``: 0 when every check passed, 1 when one failed. A bad argument
    or input file raises :class:`UsageError` (the command line prints it, exit status 2)."""
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a file; give the folder to write the report to")
    if args.from_ is not None:
        if args.impl or args.dataset or args.quick or args.bench or args.text:
            raise UsageError(
                "--from re-renders a finished run: it takes no --impl, --dataset, --quick, "
                "--bench or --text"
            )
        results = load_results(args.from_)
        for path in render(results, args.out):
            if path.suffix != ".png":
                print(f"wrote {path}")
        return 0 if results["passed"] else 1
    impls = _select(args)
    datasets = tuple(dict.fromkeys(args.dataset or get_args(Dataset)))
    if args.bench:
        _run_bench(impls, args.out)
    if args.text:
        _run_text(impls, args.out, args.quick)
    flags = (("--quick", args.quick), ("--bench", args.bench), ("--text", args.text))
    command = "fromscratch report" + "".join(f" {flag}" for flag, on in flags if on)
    return 0 if report(impls, datasets, args.out, quick=args.quick, command=command) else 1

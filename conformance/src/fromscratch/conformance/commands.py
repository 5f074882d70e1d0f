"""What ``fromscratch list``, ``train``, ``evaluate`` and ``check`` do (the parser is in
:mod:`~fromscratch.conformance.cli`).

Each command takes the parsed arguments, prints for a person on stdout, and returns the
exit status. A user's mistake raises :class:`~fromscratch.conformance.cli.UsageError`
(or a ``RegistryError``, ``WeightsError`` or ``DatasetError``), which the command line
turns into one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import math
import time
import traceback
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from fromscratch.conformance import weights
from fromscratch.conformance.cli import NONE_INSTALLED, UsageError, columns
from fromscratch.conformance.metrics import classification_metrics, format_metrics
from fromscratch.conformance.progress import TrainingProgress
from fromscratch.conformance.registry import Implementation, discover, select
from fromscratch.conformance.tolerances import Dataset

N_CLASSES: Final[dict[str, int]] = {"mnist": 10, "breast_cancer": 2}

if TYPE_CHECKING:  # the checks bring in torch, which takes seconds to import: only `check`
    from fromscratch.conformance.checks import Measurement


def load(dataset: Dataset, split: str) -> tuple[Any, Any]:
    """One split of a dataset, from ``fromscratch.datasets`` (no torch needed)."""
    try:
        from fromscratch import datasets
    except ImportError as exc:
        raise UsageError(
            "the datasets need fromscratch-datasets: pip install -e ./datasets "
            "(from the repository root)"
        ) from exc
    if dataset == "mnist":
        return datasets.load_mnist(split)  # type: ignore[arg-type]
    return datasets.load_breast_cancer(split)  # type: ignore[arg-type]


def _one(name: str) -> Implementation:
    if not discover():
        raise UsageError(NONE_INSTALLED)
    return select([name])[0]


# ------------------------------------------------------------------------------ train


def train(args: argparse.Namespace) -> int:
    """Train with the recipe (flags override it), print test metrics, save if asked."""
    impl = _one(args.impl)
    dataset: Dataset = args.dataset
    recipe = impl.recipes[dataset]
    model_kwargs, fit_kwargs = dict(recipe["model"]), dict(recipe["fit"])
    for flag, key, target in (
        ("seed", "seed", model_kwargs),
        ("epochs", "epochs", fit_kwargs),
        ("batch_size", "batch_size", fit_kwargs),
        ("learning_rate", "learning_rate", fit_kwargs),
    ):
        if getattr(args, flag) is not None:
            target[key] = getattr(args, flag)
    if args.save is not None and args.save.is_dir():
        raise UsageError(f"--save {args.save}: is a directory, expected a file path")

    X, y = load(dataset, "train")
    if args.n_train is not None:
        X, y = X[: args.n_train], y[: args.n_train]
    X_test, y_test = load(dataset, "test")
    model = impl.factory(**model_kwargs)
    print(
        f"{impl.name} on {dataset}: {len(X)} training rows, model {model_kwargs}, fit {fit_kwargs}"
    )

    epochs, batch_size = int(fit_kwargs["epochs"]), int(fit_kwargs["batch_size"])
    with TrainingProgress(
        epochs, n_rows=len(X), batch_size=batch_size, label=impl.name
    ) as progress:
        start = time.perf_counter()
        try:
            model.fit(X, y, **fit_kwargs, **progress.fit_kwargs(model))
        except ValueError as exc:
            raise UsageError(f"{impl.name} refused the settings: {exc}") from exc
        seconds = time.perf_counter() - start

    metrics = classification_metrics(y_test, model.predict(X_test), N_CLASSES[dataset])
    print()
    print(format_metrics(metrics))
    print(f"\nwall time        {seconds:.1f} s to train")
    if args.save is not None:
        try:
            path = weights.save(
                model,
                args.save,
                activation=model_kwargs.get("activation", "relu"),
                loss=model_kwargs.get("loss", "cross_entropy"),
                implementation=impl.name,
                dataset=dataset,
                recipe={"model": model_kwargs, "fit": fit_kwargs},
            )
        except OSError as exc:
            raise UsageError(
                f"{args.save}: cannot write the weights: {exc.strerror or exc}"
            ) from exc
        print(f"saved            {path}")
    return 0


# ------------------------------------------------------------------------------ evaluate


def evaluate(args: argparse.Namespace) -> int:
    """Load saved weights into an implementation (or torch) and print test metrics."""
    saved = weights.read_weights(args.path)
    arch = saved.architecture
    target = args.impl or saved.implementation
    model: Any
    if target == "torch":
        from fromscratch.conformance import reference

        module = reference.load(
            reference.sequential(arch.layers, arch.activation, arch.dtype), saved.tensors
        )
        model = weights.TorchModel(module.eval(), arch.loss)
    else:
        model = weights.build(saved, _one(target))

    dataset: Dataset = args.dataset
    X, y = load(dataset, "test")
    from fromscratch.conformance import reference

    n_in, n_out = reference.widths(arch.layers)  # the sizes, or what a spec's layers give
    outputs = 2 if arch.loss == "bce" else n_out
    if n_in != X.shape[1] or outputs != N_CLASSES[dataset]:
        raise UsageError(
            f"{args.path}: the weights map {n_in} inputs to {outputs} classes, but "
            f"{dataset} has {X.shape[1]} features and {N_CLASSES[dataset]} classes "
            f"(they were trained on {saved.dataset or 'another dataset'})"
        )
    print(
        f"{args.path}: trained by {saved.implementation or '?'} on {saved.dataset or '?'}, "
        f"layers {arch.layers}, {arch.activation}, {arch.loss}, {arch.dtype}; evaluated by {target}"
    )
    metrics = classification_metrics(
        y, model.predict(np.asarray(X, dtype=arch.dtype)), N_CLASSES[dataset]
    )
    print()
    print(format_metrics(metrics))
    return 0


# ------------------------------------------------------------------------------ check


def check(args: argparse.Namespace) -> int:
    """Every check of the suite on one implementation, as a pass/fail table; 1 on a failure."""
    from fromscratch.conformance.checks import Measurement, plan
    from fromscratch.conformance.portability import round_trips
    from fromscratch.conformance.sequence import sequence_plan

    chosen = args.dataset or ["breast_cancer", "mnist"]
    if "none" in chosen and len(chosen) > 1:
        raise UsageError("--dataset none skips the accuracy checks: give it alone")
    impl = _one(args.impl)
    datasets = () if "none" in chosen else tuple(dict.fromkeys(chosen))

    calls: list[Callable[[], Measurement | list[Measurement]]] = [*plan(impl, datasets)]
    calls += sequence_plan(impl)
    calls.append(partial(round_trips, impl))
    results: list[Measurement] = []
    family, start = "", time.perf_counter()
    for call in calls:
        name = _name(call)
        if name != family:
            if family:
                _done(family, results, start)
            family, start = name, time.perf_counter()
        try:
            out = call()
            found = out if isinstance(out, list) else [out]
            # a sequence layer the implementation does not build: not run, not counted
            results += [m for m in found if "not_applicable" not in m.details]
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            results.append(
                Measurement(
                    name,
                    impl.name,
                    "",
                    None,
                    None,
                    False,
                    {"error": error, "traceback": traceback.format_exc()},
                )
            )
    _done(family, results, start)
    print()
    print(check_table(results))
    print(
        "worst: the worst case; for a tolerance, the largest error / allowed error "
        "(at most 1 passes); for accuracy and the ES cosine, the lowest score"
    )
    failed = [m for m in results if not m.passed]
    for m in failed:
        print(f"FAILED {m.describe()}")
    print(f"\n{impl.name}: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _name(call: Callable[..., Any]) -> str:
    func = call.func if isinstance(call, partial) else call
    name: str = getattr(func, "__name__", "check")
    return "portability" if name == "round_trips" else name


def _done(family: str, results: Sequence[Measurement], start: float) -> None:
    mine = [m for m in results if m.check == family]
    failed = sum(not m.passed for m in mine)
    seconds = time.perf_counter() - start
    print(f"{family:<20} {len(mine):>3} cases  {failed} failed  ({seconds:.1f} s)", flush=True)


def check_table(results: Sequence[Measurement]) -> str:
    """One row per check (per case for a score to reach): the worst figure beside its bound."""
    from fromscratch.conformance.checks import HIGHER_IS_BETTER

    groups: dict[str, list[Measurement]] = {}
    for m in results:
        key = f"{m.check}[{m.case}]" if m.check in HIGHER_IS_BETTER else m.check
        groups.setdefault(key, []).append(m)
    rows = [("check", "cases", "result", "worst", "bound")]
    for key, ms in groups.items():
        failed = sum(not m.passed for m in ms)
        values = [m.value for m in ms if m.value is not None]
        higher = ms[0].check in HIGHER_IS_BETTER
        worst = (min if higher else max)(values) if values else None
        rows.append(
            (
                key,
                str(len(ms)),
                "pass" if not failed else f"FAIL {failed}",
                *_figures(ms[0], worst, higher),
            )
        )
    return columns(rows)


def _figures(m: Measurement, worst: float | None, higher: bool) -> tuple[str, str]:
    if worst is None or m.bound is None:
        return "-", "-"
    if m.check == "accuracy":
        return f"{worst:.2%}", f">= {m.bound:.2%}"
    if higher:
        return f"{worst:.3f}", f">= {m.bound:.3f}"
    return ("inf" if math.isinf(worst) else f"{worst:.3g}"), f"<= {m.bound:g}"

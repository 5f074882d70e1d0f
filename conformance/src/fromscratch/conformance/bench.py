"""Time one MNIST training epoch of each contender, fairly, and compare them as ratios.

The workload (see :mod:`~fromscratch.conformance.bench_worker`) is one epoch of a
784-128-64-10 relu MLP, cross-entropy, float32, plain SGD (learning rate 0.1), batch 128,
over the 60,000 MNIST training images. The contenders are every gradient-trained
implementation installed, torch eager, ``torch.compile`` of the same model, and
scikit-learn's ``MLPClassifier``.

``--workload lenet`` times one epoch of LeNet-5 instead (the ``mnist_cnn`` recipes'
network, batch 64, plain SGD, learning rate 0.05), for torch eager and the
implementations whose ``supported_layers`` include ``Conv2d``, against
:data:`~fromscratch.conformance.tolerances.CNN_SPEED_TARGETS`; ``nox -s bench`` writes
it to ``reports/bench-lenet.json``.

Fair by construction
--------------------
* **One contender per process.** Two thread pools in one process do not share: after a
  NumPy epoch OpenBLAS's threads keep spinning, and torch's OpenMP threads then fight
  them for the cores. So each contender's epochs run in a fresh process of its own.
* **Alternating processes.** Contenders take turns, process after process (A, B, C, A,
  B, C, ...), so slow drift in the machine's load hits all of them alike.
* **Warm-up, then several timed epochs per process**, whose median is the process's
  time. A contender's time is the median over its processes, and a ratio is the ratio of
  two such medians.
* **What ran is recorded**: the BLAS library of each process, its kernel (OpenBLAS's
  core type) and thread count from ``threadpoolctl``, and torch's thread count and BLAS.
  The bench warns when they differ between contenders, or when ``OPENBLAS_CORETYPE``
  forces a kernel. ``--threads N`` gives every contender the same thread count.

Absolute times depend on the machine and on whatever else it runs; ratios measured in
one run do much less. On a busy machine, multi-threaded BLAS waits on threads the
scheduler has parked and times swing wildly: ``--threads 1`` keeps the comparison fair
and steady there (the CPU-time column then measures the work itself), and the bench warns
when the load average says the machine was busy. The speed targets of
:data:`~fromscratch.conformance.tolerances.SPEED_TARGETS` are judged on them.

``reports/bench.json``
----------------------
``schema_version`` (1); ``setup``: ``model``, ``batch_size``, ``dtype``, ``optimizer``,
``learning_rate``, ``warmup_epochs``, ``epochs_per_process``, ``processes``,
``n_train``, ``threads``; ``environment``: versions, CPU, thread variables, load average
before and after; ``order``: the contenders in the order their processes ran;
``contenders``: for each name that ran,

* ``median_s``: the median over processes of each process's median epoch, in seconds;
* ``spread_s``: ``[min, max]`` of those per-process medians;
* ``times_s``: every per-process median, in run order;
* ``cpu_median_s``: the same median of CPU seconds (all threads, spinning included): with
  one thread per contender it is what a busy machine disturbs least;
* ``epochs_s``, ``cpu_s``: every timed epoch's wall and CPU (all threads) seconds, per
  process; ``pids``: the process ids;
* ``blas``: ``threadpoolctl``'s facts on each native thread pool of the process
  (``user_api``, ``internal_api``, ``library``, ``version``, ``num_threads``, and for
  OpenBLAS its kernel, ``architecture``);
* ``torch_threads``: torch's thread count, ``null`` when the process never loaded torch;
  ``torch_blas``: torch's BLAS (``library``) and ATen's ``cpu_capability``, or ``null``;

``failed``: contender name to the error that stopped it (``torch.compile`` where it does
not work); ``ratios``: ``to_torch`` and ``to_matrix``, each ``{name: median / the
baseline's median}``; ``targets``: one entry per speed target whose contenders ran,
``{implementation, baseline, ratio, target, met}``; ``warnings``: a list of sentences.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

from fromscratch.conformance.bench_worker import (
    BATCH_SIZE,
    BUILT_IN,
    WORKLOADS,
    load_data,
)
from fromscratch.conformance.registry import RegistryError, discover, select
from fromscratch.conformance.tolerances import CNN_SPEED_TARGETS, SPEED_TARGETS, SpeedTarget

SCHEMA_VERSION: Final = 1
TORCH: Final = "torch"
MATRIX: Final = "matrix"
THREAD_VARIABLES: Final = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
KERNEL_VARIABLES: Final = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Setup:
    """How much to run: ``processes`` per contender, each ``warmup`` + ``epochs`` epochs."""

    processes: int = 5
    epochs: int = 3
    warmup: int = 1
    n_train: int | None = None
    """Only the first ``n_train`` training rows (a quick run); ``None`` for all 60,000."""
    threads: int | None = None
    """Thread count given to every contender's process; ``None`` keeps the environment's."""
    workload: str = "mlp"
    """What an epoch trains: ``"mlp"`` or ``"lenet"`` (see ``bench_worker.WORKLOADS``)."""


@dataclass(frozen=True)
class Contender:
    """A name in the results, what the worker builds, and an optional added sleep."""

    name: str
    builds: str
    sleep_s: float = 0.0


@dataclass
class Timings:
    """What a contender's processes reported, in run order."""

    epochs_s: list[list[float]] = field(default_factory=list)
    cpu_s: list[list[float]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)


def contenders_for(names: Sequence[str], without: Sequence[str] = ()) -> list[Contender]:
    """torch eager first (every ratio's baseline), then ``names``, then the other libraries."""
    chosen = [TORCH, *names, *(name for name in BUILT_IN if name != TORCH)]
    return [Contender(name, name) for name in dict.fromkeys(chosen) if name not in without]


# ------------------------------------------------------------------------ measuring


def worker_env(setup: Setup) -> dict[str, str]:
    env = dict(os.environ)
    if setup.threads is not None:
        env.update({variable: str(setup.threads) for variable in THREAD_VARIABLES})
    return env


def run_process(contender: Contender, setup: Setup) -> dict[str, Any]:
    """Start one worker process for ``contender`` and return what it reported.

    A worker that fails returns ``{"error": ...}`` with the reason, never raises.
    """
    spec = {
        "contender": contender.builds,
        "sleep_s": contender.sleep_s,
        "warmup": setup.warmup,
        "epochs": setup.epochs,
        "n_train": setup.n_train,
        "workload": setup.workload,
    }
    command = [sys.executable, "-m", "fromscratch.conformance.bench_worker", json.dumps(spec)]
    done = subprocess.run(command, capture_output=True, text=True, env=worker_env(setup))
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"the worker exited with status {done.returncode}: {last}"}
    return result


def measure(
    contenders: Sequence[Contender],
    setup: Setup,
    echo: Callable[[str], None] = print,
    run: Callable[[Contender, Setup], dict[str, Any]] = run_process,
) -> tuple[dict[str, Timings], dict[str, str], list[str]]:
    """Run every contender ``setup.processes`` times, alternating; timings, failures, order.

    A contender whose process fails is dropped from the later rounds and listed in the
    failures with its error.
    """
    timings = {c.name: Timings() for c in contenders}
    failed: dict[str, str] = {}
    order: list[str] = []
    for round_ in range(1, setup.processes + 1):
        for contender in contenders:
            if contender.name in failed:
                continue
            result = run(contender, setup)
            order.append(contender.name)
            if "error" in result:
                failed[contender.name] = str(result["error"])
                echo(f"  {contender.name}: failed: {failed[contender.name]}")
                continue
            t = timings[contender.name]
            t.epochs_s.append([float(s) for s in result["epoch_s"]])
            t.cpu_s.append([float(s) for s in result["cpu_s"]])
            t.facts.append({k: result.get(k) for k in ("blas", "torch_threads", "torch_blas")})
            t.pids.append(int(result["pid"]))
            echo(
                f"  process {round_}/{setup.processes}: {contender.name:<14}"
                f"{statistics.median(t.epochs_s[-1]):8.3f} s per epoch"
            )
    for name in failed:
        timings.pop(name)
    return timings, failed, order


# ------------------------------------------------------------------------ summarizing


def summarize(timings: dict[str, Timings]) -> dict[str, dict[str, Any]]:
    """Per contender: the median over processes of each process's median epoch, and more."""
    summary = {}
    for name, t in timings.items():
        per_process = [statistics.median(epochs) for epochs in t.epochs_s]
        summary[name] = {
            "median_s": statistics.median(per_process),
            "spread_s": [min(per_process), max(per_process)],
            "cpu_median_s": statistics.median(statistics.median(c) for c in t.cpu_s),
            "times_s": per_process,
            "epochs_s": t.epochs_s,
            "cpu_s": t.cpu_s,
            "pids": t.pids,
            **t.facts[0],
        }
    return summary


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each contender's median over torch's and over matrix's, where those ran."""
    return {
        f"to_{baseline}": {
            name: row["median_s"] / summary[baseline]["median_s"] for name, row in summary.items()
        }
        for baseline in (TORCH, MATRIX)
        if baseline in summary
    }


TARGETS: Final[dict[str, dict[str, SpeedTarget]]] = {
    "mlp": SPEED_TARGETS,
    "lenet": CNN_SPEED_TARGETS,
}
"""The speed targets of each workload."""


def judge_targets(
    summary: dict[str, dict[str, Any]], targets: dict[str, SpeedTarget] = SPEED_TARGETS
) -> list[dict[str, Any]]:
    """Every speed target whose implementation and baseline both ran, judged."""
    judged = []
    for name, target in targets.items():
        if name in summary and target.baseline in summary:
            ratio = summary[name]["median_s"] / summary[target.baseline]["median_s"]
            judged.append(
                {
                    "implementation": name,
                    "baseline": target.baseline,
                    "ratio": ratio,
                    "target": target.ratio,
                    "met": ratio <= target.ratio,
                }
            )
    return judged


def describe(facts: dict[str, Any]) -> str:
    """One line on a process's thread pools: library, version, kernel, threads; torch's."""
    pools = [
        " ".join(
            str(part)
            for part in (
                pool.get("internal_api"),
                pool.get("version"),
                pool.get("architecture"),
                f"x{pool.get('num_threads')}",
            )
            if part
        )
        for pool in facts.get("blas") or []
    ]
    if facts.get("torch_threads") is not None:
        torch_blas = facts.get("torch_blas") or {}
        pools.append(
            f"torch x{facts['torch_threads']} ({torch_blas.get('library')}, "
            f"{torch_blas.get('cpu_capability')})"
        )
    return "; ".join(sorted(set(pools))) or "-"


def thread_counts(facts: dict[str, Any]) -> dict[str, int]:
    """The thread count of each thread pool a process used, keyed by a readable label."""
    counts = {
        f"{pool.get('internal_api')} {pool.get('library')}": int(pool["num_threads"])
        for pool in facts.get("blas") or []
    }
    if facts.get("torch_threads") is not None:
        counts["torch"] = int(facts["torch_threads"])
    return counts


def kernels(facts: dict[str, Any]) -> set[str]:
    """The OpenBLAS kernels (core types) loaded in a process."""
    return {
        str(pool["architecture"])
        for pool in facts.get("blas") or []
        if pool.get("internal_api") == "openblas" and pool.get("architecture")
    }


def fact_warnings(timings: dict[str, Timings], env: dict[str, Any]) -> list[str]:
    """Sentences on anything that makes the comparison less than like for like."""
    warnings = []
    counts = {name: thread_counts(t.facts[0]) for name, t in timings.items()}
    if len({n for c in counts.values() for n in c.values()}) > 1:
        listed = "; ".join(
            f"{name}: " + ", ".join(f"{pool} {n}" for pool, n in c.items())
            for name, c in counts.items()
        )
        warnings.append(f"thread counts differ between contenders ({listed})")
    found = {name: kernels(t.facts[0]) for name, t in timings.items()}
    if len({k for ks in found.values() for k in ks}) > 1:
        listed = "; ".join(f"{name}: {', '.join(sorted(ks))}" for name, ks in found.items() if ks)
        warnings.append(f"OpenBLAS kernels differ between contenders ({listed})")
    for name, t in timings.items():
        seen = list(dict.fromkeys(describe(facts) for facts in t.facts))
        if len(seen) > 1:
            warnings.append(f"{name}: the thread pools changed between its processes: {seen}")
    forced = {k: v for k, v in env["variables"].items() if k in KERNEL_VARIABLES and v}
    if forced:
        warnings.append(
            "the OpenBLAS kernel is forced by "
            + ", ".join(f"{k}={v}" for k, v in forced.items())
            + ": NumPy contenders may run a slower kernel than this CPU supports"
        )
    cpus = env.get("cpus") or 1
    busiest = max(env.get("load_before") or [0.0], env.get("load_after") or [0.0])[0]
    if busiest > 0.5 * cpus:
        warnings.append(
            f"the machine was busy (1-minute load average up to {busiest:.1f} on {cpus} CPUs): "
            "absolute times are inflated, and ratios noisier than on an idle machine"
        )
    return warnings


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def environment(setup: Setup) -> dict[str, Any]:
    """The machine and the software, as the workers see it."""
    env = worker_env(setup)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "versions": {
            name: _version(name) for name in ("numpy", "torch", "scikit-learn", "threadpoolctl")
        },
        "variables": {name: env.get(name) for name in (*THREAD_VARIABLES, *KERNEL_VARIABLES)},
        "load_before": list(os.getloadavg()),
    }


# ------------------------------------------------------------------------ the whole run


def bench(
    contenders: Sequence[Contender],
    setup: Setup,
    out: Path | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measure, print the tables, judge the speed targets, and save JSON to ``out``."""
    env = environment(setup)
    work = WORKLOADS[setup.workload]
    echo(
        f"one MNIST epoch{'' if setup.n_train is None else f' ({setup.n_train} rows)'}: "
        f"{work.described}, batch {work.batch_size}, float32, SGD lr "
        f"{work.learning_rate}; {setup.processes} processes per contender, alternating, each "
        f"{setup.warmup} warm-up + {setup.epochs} timed epochs"
    )
    timings, failed, order = measure(contenders, setup, echo)
    env["load_after"] = list(os.getloadavg())
    summary = summarize(timings)
    result = {
        "schema_version": SCHEMA_VERSION,
        "setup": {
            "model": f"{work.described}, cross-entropy",
            "batch_size": work.batch_size,
            "dtype": "float32",
            "optimizer": f"SGD, learning rate {work.learning_rate}, no momentum",
            "learning_rate": work.learning_rate,
            **{k: v for k, v in asdict(setup).items() if k not in ("epochs", "warmup")},
            "warmup_epochs": setup.warmup,
            "epochs_per_process": setup.epochs,
            "added_sleep_s": {c.name: c.sleep_s for c in contenders if c.sleep_s},
        },
        "environment": env,
        "order": order,
        "contenders": summary,
        "failed": failed,
        "ratios": ratios(summary),
        "targets": judge_targets(summary, TARGETS[setup.workload]),
        "warnings": fact_warnings(timings, env) if timings else [],
    }
    for line in format_tables(result):
        echo(line)
    if out is not None:
        from fromscratch.conformance.report import write_json

        write_json(out, result)
        echo(f"\nwrote {out}")
    return result


def format_tables(result: dict[str, Any]) -> list[str]:
    """The results table, the BLAS/thread table, failures, targets and warnings, as lines."""
    summary, ratio = result["contenders"], result["ratios"]
    baselines = list(ratio)
    lines = ["", f"{'contender':<15}{'median s':>9}{'min s':>8}{'max s':>8}{'cpu s':>8}"]
    lines[-1] += "".join(f"{'x ' + b.removeprefix('to_'):>10}" for b in baselines)
    for name, row in summary.items():
        low, high = row["spread_s"]
        line = (
            f"{name:<15}{row['median_s']:>9.3f}{low:>8.3f}{high:>8.3f}{row['cpu_median_s']:>8.3f}"
        )
        lines.append(line + "".join(f"{ratio[b][name]:>10.2f}" for b in baselines))
    lines += ["", f"{'contender':<15}thread pools (library version kernel xthreads)"]
    lines += [f"{name:<15}{describe(row)}" for name, row in summary.items()]
    for name, error in result["failed"].items():
        lines.append(f"\nnot timed: {name} failed: {error}")
    if result["targets"]:
        lines.append("")
    for t in result["targets"]:
        verdict = "met" if t["met"] else "MISSED"
        lines.append(
            f"target {t['implementation']} <= {t['target']:g} x {t['baseline']}: "
            f"{t['ratio']:.2f}, {verdict}"
        )
    for warning in result["warnings"]:
        lines.append(f"warning: {warning}")
    return lines


# ------------------------------------------------------------------------ command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's options, for whichever command line hosts it."""
    parser.add_argument("--impl", action="append", help="only this implementation (repeatable)")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=[name for name in BUILT_IN if name != TORCH],
        help="leave out this library contender (repeatable)",
    )
    parser.add_argument("--processes", type=int, default=5, help="processes per contender")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per process")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs per process first")
    parser.add_argument(
        "--threads", type=int, default=None, help="give every contender this many threads"
    )
    parser.add_argument(
        "--n-train", type=int, default=None, help="only the first N training rows (quick runs)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("reports/bench.json"), help="where to write the JSON"
    )
    parser.add_argument(
        "--workload",
        choices=list(WORKLOADS),
        default="mlp",
        help="what an epoch trains: the MLP, or LeNet-5 (the CNN bench; torch and the "
        "implementations that build Conv2d layers)",
    )


def main(args: argparse.Namespace) -> int:
    """Run the bench from parsed :func:`add_arguments` options; 2 on a usage error."""
    for flag, least in (("processes", 1), ("epochs", 1), ("warmup", 0), ("threads", 1)):
        value = getattr(args, flag)
        if value is not None and value < least:
            print(f"error: --{flag} must be at least {least}, got {value}", file=sys.stderr)
            return 2
    if args.n_train is not None and not BATCH_SIZE <= args.n_train <= 60_000:
        message = f"--n-train must be in [{BATCH_SIZE}, 60000], got {args.n_train}"
        print(f"error: {message}", file=sys.stderr)
        return 2
    try:
        impls = select(args.impl)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:  # every worker loads MNIST: say once, here, when it cannot be loaded
        load_data(args.n_train)
    except Exception as exc:  # a missing package, directory or file all end the run
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        print(f"error: the bench needs MNIST: {reason}", file=sys.stderr)
        return 2
    names = [impl.name for impl in impls if impl.differentiable]
    skipped = [impl.name for impl in impls if not impl.differentiable]
    if args.workload == "lenet":  # only who builds convolutions; scikit-learn has none
        flat = [name for name in names if not _builds_convolutions(impls, name)]
        if flat:
            print(f"not timed (no Conv2d layers): {', '.join(flat)}")
        names = [name for name in names if name not in flat]
        # torch.compile of a CNN compiles for minutes on a small machine: the MLP bench
        # compares it; here it would only stretch the run.
        print("not timed: sklearn (no CNN), torch.compile (compiles for minutes)")
        args.without = [*args.without, "sklearn", "torch.compile"]
    installed = discover()
    for name in list(names):  # each speed target's baseline runs too
        target = TARGETS[args.workload].get(name)
        if target and target.baseline in installed and target.baseline not in BUILT_IN:
            names.append(target.baseline)
    if skipped:
        print(f"not timed (gradient-free, no SGD epoch): {', '.join(skipped)}")
    setup = Setup(
        args.processes, args.epochs, args.warmup, args.n_train, args.threads, args.workload
    )
    bench(contenders_for(list(dict.fromkeys(names)), args.without), setup, args.out)
    return 0


def _builds_convolutions(impls: Sequence[Any], name: str) -> bool:
    """Whether the implementation's model class declares ``Conv2d`` among its layers."""
    factory = next(impl.factory for impl in impls if impl.name == name)
    return "Conv2d" in (getattr(factory, "supported_layers", None) or ())

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
it to ``reports/bench-lenet.json``. ``--workload lstm`` and ``--workload transformer`` time
training epochs of the character models (:mod:`~fromscratch.conformance.text`; 640
windows of 64 characters, 20 Adam steps, an epoch) for torch eager and the
implementations whose ``SequenceNetwork`` builds their layers, as training tokens per
second (``setup.tokens_per_epoch`` over the median); ``nox -s bench`` writes them to
``reports/bench-lstm.json`` and ``reports/bench-transformer.json``.

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
* **Each contender at its best thread count.** Every contender runs at each thread
  count of ``--threads`` (by default 1 and every CPU), set through ``OMP_NUM_THREADS``,
  ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS``, and is judged by the fastest: a user
  whose training is slower with two threads sets one (``torch.set_num_threads(1)``).
  Two threads on two cores are fragile: when anything else runs, a thread pool waits on
  a thread the scheduler has parked. Measured with ten other processes running (load
  average 12), one 10,000-row epoch took torch 0.96 s with one thread and 18.7 s with
  two (OpenMP's threads spin while they wait: 0.27 against 5.3 CPU seconds), and
  ``matrix`` 0.57 s against 9.0 s. How badly each library's pool suffers depends on the
  load, so a ratio taken at two threads on a machine that is not idle measures the
  load, not the code: with the best of both, neither side gains from the other's pool
  collapsing.
* **What ran is recorded**: the BLAS library of each process, its kernel (OpenBLAS's
  core type) and thread count from ``threadpoolctl``, and torch's thread count and BLAS.
  The bench warns when a pool did not run with the thread count asked for, when the
  kernels differ between contenders, or when ``OPENBLAS_CORETYPE`` forces a kernel.

* **torch as a user would write it.** The bench's torch loop
  (:func:`~fromscratch.conformance.bench_worker.torch_epoch`) is the tutorial loop, and
  its own ``torch (plain script)`` contender, :mod:`~fromscratch.conformance.plain_torch`,
  runs the same loop from a file that imports nothing of the bench. The bench warns when
  its torch is slower than the script by more than
  :data:`~fromscratch.conformance.tolerances.PLAIN_TORCH_AGREEMENT`. Variants of the loop
  made no difference at one thread (CPU seconds for 20,000 rows, medians of five epochs
  each, under load): ``X[idx]`` 0.49, ``index_select`` 0.52, one shuffled copy per epoch
  then slices 0.57, SGD ``foreach=True`` 0.52, ``fused=True`` 0.50.

Absolute times depend on the machine and on whatever else it runs; ratios measured in
one run do much less, and the bench warns when the load average says the machine was
busy. The speed targets of :data:`~fromscratch.conformance.tolerances.SPEED_TARGETS` are
judged on the ratios of each contender's best.

``reports/bench.json``
----------------------
``schema_version`` (1); ``setup``: ``model``, ``batch_size``, ``dtype``, ``optimizer``,
``learning_rate``, ``warmup_epochs``, ``epochs_per_process``, ``processes``,
``n_train``, ``threads`` (the thread counts tried); ``environment``: versions, CPU, the
caller's thread variables, load average before and after; ``order``: the contenders and
thread counts (``"torch x2"``) in the order their processes ran;
``contenders``: for each name that ran, the figures at its fastest thread count,

* ``threads``: that thread count; ``by_threads``: ``{count: {median_s, spread_s,
  cpu_median_s}}`` for every count tried;
* ``median_s``: the median over processes of each process's median epoch, in seconds;
* ``spread_s``: ``[min, max]`` of those per-process medians;
* ``times_s``: every per-process median, in run order;
* ``cpu_median_s``: the same median of CPU seconds (all threads, spinning included): at
  one thread it is what a busy machine disturbs least;
* ``epochs_s``, ``cpu_s``: every timed epoch's wall and CPU (all threads) seconds, per
  process; ``pids``: the process ids;
* ``blas``: ``threadpoolctl``'s facts on each native thread pool of the process
  (``user_api``, ``internal_api``, ``library``, ``version``, ``num_threads``, and for
  OpenBLAS its kernel, ``architecture``);
* ``torch_threads``: torch's thread count, ``null`` when the process never loaded torch;
  ``torch_blas``: torch's BLAS (``library``) and ATen's ``cpu_capability``, or ``null``;

``failed``: contender and thread count to the error that stopped it (``torch.compile``
where it does not work); ``ratios``: ``to_torch`` and ``to_matrix``, each ``{name:
median / the baseline's median}`` at each one's fastest count, and
``to_torch_same_threads``: ``{count: {name: median / torch's median at that count}}``;
``targets``: one entry per speed target whose contenders ran, ``{implementation,
baseline, ratio, target, met}``; ``warnings``: a list of sentences.
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
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from fromscratch.conformance.bench_worker import (
    BATCH_SIZE,
    BUILT_IN,
    TEXT_WINDOWS,
    WORKLOADS,
    T,
    load_data,
    load_text,
    sequence_network,
)
from fromscratch.conformance.registry import RegistryError, discover, select
from fromscratch.conformance.runfacts import cpu_model, installed_version
from fromscratch.conformance.tolerances import (
    CNN_SPEED_TARGETS,
    PLAIN_TORCH_AGREEMENT,
    SPEED_TARGETS,
    SpeedTarget,
)

SCHEMA_VERSION: Final = 1
TORCH: Final = "torch"
MATRIX: Final = "matrix"
PLAIN_TORCH: Final = "torch (plain script)"
""":mod:`~fromscratch.conformance.plain_torch`, the check on the bench's own torch loop."""
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
    threads: tuple[int, ...] = (1,)
    """The thread counts each contender runs at; each is judged by its fastest."""
    workload: str = "mlp"
    """What an epoch trains: ``"mlp"`` or ``"lenet"`` (see ``bench_worker.WORKLOADS``)."""


@dataclass(frozen=True)
class Contender:
    """A name in the results, what the worker builds, an optional added sleep, its threads."""

    name: str
    builds: str
    sleep_s: float = 0.0
    threads: int = 1

    @property
    def label(self) -> str:
        """The name and the thread count: one row of the per-process results."""
        return f"{self.name} x{self.threads}"


@dataclass
class Timings:
    """What a contender's processes at one thread count reported, in run order."""

    threads: int = 1
    """The thread count every pool of these processes was asked to use."""
    epochs_s: list[list[float]] = field(default_factory=list)
    cpu_s: list[list[float]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)


def contenders_for(names: Sequence[str], without: Sequence[str] = ()) -> list[Contender]:
    """torch eager first (every ratio's baseline) and the plain script that checks it, then
    ``names``, then the other libraries."""
    chosen = [TORCH, PLAIN_TORCH, *names, *(name for name in BUILT_IN if name != TORCH)]
    return [Contender(name, name) for name in dict.fromkeys(chosen) if name not in without]


# ------------------------------------------------------------------------ measuring


def default_threads() -> tuple[int, ...]:
    """One thread, and every CPU: the two settings a user would try."""
    return tuple(dict.fromkeys((1, os.cpu_count() or 1)))


def worker_env(threads: int) -> dict[str, str]:
    """This environment, with every thread pool a worker may load set to ``threads``."""
    return {**os.environ, **{variable: str(threads) for variable in THREAD_VARIABLES}}


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
    if contender.builds == PLAIN_TORCH:
        command = [sys.executable, "-m", "fromscratch.conformance.plain_torch"]
        command += [f"--epochs={setup.epochs}", f"--warmup={setup.warmup}"]
        command += [] if setup.n_train is None else [f"--n-train={setup.n_train}"]
    done = subprocess.run(
        command, capture_output=True, text=True, env=worker_env(contender.threads)
    )
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"the worker exited with status {done.returncode}: {last}"}
    return {"blas": [], "torch_blas": None, **result}  # the plain script reports no pools


def measure(
    contenders: Sequence[Contender],
    setup: Setup,
    echo: Callable[[str], None] = print,
    run: Callable[[Contender, Setup], dict[str, Any]] = run_process,
) -> tuple[dict[str, Timings], dict[str, str], list[str]]:
    """Run every contender at every thread count ``setup.processes`` times, alternating.

    Returns the timings and the failures, each by :attr:`Contender.label`, and the labels
    in run order. A contender whose process fails is dropped from the later rounds and
    listed in the failures with its error.
    """
    runs = [replace(c, threads=n) for c in contenders for n in setup.threads]
    timings = {c.label: Timings(threads=c.threads) for c in runs}
    failed: dict[str, str] = {}
    order: list[str] = []
    for round_ in range(1, setup.processes + 1):
        for contender in runs:
            if contender.label in failed:
                continue
            result = run(contender, setup)
            order.append(contender.label)
            if "error" in result:
                failed[contender.label] = str(result["error"])
                echo(f"  {contender.label}: failed: {failed[contender.label]}")
                continue
            t = timings[contender.label]
            t.epochs_s.append([float(s) for s in result["epoch_s"]])
            t.cpu_s.append([float(s) for s in result["cpu_s"]])
            t.facts.append({k: result.get(k) for k in ("blas", "torch_threads", "torch_blas")})
            t.pids.append(int(result["pid"]))
            echo(
                f"  process {round_}/{setup.processes}: {contender.label:<25}"
                f"{statistics.median(t.epochs_s[-1]):8.3f} s per epoch"
            )
    for name in failed:
        timings.pop(name)
    return timings, failed, order


# ------------------------------------------------------------------------ summarizing


def summarize(timings: dict[str, Timings]) -> dict[str, dict[str, Any]]:
    """Per run: the median over processes of each process's median epoch, and more."""
    summary = {}
    for label, t in timings.items():
        per_process = [statistics.median(epochs) for epochs in t.epochs_s]
        summary[label] = {
            "threads": t.threads,
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


def fastest(
    per_run: dict[str, dict[str, Any]], contenders: Sequence[Contender], threads: Sequence[int]
) -> dict[str, dict[str, Any]]:
    """Each contender's figures at its fastest thread count, with every count's medians."""
    best = {}
    for contender in contenders:
        rows = {
            n: per_run[label]
            for n in threads
            if (label := replace(contender, threads=n).label) in per_run
        }
        if rows:
            n = min(rows, key=lambda count: rows[count]["median_s"])
            by_threads = {
                str(count): {k: row[k] for k in ("median_s", "spread_s", "cpu_median_s")}
                for count, row in rows.items()
            }
            best[contender.name] = {**rows[n], "by_threads": by_threads}
    return best


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each contender's median over torch's and over matrix's, where those ran."""
    return {
        f"to_{baseline}": {
            name: row["median_s"] / summary[baseline]["median_s"] for name, row in summary.items()
        }
        for baseline in (TORCH, MATRIX)
        if baseline in summary
    }


def same_threads(per_run: dict[str, dict[str, Any]], setup: Setup) -> dict[str, dict[str, float]]:
    """At each thread count: each contender's median over torch's at that same count."""
    table = {}
    for n in setup.threads:
        rows = {label.removesuffix(f" x{n}"): row for label, row in per_run.items()}
        rows = {name: row for name, row in rows.items() if row["threads"] == n}
        if TORCH in rows:
            table[str(n)] = {
                name: row["median_s"] / rows[TORCH]["median_s"] for name, row in rows.items()
            }
    return table


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
        torch_blas = facts.get("torch_blas")
        pools.append(
            f"torch x{facts['torch_threads']}"
            + (
                f" ({torch_blas.get('library')}, {torch_blas.get('cpu_capability')})"
                if torch_blas
                else ""
            )
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
    for label, t in timings.items():
        wrong = {pool: n for pool, n in thread_counts(t.facts[0]).items() if n != t.threads}
        if wrong:
            listed = ", ".join(f"{pool} {n}" for pool, n in wrong.items())
            warnings.append(
                f"{label}: asked for {t.threads} threads, but these pools ran with other "
                f"counts: {listed}"
            )
    found = {name: kernels(t.facts[0]) for name, t in timings.items()}
    if len({k for ks in found.values() for k in ks}) > 1:
        listed = "; ".join(f"{name}: {', '.join(sorted(ks))}" for name, ks in found.items() if ks)
        warnings.append(f"OpenBLAS kernels differ between contenders ({listed})")
    for name, t in timings.items():
        seen = list(dict.fromkeys(describe(facts) for facts in t.facts))
        if len(seen) > 1:
            warnings.append(f"{name}: the thread pools changed between its processes: {seen}")
    warnings += plain_torch_warnings(timings)
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


def plain_torch_warnings(timings: dict[str, Timings]) -> list[str]:
    """A sentence for each thread count where the bench's torch is slower than a user's."""
    warnings = []
    for label, t in timings.items():
        plain = timings.get(label.replace(TORCH, PLAIN_TORCH, 1))
        if not label.startswith(f"{TORCH} x") or plain is None:
            continue
        ours, theirs = (statistics.median(map(statistics.median, x.epochs_s)) for x in (t, plain))
        if ours > PLAIN_TORCH_AGREEMENT * theirs:
            warnings.append(
                f"{label}: the bench's torch loop took {ours:.3f} s per epoch and the plain "
                f"script {theirs:.3f} s, {ours / theirs:.2f}x (allowed "
                f"{PLAIN_TORCH_AGREEMENT}x): the bench slows torch down, and flatters us"
            )
    return warnings


def environment(setup: Setup) -> dict[str, Any]:
    """The machine and the software, as the workers see it."""
    env = dict(os.environ)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "versions": {
            name: installed_version(name)
            for name in ("numpy", "torch", "scikit-learn", "threadpoolctl")
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
    data = f"one MNIST epoch{'' if setup.n_train is None else f' ({setup.n_train} rows)'}"
    optimizer = f"SGD, learning rate {work.learning_rate}, no momentum"
    text: dict[str, Any] = {}
    if work.text:
        windows = setup.n_train or TEXT_WINDOWS
        data = f"an epoch of {windows} Tiny Shakespeare windows of {T} characters"
        optimizer = f"Adam, learning rate {work.learning_rate}"
        steps = -(-windows // work.batch_size)
        text = {"steps_per_epoch": steps, "tokens_per_epoch": windows * T}
    echo(
        f"{data}: {work.described}, batch {work.batch_size}, float32, {optimizer}; "
        f"{setup.processes} processes per contender, alternating, each "
        f"{setup.warmup} warm-up + {setup.epochs} timed epochs"
    )
    timings, failed, order = measure(contenders, setup, echo)
    env["load_after"] = list(os.getloadavg())
    per_run = summarize(timings)
    summary = fastest(per_run, contenders, setup.threads)
    result = {
        "schema_version": SCHEMA_VERSION,
        "setup": {
            "model": f"{work.described}, cross-entropy",
            "batch_size": work.batch_size,
            "dtype": "float32",
            "optimizer": optimizer,
            "learning_rate": work.learning_rate,
            **text,
            **{k: v for k, v in asdict(setup).items() if k not in ("epochs", "warmup")},
            "warmup_epochs": setup.warmup,
            "epochs_per_process": setup.epochs,
            "added_sleep_s": {c.name: c.sleep_s for c in contenders if c.sleep_s},
        },
        "environment": env,
        "order": order,
        "contenders": summary,
        "failed": failed,
        "ratios": {**ratios(summary), "to_torch_same_threads": same_threads(per_run, setup)},
        "targets": judge_targets(summary, TARGETS.get(setup.workload, {})),
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
    baselines = [b for b in ("to_torch", "to_matrix") if b in ratio]
    lines = ["", "at each contender's fastest thread count:"]
    lines.append(
        f"{'contender':<22}{'threads':>8}{'median s':>9}{'min s':>8}{'max s':>8}{'cpu s':>8}"
    )
    lines[-1] += "".join(f"{'x ' + b.removeprefix('to_'):>10}" for b in baselines)
    for name, row in summary.items():
        low, high = row["spread_s"]
        line = (
            f"{name:<22}{row['threads']:>8}{row['median_s']:>9.3f}{low:>8.3f}{high:>8.3f}"
            f"{row['cpu_median_s']:>8.3f}"
        )
        lines.append(line + "".join(f"{ratio[b][name]:>10.2f}" for b in baselines))
    counts = list(ratio.get("to_torch_same_threads", {}))
    if len(counts) > 1:
        lines += ["", "at each thread count (median s, x torch at the same count):"]
        lines.append(
            f"{'contender':<22}" + "".join(f"{'x' + n + ' s':>10}{'x torch':>9}" for n in counts)
        )
        for name, row in summary.items():
            cells = []
            for n in counts:
                at = row["by_threads"].get(n)
                r = ratio["to_torch_same_threads"][n].get(name)
                cells.append(f"{at['median_s']:>10.3f}" if at else f"{'-':>10}")
                cells.append(f"{r:>9.2f}" if r is not None else f"{'-':>9}")
            lines.append(f"{name:<22}" + "".join(cells))
    lines += ["", f"{'contender':<22}thread pools (library version kernel xthreads)"]
    lines += [f"{name:<22}{describe(row)}" for name, row in summary.items()]
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
        choices=[*(name for name in BUILT_IN if name != TORCH), PLAIN_TORCH],
        help="leave out this library contender (repeatable)",
    )
    parser.add_argument("--processes", type=int, default=5, help="processes per contender")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per process")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs per process first")
    parser.add_argument(
        "--threads",
        type=int,
        action="append",
        help="run every contender at this thread count (repeatable; each is judged by its "
        "fastest); default: 1 and every CPU",
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
        help="what an epoch trains: the MLP; LeNet-5 (the CNN bench; torch and the "
        "implementations that build Conv2d layers); or a character LSTM or Transformer on "
        "Tiny Shakespeare (--n-train then counts windows of 64 characters, default 640)",
    )


def main(args: argparse.Namespace) -> int:
    """Run the bench from parsed :func:`add_arguments` options; 2 on a usage error."""
    counts = args.threads or []
    for flag, least, value in (
        ("processes", 1, args.processes),
        ("epochs", 1, args.epochs),
        ("warmup", 0, args.warmup),
        *(("threads", 1, n) for n in counts),
    ):
        if value < least:
            print(f"error: --{flag} must be at least {least}, got {value}", file=sys.stderr)
            return 2
    work = WORKLOADS[args.workload]
    least, most = (1, 15_000) if work.text else (BATCH_SIZE, 60_000)
    if args.n_train is not None and not least <= args.n_train <= most:
        message = f"--n-train must be in [{least}, {most}], got {args.n_train}"
        print(f"error: {message}", file=sys.stderr)
        return 2
    try:
        impls = select(args.impl)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    needs, load = ("Tiny Shakespeare", load_text) if work.text else ("MNIST", load_data)
    try:  # every worker loads the data: say once, here, when it cannot be loaded
        load(args.n_train)
    except Exception as exc:  # a missing package, directory or file all end the run
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        print(f"error: the bench needs {needs}: {reason}", file=sys.stderr)
        return 2
    names = [impl.name for impl in impls if impl.differentiable]
    skipped = [impl.name for impl in impls if not impl.differentiable]
    if work.text:  # only who builds the model's layers; the other libraries train no text
        unable = [i.name for i in impls if i.name in names and not builds_text(i, work)]
        if unable:
            print(f"not timed (no SequenceNetwork with these layers): {', '.join(unable)}")
        names = [name for name in names if name not in unable]
        print("not timed: sklearn, torch.compile, torch (plain script) (MLP contenders)")
        args.without = [*args.without, "sklearn", "torch.compile", PLAIN_TORCH]
    if args.workload == "lenet":  # only who builds convolutions; scikit-learn has none
        flat = [name for name in names if not _builds_convolutions(impls, name)]
        if flat:
            print(f"not timed (no Conv2d layers): {', '.join(flat)}")
        names = [name for name in names if name not in flat]
        # torch.compile of a CNN compiles for minutes on a small machine: the MLP bench
        # compares it; here it would only stretch the run.
        # The plain script checks the bench's MLP loop; it trains no CNN.
        print(
            "not timed: sklearn (no CNN), torch.compile (compiles for minutes), "
            "torch (plain script) (an MLP check)"
        )
        args.without = [*args.without, "sklearn", "torch.compile", PLAIN_TORCH]
    installed = discover()
    for name in list(names):  # each speed target's baseline runs too
        target = TARGETS.get(args.workload, {}).get(name)
        if target and target.baseline in installed and target.baseline not in BUILT_IN:
            names.append(target.baseline)
    if skipped:
        print(f"not timed (gradient-free, no SGD epoch): {', '.join(skipped)}")
    threads = tuple(dict.fromkeys(counts)) or default_threads()
    setup = Setup(args.processes, args.epochs, args.warmup, args.n_train, threads, args.workload)
    bench(contenders_for(list(dict.fromkeys(names)), args.without), setup, args.out)
    return 0


def builds_text(impl: Any, work: Any) -> bool:
    """Whether the implementation's ``SequenceNetwork`` builds every layer of ``work``."""
    from fromscratch.conformance.sequence import entry

    network = sequence_network(impl)
    builds = getattr(network, "supported_layers", None) or ()
    return all(entry(text)[0] in builds for text in work.layers)


def _builds_convolutions(impls: Sequence[Any], name: str) -> bool:
    """Whether the implementation's model class declares ``Conv2d`` among its layers."""
    factory = next(impl.factory for impl in impls if impl.name == name)
    return "Conv2d" in (getattr(factory, "supported_layers", None) or ())

"""Generations per second of the MNIST recipe's ES per executor: in process, on threads,
on worker processes and on Ray workers, 1, 2 and 3 of each.

Usage (from the repository root, with FROMSCRATCH_DATA set and the ``ray`` extra;
``OPENBLAS_NUM_THREADS=1`` so that the in-process run uses one core, as every worker
does)::

    python implementations/evolution/scripts/ray_speed.py --generations 60

Times ``--generations`` ES steps (the recipe's model, population, rank and batch size)
after two warm-up steps; the pools' start-up (worker processes, a local Ray instance on
loopback without dashboard) is not timed. Reports per executor:

* generations per second, and the driver's own time per generation (the rank shaping,
  the weighted sum of the perturbations, Adam: what no worker can take over);
* the payload per generation, counted as the pickled bytes of what goes out (θ, the
  row indices, the offsets) and what comes back (the losses);
* the bytes the loopback interface carried per generation (``/proc/net/dev``: Ray's own
  messages; on one machine θ travels through shared memory, not the network; worker
  processes use pipes, not the network).
"""

from __future__ import annotations

import argparse
import contextlib
import pickle
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from fromscratch.datasets import load_mnist
from fromscratch.evolution import RECIPES, Network
from fromscratch.evolution.options import check_fit_options
from fromscratch.evolution.pool import WorkerPool
from fromscratch.evolution.ray_pool import import_ray


def loopback_bytes() -> int:
    with open("/proc/net/dev") as table:
        for line in table:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                fields = rest.split()
                return int(fields[0]) + int(fields[8])  # received + transmitted
    return 0


class Payload:
    """Wraps a pool and counts the pickled bytes of each generation's messages."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool, self.out, self.back, self.calls = pool, 0, 0, 0

    def antithetic_losses(self, theta: Any, rows: Any, offsets: Any, sigma: float) -> Any:
        shares, size = self.pool.shares(rows, offsets)
        if self.pool.label == "Ray":  # theta is put in the object store once per generation
            self.out += len(pickle.dumps(theta, protocol=5))
            self.out += sum(len(pickle.dumps((rows, s, sigma, size), protocol=5)) for s in shares)
        else:  # a worker process gets its own copy of theta through its pipe
            self.out += sum(
                len(pickle.dumps((theta, rows, s, sigma, size), protocol=5)) for s in shares
            )
        result = self.pool.antithetic_losses(theta, rows, offsets, sigma)
        self.back += len(pickle.dumps(result, protocol=5))
        self.calls += 1
        return result


def run(executor: str, workers: int, generations: int, X: Any, y: Any) -> dict[str, float]:
    recipe = RECIPES["mnist"]
    model = Network(**recipe["model"])
    fit = {k: v for k, v in recipe["fit"].items() if k not in ("epochs", "schedule")}
    options = {k: v for k, v in fit.items() if k not in ("batch_size", "learning_rate")}
    if executor != "local":
        options.update(executor=executor, workers=workers)
    config = check_fit_options(options)
    pool = model._make_pool(config, X, y) if executor in ("processes", "ray") else None
    counter = Payload(pool) if pool is not None else None
    threads = ThreadPoolExecutor(workers) if executor == "threads" else None
    strategy: Any = model._make_strategy(config, fit["learning_rate"], counter, threads)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    n = fit["batch_size"]
    batches = [rng.choice(len(X), size=n, replace=False) for _ in range(generations + 2)]
    # As fit does: under threads, one BLAS thread each.
    with threadpool_limits(1, "blas") if threads else contextlib.nullcontext():
        for rows in batches[:2]:
            strategy.step(X[rows], y[rows], rows)
        if counter is not None:
            counter.out = counter.back = counter.calls = 0
        lo, wall, cpu = loopback_bytes(), time.perf_counter(), time.process_time()
        for rows in batches[2:]:
            strategy.step(X[rows], y[rows], rows)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {"gen_per_s": generations / wall, "driver_cpu_ms": 1e3 * cpu / generations}
    if counter is not None:
        result["out_bytes"] = counter.out / counter.calls
        result["back_bytes"] = counter.back / counter.calls
        result["loopback_bytes"] = (loopback_bytes() - lo) / generations
    if pool is not None:
        pool.close()
    if threads is not None:
        threads.shutdown()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=60)
    parser.add_argument("--workers", type=int, action="append")
    parser.add_argument(
        "--executor", action="append", choices=("threads", "processes", "ray"), help="default: all"
    )
    args = parser.parse_args()
    X, y = load_mnist("train")
    executors = args.executor or ["threads", "processes", "ray"]
    ray = import_ray() if "ray" in executors else None
    if ray is not None:
        ray.init(
            num_cpus=3, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False
        )
    try:
        rows = [("in process", run("local", 1, args.generations, X, y))]
        for executor in executors:
            for W in args.workers or [1, 2, 3]:
                rows.append((f"{executor}, {W}", run(executor, W, args.generations, X, y)))
    finally:
        if ray is not None:
            ray.shutdown()
    print(
        "| executor | generations/s | driver CPU ms/gen | out B/gen | back B/gen | loopback B/gen |"
    )
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        extra = (
            f"{r['out_bytes']:.0f} | {r['back_bytes']:.0f} | {r['loopback_bytes']:.0f}"
            if "out_bytes" in r
            else "— | — | —"
        )
        print(f"| {name} | {r['gen_per_s']:.2f} | {r['driver_cpu_ms']:.1f} | {extra} |")


if __name__ == "__main__":
    main()

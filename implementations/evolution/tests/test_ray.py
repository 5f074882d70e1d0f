"""The population evaluated on Ray workers: same numbers, faults caught, a clean stop.

Every test but the missing-extra one needs the ``ray`` extra and is skipped without it.
One local Ray instance (node address 127.0.0.1, no dashboard, 3 logical CPUs) serves the
whole session; the Ctrl-C test starts its own in a subprocess and is marked ``slow``.
(Ray 2.60's gRPC servers listen on every interface whatever the node address, behind
its token authentication; the README says how to confine them to loopback.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from fromscratch.evolution import Network
from fromscratch.evolution.activations import ACTIVATIONS
from fromscratch.evolution.losses import LOSSES
from fromscratch.evolution.lowrank import perturbations
from fromscratch.evolution.mlp import MLP, chunk_count
from fromscratch.evolution.noise import NoiseTable
from fromscratch.evolution.ray_pool import RayPool, WorkerSpec

FIT: dict[str, Any] = {
    "epochs": 2,
    "batch_size": 50,
    "learning_rate": 0.01,
    "strategy": "es",
    "population": 60,  # 30 pairs: one chunk for [64, 16, 3], so one worker evaluates all
    "sigma": 0.05,
    "rank": 1,
}


def data(n: int = 400, seed: int = 0) -> tuple[Any, Any]:
    """A 3-class problem with 64 features, non-uniform in scale."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 64))
    y = rng.integers(0, 3, size=n)
    X = centres[y] + rng.normal(size=(n, 64)) * rng.uniform(0.5, 2, size=64)
    return X.astype(np.float32), y


def trained(**options: Any) -> Network:
    X, y = data()
    return Network([64, 16, 3], seed=3).fit(X, y, **{**FIT, **options})


def assert_same_parameters(a: Network, b: Network) -> None:
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key], err_msg=key)


def ray_processes() -> set[int]:
    """Process ids whose command line mentions ray (raylet, gcs_server, workers, ...)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"ray" in cmdline and int(entry.name) != os.getpid():
                pids.add(int(entry.name))
    return pids


def worker_pids() -> list[int]:
    """The live actor processes of this package's workers (Ray titles them ``ray::Worker``)."""
    pids = []
    for pid in ray_processes():
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::Worker"):
                pids.append(pid)
        except OSError:
            continue
    return pids


def no_workers_left(timeout: float = 30.0) -> bool:
    """Whether every worker process is gone within ``timeout`` s (Ray stops them async)."""
    deadline = time.monotonic() + timeout
    while worker_pids():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_missing_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    X, y = data(40)
    with pytest.raises(ImportError, match=r"pip install 'fromscratch-evolution\[ray\]'"):
        Network([64, 16, 3]).fit(X, y, **{**FIT, "executor": "ray"})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 2}, r"workers apply to executor='threads' or 'ray'"),
        ({"executor": "ray", "workers": 0}, r"workers must be an integer >= 1, got 0"),
        ({"executor": "ray", "address": 5}, r"address must be a Ray cluster address"),
        (
            {"executor": "dask"},
            r"unknown executor 'dask'; expected one of 'local', 'threads', 'ray'",
        ),
        ({"strategy": "ga", "executor": "ray"}, r"'executor' do not apply to strategy='ga'"),
    ],
)
def test_executor_options_are_validated(options: dict[str, Any], message: str) -> None:
    X, y = data(40)
    fit = {**FIT, **options}
    if fit["strategy"] == "ga":
        for key in ("sigma", "rank"):
            fit.pop(key)
    with pytest.raises(ValueError, match=message):
        Network([64, 16, 3]).fit(X, y, **fit)


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[Any]:
    """One local Ray instance for the session: loopback only, no dashboard, 3 CPUs."""
    ray = pytest.importorskip("ray")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # no telemetry leaves this machine
    ray.init(
        num_cpus=3,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def in_process() -> Network:
    return trained()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_ray_run_is_bit_identical_to_the_in_process_run(
    ray_instance: Any, in_process: Network, workers: int
) -> None:
    on_ray = trained(executor="ray", workers=workers)
    assert_same_parameters(on_ray, in_process)
    assert no_workers_left()  # fit stopped its workers


def test_dense_perturbations_on_ray_are_bit_identical_too(ray_instance: Any) -> None:
    assert_same_parameters(
        trained(executor="ray", workers=2, rank=None, epochs=1), trained(rank=None, epochs=1)
    )


# 30 pairs of a 128-row batch through 256 hidden units: at most 8 pairs per chunk under
# CHUNK_FLOATS, so one process cuts chunks of 8, 8, 8 and 6 pairs. Shares of 15 or 10 pairs
# cut on their own would be chunks of 8 and 7, or of 5 and 5: other widths, other last bits.
WIDE: dict[str, Any] = {"epochs": 1, "batch_size": 128}


def trained_wide(**options: Any) -> Network:
    X, y = data()
    return Network([64, 256, 3], seed=3).fit(X, y, **{**FIT, **WIDE, **options})


@pytest.fixture(scope="session")
def in_process_wide() -> Network:
    return trained_wide()


def test_the_wide_population_spans_several_chunks() -> None:
    assert chunk_count(FIT["population"] // 2, WIDE["batch_size"] * 256) == 4


@pytest.mark.parametrize("rank", [1, None])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_pair_has_its_in_process_loss_on_any_number_of_workers(
    ray_instance: Any, workers: int, rank: int | None
) -> None:
    # Compared loss by loss: the centred ranks of a generation absorb most last-bit
    # differences, so equal parameters alone would not show a share cut another way.
    X, y = data()
    sizes = (64, 256, 3)
    spec = WorkerSpec(sizes, "relu", "cross_entropy", "float32", np.random.SeedSequence(5), rank)
    mlp = MLP(sizes, ACTIVATIONS["relu"], LOSSES["cross_entropy"])
    kind = perturbations(sizes, rank)
    noise = NoiseTable(mlp.layout.size, np.dtype("float32"), np.random.default_rng(spec.noise_seed))
    rng = np.random.default_rng(1)
    theta = (0.1 * rng.standard_normal(mlp.layout.size)).astype(np.float32)
    rows = rng.permutation(len(X))[: WIDE["batch_size"]]
    offsets = noise.offsets(FIT["population"] // 2, rng)
    F = noise.take(offsets, kind.width)
    with threadpool_limits(1, "blas"):  # the in-process run the workers match: one thread
        expected = mlp.antithetic_losses(theta, F, 0.05, X[rows], y[rows], kind)
    pool = RayPool(spec, X, y, workers=workers, address=None)
    try:
        on_ray = pool.antithetic_losses(theta, rows, offsets, 0.05)
    finally:
        pool.close()
    for got, want in zip(on_ray, expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_workers_evaluate_whole_chunks_of_the_in_process_width(
    ray_instance: Any, in_process_wide: Network, workers: int
) -> None:
    assert_same_parameters(trained_wide(executor="ray", workers=workers), in_process_wide)


def kill_a_worker_during_epoch_two(delay: float) -> Any:
    """A callback that, after epoch 1, kills one worker ``delay`` seconds into epoch 2."""

    def kill() -> None:
        pids = worker_pids()
        assert pids, "no worker process found"
        os.kill(min(pids), signal.SIGKILL)

    def callback(epoch: int, metrics: Mapping[str, float]) -> None:
        if epoch == 1:
            threading.Timer(delay, kill).start()

    return callback


def test_a_killed_worker_is_replaced_and_its_share_evaluated_again(ray_instance: Any) -> None:
    X, y = data()
    model = Network([64, 256, 3], seed=3)  # four chunks: both workers have pairs to lose
    with pytest.warns(RuntimeWarning, match=r"Ray worker \d died during generation \d+"):
        model.fit(
            X,
            y,
            callback=kill_a_worker_during_epoch_two(0.05),
            **{**FIT, **WIDE, "executor": "ray", "workers": 2, "epochs": 3},
        )
    reference = trained_wide(epochs=3)
    assert_same_parameters(model, reference)  # nothing lost, nothing evaluated short


def test_a_run_out_of_restarts_fails_clearly(
    ray_instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fromscratch.evolution import ray_pool

    monkeypatch.setattr(ray_pool, "MAX_RESTARTS", 0)
    X, y = data()
    with pytest.raises(RuntimeError, match=r"Ray worker \d died during generation \d+"):
        Network([64, 256, 3], seed=3).fit(  # four chunks: both workers have pairs
            X,
            y,
            callback=kill_a_worker_during_epoch_two(0.05),
            **{**FIT, **WIDE, "executor": "ray", "workers": 2, "epochs": 3},
        )
    assert no_workers_left()


CTRL_C_SCRIPT = """
import numpy as np
from fromscratch.evolution import Network
rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 64)).astype(np.float32)
y = rng.integers(0, 3, size=2000)
def callback(epoch, metrics):
    print("epoch", epoch, flush=True)
try:
    Network([64, 16, 3]).fit(X, y, epochs=1000, batch_size=50, learning_rate=0.01,
                             population=60, rank=1, executor="ray", workers=2,
                             callback=callback)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    raise SystemExit(130)
"""


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_leaves_no_ray_process() -> None:
    pytest.importorskip("ray")
    before = ray_processes()
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the first epoch is done: Ray and workers are up
        assert line.startswith("epoch"), line + child.stderr.read() if child.stderr else ""
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert "interrupted" in out
    deadline = time.monotonic() + 30
    while (left := ray_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"Ray processes left behind: {sorted(left)}"

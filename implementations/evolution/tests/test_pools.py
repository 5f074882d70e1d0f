"""The population evaluated by a pool of workers: same numbers, faults caught, a clean stop.

Two kinds of pool share one protocol (``pool.py``): worker processes of this machine
(``executor="processes"``) and Ray actors (``executor="ray"``, the ``ray`` extra). Every
test of the protocol runs on both; the Ray cases are skipped without the extra. One local
Ray instance (node address 127.0.0.1, no dashboard, 3 logical CPUs) serves the whole
session; the Ctrl-C tests start their own run in a subprocess and are marked ``slow``.
(Ray 2.60's gRPC servers listen on every interface whatever the node address, behind
its token authentication; the README says how to confine them to loopback.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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
from fromscratch.evolution.pool import WorkerPool, WorkerSpec
from fromscratch.evolution.process_pool import ProcessPool
from fromscratch.evolution.ray_pool import RayPool

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


def processes_matching(*needles: bytes) -> set[int]:
    """Process ids (not this one) whose command line contains any of ``needles``."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if any(needle in cmdline for needle in needles):
                pids.add(int(entry.name))
    return pids


def ray_processes() -> set[int]:
    """Ray's processes: raylet, gcs_server, its workers, ..."""
    return processes_matching(b"ray")


def children(pid: int) -> set[int]:
    """The direct child processes of ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def worker_pids(backend: str) -> list[int]:
    """The live worker processes: Ray titles its actors ``ray::Worker``; our worker
    processes are the ``spawn`` children of this one."""
    if backend == "ray":
        pids = processes_matching(b"ray::Worker")
    else:
        pids = children(os.getpid()) & processes_matching(b"spawn_main")
    return sorted(pids)


def no_workers_left(backend: str, timeout: float = 30.0) -> bool:
    """Whether every worker process is gone within ``timeout`` s (Ray stops them async)."""
    deadline = time.monotonic() + timeout
    while worker_pids(backend):
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
        ({"workers": 2}, r"workers apply to executor='threads', 'processes' or 'ray'"),
        ({"executor": "ray", "workers": 0}, r"workers must be an integer >= 1, got 0"),
        ({"executor": "processes", "workers": 0}, r"workers must be an integer >= 1, got 0"),
        ({"executor": "ray", "address": 5}, r"address must be a Ray cluster address"),
        (
            {"executor": "processes", "address": "auto"},
            r"address applies to executor='ray' only; executor='processes' evaluates",
        ),
        (
            {"executor": "dask"},
            r"unknown executor 'dask'; expected one of 'local', 'threads', 'processes', 'ray'",
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


@pytest.fixture(params=["processes", "ray"])
def backend(request: pytest.FixtureRequest) -> str:
    """The executor under test; Ray's cases share the session's Ray instance."""
    if request.param == "ray":
        request.getfixturevalue("ray_instance")
    name: str = request.param
    return name


def make_pool(backend: str, spec: WorkerSpec, X: Any, y: Any, workers: int) -> WorkerPool:
    if backend == "ray":
        return RayPool(spec, X, y, workers=workers, address=None)
    return ProcessPool(spec, X, y, workers=workers)


def on_one_blas_thread(train: Any, **options: Any) -> Network:
    """The in-process run the workers match: BLAS on one thread, as they keep it."""
    with threadpool_limits(1, "blas"):
        model: Network = train(**options)
    return model


@pytest.fixture(scope="session")
def in_process() -> Network:
    return on_one_blas_thread(trained)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_pool_run_is_bit_identical_to_the_in_process_run(
    backend: str, in_process: Network, workers: int
) -> None:
    assert_same_parameters(trained(executor=backend, workers=workers), in_process)
    assert no_workers_left(backend)  # fit stopped its workers


def test_dense_perturbations_on_a_pool_are_bit_identical_too(backend: str) -> None:
    assert_same_parameters(
        trained(executor=backend, workers=2, rank=None, epochs=1),
        on_one_blas_thread(trained, rank=None, epochs=1),
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
    return on_one_blas_thread(trained_wide)


def test_the_wide_population_spans_several_chunks() -> None:
    assert chunk_count(FIT["population"] // 2, WIDE["batch_size"] * 256) == 4


@pytest.mark.parametrize("rank", [1, None])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_pair_has_its_in_process_loss_on_any_number_of_workers(
    backend: str, workers: int, rank: int | None
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
    with threadpool_limits(1, "blas"):
        expected = mlp.antithetic_losses(theta, F, 0.05, X[rows], y[rows], kind)
    pool = make_pool(backend, spec, X, y, workers)
    try:
        on_pool = pool.antithetic_losses(theta, rows, offsets, 0.05)
    finally:
        pool.close()
    for got, want in zip(on_pool, expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_workers_evaluate_whole_chunks_of_the_in_process_width(
    backend: str, in_process_wide: Network, workers: int
) -> None:
    assert_same_parameters(trained_wide(executor=backend, workers=workers), in_process_wide)


def kill_a_worker_mid_generation(
    backend: str, monkeypatch: pytest.MonkeyPatch, generation: int = 4
) -> list[int]:
    """Make the pool kill one of its workers (SIGKILL) right after handing worker 0 its
    share of ``generation``: the worker dies with that share in flight. Returns the list
    the killed pid is put in."""
    cls = RayPool if backend == "ray" else ProcessPool
    submit = cls._submit
    killed: list[int] = []

    def submit_then_kill(self: WorkerPool, i: int, job: Any) -> Any:
        future = submit(self, i, job)
        if self.generation == generation and not killed:
            pids = worker_pids(backend)
            assert pids, "no worker process found"
            killed.append(min(pids))
            os.kill(killed[0], signal.SIGKILL)
        return future

    monkeypatch.setattr(cls, "_submit", submit_then_kill)
    return killed


LABEL = {"processes": "process", "ray": "Ray"}


def test_a_killed_worker_is_replaced_and_its_share_evaluated_again(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = data()
    model = Network([64, 256, 3], seed=3)  # four chunks: both workers have pairs to lose
    killed = kill_a_worker_mid_generation(backend, monkeypatch)
    with pytest.warns(RuntimeWarning, match=rf"{LABEL[backend]} worker \d died during generation"):
        model.fit(X, y, **{**FIT, **WIDE, "executor": backend, "workers": 2, "epochs": 3})
    assert killed
    reference = on_one_blas_thread(trained_wide, epochs=3)
    assert_same_parameters(model, reference)  # nothing lost, nothing evaluated short
    assert no_workers_left(backend)


def test_a_run_out_of_restarts_fails_clearly(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fromscratch.evolution import pool

    monkeypatch.setattr(pool, "MAX_RESTARTS", 0)
    kill_a_worker_mid_generation(backend, monkeypatch)
    X, y = data()
    with pytest.raises(
        RuntimeError, match=rf"{LABEL[backend]} worker \d died during generation \d+"
    ):
        Network([64, 256, 3], seed=3).fit(  # four chunks: both workers have pairs
            X,
            y,
            **{**FIT, **WIDE, "executor": backend, "workers": 2, "epochs": 3},
        )
    assert no_workers_left(backend)


CTRL_C_SCRIPT = """
import signal
import numpy as np
from fromscratch.evolution import Network
# Ctrl-C must raise here even when this test runs as a background job, which inherits
# SIGINT ignored (Python then installs no handler of its own).
signal.signal(signal.SIGINT, signal.default_int_handler)
rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 64)).astype(np.float32)
y = rng.integers(0, 3, size=2000)
def callback(epoch, metrics):
    print("epoch", epoch, flush=True)
if __name__ == "__main__":
    try:
        Network([64, 16, 3]).fit(X, y, epochs=1000, batch_size=50, learning_rate=0.01,
                                 population=60, rank=1, executor=EXECUTOR, workers=2,
                                 callback=callback)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        raise SystemExit(130)
"""


def run_and_interrupt(backend: str, tmp_path: Path) -> tuple[set[int], str]:
    """Start a long fit in a new session, press Ctrl-C after its first epoch (SIGINT to
    the whole process group, as a terminal does); returns the driver's child processes
    seen while it ran and its stdout."""
    script = tmp_path / "long_fit.py"  # a file: spawned workers re-import the main module
    script.write_text(CTRL_C_SCRIPT.replace("EXECUTOR", repr(backend)))
    child = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the first epoch is done: the workers are up
        assert line.startswith("epoch"), line + (child.stderr.read() if child.stderr else "")
        spawned = children(child.pid)
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert "interrupted" in out
    assert "Traceback" not in err, err  # no worker printed one either
    return spawned, out


def gone(pids: set[int], timeout: float = 30.0) -> set[int]:
    """The processes of ``pids`` still alive after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while (left := {pid for pid in pids if Path(f"/proc/{pid}").exists()}) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    return left


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_leaves_no_worker_process(tmp_path: Path) -> None:
    spawned, _ = run_and_interrupt("processes", tmp_path)
    assert spawned, "the run started no worker process"
    assert not gone(spawned), "worker processes left behind"


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_leaves_no_ray_process(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    before = ray_processes()
    run_and_interrupt("ray", tmp_path)
    deadline = time.monotonic() + 30
    while (left := ray_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"Ray processes left behind: {sorted(left)}"


def test_workers_exit_when_their_driver_is_killed() -> None:
    """A driver killed outright cannot clean up: its workers see their pipe close."""
    X, y = data(40)
    spec = WorkerSpec((64, 16, 3), "relu", "cross_entropy", "float32", np.random.SeedSequence(5), 1)
    pool = ProcessPool(spec, X, y, workers=2)
    try:
        for conn in pool.actors:  # what the driver's death does to the pipes
            conn.close()
        for process in pool.processes:
            process.join(timeout=30)  # reaps it, so that no zombie is left either
            assert process.exitcode == 0, "a worker outlived its driver's end of the pipe"
    finally:
        for process in pool.processes:
            process.kill()
            process.join()


def test_a_worker_process_that_cannot_start_says_so() -> None:
    X, y = data(40)
    spec = WorkerSpec(
        (64, 16, 3), "no_such", "cross_entropy", "float32", np.random.SeedSequence(5), 1
    )
    with pytest.raises(
        RuntimeError, match=r"process worker 0 exited while starting \(exit code 1\)"
    ):
        ProcessPool(spec, X, y, workers=1)
    assert not worker_pids("processes")

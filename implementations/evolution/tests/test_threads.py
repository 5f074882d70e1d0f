"""The population evaluated on threads of one process: the same numbers as on one thread.

``executor="threads"`` hands the chunks of antithetic pairs to a thread pool, with BLAS
on one thread. The chunks are cut the same way whatever the number of threads, and the
pool's ``map`` returns them in order, so a run on 1, 2 or 3 threads must give parameters
bit-identical to the in-process run with BLAS on one thread. (Planted bug: collecting
the chunks as they finish, with ``concurrent.futures.as_completed``, shuffles the losses
between members; these tests then fail.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from fromscratch.evolution import Network
from fromscratch.evolution.mlp import CHUNK_FLOATS, chunk_count

FIT: dict[str, Any] = {
    "epochs": 2,
    "batch_size": 50,
    "learning_rate": 0.01,
    "strategy": "es",
    "population": 1000,  # 500 pairs of a 64-32-3 net on 50 rows: 4 chunks of 125
    "sigma": 0.05,
    "rank": 1,
}


def data(n: int = 300, seed: int = 0) -> tuple[Any, Any]:
    """A 3-class problem with 64 features, non-uniform in scale."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 64))
    y = rng.integers(0, 3, size=n)
    X = centres[y] + rng.normal(size=(n, 64)) * rng.uniform(0.5, 2, size=64)
    return X.astype(np.float32), y


def trained(**options: Any) -> Network:
    X, y = data()
    return Network([64, 32, 3], seed=5).fit(X, y, **{**FIT, **options})


def trained_on_one_thread(**options: Any) -> Network:
    """The in-process run, with BLAS on one thread too, as the workers have it: BLAS's own
    thread count changes the last bits of its products (measured: 1 against 2 threads)."""
    with threadpool_limits(1, "blas"):
        return trained(**options)


@pytest.fixture(scope="module")
def in_process() -> Network:
    return trained_on_one_thread()


def assert_same_parameters(a: Network, b: Network) -> None:
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key], err_msg=key)


def test_the_test_crosses_chunk_boundaries() -> None:
    """Several chunks per generation, or the threads would have nothing to share."""
    chunks = chunk_count(FIT["population"] // 2, FIT["batch_size"] * 32)
    assert chunks == 4
    assert CHUNK_FLOATS // (2 * FIT["batch_size"] * 32) < FIT["population"] // 2


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_threads_give_the_in_process_parameters(in_process: Network, workers: int) -> None:
    assert_same_parameters(trained(executor="threads", workers=workers), in_process)


def test_dense_perturbations_on_threads_too() -> None:
    options = {"rank": None, "epochs": 1, "population": 400}  # 2 chunks
    assert_same_parameters(trained(executor="threads", **options), trained_on_one_thread(**options))


def blas_threads() -> int:
    return max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")


def test_blas_keeps_to_one_thread_per_worker_during_fit() -> None:
    """BLAS threads of their own on top of the workers oversubscribe the cores (3x slower
    on two cores): fit caps BLAS at one thread for its duration, and restores it after."""
    if not any(pool["user_api"] == "blas" for pool in threadpool_info()):
        pytest.skip("no BLAS library that threadpoolctl can see")
    seen: list[int] = []
    with threadpool_limits(2, "blas"):  # as OpenBLAS's default on two cores
        X, y = data()
        Network([64, 32, 3], seed=5).fit(
            X,
            y,
            **{**FIT, "epochs": 1, "executor": "threads"},
            callback=lambda epoch, metrics: seen.append(blas_threads()),
        )
        after = blas_threads()
    assert seen == [1]
    assert after == 2


@pytest.mark.parametrize(
    ("pairs", "base_size", "expected"),
    [
        (250, 6400, 8),  # the MNIST recipe: 40 pairs fit, 7 chunks, rounded up to 8
        (500, 6400, 14),  # 13 rounded up
        (30, 6400, 1),  # one chunk holds them all: not split for nothing
        (3, 1 << 19, 3),  # a pair per chunk, never more chunks than pairs
    ],
)
def test_chunks_are_even_in_number(pairs: int, base_size: int, expected: int) -> None:
    assert chunk_count(pairs, base_size) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"executor": "threads", "workers": 0}, r"workers must be an integer >= 1, got 0"),
        ({"executor": "threads", "address": "auto"}, r"address applies to executor='ray' only"),
        ({"workers": 2}, r"workers apply to executor='threads', 'processes' or 'ray'"),
    ],
)
def test_thread_options_are_validated(options: dict[str, Any], message: str) -> None:
    X, y = data(40)
    with pytest.raises(ValueError, match=message):
        Network([64, 16, 3]).fit(X, y, **{**FIT, **options})

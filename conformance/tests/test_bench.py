"""The bench measures what it says: a contender slowed by a known sleep reads that much slower.

These tests time nothing of ours against a bound: they check the instrument. The one
that starts processes runs a few tiny epochs (a few hundred MNIST rows), so it takes
seconds, mostly Python starting up.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from fromscratch.conformance import bench, cli
from fromscratch.conformance.bench import Contender, Setup, Timings
from fromscratch.conformance.registry import discover
from fromscratch.conformance.tolerances import SPEED_TARGETS

SLEEP_S = 0.1
# The slowed contender's median must exceed the original's by the sleep, give or take a
# quarter of it: room for the scheduler waking a sleeper late on a busy machine, and for
# the few milliseconds that a tiny epoch varies from process to process.
SLEEP_TOLERANCE = 0.25


@pytest.mark.skipif("matrix" not in discover(), reason="ratios are reported to matrix")
def test_a_contender_slowed_by_a_known_sleep_reads_that_much_slower(tmp_path: Path) -> None:
    base, slowed = "matrix", "matrix + sleep"
    contenders = [
        Contender(base, base),
        Contender(slowed, base, sleep_s=SLEEP_S),
        Contender("nonesuch", "nonesuch"),  # a contender that cannot be built
    ]
    setup = Setup(processes=3, epochs=3, warmup=1, n_train=512, threads=(1,))
    out = tmp_path / "bench.json"
    printed: list[str] = []
    result = bench.bench(contenders, setup, out, echo=printed.append)

    # Alternating processes, one contender per process; the broken one tried once.
    b, s, n = f"{base} x1", f"{slowed} x1", "nonesuch x1"
    assert result["order"] == [b, s, n, b, s, b, s]
    pids = result["contenders"][base]["pids"] + result["contenders"][slowed]["pids"]
    assert len(set(pids)) == 6
    assert n in result["failed"]
    assert "nonesuch" not in result["contenders"]

    # The ratio is of the medians over processes, each a median over its epochs.
    rows = result["contenders"]
    for row in (rows[base], rows[slowed]):
        assert [len(epochs) for epochs in row["epochs_s"]] == [3, 3, 3]
        assert row["times_s"] == [statistics.median(e) for e in row["epochs_s"]]
        assert row["median_s"] == statistics.median(row["times_s"])
        assert row["spread_s"] == [min(row["times_s"]), max(row["times_s"])]
    m = rows[base]["median_s"]
    ratio = result["ratios"]["to_matrix"][slowed]
    assert ratio == rows[slowed]["median_s"] / m
    low, high = (m + SLEEP_S * (1 - SLEEP_TOLERANCE)) / m, (m + SLEEP_S * (1 + SLEEP_TOLERANCE)) / m
    assert low <= ratio <= high, f"base {m:.4f} s, slowed {rows[slowed]['median_s']:.4f} s"

    # What ran is recorded: threadpoolctl's view, with the one thread the setup asked for.
    for row in (rows[base], rows[slowed]):
        blas = [pool for pool in row["blas"] if pool["user_api"] == "blas"]
        assert blas
        assert all(pool["num_threads"] == 1 for pool in blas)
        assert all(pool["internal_api"] and "version" in pool for pool in blas)
    assert list(result["setup"]["threads"]) == [1]
    assert rows[base]["threads"] == rows[slowed]["threads"] == 1
    assert not any("asked for" in warning for warning in result["warnings"])

    # The report reads the file: the fields it relies on are there.
    saved = json.loads(out.read_text())
    assert saved["schema_version"] == 1
    assert {"model", "batch_size", "dtype", "optimizer", "epochs_per_process", "processes"} <= set(
        saved["setup"]
    )
    for key in ("environment", "contenders", "ratios", "targets", "warnings"):
        assert key in saved
    for row in saved["contenders"].values():
        assert {"median_s", "spread_s", "times_s", "blas", "torch_threads"} <= set(row)
    assert "no contender named 'nonesuch'" in result["failed"][n]
    assert any("nonesuch" in line and "failed" in line for line in printed)


def _timings(blas_threads: int, torch_threads: int | None, kernel: str = "Haswell") -> Timings:
    facts: dict[str, Any] = {
        "blas": [
            {
                "user_api": "blas",
                "internal_api": "openblas",
                "library": "libopenblas.so",
                "version": "0.3.31",
                "architecture": kernel,
                "num_threads": blas_threads,
            }
        ],
        "torch_threads": torch_threads,
        "torch_blas": None
        if torch_threads is None
        else {"library": "mkl", "cpu_capability": "AVX2"},
    }
    asked = torch_threads or blas_threads
    return Timings(threads=asked, epochs_s=[[1.0]], cpu_s=[[1.0]], facts=[facts], pids=[1])


QUIET = {"variables": {}, "cpus": 2, "load_before": [0.0], "load_after": [0.0]}


def test_like_for_like_thread_pools_raise_no_warning() -> None:
    timings = {"matrix": _timings(2, None), "torch": _timings(2, 2)}
    assert bench.fact_warnings(timings, QUIET) == []


def test_a_pool_that_ignored_the_thread_count_asked_for_is_warned() -> None:
    ignored = _timings(2, 1)
    ignored.threads = 2  # torch was asked for 2 but ran 1: the like-for-like claim is off
    timings = {"matrix x2": _timings(2, None), "torch x2": ignored}
    [warning] = bench.fact_warnings(timings, QUIET)
    assert "torch x2: asked for 2 threads" in warning
    assert "torch 1" in warning


def test_each_contender_is_judged_at_its_fastest_thread_count() -> None:
    medians = {"torch x1": 1.0, "torch x2": 2.0, "matrix x1": 0.8, "matrix x2": 0.5}
    per_run = {
        label: {"threads": int(label[-1]), "median_s": m, "spread_s": [m, m], "cpu_median_s": m}
        for label, m in medians.items()
    }
    contenders = [Contender("torch", "torch"), Contender("matrix", "matrix")]
    best = bench.fastest(per_run, contenders, (1, 2))
    # torch's two threads collapsed (a busy machine): it is judged at one, matrix at two.
    assert best["torch"]["threads"] == 1
    assert best["matrix"]["threads"] == 2
    assert best["torch"]["by_threads"]["2"]["median_s"] == 2.0
    assert bench.ratios(best)["to_torch"]["matrix"] == 0.5
    same = bench.same_threads(per_run, Setup(threads=(1, 2)))
    assert same == {"1": {"torch": 1.0, "matrix": 0.8}, "2": {"torch": 1.0, "matrix": 0.25}}


def test_a_forced_or_different_openblas_kernel_is_warned() -> None:
    timings = {"matrix": _timings(2, None, "Prescott"), "sklearn": _timings(2, None)}
    env = {**QUIET, "variables": {"OPENBLAS_CORETYPE": "Prescott"}}
    warnings = bench.fact_warnings(timings, env)
    assert any("kernels differ" in w and "Prescott" in w for w in warnings)
    assert any("OPENBLAS_CORETYPE=Prescott" in w for w in warnings)


def test_a_busy_machine_is_warned() -> None:
    timings = {"matrix": _timings(2, None)}
    [warning] = bench.fact_warnings(timings, {**QUIET, "load_after": [7.5]})
    assert "busy" in warning
    assert "7.5" in warning


def test_facts_that_change_between_processes_are_warned() -> None:
    t = _timings(2, None)
    t.facts.append(_timings(1, None).facts[0])
    [warning] = bench.fact_warnings({"matrix": t}, QUIET)
    assert "changed between its processes" in warning


def test_every_speed_target_is_judged_against_its_own_baseline() -> None:
    summary = {name: {"median_s": 1.0} for name in ("torch", "matrix", "autograd", "loops")}
    summary["matrix"]["median_s"] = 0.5
    judged = {t["implementation"]: t for t in bench.judge_targets(summary)}
    assert judged.keys() == SPEED_TARGETS.keys()
    assert judged["matrix"]["ratio"] == 0.5
    assert judged["matrix"]["baseline"] == "torch"
    assert judged["matrix"]["met"] == (SPEED_TARGETS["matrix"].ratio >= 0.5)
    assert judged["loops"]["ratio"] == 2.0
    assert judged["loops"]["baseline"] == "matrix"


def test_missing_mnist_gets_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(n_train: int | None) -> None:
        raise FileNotFoundError("MNIST file train-images-idx3-ubyte.gz not found.\n  Searched ...")

    monkeypatch.setattr(bench, "load_data", missing)
    assert cli.main(["bench"]) == 2
    err = capsys.readouterr().err
    assert "MNIST file train-images-idx3-ubyte.gz not found. Searched ..." in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--processes", "0"], "--processes must be at least 1"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--threads", "2", "--threads", "0"], "--threads must be at least 1"),
        (["--n-train", "5"], "--n-train must be in"),
        (["--impl", "nonesuch"], "no implementation named 'nonesuch'"),
    ],
)
def test_bad_bench_options_get_one_line_and_status_2(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["bench", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def _plain(bench_s: float, plain_s: float) -> dict[str, Timings]:
    t = {"torch x1": _timings(1, 1), "torch (plain script) x1": _timings(1, 1)}
    t["torch x1"].epochs_s, t["torch (plain script) x1"].epochs_s = [[bench_s]], [[plain_s]]
    return t


def test_a_bench_that_slows_torch_down_is_warned() -> None:
    # The case: torch took 0.48 s inside the bench and 0.376 s in a process of its own.
    [warning] = bench.fact_warnings(_plain(0.48, 0.376), QUIET)
    assert "torch x1: the bench's torch loop took 0.480 s" in warning
    assert "flatters us" in warning
    assert bench.fact_warnings(_plain(0.39, 0.376), QUIET) == []
    assert bench.fact_warnings(_plain(0.376, 0.48), QUIET) == []  # only slower is suspect


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_the_plain_torch_script_runs_beside_the_bench_torch() -> None:
    setup = Setup(processes=1, epochs=2, warmup=1, n_train=1280, threads=(1,))
    contenders = bench.contenders_for([], without=["torch.compile", "sklearn"])
    assert [c.name for c in contenders] == ["torch", bench.PLAIN_TORCH]
    timings, failed, order = bench.measure(contenders, setup, echo=lambda _: None)
    assert not failed, failed
    assert order == ["torch x1", f"{bench.PLAIN_TORCH} x1"]
    plain = timings[f"{bench.PLAIN_TORCH} x1"]
    assert len(plain.epochs_s[0]) == 2
    assert all(s > 0 for s in plain.epochs_s[0])
    assert plain.facts[0]["torch_threads"] == 1  # the thread count reached the script


def test_the_tables_show_each_contenders_threads_and_every_count() -> None:
    rows = {}
    for label, m in {"torch x1": 1.0, "torch x2": 2.0, "matrix x1": 0.8, "matrix x2": 0.5}.items():
        rows[label] = {"threads": int(label[-1]), "median_s": m, "spread_s": [m, m]}
        rows[label] |= {"cpu_median_s": m, "blas": [], "torch_threads": None}
    setup = Setup(threads=(1, 2))
    best = bench.fastest(rows, [Contender("torch", "torch"), Contender("matrix", "matrix")], (1, 2))
    result = {
        "contenders": best,
        "ratios": {**bench.ratios(best), "to_torch_same_threads": bench.same_threads(rows, setup)},
        "failed": {},
        "targets": [],
        "warnings": [],
    }
    lines = bench.format_tables(result)
    assert any(line.split()[:3] == ["torch", "1", "1.000"] for line in lines), lines
    assert any(line.split()[:3] == ["matrix", "2", "0.500"] for line in lines), lines
    # per count: matrix 0.8 s (0.80x torch) at one thread, 0.5 s (0.25x) at two
    assert any(line.split() == ["matrix", "0.800", "0.80", "0.500", "0.25"] for line in lines)

"""The bench's text workloads (``--workload lstm`` and ``--workload transformer``): torch
and every implementation whose SequenceNetwork builds the model train the same character
model with Adam, and the results give training tokens per second.

In-process epochs of one step on 32 windows: this checks the wiring, it times nothing.
"""

from __future__ import annotations

import argparse
import os
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from fromscratch.conformance import bench, bench_worker, sections
from fromscratch.conformance.document import Table
from fromscratch.conformance.registry import discover

if not Path(os.environ.get("FROMSCRATCH_DATA", ""), "tinyshakespeare", "input.txt").is_file():
    pytest.skip("FROMSCRATCH_DATA has no tinyshakespeare/input.txt", allow_module_level=True)

TEXT = ("lstm", "transformer")


def text_builders(workload: str) -> list[str]:
    work = bench_worker.WORKLOADS[workload]
    return [name for name, impl in discover().items() if bench.builds_text(impl, work)]


def test_matrix_builds_the_lstm_only_and_autograd_both() -> None:
    installed = discover()
    if not {"matrix", "autograd", "loops"} <= set(installed):
        pytest.skip("matrix, autograd and loops are not all installed")
    assert {"matrix", "autograd"} <= set(text_builders("lstm"))
    assert "matrix" not in text_builders("transformer")
    assert "autograd" in text_builders("transformer")
    assert "loops" not in text_builders("lstm")


def test_the_windows_are_the_start_of_the_training_text() -> None:
    from fromscratch.datasets import decode_chars, load_tiny_shakespeare

    X, y = bench_worker.load_text(3)
    assert X.shape == y.shape == (3, 64)
    assert decode_chars(X[0]) + decode_chars(y[0][-1:]) == load_tiny_shakespeare("train")[:65]
    assert decode_chars(X[1]) == load_tiny_shakespeare("train")[65:129]


@pytest.mark.parametrize("workload", TEXT)
def test_the_command_times_torch_and_the_builders_only(
    workload: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    seen: dict[str, Any] = {}

    def fake_bench(contenders: Any, setup: Any, out: Any, echo: Any = print) -> dict[str, Any]:
        seen.update(contenders=[c.name for c in contenders], setup=setup)
        return {}

    monkeypatch.setattr(bench, "bench", fake_bench)
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    argv = ["--workload", workload, "--n-train", "32", "--out", str(tmp_path / "b.json")]
    assert bench.main(parser.parse_args(argv)) == 0
    assert seen["setup"].workload == workload
    assert seen["contenders"][0] == "torch"
    assert set(seen["contenders"][1:]) == set(text_builders(workload))
    assert "not timed: sklearn, torch.compile, torch (plain script)" in capsys.readouterr().out


def in_process(contender: bench.Contender, setup: bench.Setup) -> dict[str, Any]:
    """A worker's run without its process: the wiring, at a fraction of the time."""
    spec = {"contender": contender.builds, "workload": setup.workload, "n_train": setup.n_train}
    return bench_worker.run({**spec, "warmup": setup.warmup, "epochs": setup.epochs})


def tiny_bench(workload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch | None) -> Any:
    """torch and every builder, one process each of one step: JSON and the report's rows."""
    from fromscratch.conformance.report import read_bench

    builders = text_builders(workload)
    if not builders:
        pytest.skip(f"no installed implementation builds the {workload} workload")
    if monkeypatch is not None:
        monkeypatch.setattr(bench, "measure", partial(bench.measure, run=in_process))
    setup = bench.Setup(1, 1, 0, n_train=32, threads=(1,), workload=workload)
    out = tmp_path / f"bench-{workload}.json"
    contenders = bench.contenders_for(builders, ["sklearn", "torch.compile", bench.PLAIN_TORCH])
    result = bench.bench(contenders, setup, out, echo=lambda line: None)
    assert result["setup"]["tokens_per_epoch"] == 32 * 64
    assert result["setup"]["steps_per_epoch"] == 1
    assert set(result["contenders"]) == {"torch", *builders}
    table = next(
        b for b in sections._workload(workload, read_bench(out, workload)) if isinstance(b, Table)
    )
    assert table.header[2:4] == ["median s per 1 steps", "tokens/s"]
    tokens = {row[0].text: float(row[3].text.replace(",", "")) for row in table.rows}
    for name, row in result["contenders"].items():
        assert tokens[name] == pytest.approx(32 * 64 / row["median_s"], abs=0.51)  # whole tokens
    return result


@pytest.mark.parametrize("workload", TEXT)
def test_each_builder_and_torch_train_and_the_report_gives_tokens_per_second(
    workload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_bench(workload, tmp_path, monkeypatch)


@pytest.mark.slow
def test_the_real_processes_keep_numpy_contenders_free_of_torch(tmp_path: Path) -> None:
    """The same through worker processes: a NumPy contender's process never loads torch."""
    result = tiny_bench("lstm", tmp_path, None)
    for name, row in result["contenders"].items():
        assert (row["torch_threads"] is None) == (name != "torch"), name


def test_a_missing_workload_file_says_how_to_make_it(tmp_path: Path) -> None:
    from fromscratch.conformance.report import read_bench

    blocks = sections._workload(
        "transformer", read_bench(tmp_path / "bench-transformer.json", "transformer")
    )
    said = " ".join(getattr(b, "text", "") for b in blocks)
    assert "Missing" in said
    assert "--workload transformer" in said

"""The CNN bench's workload (``--workload lenet``): every contender trains the same LeNet-5,
and the command line leaves out who cannot.

In-process epochs on a few MNIST rows: this checks the wiring, it times nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from fromscratch.conformance import bench, bench_worker
from fromscratch.conformance.registry import discover
from fromscratch.conformance.tolerances import CNN_SPEED_TARGETS


def conv_builders() -> list[str]:
    return [
        name
        for name, impl in discover().items()
        if "Conv2d" in (getattr(impl.factory, "supported_layers", None) or ())
    ]


def test_torch_trains_the_specs_lenet() -> None:
    result = bench_worker.run(
        {"contender": "torch", "workload": "lenet", "n_train": 128, "warmup": 0, "epochs": 1}
    )
    assert len(result["epoch_s"]) == 1


@pytest.mark.parametrize("name", conv_builders())
def test_each_convolution_builder_trains_one_lenet_epoch(name: str) -> None:
    result = bench_worker.run(
        {"contender": name, "workload": "lenet", "n_train": 128, "warmup": 0, "epochs": 1}
    )
    assert len(result["epoch_s"]) == 1
    assert result["epoch_s"][0] > 0


def test_scikit_learn_refuses_the_lenet_workload() -> None:
    X, y = bench_worker.load_data(128)
    with pytest.raises(ValueError, match="no convolutional network"):
        bench_worker.sklearn_epoch(X, y, bench_worker.WORKLOADS["lenet"])


def test_the_command_runs_only_convolution_builders(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``main`` hands ``bench`` torch and the implementations that build Conv2d, judged
    against the CNN targets; no scikit-learn, no torch.compile."""
    seen: dict[str, Any] = {}

    def fake_bench(contenders: Any, setup: Any, out: Any, echo: Any = print) -> dict[str, Any]:
        seen.update(contenders=[c.name for c in contenders], setup=setup)
        return {}

    monkeypatch.setattr(bench, "bench", fake_bench)
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(
        ["--workload", "lenet", "--n-train", "128", "--out", str(tmp_path / "b.json")]
    )
    assert bench.main(args) == 0
    assert seen["setup"].workload == "lenet"
    assert seen["contenders"][0] == "torch"
    assert set(seen["contenders"][1:]) == set(conv_builders())
    assert "not timed: sklearn (no CNN), torch.compile" in capsys.readouterr().out
    assert bench.TARGETS["lenet"] is CNN_SPEED_TARGETS

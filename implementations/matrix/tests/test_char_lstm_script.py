"""CI's subset of the character-LSTM training: scripts/char_lstm.py on 32 windows.

The full run (the README's figures) trains two epochs on all 15,443 windows, about
three minutes of CPU per model. Here the same code path trains three epochs of one
batch, a small model: matrix and its torch twin start from one state dict and take the
same three Adam steps, so their losses must agree closely, and must fall step by step.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "scripts" / "char_lstm.py"
DATA = os.environ.get("FROMSCRATCH_DATA", "")
if not DATA or not Path(DATA, "tinyshakespeare", "input.txt").is_file():
    pytest.skip(
        "set FROMSCRATCH_DATA to a directory whose tinyshakespeare/ holds input.txt",
        allow_module_level=True,
    )


def test_subset_run_matches_its_torch_twin(tmp_path: Path) -> None:
    args = ["--max-windows", "32", "--epochs", "3", "--sample-length", "20", "--hidden", "32"]
    subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = json.loads((tmp_path / "results-both.json").read_text())
    matrix = results["matrix"]["validation_nats_per_char"]
    torch = results["torch"]["validation_nats_per_char"]
    # float32, three steps from one state dict: the two differ by round-off only.
    assert abs(matrix / torch - 1) < 1e-4, (matrix, torch)
    losses = results["matrix"]["train_epoch_losses"]
    assert losses == sorted(losses, reverse=True), losses
    for a, b in zip(losses, results["torch"]["train_epoch_losses"], strict=True):
        assert abs(a / b - 1) < 1e-4, (losses, results["torch"]["train_epoch_losses"])
    assert math.isfinite(matrix)
    assert len(results["sample"]) == 20

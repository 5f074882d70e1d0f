"""The progress display as ``fit`` drives it: plain lines off a terminal, rich bars on one.

The command line's display is also tested in a real pseudo-terminal (``test_cli.py``).
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from fromscratch.conformance.progress import TrainingProgress, supports_batch_callback
from fromscratch.conformance.registry import Implementation

N, BATCH, EPOCHS = 40, 8, 3


def _fit(impl: Implementation, progress: TrainingProgress) -> object:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(N, 4)), rng.integers(0, 3, size=N)
    model = impl.build([4, 5, 3], activation="tanh", loss="cross_entropy", seed=0)
    with progress:
        model.fit(
            X, y, epochs=EPOCHS, batch_size=BATCH, learning_rate=0.01, **progress.fit_kwargs(model)
        )
    return model


def test_every_implementation_offers_the_batch_hook(impl: Implementation):
    model = impl.build([4, 3], activation="tanh", loss="cross_entropy", seed=0)
    assert supports_batch_callback(model)


def test_batch_hook_reports_every_step(impl: Implementation):
    calls: list[tuple[int, int, float]] = []
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(N, 4)), rng.integers(0, 3, size=N)
    epochs: list[float] = []
    model = impl.build([4, 5, 3], activation="tanh", loss="cross_entropy", seed=0)
    model.fit(
        X,
        y,
        epochs=2,
        batch_size=BATCH,
        learning_rate=0.01,
        callback=lambda e, m: epochs.append(m["loss"]),
        batch_callback=lambda e, b, loss: calls.append((e, b, loss)),
    )
    per_epoch = N // BATCH
    assert [(e, b) for e, b, _ in calls] == [
        (e, b) for e in (1, 2) for b in range(1, per_epoch + 1)
    ]
    # the epoch's loss is the mean of the batch losses the hook saw
    for e in (1, 2):
        losses = [loss for epoch, _, loss in calls if epoch == e]
        assert epochs[e - 1] == pytest.approx(np.mean(losses), rel=1e-12)
    with pytest.raises(ValueError, match="batch_callback"):
        model.fit(X, y, epochs=1, batch_size=BATCH, learning_rate=0.01, batch_callback=3)


def test_plain_lines_off_a_terminal(impl: Implementation):
    out = io.StringIO()
    progress = TrainingProgress(
        EPOCHS, n_rows=N, batch_size=BATCH, label=impl.name, stream=out, interval=0.0
    )
    assert not progress.interactive  # a StringIO is not a terminal
    _fit(impl, progress)
    lines = out.getvalue().splitlines()
    epoch_lines = [line for line in lines if re.search(r"epoch \d/3  loss \d\.\d{4}", line)]
    batch_lines = [line for line in lines if "running loss" in line]
    assert len(epoch_lines) == EPOCHS
    assert len(batch_lines) == EPOCHS * (N // BATCH)  # interval 0: a line per batch
    assert all(line.startswith(f"{impl.name}: ") and "elapsed, ETA" in line for line in lines)
    assert "\x1b" not in out.getvalue()  # no escape codes in a log
    assert [e for e, _ in progress.history] == [1, 2, 3]


def test_plain_lines_are_throttled():
    progress = TrainingProgress(2, batches=1000, stream=io.StringIO(), interval=3600.0)
    with progress:
        for b in range(1, 1001):
            progress.on_batch(1, b, 0.5)
    assert progress.stream.getvalue() == ""  # type: ignore[attr-defined]
    assert progress.fraction == 0.5
    assert progress.running_loss == 0.5


def test_rich_bars_on_a_terminal(impl: Implementation):
    out = io.StringIO()
    progress = TrainingProgress(
        EPOCHS, n_rows=N, batch_size=BATCH, label=impl.name, stream=out, interactive=True
    )
    _fit(impl, progress)
    text = out.getvalue()
    assert "\x1b[" in text  # a live display redraws with escape codes
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert re.search(rf"{impl.name} run .*━+.* 15/15", text)
    assert re.search(r"epoch 3/3 .*5/5\s+loss \d\.\d{4}", text)
    assert "ETA" in text


def test_sizes_must_be_given():
    with pytest.raises(ValueError, match="n_rows and batch_size"):
        TrainingProgress(3)
    with pytest.raises(ValueError, match="positive"):
        TrainingProgress(0, batches=3)

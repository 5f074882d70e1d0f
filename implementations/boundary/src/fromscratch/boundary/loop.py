"""The epoch/batch loop every implementation trains with, whatever its backward pass.

::

    for epoch in 1..epochs:
        (cosine schedule: set this epoch's learning rate)
        for rows in the shuffled mini-batches:
            loss = backward(rows)       # the implementation's subject: forward, loss, gradient
            (a non-finite loss stops here, with a FloatingPointError)
            step()                      # the update, e.g. optimizer.step
        (parameters no longer finite: FloatingPointError)
        callback(epoch, {"loss": mean batch loss, "learning_rate": rate used})

Only ``backward`` and ``step`` differ between implementations; this module is the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import NoReturn

import numpy as np

from .optim import cosine_learning_rate
from .types import Array, BatchCallback, Callback, Rows


def shuffle_rng(seed: int) -> np.random.Generator:
    """The generator that shuffles the rows, a child stream of ``seed``.

    It never shifts the initial parameters (drawn from ``seed`` itself), and it carries
    on across calls to ``fit``, like torch's global generator.
    """
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])


def diverged(epoch: int, batch: int, loss: float | None, learning_rate: float) -> NoReturn:
    """Raise the ``FloatingPointError`` that stops a run whose loss or parameters blew up."""
    what = "the parameters are no longer finite" if loss is None else f"the loss is {loss}"
    raise FloatingPointError(
        f"training diverged at epoch {epoch}, batch {batch}: {what}. "
        f"Try a lower learning_rate (it was {learning_rate:g}), or check the input scale."
    )


def train(
    backward: Callable[[Rows], float],
    step: Callable[[], object],
    *,
    n_rows: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    schedule: str,
    shuffle: bool,
    rng: np.random.Generator,
    set_learning_rate: Callable[[float], object],
    parameters: Callable[[], Iterable[Array]],
    callback: Callback | None = None,
    batch_callback: BatchCallback | None = None,
) -> None:
    """Run ``epochs`` passes of mini-batches over ``n_rows`` rows (see the module docs).

    ``backward(rows)`` computes the gradient on those rows of the training set and returns
    their loss; ``step()`` updates the parameters. ``shuffle=False`` keeps the rows in
    order, so the batches are rows ``[0, batch_size)``, ``[batch_size, 2 batch_size)``...
    in every epoch: how the conformance suite replays torch's training step for step.
    ``parameters()`` lists the arrays to check for overflow after each epoch.
    """
    lr = learning_rate
    for epoch in range(1, epochs + 1):
        if schedule == "cosine":
            lr = cosine_learning_rate(learning_rate, epoch, epochs)
            set_learning_rate(lr)
        order = rng.permutation(n_rows) if shuffle else np.arange(n_rows)
        losses = []
        batch = 0
        # A diverging run overflows somewhere (exp, a matrix product); that shows up as a
        # non-finite loss, which becomes one clear error instead of NumPy warnings batch
        # after batch.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for batch, start in enumerate(range(0, n_rows, batch_size), start=1):
                loss = backward(order[start : start + batch_size])
                if not math.isfinite(loss):
                    diverged(epoch, batch, loss, lr)
                step()
                losses.append(loss)
                if batch_callback is not None:
                    batch_callback(epoch, batch, loss)
            # The epoch's last step may itself have overflowed the parameters.
            if not all(np.isfinite(theta).all() for theta in parameters()):
                diverged(epoch, batch, None, lr)
        if callback is not None:
            callback(epoch, {"loss": math.fsum(losses) / len(losses), "learning_rate": lr})

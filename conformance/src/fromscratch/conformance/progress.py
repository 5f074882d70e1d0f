"""A live progress display for one training run, driven by ``fit``'s own callbacks.

::

    from fromscratch.conformance.progress import TrainingProgress

    with TrainingProgress(epochs=20, n_rows=len(X), batch_size=128, label="matrix") as progress:
        model.fit(X, y, epochs=20, batch_size=128, learning_rate=0.05,
                  **progress.fit_kwargs(model))

**What it shows.** On a terminal (rich): a bar for the whole run with its ETA, and a bar
for the current epoch (for ``evolution``, each batch is one generation) with the running
loss, the mean of the epoch's batch losses so far; each finished epoch leaves one line
with its mean loss. When the output is not a terminal (CI, a pipe, a file) it prints
plain lines instead: one per finished epoch, and inside a long epoch one every
``interval`` seconds (3 by default) saying how far it got.

**How it moves inside an epoch.** The protocol's ``callback(epoch, metrics)`` runs only
after each epoch, and an ``evolution`` epoch on MNIST takes seconds. The four
implementations therefore accept an optional ``batch_callback(epoch, batch, loss)`` in
``fit``, run after every mini-batch step (see docs/protocol.md). :meth:`fit_kwargs` passes
it only to a model whose ``fit`` names that parameter, so an implementation without it
still works: its bars then advance once per epoch, while the terminal display's clock
keeps ticking.
"""

from __future__ import annotations

import inspect
import math
import sys
import time
from collections.abc import Mapping
from types import TracebackType
from typing import IO, Any, Final

BATCH_CALLBACK: Final = "batch_callback"


def supports_batch_callback(model: Any) -> bool:
    """Whether ``model.fit`` accepts ``batch_callback`` (by name, not through ``**options``)."""
    try:
        return BATCH_CALLBACK in inspect.signature(model.fit).parameters
    except (TypeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    minutes, s = divmod(whole, 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d}:{s:02d}" if hours else f"{m}:{s:02d}"


class TrainingProgress:
    """Progress of one ``fit``: a context manager whose :meth:`fit_kwargs` go to ``fit``.

    ``epochs`` and ``batches`` (or ``n_rows`` and ``batch_size``) size the bars. Output
    goes to ``stream`` (``sys.stdout`` by default); ``interactive`` (default: whether the
    stream is a terminal) chooses the live bars over plain lines.
    """

    def __init__(
        self,
        epochs: int,
        *,
        n_rows: int | None = None,
        batch_size: int | None = None,
        batches: int | None = None,
        label: str = "train",
        stream: IO[str] | None = None,
        interactive: bool | None = None,
        interval: float = 3.0,
    ) -> None:
        if batches is None:
            if n_rows is None or batch_size is None:
                raise ValueError("give batches, or n_rows and batch_size")
            batches = math.ceil(n_rows / batch_size)
        if epochs < 1 or batches < 1:
            raise ValueError(f"epochs and batches must be positive, got {epochs} and {batches}")
        self.epochs, self.batches, self.label = epochs, batches, label
        self.stream: IO[str] = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = interactive if interactive is not None else bool(isatty and isatty())
        self.interval = interval
        self.history: list[tuple[int, float]] = []
        """``(epoch, mean loss)`` for each finished epoch."""
        self._epoch, self._batch = 1, 0
        self._losses: list[float] = []
        self._start = self._last_line = time.perf_counter()
        self._live: Any = None

    # ------------------------------------------------------------------ the hooks fit calls

    def fit_kwargs(self, model: Any) -> dict[str, Any]:
        """``callback`` (and ``batch_callback`` where ``model.fit`` takes it) for ``fit``."""
        kwargs: dict[str, Any] = {"callback": self}
        if supports_batch_callback(model):
            kwargs[BATCH_CALLBACK] = self.on_batch
        return kwargs

    def on_batch(self, epoch: int, batch: int, loss: float) -> None:
        """After each mini-batch step (``batch`` counts from 1 within the epoch)."""
        if epoch != self._epoch:
            self._epoch, self._losses = epoch, []
        self._batch = batch
        self._losses.append(float(loss))
        if self._live is not None:
            self._live.batch(self)
        elif time.perf_counter() - self._last_line >= self.interval:
            self._line(
                f"epoch {epoch}/{self.epochs}  batch {batch}/{self.batches}  "
                f"running loss {self.running_loss:.4f}"
            )

    def __call__(self, epoch: int, metrics: Mapping[str, float]) -> None:
        """After each epoch: the protocol's ``callback(epoch, metrics)``."""
        loss = float(metrics["loss"])
        self.history.append((epoch, loss))
        self._epoch, self._batch, self._losses = epoch + 1, 0, []
        if self._live is not None:
            self._live.epoch(self, epoch, loss)
        else:
            self._line(f"epoch {epoch}/{self.epochs}  loss {loss:.4f}")

    # ------------------------------------------------------------------ what it shows

    @property
    def running_loss(self) -> float:
        """The mean batch loss of the current epoch so far (NaN before its first batch)."""
        return math.fsum(self._losses) / len(self._losses) if self._losses else math.nan

    @property
    def fraction(self) -> float:
        """How much of the run is done, counting batches of the current epoch."""
        done = (self._epoch - 1) * self.batches + self._batch
        return min(1.0, done / (self.epochs * self.batches))

    def eta(self) -> float | None:
        """Seconds left, assuming the rest goes as fast as the part done."""
        f = self.fraction
        return (time.perf_counter() - self._start) * (1 - f) / f if f > 0 else None

    def _line(self, text: str) -> None:
        elapsed = time.perf_counter() - self._start
        eta = self.eta()
        left = "?" if eta is None else _duration(eta)
        print(
            f"{self.label}: {text}  [{_duration(elapsed)} elapsed, ETA {left}]",
            file=self.stream,
            flush=True,
        )
        self._last_line = time.perf_counter()

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> TrainingProgress:
        self._start = self._last_line = time.perf_counter()
        if self.interactive:
            self._live = _RichBars(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


class _RichBars:
    """The terminal display: the run's bar and the current epoch's, redrawn 10 times a second."""

    def __init__(self, progress: TrainingProgress) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(file=progress.stream, force_terminal=True)
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[loss]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=10,
        )
        n = progress.epochs * progress.batches
        self.run = self.bars.add_task(f"{progress.label} run", total=n, loss="")
        self.current = self.bars.add_task(self._name(progress, 1), total=progress.batches, loss="")
        self.bars.start()

    @staticmethod
    def _name(progress: TrainingProgress, epoch: int) -> str:
        return f"epoch {epoch}/{progress.epochs}"

    def batch(self, progress: TrainingProgress) -> None:
        done = (progress._epoch - 1) * progress.batches + progress._batch
        loss = f"loss {progress.running_loss:.4f}"
        self.bars.update(self.run, completed=done)
        self.bars.update(
            self.current,
            completed=progress._batch,
            description=self._name(progress, progress._epoch),
            loss=loss,
        )

    def epoch(self, progress: TrainingProgress, epoch: int, loss: float) -> None:
        self.bars.update(self.run, completed=epoch * progress.batches, loss=f"loss {loss:.4f}")
        if epoch < progress.epochs:
            self.bars.reset(self.current, total=progress.batches, loss="")
            self.bars.update(self.current, description=self._name(progress, epoch + 1))
        else:
            self.bars.update(self.current, completed=progress.batches)
        # printing redraws the bars as last rendered: render them anew first
        self.bars.refresh()
        self.bars.console.print(
            f"{progress.label}: epoch {epoch}/{progress.epochs}  loss {loss:.4f}"
        )

    def stop(self) -> None:
        self.bars.stop()

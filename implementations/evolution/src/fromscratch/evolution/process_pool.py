"""The ES population on worker processes of this machine: every core, no GIL, no extra.

Threads of one process share the GIL, which the many short NumPy calls of a chunk of
pairs hold while they dispatch: on this project's two-core machine two threads evaluate
a generation no faster than one (see the README). Processes do not share it. Each worker
is a :class:`~fromscratch.evolution.pool.Worker` in a process started with ``spawn`` (a
fresh interpreter, safe whatever threads this one runs), which receives the training
data once, when it starts, and then per generation only what
:mod:`~fromscratch.evolution.pool` sends: θ, the rows, its offsets. A worker ignores
Ctrl-C (the driver stops it) and exits when the driver's end of its pipe closes, so no
worker outlives the run, not even a driver that was killed.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import traceback
from multiprocessing.connection import Connection
from typing import Any, ClassVar

from fromscratch.boundary.types import Array, Labels

from .pool import Share, Worker, WorkerPool, WorkerSpec


def keep_freed_memory() -> None:
    """Ask glibc's ``malloc`` to keep freed blocks of up to 32 MiB for reuse.

    By default it hands every freed block over 128 KiB back to the kernel, so a
    generation's arrays (a chunk's hidden activations are 1.6 MiB on MNIST) are fresh
    pages every time, and touching them page-faults: measured 13.7 against 10.1 ms per
    generation of the MNIST recipe in a worker process (the same settings given through
    glibc's ``MALLOC_*`` environment variables). (The driver process is usually
    spared by accident: freeing a large block, such as the loader's, raises glibc's
    thresholds by itself.) Elsewhere than glibc this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)  # blocks below 32 MiB come from the heap,
    libc.mallopt(M_TRIM_THRESHOLD, 256 << 20)  # which keeps up to 256 MiB of free memory


def serve(conn: Connection, spec: WorkerSpec, X: Array, y: Labels) -> None:
    """A worker process's life: build the worker, say its pid, then answer each share."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides when to stop
    keep_freed_memory()
    worker = Worker(spec, X, y)
    conn.send(worker.pid())
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the driver is gone
            return
        if job is None:
            return
        try:
            conn.send(("ok", worker.antithetic_losses(*job)))
        except Exception:  # the driver raises it, with the worker's traceback
            conn.send(("error", traceback.format_exc()))


class ProcessPool(WorkerPool):
    """``workers`` worker processes on this machine, each holding the data and the table."""

    label: ClassVar[str] = "process"
    lost = (EOFError, OSError)

    def __init__(self, spec: WorkerSpec, X: Array, y: Labels, *, workers: int) -> None:
        super().__init__(spec, workers)
        self.context = multiprocessing.get_context("spawn")
        self.data = (X, y)
        self.processes: list[Any] = [None] * workers
        try:
            for i in range(workers):  # start them all, then wait: they start in parallel
                self._spawn(i)
            for i in range(workers):
                self._wait_until_up(i)
        except BaseException:  # Ctrl-C or a failed start: leave no worker behind
            self.close()
            raise

    def _replace(self, i: int) -> None:
        self._stop(i)
        self._spawn(i)
        self._wait_until_up(i)

    def _wait_until_up(self, i: int) -> None:
        """Wait for worker ``i``'s first message, its pid: it holds the data and the table."""
        try:
            self.actors[i].recv()
        except EOFError:
            self.processes[i].join()
            raise RuntimeError(
                f"process worker {i} exited while starting (exit code "
                f"{self.processes[i].exitcode}); is there memory for a copy of the "
                f"training data and the noise table per worker?"
            ) from None

    def _spawn(self, i: int) -> None:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(
            target=serve, args=(theirs, self.spec, *self.data), daemon=True
        )
        process.start()
        theirs.close()  # only the worker holds its end: its death closes the pipe
        self.actors[i], self.processes[i] = ours, process

    def _submit(self, i: int, job: Share) -> Any:
        try:
            self.actors[i].send(job)
        except OSError as exc:  # a broken pipe: the worker died since the last generation
            return exc
        return None

    def _result(self, i: int, future: Any) -> tuple[Array, Array]:
        if future is not None:  # the error _submit met: the worker was already gone
            raise future
        status, result = self.actors[i].recv()
        if status == "error":
            raise RuntimeError(f"process worker {i} failed:\n{result}")
        losses: tuple[Array, Array] = result
        return losses

    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.processes if p is not None]

    def _stop(self, i: int) -> None:
        self.actors[i].close()
        self.processes[i].kill()
        self.processes[i].join()

    def close(self) -> None:
        """Stop every worker process and wait until it is gone."""
        for i, process in enumerate(self.processes):
            if process is not None:
                self._stop(i)
        self.actors, self.processes = [], []

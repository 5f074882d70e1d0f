r"""A pool of workers that evaluate an ES population: only θ and seeds go out, only losses
come back.

OpenAI-ES (Salimans et al. 2017) scales to a thousand CPUs because a perturbation never
travels: every worker builds the *same* noise table from the same seed, so the offset
:math:`o_i` of a window names the perturbation :math:`\epsilon_i` everywhere. One
generation, with :math:`W` workers and :math:`Q` antithetic pairs:

1. the driver draws the offsets and the batch's row indices, exactly as in one process;
2. it sends every worker :math:`\theta` (d floats), the row indices (n ints: the workers
   hold the training data), its share of the offsets (about :math:`Q/W` ints) and the
   width of the chunks to evaluate them in;
3. each worker rebuilds its :math:`\epsilon_i` from its table, evaluates its pairs on its
   copy of the batch and returns their (about :math:`2Q/W`) losses;
4. the driver, which holds the table too, turns the :math:`2Q` losses into the estimate
   and the optimizer step, as in one process.

Per generation that is, in bytes (b the bytes of a float, 4 for float32),

.. math::

    \text{out} = W\,(b\,d + 8n) + 8Q, \qquad \text{back} = 2Q\,b,

plus a fixed overhead per message (on Ray, θ goes once per machine through its object
store instead of once per worker). A pair's loss can change in its last bits with the
width of the chunk it is computed in (see :meth:`MLP.antithetic_losses`), so the pairs
are cut into chunks exactly as in one process, each worker's share is whole chunks, and
the worker evaluates them at that width; a share cut into chunks of its own would change
their widths. Then no loss depends on which worker computes it, and the run is
bit-identical to the in-process one. With fewer chunks than workers, the last workers sit
out the generation.

A worker that dies in the middle of a generation (its process killed, its machine gone)
is replaced by a new one, which rebuilds the table and the data from the same seed and
objects, and its share of the generation is evaluated again; after ``MAX_RESTARTS``
replacements in one ``fit`` the run stops with an error that says so. A generation never
goes on with fewer losses than members.

Where the workers live is a subclass's business: Ray actors on a cluster
(:mod:`~fromscratch.evolution.ray_pool`) or processes of this machine
(:mod:`~fromscratch.evolution.process_pool`).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from fromscratch.boundary.types import Array, Labels

from .activations import ACTIVATIONS
from .losses import LOSSES
from .lowrank import perturbations
from .mlp import MLP, chunk_size
from .noise import NoiseTable

MAX_RESTARTS: Final = 3
"""Workers replaced in one ``fit`` before the run gives up."""

# What one worker gets per generation: θ, the batch's rows, its offsets, sigma, the chunks'
# width. (A comment, not a docstring: autodoc would document the alias as an object of
# the builtins module, a page the site cannot have.)
Share = tuple[Array, NDArray[np.intp], NDArray[np.int64], float, int]


@dataclass(frozen=True)
class WorkerSpec:
    """All a worker needs to rebuild the model's population evaluation: no parameters."""

    sizes: tuple[int, ...]
    activation: str
    loss: str
    dtype: str
    noise_seed: np.random.SeedSequence
    rank: int | None


class Worker:
    """Holds the noise table and the training data; evaluates antithetic pairs.

    A worker has a process of its own (a worker process or a Ray actor), and keeps BLAS in
    that process to one thread."""

    def __init__(self, spec: WorkerSpec, X: Array, y: Labels) -> None:
        self.mlp = MLP(spec.sizes, ACTIVATIONS[spec.activation], LOSSES[spec.loss])
        self.kind = perturbations(spec.sizes, spec.rank)
        rng = np.random.default_rng(spec.noise_seed)
        self.noise = NoiseTable(self.mlp.layout.size, np.dtype(spec.dtype), rng)
        self.X, self.y = X, y
        # One BLAS thread, whatever the node's environment says: BLAS's thread count
        # changes the last bits of its products, and the in-process run's are one thread's.
        # Set once for the worker's process: a limit per call costs milliseconds
        # (threadpoolctl looks up the loaded libraries each time).
        threadpool_limits(1, "blas")

    def pid(self) -> int:
        """This worker's process id: for tests, and to wait until the worker is up."""
        return os.getpid()

    def antithetic_losses(
        self,
        theta: Array,
        rows: NDArray[np.intp],
        offsets: NDArray[np.int64],
        sigma: float,
        chunk: int,
    ) -> tuple[Array, Array]:
        """Losses of :math:`\\theta \\pm \\sigma\\epsilon_o` for the given offsets, on the rows,
        in chunks of ``chunk`` pairs (the last may be narrower)."""
        F = self.noise.take(offsets, self.kind.width)
        X = np.take(self.X, rows, axis=0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.mlp.antithetic_losses(
                theta, F, sigma, X, self.y[rows], self.kind, chunk=chunk
            )


class WorkerPool:
    """``workers`` :class:`Worker` s evaluating one generation together.

    A subclass says where a worker lives: :meth:`_replace` starts one in a place,
    :meth:`_submit` hands it a share, :meth:`_result` waits for the losses and raises one
    of ``lost`` if the worker died, and :meth:`close` stops them all.
    """

    label: ClassVar[str] = "pool"
    """How the messages name a worker ("Ray worker 1", "process worker 0")."""
    lost: tuple[type[BaseException], ...] = ()
    """The exceptions :meth:`_result` raises when the worker died."""

    def __init__(self, spec: WorkerSpec, workers: int) -> None:
        self.spec = spec
        self.actors: list[Any] = [None] * workers
        self.restarts = 0
        self.generation = 0

    def antithetic_losses(
        self, theta: Array, rows: NDArray[np.intp], offsets: NDArray[np.int64], sigma: float
    ) -> tuple[Array, Array]:
        """The losses of every pair, ``(L_plus, L_minus)``, each (Q,), from the workers."""
        self.generation += 1
        shares, size = self.shares(rows, offsets)
        theta_ref = self._share_theta(theta)
        jobs: list[Share] = [(theta_ref, rows, share, sigma, size) for share in shares]
        futures = [self._submit(i, job) for i, job in enumerate(jobs)]
        L_plus: list[Array] = []
        L_minus: list[Array] = []
        for i, job in enumerate(jobs):
            result = self._collect(i, futures[i], job)
            for part, L in zip((L_plus, L_minus), result, strict=True):
                if len(L) != len(job[2]):  # never go on short of members
                    raise RuntimeError(
                        f"{self.label} worker {i} returned {len(L)} losses for {len(job[2])} "
                        f"pairs in generation {self.generation}"
                    )
                part.append(L)
        return np.concatenate(L_plus), np.concatenate(L_minus)

    def shares(
        self, rows: NDArray[np.intp], offsets: NDArray[np.int64]
    ) -> tuple[list[NDArray[np.int64]], int]:
        """The workers' shares of ``offsets``, whole chunks of the in-process cut, and the
        chunks' width; one share per worker, or per chunk when there are fewer chunks."""
        size = chunk_size(len(offsets), len(rows) * self.spec.sizes[1])  # base is (n, h)
        starts = np.arange(0, len(offsets), size)
        groups = [g for g in np.array_split(starts, len(self.actors)) if len(g)]
        return [offsets[g[0] : g[-1] + size] for g in groups], size

    def _collect(self, i: int, future: Any, job: Share) -> Any:
        """Worker ``i``'s result; its share evaluated again on a new worker if it died."""
        while True:
            try:
                return self._result(i, future)
            except self.lost as exc:
                if self.restarts >= MAX_RESTARTS:
                    raise RuntimeError(
                        f"{self.label} worker {i} died during generation {self.generation}, "
                        f"after {self.restarts} workers had already been replaced in this "
                        f"fit; stopping. Check the machines and their memory. Cause: {exc}"
                    ) from exc
                self.restarts += 1
                warnings.warn(
                    f"{self.label} worker {i} died during generation {self.generation}; "
                    f"started a new one and evaluated its {len(job[2])} pairs again",
                    RuntimeWarning,
                    stacklevel=5,
                )
                self._replace(i)
                future = self._submit(i, job)

    # ------------------------------------------------------------- where workers live

    def _share_theta(self, theta: Array) -> Any:
        """θ as the workers receive it (Ray: one copy in its object store)."""
        return theta

    def _replace(self, i: int) -> None:
        """Start a worker in place ``i``: a first one, or a new one for one that died."""
        raise NotImplementedError

    def _submit(self, i: int, job: Share) -> Any:
        """Hand worker ``i`` its share; returns what :meth:`_result` waits on."""
        raise NotImplementedError

    def _result(self, i: int, future: Any) -> tuple[Array, Array]:
        """Worker ``i``'s losses for ``future``; raises one of ``lost`` if it died."""
        raise NotImplementedError

    def pids(self) -> list[int]:
        """The process ids of the workers (for tests that kill one)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the workers."""
        raise NotImplementedError

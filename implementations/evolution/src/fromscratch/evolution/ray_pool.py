r"""An ES population evaluated on Ray workers: only θ and seeds go out, only losses come back.

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

plus a fixed overhead per message. A pair's loss can change in its last bits with the
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
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, Final

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

INSTALL_HINT: Final = (
    "executor='ray' needs Ray, an optional extra: pip install 'fromscratch-evolution[ray]' "
    "(from a checkout: pip install -c constraints.txt -e 'implementations/evolution[ray]')"
)


def import_ray() -> Any:
    """The ``ray`` module, or an ``ImportError`` that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return ray


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
    """Holds the noise table and the training data; evaluates antithetic pairs."""

    def __init__(self, spec: WorkerSpec, X: Array, y: Labels) -> None:
        self.mlp = MLP(spec.sizes, ACTIVATIONS[spec.activation], LOSSES[spec.loss])
        self.kind = perturbations(spec.sizes, spec.rank)
        rng = np.random.default_rng(spec.noise_seed)
        self.noise = NoiseTable(self.mlp.layout.size, np.dtype(spec.dtype), rng)
        self.X, self.y = X, y

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
        # One BLAS thread, whatever the node's environment says: BLAS's thread count
        # changes the last bits of its products, and the in-process run's are one thread's.
        with (
            threadpool_limits(1, "blas"),
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            return self.mlp.antithetic_losses(
                theta, F, sigma, X, self.y[rows], self.kind, chunk=chunk
            )


class RayPool:
    """``workers`` Ray actors, each a :class:`Worker`, evaluating one generation together.

    With ``address=None`` and no Ray running in this process, a local Ray instance is
    started (node address 127.0.0.1, no dashboard) and stopped again by :meth:`close`;
    otherwise the pool joins the running instance or the cluster at ``address``.
    """

    def __init__(
        self, spec: WorkerSpec, X: Array, y: Labels, *, workers: int, address: str | None
    ) -> None:
        ray = import_ray()
        self.ray = ray
        self.started_ray = not ray.is_initialized()
        if self.started_ray:
            if address is None:
                # A local instance is private to this run: it reports no usage statistics
                # to Ray's servers (Ray would otherwise send them over the network).
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                ray.init(
                    num_cpus=workers,
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",
                    log_to_driver=False,
                )
            else:
                ray.init(address=address, log_to_driver=False)
        self.spec = spec
        self.actors: list[Any] = []
        self.remote_worker = ray.remote(num_cpus=1, max_restarts=0)(Worker)
        self.data = (ray.put(X), ray.put(y))  # in the object store once, shared by the workers
        self.restarts = 0
        self.generation = 0
        try:
            for _ in range(workers):
                self.actors.append(self._start())
            ray.get([actor.pid.remote() for actor in self.actors])  # wait until all are up
        except BaseException:  # Ctrl-C or a failed start: leave no worker, no instance behind
            self.close()
            raise

    def _start(self) -> Any:
        return self.remote_worker.remote(self.spec, *self.data)

    def antithetic_losses(
        self, theta: Array, rows: NDArray[np.intp], offsets: NDArray[np.int64], sigma: float
    ) -> tuple[Array, Array]:
        """The losses of every pair, ``(L_plus, L_minus)``, each (Q,), from the workers."""
        self.generation += 1
        theta_ref = self.ray.put(theta)  # one copy in the object store, read by every worker
        shares, size = self.shares(rows, offsets)
        futures = [
            self._submit(i, theta_ref, rows, share, sigma, size) for i, share in enumerate(shares)
        ]
        L_plus: list[Array] = []
        L_minus: list[Array] = []
        for i, share in enumerate(shares):
            result = self._collect(i, futures[i], theta_ref, rows, share, sigma, size)
            for part, L in zip((L_plus, L_minus), result, strict=True):
                if len(L) != len(share):  # never go on short of members
                    raise RuntimeError(
                        f"Ray worker {i} returned {len(L)} losses for {len(share)} pairs "
                        f"in generation {self.generation}"
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

    def _submit(
        self, i: int, theta_ref: Any, rows: NDArray[np.intp], share: Any, sigma: float, size: int
    ) -> Any:
        return self.actors[i].antithetic_losses.remote(theta_ref, rows, share, sigma, size)

    def _collect(
        self,
        i: int,
        future: Any,
        theta_ref: Any,
        rows: NDArray[np.intp],
        share: Any,
        sigma: float,
        size: int,
    ) -> Any:
        """Worker ``i``'s result; its share evaluated again on a new worker if it died."""
        ray = self.ray
        while True:
            try:
                return ray.get(future)
            except ray.exceptions.RayActorError as exc:
                if self.restarts >= MAX_RESTARTS:
                    raise RuntimeError(
                        f"Ray worker {i} died during generation {self.generation}, after "
                        f"{self.restarts} workers had already been replaced in this fit; "
                        f"stopping. Check the cluster's nodes and memory. Cause: {exc}"
                    ) from exc
                self.restarts += 1
                warnings.warn(
                    f"Ray worker {i} died during generation {self.generation}; started a "
                    f"new one and evaluated its {len(share)} pairs again",
                    RuntimeWarning,
                    stacklevel=5,
                )
                self.actors[i] = self._start()
                future = self._submit(i, theta_ref, rows, share, sigma, size)

    def pids(self) -> list[int]:
        """The process ids of the workers (for tests that kill one)."""
        return [int(pid) for pid in self.ray.get([a.pid.remote() for a in self.actors])]

    def close(self) -> None:
        """Stop the workers, and the local Ray instance if this pool started it."""
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self.started_ray:
            self.ray.shutdown()

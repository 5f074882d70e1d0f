r"""The ES population on Ray workers, on this machine or a cluster (the ``ray`` extra).

The protocol, the bytes it sends and the restarts are :mod:`~fromscratch.evolution.pool`'s;
here is only where the workers live: Ray actors, which get the training data once through
Ray's object store, and θ once per generation the same way.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Final

from fromscratch.boundary.types import Array, Labels

from .pool import Share, WorkerPool, WorkerSpec
from .pool import Worker as Worker

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


class RayPool(WorkerPool):
    """``workers`` Ray actors, each a :class:`~fromscratch.evolution.pool.Worker`.

    With ``address=None`` and no Ray running in this process, a local Ray instance is
    started (node address 127.0.0.1, no dashboard) and stopped again by :meth:`close`;
    otherwise the pool joins the running instance or the cluster at ``address``.
    """

    label: ClassVar[str] = "Ray"

    def __init__(
        self, spec: WorkerSpec, X: Array, y: Labels, *, workers: int, address: str | None
    ) -> None:
        super().__init__(spec, workers)
        ray = import_ray()
        self.ray = ray
        self.lost = (ray.exceptions.RayActorError,)
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
        self.remote_worker = ray.remote(num_cpus=1, max_restarts=0)(Worker)
        self.data = (ray.put(X), ray.put(y))  # in the object store once, shared by the workers
        try:
            for i in range(workers):
                self._replace(i)
            ray.get([actor.pid.remote() for actor in self.actors])  # wait until all are up
        except BaseException:  # Ctrl-C or a failed start: leave no worker, no instance behind
            self.close()
            raise

    def _share_theta(self, theta: Array) -> Any:
        return self.ray.put(theta)  # one copy in the object store, read by every worker

    def _replace(self, i: int) -> None:
        self.actors[i] = self.remote_worker.remote(self.spec, *self.data)

    def _submit(self, i: int, job: Share) -> Any:
        return self.actors[i].antithetic_losses.remote(*job)

    def _result(self, i: int, future: Any) -> tuple[Array, Array]:
        result: tuple[Array, Array] = self.ray.get(future)
        return result

    def pids(self) -> list[int]:
        return [int(pid) for pid in self.ray.get([a.pid.remote() for a in self.actors])]

    def close(self) -> None:
        """Stop the workers, and the local Ray instance if this pool started it."""
        for actor in self.actors:
            if actor is not None:
                self.ray.kill(actor)
        self.actors = []
        if self.started_ray:
            self.ray.shutdown()

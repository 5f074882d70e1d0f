r"""The network: an MLP whose parameters are one flat vector, trained by evolution.

``Network([784, 32, 10])`` is ``torch.nn.Sequential(Linear(784, 32), ReLU(), Linear(32,
10))``: the same forward pass, the same losses, the same state dict. What differs is
training. There is no backward pass and no ``gradients`` method: :meth:`Network.fit`
only ever *evaluates* the loss of candidate parameter vectors, and one of three
strategies decides where to go next:

* ``"es"`` -- :class:`~fromscratch.evolution.es.EvolutionStrategy`, OpenAI-style natural
  evolution strategies: estimate the gradient from antithetic random perturbations and
  step along it with Adam (the default, and the best of the three);
* ``"ga"`` -- :class:`~fromscratch.evolution.genetic.GeneticAlgorithm`, a population under
  truncation selection;
* ``"hill_climb"`` -- :class:`~fromscratch.evolution.hill_climb.HillClimber`, keep the best
  of a few random mutations.

Each generation (one strategy step) sees one mini-batch, so an epoch is one pass over
the shuffled data, as for gradient descent, and its cost grows with the number of rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from fromscratch.boundary import validation as check
from fromscratch.boundary.loop import train
from fromscratch.boundary.model import Classifier
from fromscratch.boundary.types import Array, BatchCallback, Callback, Labels, StateDict

from .activations import ACTIVATIONS, Activation
from .architecture import SUPPORTED_LAYERS, architecture
from .es import EvolutionStrategy, es_gradient
from .genetic import GeneticAlgorithm
from .hill_climb import HillClimber
from .losses import LOSSES, Loss
from .lowrank import perturbations
from .mlp import MLP
from .noise import NoiseTable
from .options import FitOptions, check_fit_options, check_population
from .pool import WorkerPool, WorkerSpec
from .process_pool import ProcessPool
from .ray_pool import RayPool

Strategy = EvolutionStrategy | GeneticAlgorithm | HillClimber


class Network(Classifier):
    r"""A multilayer perceptron trained without gradients.

    The constructor's arguments are those of every implementation, see
    :class:`fromscratch.boundary.model.Classifier`. A spec may open with a fixed input
    pool (:mod:`~fromscratch.evolution.architecture`): ``["Unflatten(1, (1, 28, 28))",
    "AvgPool2d(2)", "Flatten()", "Linear(196, 64)", "ReLU()", "Linear(64, 10)"]``.
    """

    activation: Activation
    criterion: Loss
    activations = ACTIVATIONS
    losses = LOSSES
    supported_layers: ClassVar[frozenset[str]] = SUPPORTED_LAYERS
    """The ``torch.nn`` layer names a spec may use here."""

    def build(self, rng: np.random.Generator) -> None:
        """The flat parameter vector ``theta``, drawn from ``rng``, and the search's streams."""
        # The dense layers' sizes and activation, after the fixed input transform, if any.
        self.arch = architecture(self.specs, self.activation_name)
        self.activation = self.activations[self.arch.activation]
        self.mlp = MLP(self.arch.sizes, self.activation, self.criterion, self.arch.first)

        # Like torch.nn.Linear: W then b of each layer, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        parts = []
        for fan_in, fan_out in zip(self.arch.sizes[:-1], self.arch.sizes[1:], strict=False):
            bound = 1 / np.sqrt(fan_in)
            parts.append(rng.uniform(-bound, bound, size=fan_out * fan_in))  # W, row-major
            parts.append(rng.uniform(-bound, bound, size=fan_out))  # b
        self.theta: Array = np.concatenate(parts).astype(self.dtype)
        # Shuffling, the noise table and the strategies draw from their own streams,
        # children of the seed: none of them shifts another (configure made the first).
        _, noise, strategy = np.random.SeedSequence(self.seed).spawn(3)
        self._noise_seed = noise
        self._strategy_rng = np.random.default_rng(strategy)
        self._noise: NoiseTable | None = None

    # -------------------------------------------------------------------------- training

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        callback: Callback | None = None,
        batch_callback: BatchCallback | None = None,
        **options: Any,
    ) -> Network:
        r"""Train by evolution, one generation per mini-batch; return ``self``.

        Each epoch shuffles the rows and runs one strategy step on each batch of
        ``batch_size`` rows (the last may be smaller).

        ``learning_rate`` means, per strategy: ``"es"``, the optimizer's step size;
        ``"ga"`` and ``"hill_climb"``, the mutation scale :math:`\eta` (mutations are
        :math:`\eta\,\epsilon`, :math:`\epsilon \sim \mathcal N(0, I)`).

        Options
        -------
        strategy
            ``"es"`` (default), ``"ga"`` or ``"hill_climb"``.
        population
            ES: members per generation, even, ``population // 2`` antithetic pairs
            (default 100). GA: members kept (default 50). Hill climbing: mutations tried
            per step (default 10).
        sigma
            ES only: perturbation scale (default 0.05).
        optimizer, momentum, weight_decay
            ES only: ``"adam"`` (default) or ``"sgd"``; the momentum, SGD's :math:`\mu` or
            Adam's :math:`\beta_1` (default 0.9);
            L2 weight decay (default 0).
        crossover
            GA only: uniform crossover between two parents (default True: on MNIST it
            reaches a given accuracy in less time, see the README).
        offspring, self_adaptive
            GA only: children per generation, :math:`\lambda` (default: ``population``);
            whether each member carries its own mutation strength, started at
            ``learning_rate`` and mutated log-normally (default False; needs the
            constant schedule).
        rank
            ES only: None (default) for dense Gaussian perturbations, or the rank r of the
            first layer's perturbations :math:`A B^\\top / \\sqrt r` (EGGROLL): a member
            then costs about h / r times less in the first layer.
        executor, workers, address
            ES only: ``"local"`` (default) evaluates the population in this process, on
            one thread; ``"threads"`` on ``workers`` threads of this process (default 2:
            one per core, with one BLAS thread each); ``"processes"`` on ``workers``
            worker processes of this machine (default 2); ``"ray"`` on ``workers`` Ray
            actors (default 2), on a local Ray instance (``address=None``) or the cluster
            at ``address``, which needs the ``ray`` extra. Threads and workers keep BLAS
            to one thread; every executor gives results bit-identical to ``"local"``
            with BLAS on one thread (BLAS's thread count changes the last bits of its
            products).
        schedule
            ``"constant"`` (default) or ``"cosine"`` annealing of ``learning_rate`` per epoch.

        ``callback(epoch, metrics)`` runs after each epoch with ``metrics = {"loss": mean
        over the epoch's batches of the current parameters' loss, "learning_rate": ...}``.

        ``batch_callback(epoch, batch, loss)``, if given, runs after each mini-batch step
        (``batch`` counts from 1) with that batch's loss: it lets a progress bar move
        inside a long epoch.

        Raises
        ------
        ValueError
            Bad data, hyper-parameters or options.
        FloatingPointError
            The loss of the current parameters became NaN or infinite.
        """
        epochs, batch_size, learning_rate = check.check_fit_arguments(
            epochs, batch_size, learning_rate, callback, batch_callback
        )
        config = check_fit_options(options)
        X = self._inputs(X)
        y = self.check_y(y, len(X))

        pool = self._make_pool(config, X, y) if config.executor in ("processes", "ray") else None
        threads = (
            ThreadPoolExecutor(config.workers, thread_name_prefix="evolution")
            if config.executor == "threads"
            else None
        )
        try:
            strategy = self._make_strategy(config, learning_rate, pool, threads)
            # With threads, one BLAS thread each: BLAS threads of their own on top of the
            # workers oversubscribe the cores (3x slower on two cores, see the README).
            with threadpool_limits(1, "blas") if threads else contextlib.nullcontext():
                self._epochs(
                    strategy,
                    X,
                    y,
                    epochs,
                    batch_size,
                    learning_rate,
                    config,
                    callback,
                    batch_callback,
                )
        finally:  # also on Ctrl-C: no worker process, Ray actor or thread outlives fit
            if pool is not None:
                pool.close()
            if threads is not None:
                threads.shutdown(cancel_futures=True)
        return self

    def _epochs(
        self,
        strategy: Strategy,
        X: Array,
        y: Labels,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        config: FitOptions,
        callback: Callback | None,
        batch_callback: BatchCallback | None,
    ) -> None:
        """The shared epoch/batch loop, one generation per batch. A strategy's ``step`` is
        its whole search step, update included, so the loop's own update does nothing."""

        def set_learning_rate(lr: float) -> None:
            strategy.learning_rate = lr

        def searched() -> list[Array]:
            # The strategies search on their own copy of theta: bring it home each epoch.
            self.theta[:] = strategy.theta
            return [self.theta]

        train(
            lambda rows: strategy.step(np.take(X, rows, axis=0), y[rows], rows),
            lambda: None,
            n_rows=len(X),
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            schedule=config.schedule,
            shuffle=True,
            rng=self.shuffle_rng,
            set_learning_rate=set_learning_rate,
            parameters=searched,
            callback=callback,
            batch_callback=batch_callback,
        )

    def _make_pool(self, config: FitOptions, X: Array, y: Labels) -> WorkerPool:
        """Worker processes or Ray actors that hold the data and this model's noise table
        (same seed)."""
        spec = WorkerSpec(
            self.arch.sizes,
            self.arch.activation,
            self.loss_name,
            self.dtype.name,
            self._noise_seed,
            config.rank,
        )
        if config.executor == "processes":
            return ProcessPool(spec, X, y, workers=config.workers)
        return RayPool(spec, X, y, workers=config.workers, address=config.address)

    def _noise_table(self) -> NoiseTable:
        """The table of Gaussian noise, drawn on first use and kept: every fit reuses it."""
        if self._noise is None:
            rng = np.random.default_rng(self._noise_seed)
            self._noise = NoiseTable(self.mlp.layout.size, self.dtype, rng)
        return self._noise

    def _make_strategy(
        self,
        config: FitOptions,
        learning_rate: float,
        pool: WorkerPool | None,
        threads: ThreadPoolExecutor | None,
    ) -> Strategy:
        # Strategies update their own copy of theta; fit copies the result back per epoch.
        theta = self.theta.copy()
        common: dict[str, Any] = {
            "learning_rate": learning_rate,
            "population": config.population,
            "noise": self._noise_table(),
            "rng": self._strategy_rng,
        }
        if config.strategy == "ga":
            return GeneticAlgorithm(
                self.mlp,
                theta,
                crossover=config.crossover,
                offspring=config.offspring,
                self_adaptive=config.self_adaptive,
                **common,
            )
        if config.strategy == "hill_climb":
            return HillClimber(self.mlp, theta, **common)
        return EvolutionStrategy(
            self.mlp,
            theta,
            sigma=config.sigma,
            optimizer=config.optimizer,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
            rank=config.rank,
            pool=pool,
            map_chunks=map if threads is None else threads.map,
            **common,
        )

    # ------------------------------------------------------------- the ES gradient hook

    def estimate_gradient(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        population: int,
        sigma: float,
        seed: int,
        rank: int | None = None,
    ) -> StateDict:
        r"""The ES estimate of :math:`\nabla_\theta L(X, y)`, up to a positive factor.

        Exactly the estimator that ``strategy="es"`` steps against (antithetic pairs,
        centered-rank shaping, see :func:`~fromscratch.evolution.es.es_gradient`), from
        ``population // 2`` pairs drawn from a noise table seeded with ``seed``, with the
        fitness measured on all of ``(X, y)``; ``rank`` is ``fit``'s option of the same
        name (dense perturbations if None, rank-``rank`` ones in the first layer
        otherwise, see :mod:`~fromscratch.evolution.lowrank`). Keyed like
        :meth:`state_dict`; the parameters are left unchanged.
        """
        population = check_population(population, even=True)
        sigma = check.check_float("sigma", sigma, low=0, low_inclusive=False)
        seed = check.check_int("seed", seed, low=0)
        rank = None if rank is None else check.check_int("rank", rank)
        X = self._inputs(X)
        y = self.check_y(y, len(X))
        kind = perturbations(self.arch.sizes, rank)
        rng = np.random.default_rng(seed)
        F = NoiseTable(kind.width, self.dtype, rng).sample(population // 2, rng)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            L_plus, L_minus = self.mlp.antithetic_losses(self.theta, F, sigma, X, y, kind)
        return self.mlp.layout.to_state_dict(es_gradient(L_plus, L_minus, F, sigma, kind))

    # ------------------------------------------------------------------------ inference

    def _inputs(self, X: NDArray[Any]) -> Array:
        """``X`` checked, then through the fixed input transform, if any: what the first
        ``Linear`` sees. ``fit`` does this once for the whole training set."""
        X = self.check_X(X)
        return X if self.arch.transform is None else self.arch.transform(X)

    def _output(self, X: NDArray[Any]) -> Array:
        X = self._inputs(X)
        z: Array = self.mlp.outputs(self.theta[None], X)[0]
        return z

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        z = self._output(X)
        y = self.check_y(y, len(z))
        return float(self.criterion.value(z[None], y)[0])

    # ----------------------------------------------------------------------- state dict

    def state_dict(self) -> StateDict:
        """Copies of the parameters, keyed like ``nn.Sequential``: ``"0.weight"``, ``"0.bias"``."""
        return self.mlp.layout.to_state_dict(self.theta)

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy the arrays in; wrong keys, shapes or dtypes, or NaN/inf, raise ``ValueError``."""
        arrays = check.check_state_dict(state, self.mlp.layout.shapes, self.dtype)
        self.theta[:] = self.mlp.layout.from_state_dict(arrays, self.dtype)

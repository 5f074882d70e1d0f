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

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NoReturn

import numpy as np
from numpy.typing import NDArray

from .activations import ACTIVATIONS
from .architecture import SUPPORTED_LAYERS, architecture
from .es import EvolutionStrategy, es_gradient
from .genetic import GeneticAlgorithm
from .hill_climb import HillClimber
from .losses import LOSSES
from .lowrank import perturbations
from .mlp import MLP
from .noise import NoiseTable
from .ray_pool import RayPool, WorkerSpec
from .validation import (
    DTYPES,
    FitOptions,
    check_choice,
    check_fit_options,
    check_float,
    check_int,
    check_population,
    check_state_dict,
    check_X,
    check_y,
)

Array = NDArray[np.floating[Any]]
Labels = NDArray[np.integer[Any]]
StateDict = dict[str, Array]
Callback = Callable[[int, Mapping[str, float]], None]
Strategy = EvolutionStrategy | GeneticAlgorithm | HillClimber


def cosine_schedule(learning_rate: float, epoch: int, epochs: int) -> float:
    r"""Cosine annealing per epoch :math:`e = 1, \dots, E`.

    .. math::

        \eta_e = \frac{\eta}{2}\Big(1 + \cos\frac{\pi (e - 1)}{E}\Big)
    """
    return 0.5 * learning_rate * (1 + math.cos(math.pi * (epoch - 1) / epochs))


class Network:
    r"""A multilayer perceptron trained without gradients.

    Parameters
    ----------
    layers
        Layer sizes, inputs first: ``[784, 32, 10]`` is two dense layers. Or the
        architecture spec, one ``torch.nn`` call per ``nn.Sequential`` entry, which may
        open with a fixed input pool (:mod:`~fromscratch.evolution.architecture`):
        ``["Unflatten(1, (1, 28, 28))", "AvgPool2d(2)", "Flatten()", "Linear(196, 64)",
        "ReLU()", "Linear(64, 10)"]``.
    activation
        Hidden activation of the sizes form: ``"relu"``, ``"sigmoid"`` or ``"tanh"``; the
        last layer is linear. A spec names its own (``"ReLU()"``) and this is unused.
    loss
        ``"cross_entropy"`` (``layers[-1] >= 2`` logits), ``"bce"`` (one logit, two
        classes) or ``"mse"`` (``layers[-1] >= 2`` scores regressed onto one-hot labels).
    seed
        Seeds the initial parameters, the shuffling and every random draw of training:
        the same seed and data give bit-identical results.
    dtype
        ``"float32"`` or ``"float64"``: parameters and all arithmetic use it.
    """

    supported_layers: ClassVar[frozenset[str]] = SUPPORTED_LAYERS
    """The ``torch.nn`` layer names a spec may use here."""

    def __init__(
        self,
        layers: Sequence[int] | Sequence[str],
        *,
        activation: str = "relu",
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        self.arch = architecture(layers, activation, tuple(ACTIVATIONS))
        self.sizes = self.arch.sizes  # the dense layers', after the fixed input transform
        texts = [entry for entry in layers if isinstance(entry, str)]
        self.layers: list[int] | list[str] = texts or list(self.sizes)  # as given, for repr
        self.activation = self.arch.activation
        criterion = LOSSES[check_choice("loss", loss, LOSSES)]
        self.dtype: np.dtype[Any] = np.dtype(check_choice("dtype", dtype, DTYPES))
        self.seed = check_int("seed", seed, low=0)
        k = self.sizes[-1]
        if criterion.binary and k != 1:
            raise ValueError(
                f"loss='bce' uses one output logit, so layers[-1] must be 1, got {k}; "
                f"for {k} classes use loss='cross_entropy'"
            )
        if not criterion.binary and k < 2:
            raise ValueError(
                f"loss={loss!r} needs one output per class, so layers[-1] must be >= 2, "
                f"got {k}; for a single output logit use loss='bce'"
            )
        self.n_classes = 2 if criterion.binary else k
        self.mlp = MLP(self.sizes, ACTIVATIONS[self.activation], criterion, self.arch.first)

        # Like torch.nn.Linear: W then b of each layer, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        init_rng = np.random.default_rng(self.seed)
        parts = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=False):
            bound = 1 / np.sqrt(fan_in)
            parts.append(init_rng.uniform(-bound, bound, size=fan_out * fan_in))  # W, row-major
            parts.append(init_rng.uniform(-bound, bound, size=fan_out))  # b
        self.theta: Array = np.concatenate(parts).astype(self.dtype)
        # Shuffling, the noise table and the strategies draw from their own streams,
        # children of the seed: none of them shifts another.
        shuffle, noise, strategy = np.random.SeedSequence(self.seed).spawn(3)
        self._shuffle_rng = np.random.default_rng(shuffle)
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
        batch_callback: Callable[[int, int, float], object] | None = None,
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
            ES only: ``"local"`` (default) evaluates the population in this process;
            ``"ray"`` on ``workers`` Ray actors (default 2), on a local Ray instance
            (``address=None``) or the cluster at ``address``. Needs the ``ray`` extra;
            the result is bit-identical to ``"local"``.
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
        epochs = check_int("epochs", epochs)
        batch_size = check_int("batch_size", batch_size)
        learning_rate = check_float("learning_rate", learning_rate, low=0, low_inclusive=False)
        if callback is not None and not callable(callback):
            raise ValueError(f"callback must be callable(epoch, metrics) or None, got {callback!r}")
        if batch_callback is not None and not callable(batch_callback):
            raise ValueError(f"batch_callback must be callable or None, got {batch_callback!r}")
        config = check_fit_options(options)
        X = self._inputs(X)
        y = check_y(y, len(X), self.n_classes)

        pool = self._make_pool(config, X, y) if config.executor == "ray" else None
        try:
            strategy = self._make_strategy(config, learning_rate, pool)
            self._epochs(
                strategy, X, y, epochs, batch_size, learning_rate, config, callback, batch_callback
            )
        finally:  # also on Ctrl-C: no Ray worker outlives fit
            if pool is not None:
                pool.close()
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
        batch_callback: Callable[[int, int, float], object] | None,
    ) -> None:
        n = len(X)
        for epoch in range(1, epochs + 1):
            if config.schedule == "cosine":
                strategy.learning_rate = cosine_schedule(learning_rate, epoch, epochs)
            order = self._shuffle_rng.permutation(n)
            losses = []
            # A diverging run overflows somewhere; that shows up as a non-finite loss, which
            # becomes a clear error instead of NumPy warnings batch after batch.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for batch, start in enumerate(range(0, n, batch_size), start=1):
                    rows = order[start : start + batch_size]
                    L = strategy.step(np.take(X, rows, axis=0), y[rows], rows)
                    if not math.isfinite(L):
                        self._diverged(epoch, batch, L, strategy.learning_rate)
                    losses.append(L)
                    if batch_callback is not None:
                        batch_callback(epoch, batch, L)
                self.theta[:] = strategy.theta
                if not np.isfinite(self.theta).all():
                    self._diverged(epoch, batch, None, strategy.learning_rate)
            if callback is not None:
                metrics = {
                    "loss": math.fsum(losses) / len(losses),
                    "learning_rate": strategy.learning_rate,
                }
                callback(epoch, metrics)

    def _make_pool(self, config: FitOptions, X: Array, y: Labels) -> RayPool:
        """Ray workers that hold the data and this model's noise table (same seed)."""
        spec = WorkerSpec(
            self.sizes,
            self.activation,
            self.mlp.criterion.name,
            self.dtype.name,
            self._noise_seed,
            config.rank,
        )
        return RayPool(spec, X, y, workers=config.workers, address=config.address)

    def _noise_table(self) -> NoiseTable:
        """The table of Gaussian noise, drawn on first use and kept: every fit reuses it."""
        if self._noise is None:
            rng = np.random.default_rng(self._noise_seed)
            self._noise = NoiseTable(self.mlp.layout.size, self.dtype, rng)
        return self._noise

    def _make_strategy(
        self, config: FitOptions, learning_rate: float, pool: RayPool | None
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
            **common,
        )

    @staticmethod
    def _diverged(epoch: int, batch: int, loss: float | None, learning_rate: float) -> NoReturn:
        what = "the parameters are no longer finite" if loss is None else f"the loss is {loss}"
        raise FloatingPointError(
            f"training diverged at epoch {epoch}, batch {batch}: {what}. "
            f"Try a lower learning_rate (it was {learning_rate:g}), or check the input scale."
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
        sigma = check_float("sigma", sigma, low=0, low_inclusive=False)
        seed = check_int("seed", seed, low=0)
        rank = None if rank is None else check_int("rank", rank)
        X = self._inputs(X)
        y = check_y(y, len(X), self.n_classes)
        kind = perturbations(self.sizes, rank)
        rng = np.random.default_rng(seed)
        F = NoiseTable(kind.width, self.dtype, rng).sample(population // 2, rng)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            L_plus, L_minus = self.mlp.antithetic_losses(self.theta, F, sigma, X, y, kind)
        return self.mlp.layout.to_state_dict(es_gradient(L_plus, L_minus, F, sigma, kind))

    # ------------------------------------------------------------------------ inference

    def _inputs(self, X: NDArray[Any]) -> Array:
        """``X`` checked, then through the fixed input transform, if any: what the first
        ``Linear`` sees. ``fit`` does this once for the whole training set."""
        X = check_X(X, self.arch.n_features, self.dtype)
        return X if self.arch.transform is None else self.arch.transform(X)

    def _output(self, X: NDArray[Any]) -> Array:
        X = self._inputs(X)
        z: Array = self.mlp.outputs(self.theta[None], X)[0]
        return z

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Class probabilities, shape (n, k), each row summing to 1 (k = 2 for ``bce``)."""
        return self.mlp.criterion.probabilities(self._output(X))

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        """The most probable class of each row, int64, shape (n,)."""
        labels: NDArray[np.int64] = np.argmax(self.predict_proba(X), axis=1).astype(np.int64)
        return labels

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The mean loss over the rows, as the torch loss of the same name defines it."""
        z = self._output(X)
        y = check_y(y, len(z), self.n_classes)
        return float(self.mlp.criterion.value(z[None], y)[0])

    # ----------------------------------------------------------------------- state dict

    def state_dict(self) -> StateDict:
        """Copies of the parameters, keyed like ``nn.Sequential``: ``"0.weight"``, ``"0.bias"``."""
        return self.mlp.layout.to_state_dict(self.theta)

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy the arrays in; wrong keys, shapes or dtypes, or NaN/inf, raise ``ValueError``."""
        arrays = check_state_dict(state, self.mlp.layout.shapes, self.dtype)
        self.theta[:] = self.mlp.layout.from_state_dict(arrays, self.dtype)

    def __repr__(self) -> str:
        return (
            f"Network({self.layers!r}, activation={self.activation!r}, "
            f"loss={self.mlp.criterion.name!r}, seed={self.seed}, dtype={self.dtype.name!r})"
        )

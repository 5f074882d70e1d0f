"""The suite's own tests: a check that cannot fail proves nothing.

Each test wraps a real implementation, breaks one thing in the way a real bug would,
and asserts that the matching check now fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Case
from fromscratch.conformance.registry import Implementation, select


class Delegate:
    """A model that forwards every protocol method to a real one."""

    def __init__(self, layers: list[int], inner_factory: Callable[..., Any], **kwargs: Any):
        self.inner = inner_factory(layers, **kwargs)

    def fit(self, X: NDArray[Any], y: NDArray[Any], **kwargs: Any) -> Delegate:
        self.inner.fit(X, y, **kwargs)
        return self

    def predict_proba(self, X: NDArray[Any]) -> Any:
        return self.inner.predict_proba(X)

    def predict(self, X: NDArray[Any]) -> Any:
        return self.inner.predict(X)

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        return float(self.inner.loss(X, y))

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        return self.inner.gradients(X, y)  # type: ignore[no-any-return]

    def state_dict(self) -> dict[str, Any]:
        return self.inner.state_dict()  # type: ignore[no-any-return]

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.inner.load_state_dict(state)


@pytest.fixture
def real() -> Implementation:
    impls = [i for i in select() if i.differentiable]
    if not impls:
        pytest.skip("no gradient-trained implementation is installed")
    return impls[0]


def mutant(real: Implementation, cls: type[Delegate]) -> Implementation:
    def factory(layers: list[int], **kwargs: Any) -> Delegate:
        return cls(layers, real.factory, **kwargs)

    factory.gradients = cls.gradients  # type: ignore[attr-defined]  # it is gradient-trained
    return Implementation(f"{real.name}+{cls.__name__}", factory, real.recipes)


CASE = Case("tanh", "cross_entropy", (4, 6, 3), 5)


class GradientOffByOnePpm(Delegate):
    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        loss, grads = super().gradients(X, y)
        return loss, {k: g * (1 + 1e-6) for k, g in grads.items()}


class GradientOfSumNotMean(Delegate):
    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        loss, grads = super().gradients(X, y)
        return loss, {k: g * len(X) for k, g in grads.items()}


class GradientStepsParameters(Delegate):
    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        loss, grads = super().gradients(X, y)
        self.load_state_dict({k: v - 0.1 * grads[k] for k, v in self.state_dict().items()})
        return loss, grads


@pytest.mark.parametrize(
    "cls", [GradientOffByOnePpm, GradientOfSumNotMean, GradientStepsParameters]
)
def test_gradient_bugs_are_caught(real: Implementation, cls: type[Delegate]):
    assert checks.gradient_vs_torch(real, CASE).passed
    assert not checks.gradient_vs_torch(mutant(real, cls), CASE).passed


def test_central_differences_catch_a_gradient_bug(real: Implementation):
    case = checks.central_difference_cases()[0]
    assert checks.central_difference(real, case).passed
    assert not checks.central_difference(mutant(real, GradientOfSumNotMean), case).passed


class SharpenedProbabilities(Delegate):
    def predict_proba(self, X: NDArray[Any]) -> Any:
        p = super().predict_proba(X) ** 1.001
        return p / p.sum(axis=1, keepdims=True)


class PredictInt32(Delegate):
    def predict(self, X: NDArray[Any]) -> Any:
        return super().predict(X).astype(np.int32)


@pytest.mark.parametrize("cls", [SharpenedProbabilities, PredictInt32])
def test_forward_bugs_are_caught(real: Implementation, cls: type[Delegate]):
    assert checks.forward_vs_torch(real, CASE, "float64").passed
    assert not checks.forward_vs_torch(mutant(real, cls), CASE, "float64").passed


class TransposedWeights(Delegate):
    def state_dict(self) -> dict[str, Any]:
        return {k: v.T.copy() if v.ndim == 2 else v for k, v in super().state_dict().items()}


class SharedStateDict(Delegate):
    def __init__(self, layers: list[int], inner_factory: Callable[..., Any], **kwargs: Any):
        super().__init__(layers, inner_factory, **kwargs)
        self.cached = self.inner.state_dict()

    def state_dict(self) -> dict[str, Any]:
        return self.cached


@pytest.mark.parametrize("cls", [TransposedWeights, SharedStateDict])
def test_state_dict_bugs_are_caught(real: Implementation, cls: type[Delegate]):
    assert checks.state_dict_layout(real, "float64").passed
    assert not checks.state_dict_layout(mutant(real, cls), "float64").passed


class SilentLoss(Delegate):
    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        try:
            return super().loss(X, y)
        except ValueError:
            return float("nan")


def test_missing_validation_is_caught(real: Implementation):
    case = next(c for c in checks.bad_inputs() if c.name == "label too large")
    assert checks.bad_input(real, case).passed
    assert not checks.bad_input(mutant(real, SilentLoss), case).passed


class SwallowsDivergence(Delegate):
    def fit(self, X: NDArray[Any], y: NDArray[Any], **kwargs: Any) -> Delegate:
        try:
            return super().fit(X, y, **kwargs)
        except FloatingPointError:
            return self


def test_swallowed_divergence_is_caught(real: Implementation):
    assert checks.divergence(real).passed
    assert not checks.divergence(mutant(real, SwallowsDivergence)).passed


# --------------------------------------------------------------------------- training steps


class Trainer(Delegate):
    """Trains through the protocol alone: ``gradients`` on each batch, then a NumPy optimizer
    written from torch's documentation, then ``load_state_dict``. An outside implementation
    could train this way; the subclasses below put classic optimizer bugs into it."""

    def fit(  # type: ignore[override]
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        shuffle: bool = True,
        optimizer: str = "sgd",
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule: str = "constant",
    ) -> Trainer:
        theta = self.inner.state_dict()
        slots: dict[str, dict[str, Any]] = {k: {} for k in theta}  # each parameter's m, v
        t = 0
        for epoch in range(1, epochs + 1):
            lr = self.rate(learning_rate, epoch, epochs) if schedule == "cosine" else learning_rate
            for rows in self.batches(len(X), batch_size, shuffle):
                _, grads = self.inner.gradients(X[rows], y[rows])
                t += 1
                for k in theta:
                    g = grads[k] + weight_decay * theta[k]
                    if optimizer == "adam":
                        theta[k] = theta[k] - self.adam(g, slots[k], lr, t)
                    else:
                        theta[k] = theta[k] - lr * self.sgd(g, slots[k], momentum, nesterov)
                self.inner.load_state_dict(theta)
        return self

    def batches(self, n: int, batch_size: int, shuffle: bool) -> list[NDArray[Any]]:
        order = np.random.default_rng(0).permutation(n) if shuffle else np.arange(n)
        return [order[start : start + batch_size] for start in range(0, n, batch_size)]

    def rate(self, learning_rate: float, epoch: int, epochs: int) -> float:
        return 0.5 * learning_rate * (1 + math.cos(math.pi * (epoch - 1) / epochs))

    def sgd(self, g: Any, slot: dict[str, Any], momentum: float, nesterov: bool) -> Any:
        if not momentum:
            return g
        v = slot["v"] = momentum * slot["v"] + g if "v" in slot else g
        return g + momentum * v if nesterov else v

    def adam(self, g: Any, slot: dict[str, Any], lr: float, t: int) -> Any:
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        m = slot["m"] = beta1 * slot.get("m", 0.0) + (1 - beta1) * g
        v = slot["v"] = beta2 * slot.get("v", 0.0) + (1 - beta2) * g * g
        return lr / (1 - beta1**t) * m / (np.sqrt(v) / math.sqrt(1 - beta2**t) + eps)


class NesterovLooksAheadWithOldVelocity(Trainer):
    """Nesterov's look-ahead taken with the velocity from before this step's gradient."""

    def sgd(self, g: Any, slot: dict[str, Any], momentum: float, nesterov: bool) -> Any:
        old = slot.get("v", 0.0)
        v = super().sgd(g, slot, momentum, False)
        return g + momentum * old if nesterov else v


class AdamWithoutBiasCorrection(Trainer):
    """Adam's m and v used as they are: early steps far too small, since both start at 0."""

    def adam(self, g: Any, slot: dict[str, Any], lr: float, t: int) -> Any:
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        m = slot["m"] = beta1 * slot.get("m", 0.0) + (1 - beta1) * g
        v = slot["v"] = beta2 * slot.get("v", 0.0) + (1 - beta2) * g * g
        return lr * m / (np.sqrt(v) + eps)


class AdamCorrectsVWithoutSquareRoot(Trainer):
    """Divides sqrt(v) by 1 - beta2^t instead of by its square root."""

    def adam(self, g: Any, slot: dict[str, Any], lr: float, t: int) -> Any:
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        m = slot["m"] = beta1 * slot.get("m", 0.0) + (1 - beta1) * g
        v = slot["v"] = beta2 * slot.get("v", 0.0) + (1 - beta2) * g * g
        return lr / (1 - beta1**t) * m / (np.sqrt(v) / (1 - beta2**t) + eps)


class CosineOneEpochLate(Trainer):
    """The schedule counts epochs from 0: the first epoch already runs below full rate."""

    def rate(self, learning_rate: float, epoch: int, epochs: int) -> float:
        return super().rate(learning_rate, epoch + 1, epochs)


class DropsTheRaggedBatch(Trainer):
    """Skips the last, smaller batch of each epoch, like ``drop_last=True``."""

    def batches(self, n: int, batch_size: int, shuffle: bool) -> list[NDArray[Any]]:
        return [b for b in super().batches(n, batch_size, shuffle) if len(b) == batch_size]


class ShufflesAnyway(Trainer):
    """Ignores ``shuffle=False``: the same batches as torch, but not the same rows in them."""

    def batches(self, n: int, batch_size: int, shuffle: bool) -> list[NDArray[Any]]:
        return super().batches(n, batch_size, True)


def test_a_trainer_using_only_the_protocol_matches_torch(real: Implementation):
    for case in checks.training_cases():
        m = checks.training_vs_torch(mutant(real, Trainer), case)
        assert m.passed, m.describe()


@pytest.mark.parametrize(
    ("cls", "case"),
    [
        (NesterovLooksAheadWithOldVelocity, "sgd-nesterov-cosine"),
        (AdamWithoutBiasCorrection, "adam-cosine"),
        (AdamCorrectsVWithoutSquareRoot, "adam-cosine"),
        (CosineOneEpochLate, "sgd-nesterov-cosine"),
        (DropsTheRaggedBatch, "sgd"),
        (ShufflesAnyway, "sgd"),
    ],
)
def test_training_bugs_are_caught(real: Implementation, cls: type[Trainer], case: str):
    # The sound Trainer passes every case (above): only the bug differs.
    training_case = next(c for c in checks.training_cases() if c.name == case)
    assert not checks.training_vs_torch(mutant(real, cls), training_case).passed


# --------------------------------------------------------------------------- ES gradient


def unflatten(vector: NDArray[Any], like: dict[str, Any]) -> dict[str, Any]:
    """``vector`` cut into arrays keyed and shaped like ``like``, in its order."""
    ends = np.cumsum([v.size for v in like.values()])
    pieces = np.split(vector, ends[:-1])
    return {k: piece.reshape(v.shape) for (k, v), piece in zip(like.items(), pieces, strict=True)}


class CenteredRankES(Delegate):
    """A plain OpenAI-ES estimator over the inner model's loss: what the check should accept."""

    def estimate_gradient(
        self, X: NDArray[Any], y: NDArray[Any], *, population: int, sigma: float, seed: int
    ) -> dict[str, Any]:
        state = self.inner.state_dict()
        theta = np.concatenate([v.ravel() for v in state.values()])
        eps = np.random.default_rng(seed).standard_normal((population // 2, theta.size))
        losses = np.array(
            [
                [self._loss_at(unflatten(theta + s * sigma * e, state), X, y) for s in (1, -1)]
                for e in eps
            ]
        )
        ranks = np.empty(losses.size)
        ranks[np.argsort(losses.ravel())] = np.arange(losses.size)
        centered = (ranks / (losses.size - 1) - 0.5).reshape(losses.shape)
        g = self.shape_weights(centered[:, 0] - centered[:, 1]) @ eps
        self.inner.load_state_dict(state)
        return unflatten(g, state)

    def shape_weights(self, w: NDArray[Any]) -> NDArray[Any]:
        return w

    def _loss_at(self, params: dict[str, Any], X: Any, y: Any) -> float:
        self.inner.load_state_dict(params)
        return float(self.inner.loss(X, y))


class DescendingES(CenteredRankES):
    """Returns the step direction (minus the gradient) where the gradient is asked for."""

    def shape_weights(self, w: NDArray[Any]) -> NDArray[Any]:
        return -w


class MispairedES(CenteredRankES):
    """Pairs each perturbation with another pair's fitness: an off-by-one in the population."""

    def shape_weights(self, w: NDArray[Any]) -> NDArray[Any]:
        return np.roll(w, 1)


def es_mutant(real: Implementation, cls: type[CenteredRankES]) -> Implementation:
    def factory(layers: list[int], **kwargs: Any) -> CenteredRankES:
        return cls(layers, real.factory, **kwargs)

    factory.estimate_gradient = cls.estimate_gradient  # type: ignore[attr-defined]
    return Implementation(f"{real.name}+{cls.__name__}", factory, real.recipes)


def test_a_sound_es_estimate_passes_near_the_predicted_cosine(real: Implementation):
    for n_pairs in checks.ES_PAIRS:
        m = checks.es_gradient(es_mutant(real, CenteredRankES), n_pairs)
        assert m.passed, m.describe()
        # The closed form the threshold is derived from predicts the cosine itself.
        assert m.value == pytest.approx(m.details["expected_cosine"], abs=0.15), m.describe()


@pytest.mark.parametrize("cls", [DescendingES, MispairedES])
def test_es_estimate_bugs_are_caught(real: Implementation, cls: type[CenteredRankES]):
    for n_pairs in checks.ES_PAIRS:
        assert not checks.es_gradient(es_mutant(real, cls), n_pairs).passed

"""The suite's own tests: a check that cannot fail proves nothing.

Each test wraps a real implementation, breaks one thing in the way a real bug would,
and asserts that the matching check now fails, and says in words what is wrong.

The implementation broken here is always one of this project's own (:data:`KNOWN_GOOD`),
never the one under test: these tests judge the suite, so a bug in an implementation of
your own must not make them fail. Where none of the project's own is installed they are
skipped, with that reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Case, Measurement
from fromscratch.conformance.registry import Implementation, discover

KNOWN_GOOD = ("matrix", "autograd", "loops")
"""This project's gradient-trained implementations, fastest first: the suite breaks one of
these on purpose."""


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


@pytest.fixture(scope="module")
def real() -> Implementation:
    """The first of :data:`KNOWN_GOOD` that is installed (and really is this project's)."""
    installed = discover()
    for name in KNOWN_GOOD:
        impl = installed.get(name)
        if impl is not None and impl.factory.__module__.startswith(f"fromscratch.{name}."):
            return impl
    pytest.skip(
        "these tests break one of this project's own implementations (matrix, autograd or "
        "loops) on purpose, to show that each check fails; none is installed "
        "(pip install -e implementations/matrix to run them)"
    )


def passes(m: Measurement) -> None:
    """The unbroken implementation passes the check (else the test proves nothing)."""
    assert m.passed, f"the unbroken implementation should pass, but: {m.describe()}"


def caught(m: Measurement, bug: type, *said: str) -> None:
    """The check fails on ``bug``, and its message says each of ``said``."""
    assert not m.passed, f"{m.check} missed the planted bug {bug.__name__}: {m.describe()}"
    for words in said:
        assert words in m.describe(), f"{m.describe()!r} should say {words!r}"


def mutant(real: Implementation, cls: type[Delegate]) -> Implementation:
    def factory(layers: list[int], **kwargs: Any) -> Delegate:
        return cls(layers, real.factory, **kwargs)

    factory.gradients = cls.gradients  # type: ignore[attr-defined]  # it is gradient-trained
    return Implementation(f"{real.name}+{cls.__name__}", factory, real.recipes)


CASE = Case("tanh", "cross_entropy", (4, 6, 3), 5)


class GradientOffByOnePpm(Delegate):
    """Every gradient one part per million too large."""

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        loss, grads = super().gradients(X, y)
        return loss, {k: g * (1 + 1e-6) for k, g in grads.items()}


class GradientOfSumNotMean(Delegate):
    """The gradient of the summed loss where the loss is the mean."""

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        loss, grads = super().gradients(X, y)
        return loss, {k: g * len(X) for k, g in grads.items()}


class GradientStepsParameters(Delegate):
    """``gradients`` takes an SGD step as it goes."""

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        loss, grads = super().gradients(X, y)
        self.load_state_dict({k: v - 0.1 * grads[k] for k, v in self.state_dict().items()})
        return loss, grads


@pytest.mark.parametrize(
    "cls", [GradientOffByOnePpm, GradientOfSumNotMean, GradientStepsParameters]
)
def test_gradient_bugs_are_caught(real: Implementation, cls: type[Delegate]):
    passes(checks.gradient_vs_torch(real, CASE))
    m = checks.gradient_vs_torch(mutant(real, cls), CASE)
    said = "changed the parameters" if cls is GradientStepsParameters else "where torch has"
    caught(m, cls, said, f"worst_parameter={m.details['worst_parameter']}")


class BiasGradientOfSum(Delegate):
    """The first layer's bias gradient summed over the batch where the loss is the mean."""

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        loss, grads = super().gradients(X, y)
        return loss, {**grads, "0.bias": grads["0.bias"] * len(X)}


def test_a_gradient_failure_names_the_parameter_and_the_entry(real: Implementation):
    m = checks.gradient_vs_torch(mutant(real, BiasGradientOfSum), CASE)
    caught(m, BiasGradientOfSum, "the gradient of 0.bias[", "worst_parameter=0.bias")
    index = m.details["worst_index"]
    assert len(index) == 1
    assert 0 <= index[0] < CASE.layers[1]


def test_central_differences_catch_a_gradient_bug(real: Implementation):
    case = checks.central_difference_cases()[0]
    passes(checks.central_difference(real, case))
    m = checks.central_difference(mutant(real, GradientOfSumNotMean), case)
    caught(m, GradientOfSumNotMean, "where central differences give")


class SharpenedProbabilities(Delegate):
    """Probabilities raised to the power 1.001 and renormalised: slightly too confident."""

    def predict_proba(self, X: NDArray[Any]) -> Any:
        p = super().predict_proba(X) ** 1.001
        return p / p.sum(axis=1, keepdims=True)


class PredictInt32(Delegate):
    """``predict`` returns int32 labels."""

    def predict(self, X: NDArray[Any]) -> Any:
        return super().predict(X).astype(np.int32)


class SoftmaxOverTheBatch(Delegate):
    """Each column normalised over the rows (softmax over axis 0), not each row."""

    def predict_proba(self, X: NDArray[Any]) -> Any:
        p = super().predict_proba(X)
        return p / p.sum(axis=0, keepdims=True)


class LossOfTheSum(Delegate):
    """The loss summed over the rows where torch takes the mean."""

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        return super().loss(X, y) * len(X)


class PredictTheLeastLikely(Delegate):
    """``predict`` takes the argmin."""

    def predict(self, X: NDArray[Any]) -> Any:
        return np.argmin(super().predict_proba(X), axis=1).astype(np.int64)


@pytest.mark.parametrize(
    ("cls", "said"),
    [
        (SharpenedProbabilities, "predict_proba["),
        (SoftmaxOverTheBatch, "predict_proba rows do not sum to 1"),
        (LossOfTheSum, "loss is"),
        (PredictInt32, "predict returned int32"),
        (PredictTheLeastLikely, "predict differs from torch's argmax"),
    ],
)
def test_forward_bugs_are_caught(real: Implementation, cls: type[Delegate], said: str):
    passes(checks.forward_vs_torch(real, CASE, "float64"))
    caught(checks.forward_vs_torch(mutant(real, cls), CASE, "float64"), cls, said)


class TransposedWeights(Delegate):
    """Weights in (in, out) layout, not torch's (out, in)."""

    def state_dict(self) -> dict[str, Any]:
        return {k: v.T.copy() if v.ndim == 2 else v for k, v in super().state_dict().items()}


class SharedStateDict(Delegate):
    """``state_dict`` hands out its own arrays, not copies."""

    def __init__(self, layers: list[int], inner_factory: Callable[..., Any], **kwargs: Any):
        super().__init__(layers, inner_factory, **kwargs)
        self.cached = self.inner.state_dict()

    def state_dict(self) -> dict[str, Any]:
        return self.cached


@pytest.mark.parametrize("cls", [TransposedWeights, SharedStateDict])
def test_state_dict_bugs_are_caught(real: Implementation, cls: type[Delegate]):
    passes(checks.state_dict_layout(real, "float64"))
    caught(checks.state_dict_layout(mutant(real, cls), "float64"), cls)


class SilentLoss(Delegate):
    """Bad labels give a NaN loss instead of an error."""

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        try:
            return super().loss(X, y)
        except ValueError:
            return float("nan")


def test_missing_validation_is_caught(real: Implementation):
    case = next(c for c in checks.bad_inputs() if c.name == "label too large")
    passes(checks.bad_input(real, case))
    caught(checks.bad_input(mutant(real, SilentLoss), case), SilentLoss, "raised nothing")


class ClipsX(Delegate):
    """``predict`` clips X into float32's range instead of refusing what overflows it."""

    def predict(self, X: NDArray[Any]) -> Any:
        return super().predict(np.clip(np.asarray(X, dtype=np.float64), -1e30, 1e30))


class ZeroesNaNInLoss(Delegate):
    """``loss`` reads a NaN in X as 0 instead of refusing it."""

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        return super().loss(np.nan_to_num(np.asarray(X, dtype=np.float64)), y)


class IgnoresBadState(Delegate):
    """``load_state_dict`` ignores what is not a mapping instead of refusing it."""

    def load_state_dict(self, state: Any) -> None:
        if isinstance(state, dict):
            super().load_state_dict(state)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("X overflows float32", ClipsX),
        ("X NaN in loss", ZeroesNaNInLoss),
        ("state not a mapping", IgnoresBadState),
    ],
)
def test_the_moved_bad_input_cases_catch_what_they_name(
    real: Implementation, name: str, cls: type[Delegate]
):
    case = next(c for c in checks.bad_inputs() if c.name == name)
    passes(checks.bad_input(real, case))
    caught(checks.bad_input(mutant(real, cls), case), cls, "raised nothing")


class TerseErrors(Delegate):
    """Every ``ValueError`` of ``predict`` replaced by one that says only "bad input"."""

    def predict(self, X: NDArray[Any]) -> Any:
        try:
            return super().predict(X)
        except ValueError:
            raise ValueError("bad input") from None


def test_a_vague_message_is_caught_and_what_it_lacks_is_said(real: Implementation):
    case = next(c for c in checks.bad_inputs() if c.name == "X wrong width")
    passes(checks.bad_input(real, case))
    m = checks.bad_input(mutant(real, TerseErrors), case)
    caught(m, TerseErrors, "does not mention the argument X ('X')", "the expected width ('4')")


def test_a_one_letter_name_or_a_number_counts_only_as_a_word():
    x = checks.Mention("the argument X", ("X",))
    assert x.found_in("X has 3 columns")
    assert x.found_in("X[2, 1] is nan")
    assert not x.found_in("expected 4 columns")
    four = checks.Mention("the expected width", ("4",))
    assert four.found_in("expected shape (n, 4)")
    assert not four.found_in("got dtype float64")


class SwallowsDivergence(Delegate):
    """``fit`` swallows the ``FloatingPointError`` of a diverging run."""

    def fit(self, X: NDArray[Any], y: NDArray[Any], **kwargs: Any) -> Delegate:
        try:
            return super().fit(X, y, **kwargs)
        except FloatingPointError:
            return self


def test_swallowed_divergence_is_caught(real: Implementation):
    passes(checks.divergence(real))
    caught(checks.divergence(mutant(real, SwallowsDivergence)), SwallowsDivergence)


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
        caught(checks.es_gradient(es_mutant(real, cls), n_pairs), cls)

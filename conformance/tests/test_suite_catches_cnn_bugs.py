"""The CNN checks can fail: the classic convolution bugs, planted in a real implementation.

As in ``test_suite_catches_bugs.py``, each test breaks one of this project's own
implementations (never the one under test) and asserts that the matching check fails and
says what is wrong. These need one that builds convolutions (``matrix`` or ``autograd``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from test_suite_catches_bugs import Delegate, caught, mutant, passes

from fromscratch.conformance import checks
from fromscratch.conformance.checks import Case
from fromscratch.conformance.registry import Implementation, discover

CNN_KNOWN_GOOD = ("matrix", "autograd")


@pytest.fixture(scope="module")
def real() -> Implementation:
    """The first of this project's implementations that builds convolutions."""
    installed = discover()
    for name in CNN_KNOWN_GOOD:
        impl = installed.get(name)
        if (
            impl is not None
            and impl.factory.__module__.startswith(f"fromscratch.{name}.")
            and checks.unsupported(impl, checks.LENET_SPEC) is None
        ):
            return impl
    pytest.skip(
        "these tests break one of this project's own implementations that builds "
        "convolutions (matrix or autograd) on purpose; none is installed"
    )


STACK = checks.cnn_cases()[-3]  # the two-convolution stack, cross-entropy
RGB = Case(
    "relu",
    "cross_entropy",
    checks._image_net(3, 5, 4, ["Conv2d(3, 2, 3, padding=1)", "ReLU()", "AvgPool2d(2)"]),
    4,
    "3x5x4-rgb",
)


class FlippedKernels(Delegate):
    """True convolution where torch's Conv2d is cross-correlation: every kernel turned by
    180 degrees on its way in and out (the textbook mix-up)."""

    @staticmethod
    def _flip(state: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v[..., ::-1, ::-1].copy() if v.ndim == 4 else v for k, v in state.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(self._flip(state))

    def state_dict(self) -> dict[str, Any]:
        return self._flip(super().state_dict())


class ChannelsLast(Delegate):
    """``Unflatten`` reading each row as (H, W, C), not torch's (C, H, W)."""

    def _reorder(self, X: NDArray[Any]) -> NDArray[Any]:
        n = len(X)
        c, h, w = 3, 5, 4
        return np.ascontiguousarray(X.reshape(n, h, w, c).transpose(0, 3, 1, 2).reshape(n, -1))

    def predict_proba(self, X: NDArray[Any]) -> Any:
        return super().predict_proba(self._reorder(X))

    def loss(self, X: NDArray[Any], y: NDArray[Any]) -> float:
        return super().loss(self._reorder(X), y)


class ConvGradientOfSumOverChannels(Delegate):
    """``dL/db`` of every convolution summed over the batch but also over the channels."""

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Any]]:
        loss, grads = super().gradients(X, y)
        convs = {k[: -len(".weight")] for k, v in grads.items() if v.ndim == 4}
        return loss, {
            k: np.full_like(g, g.sum()) if k.removesuffix(".bias") in convs else g
            for k, g in grads.items()
        }


def test_flipped_kernels_fail_the_forward_check(real: Implementation):
    passes(checks.forward_vs_torch(real, STACK, "float64"))
    caught(checks.forward_vs_torch(mutant(real, FlippedKernels), STACK, "float64"), FlippedKernels)


def test_channels_last_fails_the_forward_check(real: Implementation):
    passes(checks.forward_vs_torch(real, RGB, "float64"))
    caught(
        checks.forward_vs_torch(mutant(real, ChannelsLast), RGB, "float64"),
        ChannelsLast,
        "predict_proba",
    )


def test_a_wrong_conv_bias_gradient_fails_the_grid(real: Implementation):
    case = checks.conv_grid_cases()[0]
    passes(checks.gradient_vs_torch(real, case))
    m = checks.gradient_vs_torch(mutant(real, ConvGradientOfSumOverChannels), case)
    caught(m, ConvGradientOfSumOverChannels, "1.bias")


def test_max_pool_sending_ties_to_the_last_maximum_fails(
    real: Implementation, monkeypatch: pytest.MonkeyPatch
):
    """The tie rule itself, broken inside ``matrix`` (the only one whose pooling this test
    knows how to reach): ``>=`` where torch keeps the first maximum."""
    if real.name != "matrix":
        pytest.skip("this planted bug edits matrix's MaxPool2d")
    from fromscratch.matrix import pool

    passes(checks.maxpool_tie(real))
    monkeypatch.setattr(pool.MaxPool2d, "forward", _forward_last_maximum)
    caught(checks.maxpool_tie(real), pool.MaxPool2d, "the gradient of 1.weight")


def _forward_last_maximum(self: Any, a: NDArray[Any]) -> NDArray[Any]:
    """matrix's max-pool forward with ``>=``: at a tie the last maximum wins."""
    offsets = self._offsets(a.shape)
    self.input_shape = a.shape
    z = a[:, :, offsets[0][0], offsets[0][1]].copy()
    self.argmax = np.zeros(z.shape, dtype=np.intp)
    for k, (rows, columns) in enumerate(offsets[1:], start=1):
        candidate = a[:, :, rows, columns]
        larger = candidate >= z
        z[larger] = candidate[larger]
        self.argmax[larger] = k
    return z


class ClaimsMlpOnly(Delegate):
    """Declares the MLP layers only, yet builds whatever it is given."""

    supported_layers = checks.MLP_LAYERS


def test_building_an_undeclared_layer_fails(real: Implementation):
    def factory(layers: list[int], **kwargs: Any) -> ClaimsMlpOnly:
        return ClaimsMlpOnly(layers, real.factory, **kwargs)

    factory.supported_layers = checks.MLP_LAYERS  # type: ignore[attr-defined]
    liar = Implementation(f"{real.name}+ClaimsMlpOnly", factory, real.recipes)
    caught(checks.unsupported_spec(liar), ClaimsMlpOnly, "without an error")
